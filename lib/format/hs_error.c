/* hs_error.c - hs_strerror(): one sentence for every error code.
 *
 * The project's own codes come from the HS_ERRNO_MAP table in hs_snapshot.h,
 * so a code and its message are declared together; -errno values are left
 * to the C library. */
#include <string.h>

#include "hs_snapshot.h"

/* System errors are -errno and stay below this in magnitude (see
 * hs_snapshot.h), so the two ranges never meet. */
#define HS__ERRNO_LIMIT 4096

const char *hs_strerror(int err) {
  switch (err) {
#define HS__ERR_CASE(name, val, msg)                                           \
  case HS_##name:                                                              \
    return msg;
    HS_ERRNO_MAP(HS__ERR_CASE)
#undef HS__ERR_CASE
  default:
    break;
  }
  if (err == 0)
    return "success";
  if (err < 0 && err > -HS__ERRNO_LIMIT)
    return strerror(-err);
  return "unknown error";
}
