/* heapsnap.h - the calls a program may make to the heapsnap shim.
 *
 * A program that includes this header links and runs whether or not
 * libheapsnap.so is preloaded: the shim's entry point is a weak reference,
 * resolved by the dynamic loader only when the shim is there. Nothing to
 * link against. Build position-independent (the default on Debian) so the
 * weak reference goes through the GOT. */
#ifndef HEAPSNAP_H
#define HEAPSNAP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by the shim only. */
extern int hs_snapshot_now(char *path, size_t path_len) __attribute__((weak));

/*! heapsnap_snapshot() :
 * Takes a heap snapshot now, in the calling thread, and writes it to the
 * snapshot folder like any other trigger (trigger "api").
 * If `path` is not NULL, the file's absolute path is copied into it
 * (NUL-terminated, cut to path_len - 1 bytes).
 * @return : 0 on success; -5008 (HS_ENOSHIM in hs_snapshot.h) when the shim
 *           is not loaded; another negative code (see hs_strerror) when the
 *           snapshot could not be written. */
static inline int heapsnap_snapshot(char *path, size_t path_len) {
  if (!hs_snapshot_now)
    return -5008;
  return hs_snapshot_now(path, path_len);
}

/*! heapsnap_active() : @return 1 when the shim is loaded, else 0. */
static inline int heapsnap_active(void) {
  return hs_snapshot_now ? 1 : 0;
}

#ifdef __cplusplus
}
#endif
#endif /* HEAPSNAP_H */
