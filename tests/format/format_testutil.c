/* format_testutil.c - helpers shared by the snapshot format tests
 * (see format_testutil.h). */
#define _GNU_SOURCE /* memfd_create */
#include "format_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "hs_testsnap.h"
#include "hs_varint.h"

void fmt_buf_free(fmt_buf *b) {
  free(b->data);
  *b = (fmt_buf){0};
}

void fmt_put(fmt_buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->data = realloc(b->data, b->cap);
    assert_non_null(b->data);
  }
  if (p && n > 0) /* NULL: make room, filled by the caller */
    memcpy(b->data + b->len, p, n);
  b->len += n;
}

void fmt_put_u32(fmt_buf *b, uint32_t v) {
  const uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                         (uint8_t)(v >> 24)};
  fmt_put(b, le, 4);
}

void fmt_put_varint(fmt_buf *b, uint64_t v) {
  uint8_t buf[HS__VARINT_MAX];
  fmt_put(b, buf, hs__varint_put(buf, v));
}

void fmt_put_str(fmt_buf *b, const char *s) {
  fmt_put_varint(b, strlen(s));
  fmt_put(b, s, strlen(s));
}

void fmt_put_record(fmt_buf *b, uint32_t tag, const fmt_buf *payload) {
  fmt_put_u32(b, tag);
  fmt_put_u32(b, (uint32_t)payload->len);
  fmt_put(b, payload->data, payload->len);
}

void fmt_put_head(fmt_buf *b, uint64_t live_blocks, uint64_t live_bytes) {
  /* flags pid ppid number epoch time start */
  const uint64_t before[] = {0, 42, 1, 1, 0, 1000, 500};
  for (size_t i = 0; i < sizeof before / sizeof before[0]; i++)
    fmt_put_varint(b, before[i]);
  fmt_put_varint(b, live_blocks);
  fmt_put_varint(b, live_bytes);
  /* rss sample pause max_depth */
  const uint64_t after[] = {0, 0, 0, 64};
  for (size_t i = 0; i < sizeof after / sizeof after[0]; i++)
    fmt_put_varint(b, after[i]);
  fmt_put_str(b, "/bin/t");
  fmt_put_str(b, "api");
  fmt_put_varint(b, 1);
  fmt_put_str(b, "t");
}

void fmt_frame(const void *body, size_t len, uint32_t version, fmt_buf *out) {
  *out = (fmt_buf){0};
  fmt_put(out, HS__MAGIC, HS__MAGIC_SIZE);
  fmt_put_u32(out, version);
  fmt_put_u32(out, 0);
  ZSTD_CCtx *const c = ZSTD_createCCtx();
  assert_non_null(c);
  assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
  const size_t bound = ZSTD_compressBound(len);
  fmt_put(out, NULL, bound);
  const size_t n =
      ZSTD_compress2(c, out->data + HS__PREAMBLE_SIZE, bound, body, len);
  assert_false(ZSTD_isError(n));
  out->len = HS__PREAMBLE_SIZE + n;
  ZSTD_freeCCtx(c);
}

void fmt_unframe(const uint8_t *file, size_t len, fmt_buf *body) {
  uint8_t *data;
  size_t n;
  assert_int_equal(hs_testsnap_body(file, len, &data, &n), 0);
  *body = (fmt_buf){data, n, n};
}

/* A new memfd for a snapshot. */
static int fmt_memfd(void) {
  const int fd = memfd_create("fmt_write", MFD_CLOEXEC);
  assert_true(fd >= 0);
  return fd;
}

/* Reads the whole of fd into *out and closes it. */
static void fmt_read_fd(int fd, fmt_buf *out) {
  *out = (fmt_buf){0};
  const off_t size = lseek(fd, 0, SEEK_END);
  assert_true(size >= 0);
  fmt_put(out, NULL, (size_t)size);
  assert_int_equal(pread(fd, out->data, (size_t)size, 0), size);
  close(fd);
}

int fmt_write(fmt_fill_fn fill, void *ctx, int level, fmt_buf *out) {
  const int fd = fmt_memfd();
  hs__writer *w;
  assert_int_equal(hs__writer_create(fd, ZSTD_defaultCMem, level, &w), 0);
  const int err = fill(w, ctx);
  hs__writer_free(w);
  fmt_read_fd(fd, out);
  return err;
}

static const char *const fmt_small_argv[] = {"t", "--serve", ""};

const hs_header fmt_small_header = {
    .version = HS_FORMAT_VERSION,
    .flags = HS_SNAP_SAMPLED,
    .pid = 4242,
    .ppid = 1,
    .number = 3,
    .epoch = 2,
    .time_ns = 1700000000123456789u,
    .start_ns = 1700000000000000000u,
    .live_blocks = 4,
    .live_bytes = 16 + 32 + 4096 + 0,
    .rss_bytes = 1 << 20,
    .sample_bytes = 0,
    .pause_ns = 1500,
    .max_depth = 64,
    .argc = 3,
    .exe = "/bin/t",
    .argv = fmt_small_argv,
    .trigger = "signal",
};

static const uint8_t fmt_small_bid[4] = {0xde, 0xad, 0xbe, 0xef};

void fmt_small(fmt_buf *out) {
  const hs_module mods[] = {
      {0x400000, 0x402000, 0, HS_MODULE_MAIN, 4, fmt_small_bid, "/bin/t"},
      {0x7f0000000000, 0x7f0000100000, 0x7f0000000000, 0, 0, NULL,
       "/lib/libc.so.6"},
  };
  const uint64_t s1[] = {0x401234};
  const uint64_t s2[] = {0x7f0000001000, 0x401000, 0x401100};
  const hs_block blks[] = {{0x1000, 16, 1, 0},
                           {0x1010, 32, 2, 1},
                           {0x20000, 4096, 3, 2},
                           {0x30000, 0, 0, 0}};
  const int fd = fmt_memfd();
  hs_testsnap t;
  hs_testsnap_create_fd(&t, fd, HS_TESTSNAP_LEVEL);
  hs_testsnap_header(&t, &fmt_small_header);
  hs_testsnap_modules(&t, mods, 2);
  hs_testsnap_stack(&t, s1, 1);
  hs_testsnap_stack(&t, s2, 3);
  hs_testsnap_stack(&t, NULL, 0);
  hs_testsnap_blocks(&t, blks, 4);
  assert_int_equal(hs_testsnap_close(&t), 0);
  fmt_read_fd(fd, out);
}

static void fmt_assert_header(const hs_header *x, const hs_header *y) {
  assert_int_equal(x->version, y->version);
  assert_int_equal(x->flags, y->flags);
  assert_int_equal(x->pid, y->pid);
  assert_int_equal(x->ppid, y->ppid);
  assert_int_equal(x->number, y->number);
  assert_int_equal(x->epoch, y->epoch);
  assert_int_equal(x->time_ns, y->time_ns);
  assert_int_equal(x->start_ns, y->start_ns);
  assert_int_equal(x->live_blocks, y->live_blocks);
  assert_int_equal(x->live_bytes, y->live_bytes);
  assert_int_equal(x->rss_bytes, y->rss_bytes);
  assert_int_equal(x->sample_bytes, y->sample_bytes);
  assert_int_equal(x->pause_ns, y->pause_ns);
  assert_int_equal(x->max_depth, y->max_depth);
  assert_string_equal(x->exe, y->exe);
  assert_string_equal(x->trigger, y->trigger);
  assert_string_equal(x->scan_note, y->scan_note);
  assert_int_equal(x->argc, y->argc);
  for (uint32_t i = 0; i < x->argc; i++)
    assert_string_equal(x->argv[i], y->argv[i]);
}

static void fmt_assert_module(const hs_module *x, const hs_module *y) {
  assert_int_equal(x->start, y->start);
  assert_int_equal(x->end, y->end);
  assert_int_equal(x->bias, y->bias);
  assert_int_equal(x->flags, y->flags);
  assert_int_equal(x->build_id_len, y->build_id_len);
  if (x->build_id_len > 0)
    assert_memory_equal(x->build_id, y->build_id, x->build_id_len);
  assert_string_equal(x->path, y->path);
}

void fmt_assert_same(const hs_snapshot *a, const hs_snapshot *b) {
  fmt_assert_header(hs_snapshot_header(a), hs_snapshot_header(b));
  assert_int_equal(hs_snapshot_module_count(a), hs_snapshot_module_count(b));
  for (size_t i = 0; i < hs_snapshot_module_count(a); i++)
    fmt_assert_module(hs_snapshot_module(a, i), hs_snapshot_module(b, i));
  assert_int_equal(hs_snapshot_stack_count(a), hs_snapshot_stack_count(b));
  for (uint32_t i = 0; i < hs_snapshot_stack_count(a); i++) {
    const hs_stack x = hs_snapshot_stack(a, i), y = hs_snapshot_stack(b, i);
    assert_int_equal(x.depth, y.depth);
    if (x.depth > 0)
      assert_memory_equal(x.frames, y.frames, x.depth * sizeof *x.frames);
  }
  assert_int_equal(hs_snapshot_block_count(a), hs_snapshot_block_count(b));
  assert_memory_equal(hs_snapshot_blocks(a), hs_snapshot_blocks(b),
                      hs_snapshot_block_count(a) * sizeof(hs_block));
  assert_int_equal(hs_snapshot_root_count(a), hs_snapshot_root_count(b));
  for (size_t i = 0; i < hs_snapshot_root_count(a); i++) {
    const hs_root *x = hs_snapshot_root(a, i), *y = hs_snapshot_root(b, i);
    assert_int_equal(x->kind, y->kind);
    assert_int_equal(x->module, y->module);
    assert_int_equal(x->tid, y->tid);
    assert_int_equal(x->start, y->start);
    assert_int_equal(x->end, y->end);
    assert_string_equal(x->name, y->name);
  }
  assert_int_equal(hs_snapshot_reach(a) != NULL, hs_snapshot_reach(b) != NULL);
  if (hs_snapshot_reach(a) && hs_snapshot_block_count(a))
    assert_memory_equal(hs_snapshot_reach(a), hs_snapshot_reach(b),
                        hs_snapshot_block_count(a) * sizeof(hs_reach));
}

void fmt_scanned_file(const fmt_buf *head, const fmt_buf *blks,
                      const fmt_buf *roots, const fmt_buf *rchb, fmt_buf *out) {
  fmt_buf b = {0};
  fmt_put_record(&b, HS__TAG_HEAD, head);
  fmt_put_record(&b, HS__TAG_BLKS, blks);
  fmt_put_record(&b, HS__TAG_ROOT, roots);
  fmt_put_record(&b, HS__TAG_RCHB, rchb);
  fmt_put_record(&b, HS__TAG_END, &(fmt_buf){0});
  fmt_frame(b.data, b.len, HS_FORMAT_VERSION, out);
  fmt_buf_free(&b);
}
