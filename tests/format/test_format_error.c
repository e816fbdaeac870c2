/* test_format_error.c - hs_strerror() has a sentence for every code of
 * HS_ERRNO_MAP, passes -errno to the C library, and never returns NULL. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hs_snapshot.h"

static const struct {
  int code;
  const char *msg;
} codes[] = {
    {HS_EMAGIC, "not a heapsnap snapshot (bad magic)"},
    {HS_EVERSION, "snapshot format version is newer than this reader"},
    {HS_ETRUNC, "snapshot is truncated"},
    {HS_ECORRUPT, "snapshot is corrupted"},
    {HS_ECHECKSUM, "snapshot checksum does not match"},
    {HS_ETOOBIG, "snapshot declares more data than a reader accepts"},
    {HS_EEMPTY, "file is empty"},
    {HS_ENOSHIM, "the heapsnap shim is not loaded in this process"},
    {HS_EBUSY, "this thread is inside the shim (a snapshot under way)"},
    {HS_EINVAL, "invalid argument"},
    {HS_ENOMEM, "out of memory"},
    {HS_ECOMPRESS, "compression failed"},
};
#define NCODES (sizeof codes / sizeof codes[0])

/* The table above lists every code of the map, each once. */
static void test_table_complete(void **state) {
  size_t n = 0;
#define COUNT(name, val, msg) n++;
  HS_ERRNO_MAP(COUNT)
#undef COUNT
  assert_int_equal(n, NCODES);
  for (size_t i = 0; i < NCODES; i++) {
    assert_true(codes[i].code <= -4096); /* never an -errno */
    for (size_t j = 0; j < i; j++)
      assert_int_not_equal(codes[i].code, codes[j].code);
  }
}

static void test_every_code(void **state) {
  for (size_t i = 0; i < NCODES; i++)
    assert_string_equal(hs_strerror(codes[i].code), codes[i].msg);
}

static void test_errno(void **state) {
  assert_string_equal(hs_strerror(-ENOENT), strerror(ENOENT));
  assert_string_equal(hs_strerror(-ENOSPC), strerror(ENOSPC));
  assert_string_equal(hs_strerror(-EACCES), strerror(EACCES));
  assert_non_null(hs_strerror(-4095));
}

static void test_others(void **state) {
  assert_string_equal(hs_strerror(0), "success");
  assert_string_equal(hs_strerror(1), "unknown error");
  assert_string_equal(hs_strerror(-4096), "unknown error");
  assert_string_equal(hs_strerror(-5000), "unknown error");
  assert_string_equal(hs_strerror(INT_MIN), "unknown error");
  assert_string_equal(hs_strerror(INT_MAX), "unknown error");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_complete),
      cmocka_unit_test(test_every_code),
      cmocka_unit_test(test_errno),
      cmocka_unit_test(test_others),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
