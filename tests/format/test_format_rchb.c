/* test_format_rchb - the reader's checks of the retainer chains in RCHB,
 * through the reader's load: an index out of range
 * (root or block), a block reached from itself, cycles of two and three
 * blocks (and one hanging off a chain), and a chain that ends at a block
 * the scan did not reach are all HS_ECORRUPT; a chain ending at a root,
 * and blocks reached by nothing, still open. heapdiff follows these
 * chains up to a root: before the checks, a flipped bit sent it out of
 * its arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format_testutil.h"

#define NB 4 /* blocks; roots: 2 */

/* An RCHB link: 0 for a block nothing reached, else index << 2 | kind. */
#define NONE 0
#define ROOT(i) ((uint64_t)(i) << 2 | HS_REACH_ROOT)
#define BLOCK(i) ((uint64_t)(i) << 2 | HS_REACH_BLOCK)

/* A body of NB blocks of 16 bytes, two thread roots, and block i reached
 * as link[i] says, loaded as hs_snapshot_open loads a file. */
static int open_with(const uint64_t link[NB]) {
  fmt_buf head = {0}, blks = {0}, roots = {0}, rchb = {0}, file;
  fmt_put_head(&head, NB, NB * 16);
  fmt_put_str(&head, "");
  head.data[0] = HS_SNAP_SCANNED; /* flags: a one-byte varint */
  for (int i = 0; i < NB; i++) {
    fmt_put_varint(&blks, i ? 0x100 : 0x1000), fmt_put_varint(&blks, 16);
    fmt_put_varint(&blks, 0), fmt_put_varint(&blks, 0);
  }
  for (int i = 0; i < 2; i++) {
    fmt_put_varint(&roots, HS_ROOT_THREAD), fmt_put_varint(&roots, 0);
    fmt_put_varint(&roots, 1 + i), fmt_put_varint(&roots, 0x100000 * (i + 1));
    fmt_put_varint(&roots, 0x1000), fmt_put_str(&roots, "");
  }
  for (int i = 0; i < NB; i++) {
    fmt_put_varint(&rchb, link[i]);
    if (link[i])
      fmt_put_varint(&rchb, 8), fmt_put_varint(&rchb, 0);
  }
  fmt_scanned_file(&head, &blks, &roots, &rchb, &file);
  hs_snapshot *s = (hs_snapshot *)1;
  const int rc = hs_snapshot_load(file.data, file.len, &s);
  if (rc)
    assert_null(s);
  hs_snapshot_free(s);
  fmt_buf_free(&file), fmt_buf_free(&head);
  fmt_buf_free(&blks), fmt_buf_free(&roots), fmt_buf_free(&rchb);
  return rc;
}

static void test_valid(void **state) {
  /* 0 and 3 from the roots, 1 from 0, 2 from 1 */
  assert_int_equal(
      open_with((uint64_t[NB]){ROOT(0), BLOCK(0), BLOCK(1), ROOT(1)}), 0);
  /* a chain may reach back to a lower index and forward to a higher one */
  assert_int_equal(open_with((uint64_t[NB]){BLOCK(3), BLOCK(0), NONE, ROOT(0)}),
                   0);
  assert_int_equal(open_with((uint64_t[NB]){NONE, NONE, NONE, NONE}), 0);
}

static void test_out_of_range(void **state) {
  assert_int_equal(open_with((uint64_t[NB]){ROOT(2), NONE, NONE, NONE}),
                   HS_ECORRUPT);
  assert_int_equal(
      open_with((uint64_t[NB]){ROOT(0), ROOT(1), ROOT(1ull << 32), NONE}),
      HS_ECORRUPT);
  assert_int_equal(open_with((uint64_t[NB]){ROOT(0), BLOCK(NB), NONE, NONE}),
                   HS_ECORRUPT);
  assert_int_equal(
      open_with((uint64_t[NB]){ROOT(0), NONE, NONE, BLOCK(UINT32_MAX)}),
      HS_ECORRUPT);
}

static void test_cycles(void **state) {
  /* reached from itself */
  assert_int_equal(open_with((uint64_t[NB]){ROOT(0), NONE, BLOCK(2), NONE}),
                   HS_ECORRUPT);
  /* 1 and 2 from each other */
  assert_int_equal(open_with((uint64_t[NB]){ROOT(0), BLOCK(2), BLOCK(1), NONE}),
                   HS_ECORRUPT);
  /* 1 from 2 from 3 from 1 */
  assert_int_equal(
      open_with((uint64_t[NB]){ROOT(0), BLOCK(2), BLOCK(3), BLOCK(1)}),
      HS_ECORRUPT);
  /* 0 hangs off the cycle of 2 and 3, met first from 0 */
  assert_int_equal(
      open_with((uint64_t[NB]){BLOCK(2), ROOT(1), BLOCK(3), BLOCK(2)}),
      HS_ECORRUPT);
}

/* The scan reads only blocks it reached: nothing is reached from the
 * others, directly or down a chain. */
static void test_from_unreached(void **state) {
  assert_int_equal(open_with((uint64_t[NB]){ROOT(0), BLOCK(3), NONE, NONE}),
                   HS_ECORRUPT);
  assert_int_equal(open_with((uint64_t[NB]){ROOT(0), BLOCK(2), BLOCK(3), NONE}),
                   HS_ECORRUPT);
  /* after blocks whose chains were sound */
  assert_int_equal(open_with((uint64_t[NB]){ROOT(0), BLOCK(0), NONE, BLOCK(2)}),
                   HS_ECORRUPT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_out_of_range),
      cmocka_unit_test(test_cycles),
      cmocka_unit_test(test_from_unreached),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
