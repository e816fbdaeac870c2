/* test_format_graph - the heap graph (GRPH): an exact round trip (each
 * block's targets sorted and unique, root edges by root then offset), the
 * writer's refusals, and the reader's: indexes and offsets out of range,
 * a block pointing at itself, a graph without its flag or its scan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "format_testutil.h"
#include "hs_varint.h"

/* Three blocks, two roots: a global (0x1000 bytes) and a thread's stack. */
enum { BAD_NONE, BAD_BLOCK, BAD_ROOT, BAD_FROM, BAD_SELF, BAD_KIND };
typedef struct scene {
  uint32_t flags;
  int bad;
} scene;

static const hs_module mod = {0x400000, 0x500000, 0x400000, HS_MODULE_MAIN,
                              0,        NULL,     "/bin/t"};
static const hs_block blocks[3] = {
    {0x1000, 32, 0, 0}, {0x2000, 64, 0, 0}, {0x3000, 16, 0, 1}};

static int put(hs__writer *w, uint8_t *buf, size_t n) {
  return hs__writer_graph(w, buf, n);
}

/* Block 0 points at 2, 1, 2 again; the thread's word at 64 and the
 * global's at 16, then 8, point at 0; `bad` spoils one item. */
static int graph(hs__writer *w, int bad) {
  uint8_t b[64];
  size_t n = hs__graph_put_source(b, 0, 0);
  uint32_t prev = 0;
  const uint32_t t[3] = {2, bad == BAD_SELF ? 0 : 1, bad == BAD_BLOCK ? 3 : 2};
  for (int i = 0; i < 3; i++)
    n += hs__graph_put_target(b + n, prev, t[i]), prev = t[i];
  n += hs__graph_put_end(b + n);
  int rc = put(w, b, n);
  n = hs__graph_put_root(b, bad == BAD_ROOT ? 2 : 1, 64, 0);
  rc = rc ? rc : put(w, b, n);
  n = hs__graph_put_root(b, 0, bad == BAD_FROM ? 0x1000 : 16, 0);
  n += hs__graph_put_root(b + n, 0, 8, 0);
  rc = rc ? rc : put(w, b, n);
  if (bad == BAD_KIND)
    rc = rc ? rc : put(w, (uint8_t[]){3 << 2 | 3}, 1);
  return rc;
}

static int fill(hs__writer *w, void *ctx) {
  const scene *sc = ctx;
  static const char *const argv[] = {"t"};
  hs_header h = {.flags = sc->flags,
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
      {HS_ROOT_GLOBAL, 0, 0, 0x404000, 0x405000, ""},
      {HS_ROOT_THREAD, 0, 4242, 0x7ff000, 0x800000, "worker"}};
  const hs_reach reach[3] = {{HS_REACH_ROOT, 0, 8, 0},
                             {HS_REACH_BLOCK, 0, 0, 0},
                             {HS_REACH_BLOCK, 0, 8, 0}};
  for (int i = 0; !rc && (sc->flags & HS_SNAP_SCANNED) && i < 2; i++)
    rc = hs__writer_root(w, &roots[i]);
  for (int i = 0; !rc && (sc->flags & HS_SNAP_SCANNED) && i < 3; i++)
    rc = hs__writer_reach(w, &reach[i]);
  if (!rc)
    rc = graph(w, sc->bad);
  return rc ? rc : hs__writer_finish(w);
}

static int load(scene sc, hs_snapshot **s) {
  fmt_buf file;
  int rc = fmt_write(fill, &sc, 3, &file);
  if (!rc)
    rc = hs_snapshot_load(file.data, file.len, s);
  fmt_buf_free(&file);
  return rc;
}

static void test_roundtrip(void **state) {
  hs_snapshot *s;
  assert_int_equal(load((scene){HS_SNAP_SCANNED | HS_SNAP_GRAPH, 0}, &s), 0);
  assert_true(hs_snapshot_has_graph(s));
  const uint32_t *t;
  assert_int_equal(hs_snapshot_edges(s, 0, &t), 2);
  assert_int_equal(t[0], 1);
  assert_int_equal(t[1], 2);
  assert_int_equal(hs_snapshot_edges(s, 1, &t), 0);
  assert_int_equal(hs_snapshot_edges(s, 3, &t), 0);
  assert_null(t);
  size_t n;
  const hs_root_edge *e = hs_snapshot_root_edges(s, &n);
  assert_int_equal(n, 3);
  assert_int_equal(e[0].root, 0);
  assert_int_equal(e[0].from, 8);
  assert_int_equal(e[1].root, 0);
  assert_int_equal(e[1].from, 16);
  assert_int_equal(e[2].root, 1);
  assert_int_equal(e[2].from, 64);
  assert_int_equal(e[2].block, 0);
  hs_snapshot_free(s);
}

static void test_writer_refuses(void **state) {
  hs_snapshot *s = NULL;
  /* graph items need the flag; the flag needs a scan */
  assert_int_equal(load((scene){HS_SNAP_SCANNED, 0}, &s), HS_EINVAL);
  assert_int_equal(load((scene){HS_SNAP_GRAPH, 0}, &s), HS_EINVAL);
  assert_null(s);
}

static void test_reader_refuses(void **state) {
  for (int bad = BAD_BLOCK; bad <= BAD_KIND; bad++) {
    hs_snapshot *s = (hs_snapshot *)1;
    assert_int_equal(load((scene){HS_SNAP_SCANNED | HS_SNAP_GRAPH, bad}, &s),
                     HS_ECORRUPT);
    assert_null(s);
  }
}

/* The header alone from a file; a snapshot whose blocks are dropped keeps
 * the rest and their count. */
static void test_peek_and_drop(void **state) {
  fmt_buf file;
  scene sc = {HS_SNAP_SCANNED | HS_SNAP_GRAPH, 0};
  assert_int_equal(fmt_write(fill, &sc, 3, &file), 0);
  char path[] = "/tmp/test_format_graph.XXXXXX";
  const int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, file.data, file.len), (ssize_t)file.len);
  close(fd);
  hs_header h;
  assert_int_equal(hs_snapshot_peek_header(path, &h), 0);
  assert_int_equal(h.pid, 7);
  assert_int_equal(h.live_blocks, 3);
  assert_int_equal(h.flags, HS_SNAP_SCANNED | HS_SNAP_GRAPH);
  assert_null(h.exe);
  hs_snapshot *s;
  assert_int_equal(hs_snapshot_open(path, &s), 0);
  hs_snapshot_drop_blocks(s);
  assert_int_equal(hs_snapshot_block_count(s), 3);
  assert_null(hs_snapshot_blocks(s));
  assert_null(hs_snapshot_reach(s));
  assert_false(hs_snapshot_has_graph(s));
  assert_int_equal(hs_snapshot_root_count(s), 2);
  hs_snapshot_free(s);
  /* an empty file is said so, as hs_snapshot_open says it */
  const int e = open(path, O_WRONLY | O_TRUNC);
  close(e);
  assert_int_equal(hs_snapshot_peek_header(path, &h),
                   hs_snapshot_open(path, &s));
  unlink(path);
  fmt_buf_free(&file);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_writer_refuses),
      cmocka_unit_test(test_reader_refuses),
      cmocka_unit_test(test_peek_and_drop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
