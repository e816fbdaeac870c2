/* test_format_reach - the reachability sections (ROOT, RCHB): an exact
 * round trip, the writer's refusals, and the reader's: indexes out of
 * range, a retainer cycle, a scan flag without its records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format_testutil.h"

/* Three blocks: 0 held by root 0 (a global), 1 by block 0 at +8 pointing
 * 16 bytes in, 2 by nothing. `cycle` makes 0 and 1 hold each other. */
typedef struct scene {
  int cycle, bad_module, flag_only;
} scene;

static const hs_module mod = {0x400000, 0x500000, 0x400000, HS_MODULE_MAIN,
                              0,        NULL,     "/bin/t"};
static const hs_block blocks[3] = {
    {0x1000, 32, 0, 0}, {0x2000, 64, 0, 0}, {0x3000, 16, 0, 1}};

static int fill(hs__writer *w, void *ctx) {
  const scene *sc = ctx;
  static const char *const argv[] = {"t"};
  hs_header h = {.flags = HS_SNAP_SCANNED,
                 .pid = 7,
                 .number = 1,
                 .live_blocks = 3,
                 .live_bytes = 112,
                 .max_depth = 64,
                 .exe = "/bin/t",
                 .trigger = "api",
                 .argc = 1,
                 .argv = argv,
                 .scan_note = ""};
  int rc = hs__writer_header(w, &h);
  if (!rc)
    rc = hs__writer_module(w, &mod);
  for (int i = 0; !rc && i < 3; i++)
    rc = hs__writer_block(w, &blocks[i]);
  const hs_root roots[2] = {
      {HS_ROOT_GLOBAL, sc->bad_module ? 5 : 0, 0, 0x404000, 0x405000, ""},
      {HS_ROOT_THREAD, 0, 4242, 0x7ff000, 0x800000, "worker"}};
  for (int i = 0; !rc && i < 2; i++)
    rc = hs__writer_root(w, &roots[i]);
  const hs_reach reach[3] = {sc->cycle ? (hs_reach){HS_REACH_BLOCK, 1, 0, 0}
                                       : (hs_reach){HS_REACH_ROOT, 0, 0x10, 0},
                             {HS_REACH_BLOCK, 0, 8, 16},
                             {HS_REACH_NONE, 0, 0, 0}};
  for (int i = 0; !rc && !sc->flag_only && i < 3; i++)
    rc = hs__writer_reach(w, &reach[i]);
  return rc ? rc : hs__writer_finish(w);
}

static void test_roundtrip(void **state) {
  scene sc = {0};
  fmt_buf file;
  assert_int_equal(fmt_write(fill, &sc, 3, &file), 0);
  hs_snapshot *s;
  assert_int_equal(hs_snapshot_load(file.data, file.len, &s), 0);
  assert_int_equal(hs_snapshot_root_count(s), 2);
  const hs_root *r = hs_snapshot_root(s, 1);
  assert_int_equal(r->kind, HS_ROOT_THREAD);
  assert_int_equal(r->tid, 4242);
  assert_int_equal(r->start, 0x7ff000);
  assert_int_equal(r->end, 0x800000);
  assert_string_equal(r->name, "worker");
  assert_null(hs_snapshot_root(s, 2));
  const hs_reach *rc = hs_snapshot_reach(s);
  assert_non_null(rc);
  assert_int_equal(rc[0].kind, HS_REACH_ROOT);
  assert_int_equal(rc[0].index, 0);
  assert_int_equal(rc[0].from, 0x10);
  assert_int_equal(rc[1].kind, HS_REACH_BLOCK);
  assert_int_equal(rc[1].index, 0);
  assert_int_equal(rc[1].from, 8);
  assert_int_equal(rc[1].target, 16);
  assert_int_equal(rc[2].kind, HS_REACH_NONE);
  hs_snapshot_free(s);
  fmt_buf_free(&file);
}

/* What a reader refuses, the writer should not write in the first place,
 * except what only the whole graph shows (a cycle, a module index). */
static void test_writer_refuses(void **state) {
  scene sc = {.flag_only = 1};
  fmt_buf file;
  assert_int_equal(fmt_write(fill, &sc, 3, &file), HS_EINVAL);
  fmt_buf_free(&file);
}

static void test_reader_refuses(void **state) {
  scene cyc = {.cycle = 1}, mod5 = {.bad_module = 1};
  fmt_buf file;
  hs_snapshot *s = (hs_snapshot *)1;
  assert_int_equal(fmt_write(fill, &cyc, 3, &file), 0);
  assert_int_equal(hs_snapshot_load(file.data, file.len, &s), HS_ECORRUPT);
  assert_null(s);
  fmt_buf_free(&file);
  assert_int_equal(fmt_write(fill, &mod5, 3, &file), 0);
  assert_int_equal(hs_snapshot_load(file.data, file.len, &s), HS_ECORRUPT);
  fmt_buf_free(&file);
}

/* A hand-built body with one block, one thread root and one RCHB item
 * saying the block was reached from root `root`; `flags` is the header's. */
static int load_body(uint8_t flags, uint64_t root) {
  fmt_buf head = {0}, blks = {0}, roots = {0}, rchb = {0}, file;
  fmt_put_head(&head, 1, 16);
  fmt_put_str(&head, "");
  head.data[0] = flags; /* the first field, a one-byte varint */
  fmt_put_varint(&blks, 0x1000), fmt_put_varint(&blks, 16);
  fmt_put_varint(&blks, 0), fmt_put_varint(&blks, 0);
  fmt_put_varint(&roots, HS_ROOT_THREAD), fmt_put_varint(&roots, 0);
  fmt_put_varint(&roots, 1), fmt_put_varint(&roots, 0x100);
  fmt_put_varint(&roots, 0x100), fmt_put_str(&roots, "");
  fmt_put_varint(&rchb, root << 2 | HS_REACH_ROOT);
  fmt_put_varint(&rchb, 0), fmt_put_varint(&rchb, 0);
  fmt_scanned_file(&head, &blks, &roots, &rchb, &file);
  hs_snapshot *s = NULL;
  const int rc = hs_snapshot_load(file.data, file.len, &s);
  hs_snapshot_free(s);
  fmt_buf_free(&file), fmt_buf_free(&head);
  fmt_buf_free(&blks), fmt_buf_free(&roots), fmt_buf_free(&rchb);
  return rc;
}

static void test_bad_records(void **state) {
  assert_int_equal(load_body(HS_SNAP_SCANNED, 0), 0);           /* valid */
  assert_int_equal(load_body(HS_SNAP_SCANNED, 1), HS_ECORRUPT); /* no root 1 */
  assert_int_equal(load_body(0, 0), HS_ECORRUPT); /* RCHB without the flag */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_writer_refuses),
      cmocka_unit_test(test_reader_refuses),
      cmocka_unit_test(test_bad_records),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
