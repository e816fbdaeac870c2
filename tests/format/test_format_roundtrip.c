/* test_format_roundtrip.c - what the writer writes, the reader reads back
 * exactly: every header field, modules, stacks with extreme frame deltas,
 * and enough blocks that items straddle the 64 KiB records; plus the exact
 * bytes of a small body, as docs/format.md shows them. */
#define _GNU_SOURCE /* mkstemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "format_testutil.h"
#include "hs_varint.h"

#define RT_STACKS 65 /* depths 0..64 */
#define RT_BLOCKS 100000

typedef struct rt_data {
  hs_header h;
  const char *argv[4];
  hs_module mods[4];
  uint64_t frames[RT_STACKS][64];
  hs_block *blocks;
} rt_data;

static uint64_t rt_rand(uint64_t *state) { /* splitmix64 */
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9u;
  z = (z ^ z >> 27) * 0x94d049bb133111ebu;
  return z ^ z >> 31;
}

static const uint8_t rt_bid_main[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, 16, 17, 18, 19, 0};
static const uint8_t rt_bid_libc[8] = {0xff, 0, 0x80, 0x7f, 1, 2, 3, 4};

static void rt_modules(rt_data *d) {
  d->mods[0] = (hs_module){0x555555554000,
                           0x555555558000,
                           0x555555554000,
                           HS_MODULE_MAIN,
                           20,
                           rt_bid_main,
                           "/usr/local/bin/service"};
  d->mods[1] = (hs_module){0x7ffff7c00000,
                           0x7ffff7e00000,
                           0x7ffff7c00000,
                           0,
                           8,
                           rt_bid_libc,
                           "/lib/x86_64-linux-gnu/libc.so.6"};
  d->mods[2] = (hs_module){
      0x7ffff7a00000, 0x7ffff7a10000,    0x7ffff7a00000, HS_MODULE_UNLOADED, 0,
      NULL,           "/opt/plugin é.so"};
  d->mods[3] = (hs_module){UINT64_MAX - 0x2000, UINT64_MAX, 0, 0, 0, NULL, ""};
}

/* Frames that make every kind of delta: zero, +-1, +-2^63, random. */
static void rt_stacks(rt_data *d, uint64_t *seed) {
  static const uint64_t special[] = {0,          UINT64_MAX,       1,
                                     1ull << 63, (1ull << 63) - 1, 0x401000,
                                     0x401000,   0x7fffffffe000};
  for (int k = 0; k < RT_STACKS; k++)
    for (int i = 0; i < k; i++)
      d->frames[k][i] =
          (k + i) % 3 == 0 ? rt_rand(seed) : special[(k * 7 + i) % 8];
}

static void rt_blocks(rt_data *d, uint64_t *seed) {
  d->blocks = calloc(RT_BLOCKS, sizeof *d->blocks);
  assert_non_null(d->blocks);
  uint64_t addr = 0, bytes = 0;
  for (size_t i = 0; i < RT_BLOCKS; i++) {
    const uint64_t r = rt_rand(seed);
    const uint64_t gap = i % 1000 == 999 ? 1ull << 40
                         : i % 7 == 0    ? 1
                                         : 16 + r % 4096;
    addr = i == 0 ? 0 : i == RT_BLOCKS - 1 ? UINT64_MAX : addr + gap;
    const uint64_t size = i == 5 ? 1ull << 50 : i % 11 == 0 ? 0 : r >> 40;
    d->blocks[i] = (hs_block){addr, size, (uint32_t)(r % (RT_STACKS + 1)),
                              i % 97 == 0 ? UINT32_MAX : (uint32_t)(r % 5)};
    bytes += size;
  }
  d->h.live_blocks = RT_BLOCKS;
  d->h.live_bytes = bytes;
}

static void rt_init(rt_data *d) {
  memset(d, 0, sizeof *d);
  uint64_t seed = 12345;
  d->argv[0] = "/usr/local/bin/service";
  d->argv[1] = "--config=/etc/svc.conf";
  d->argv[2] = "";
  d->argv[3] = "arg with spaces\tand\nnewline";
  d->h = (hs_header){.flags = HS_SNAP_SAMPLED | HS_SNAP_STACKS_FULL,
                     .pid = INT32_MAX,
                     .ppid = -1,
                     .number = 77,
                     .epoch = UINT32_MAX,
                     .time_ns = UINT64_MAX,
                     .start_ns = 1,
                     .rss_bytes = 1ull << 40,
                     .sample_bytes = 524288,
                     .pause_ns = 987654321,
                     .max_depth = 64,
                     .argc = 4,
                     .exe = "/usr/local/bin/service",
                     .argv = d->argv,
                     .trigger = "interval"};
  rt_modules(d);
  rt_stacks(d, &seed);
  rt_blocks(d, &seed);
}

static int rt_fill(hs__writer *w, void *ctx) {
  const rt_data *const d = ctx;
  HS__TRY(hs__writer_header(w, &d->h));
  for (int i = 0; i < 4; i++)
    HS__TRY(hs__writer_module(w, &d->mods[i]));
  for (uint32_t k = 0; k < RT_STACKS; k++)
    HS__TRY(hs__writer_stack(w, d->frames[k], k));
  for (size_t i = 0; i < RT_BLOCKS; i++)
    HS__TRY(hs__writer_block(w, &d->blocks[i]));
  return hs__writer_finish(w);
}

static void rt_check_header(const rt_data *d, const hs_header *h) {
  assert_int_equal(h->version, HS_FORMAT_VERSION);
  assert_int_equal(h->flags, d->h.flags);
  assert_int_equal(h->pid, INT32_MAX);
  assert_int_equal(h->ppid, -1);
  assert_int_equal(h->number, 77);
  assert_int_equal(h->epoch, UINT32_MAX);
  assert_true(h->time_ns == UINT64_MAX);
  assert_int_equal(h->start_ns, 1);
  assert_int_equal(h->live_blocks, RT_BLOCKS);
  assert_int_equal(h->live_bytes, d->h.live_bytes);
  assert_int_equal(h->rss_bytes, 1ull << 40);
  assert_int_equal(h->sample_bytes, 524288);
  assert_int_equal(h->pause_ns, 987654321);
  assert_int_equal(h->max_depth, 64);
  assert_string_equal(h->exe, d->h.exe);
  assert_string_equal(h->trigger, "interval");
  assert_int_equal(h->argc, 4);
  for (int i = 0; i < 4; i++)
    assert_string_equal(h->argv[i], d->argv[i]);
  assert_null(h->argv[4]);
}

static void rt_check_modules(const rt_data *d, const hs_snapshot *s) {
  assert_int_equal(hs_snapshot_module_count(s), 4);
  for (size_t i = 0; i < 4; i++) {
    const hs_module *const m = hs_snapshot_module(s, i);
    assert_non_null(m);
    assert_true(m->start == d->mods[i].start && m->end == d->mods[i].end);
    assert_true(m->bias == d->mods[i].bias);
    assert_int_equal(m->flags, d->mods[i].flags);
    assert_int_equal(m->build_id_len, d->mods[i].build_id_len);
    if (m->build_id_len)
      assert_memory_equal(m->build_id, d->mods[i].build_id, m->build_id_len);
    assert_string_equal(m->path, d->mods[i].path);
  }
  assert_null(hs_snapshot_module(s, 4));
}

static void rt_check_stacks(const rt_data *d, const hs_snapshot *s) {
  assert_int_equal(hs_snapshot_stack_count(s), RT_STACKS + 1);
  assert_int_equal(hs_snapshot_stack(s, 0).depth, 0);
  for (uint32_t k = 0; k < RT_STACKS; k++) {
    const hs_stack st = hs_snapshot_stack(s, k + 1);
    assert_int_equal(st.depth, k);
    for (uint32_t i = 0; i < k; i++)
      assert_true(st.frames[i] == d->frames[k][i]);
  }
  assert_int_equal(hs_snapshot_stack(s, RT_STACKS + 1).depth, 0);
  assert_int_equal(hs_snapshot_stack(s, UINT32_MAX).depth, 0);
}

static void rt_check(const rt_data *d, const hs_snapshot *s) {
  rt_check_header(d, hs_snapshot_header(s));
  rt_check_modules(d, s);
  rt_check_stacks(d, s);
  assert_int_equal(hs_snapshot_block_count(s), RT_BLOCKS);
  assert_memory_equal(hs_snapshot_blocks(s), d->blocks,
                      RT_BLOCKS * sizeof(hs_block));
}

/* The BLKS section came in several full records, and at least one record
 * boundary fell inside an item. */
static void rt_check_records(const fmt_buf *file) {
  fmt_buf body, blks = {0};
  fmt_unframe(file->data, file->len, &body);
  size_t records = 0, last_len = 0;
  for (size_t pos = 0; pos < body.len;) {
    uint32_t tag, len;
    memcpy(&tag, body.data + pos, 4);
    memcpy(&len, body.data + pos + 4, 4);
    if (tag == HS__TAG_BLKS) {
      assert_true(records == 0 || last_len == HS__STAGE_SIZE);
      fmt_put(&blks, body.data + pos + 8, len);
      records++;
      last_len = len;
    }
    pos += 8 + len;
  }
  assert_true(records >= 5);
  size_t straddled = 0, next_cut = HS__STAGE_SIZE;
  const uint8_t *p = blks.data, *const end = blks.data + blks.len;
  while (p < end) {
    for (int f = 0; f < 4; f++) {
      uint64_t v;
      assert_int_equal(hs__varint_get(&p, end, &v), 0);
    }
    const size_t off = (size_t)(p - blks.data);
    if (off > next_cut)
      straddled++;
    while (next_cut <= off)
      next_cut += HS__STAGE_SIZE;
  }
  assert_true(straddled > 0);
  fmt_buf_free(&body);
  fmt_buf_free(&blks);
}

static void rt_at_level(int level) {
  static rt_data d;
  rt_init(&d);
  fmt_buf file;
  assert_int_equal(fmt_write(rt_fill, &d, level, &file), 0);
  hs_snapshot *s;
  assert_int_equal(hs_snapshot_load(file.data, file.len, &s), 0);
  rt_check(&d, s);
  rt_check_records(&file);
  hs_snapshot_free(s);
  fmt_buf_free(&file);
  free(d.blocks);
}

static void test_roundtrip_level1(void **state) {
  rt_at_level(1);
}
static void test_roundtrip_level19(void **state) {
  rt_at_level(19);
}

/* hs_snapshot_open() reads a file into the same snapshot load() gives. */
static void test_open_file(void **state) {
  fmt_buf file;
  fmt_small(&file);
  char path[] = "/tmp/hs_format_test_XXXXXX";
  const int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, file.data, file.len), (ssize_t)file.len);
  close(fd);
  hs_snapshot *a, *b;
  assert_int_equal(hs_snapshot_open(path, &a), 0);
  assert_int_equal(hs_snapshot_load(file.data, file.len, &b), 0);
  unlink(path);
  fmt_assert_same(a, b);
  hs_snapshot_free(a);
  hs_snapshot_free(b);
  fmt_buf_free(&file);
}

/* The exact body of fmt_small(), the example of docs/format.md, as a
 * reader written from that document would expect it. */
/* clang-format off */
static const uint8_t small_body[] = {
    /* HEAD record, 61 bytes of payload */
    'H', 'E', 'A', 'D', 61, 0, 0, 0,
    0x01,             /* flags: HS_SNAP_SAMPLED */
    0x92, 0x21,       /* pid 4242 */
    0x01, 0x03, 0x02, /* ppid 1, number 3, epoch 2 */
    0x95, 0x9a, 0x97, 0xec, 0xe3, 0x9f, 0xe7, 0xcb, 0x17, /* time_ns */
    0x80, 0x80, 0xa8, 0xb1, 0xe3, 0x9f, 0xe7, 0xcb, 0x17, /* start_ns */
    0x04,             /* live_blocks */
    0xb0, 0x20,       /* live_bytes 4144 */
    0x80, 0x80, 0x40, /* rss_bytes 1 MiB */
    0x00,             /* sample_bytes */
    0xdc, 0x0b,       /* pause_ns 1500 */
    0x40,             /* max_depth 64 */
    0x06, '/', 'b', 'i', 'n', '/', 't', /* exe */
    0x06, 's', 'i', 'g', 'n', 'a', 'l', /* trigger */
    0x03,                                           /* argc */
    0x01, 't', 0x07, '-', '-', 's', 'e', 'r', 'v', 'e', 0x00, /* argv */
    0x00,                                           /* scan_note "" */
    /* MODS record, 54 bytes */
    'M', 'O', 'D', 'S', 54, 0, 0, 0,
    0x80, 0x80, 0x80, 0x02,       /* start 0x400000 */
    0x80, 0x40,                   /* end - start 0x2000 */
    0x00, 0x02,                   /* bias 0, flags HS_MODULE_MAIN */
    0x04, 0xde, 0xad, 0xbe, 0xef, /* build id */
    0x06, '/', 'b', 'i', 'n', '/', 't', /* path */
    0x80, 0x80, 0x80, 0x80, 0x80, 0xe0, 0x1f, /* start 0x7f0000000000 */
    0x80, 0x80, 0x40,                         /* end - start 0x100000 */
    0x80, 0x80, 0x80, 0x80, 0x80, 0xe0, 0x1f, /* bias */
    0x00, 0x00, /* flags, no build id */
    0x0e, '/', 'l', 'i', 'b', '/', 'l', 'i', 'b', 'c', '.', 's', 'o', '.', '6',
    /* STKS record, 23 bytes */
    'S', 'T', 'K', 'S', 23, 0, 0, 0,
    0x01, 0xb4, 0xa4, 0x80, 0x02, /* stack 1: depth 1, 0x401234 */
    0x03, 0x80, 0xa0, 0x80, 0x80, 0x80, 0xe0, 0x1f, /* stack 2: depth 3, 0x7f0000001000 */
    0xff, 0xff, 0xff, 0xfb, 0xff, 0xbf, 0x3f, /* zigzag(0x401000 - 0x7f0000001000) */
    0x80, 0x04, /* zigzag(+0x100) */
    0x00,       /* stack 3: depth 0 */
    /* BLKS record, 22 bytes */
    'B', 'L', 'K', 'S', 22, 0, 0, 0,
    0x80, 0x20, 0x10, 0x01, 0x00,             /* 0x1000, 16 bytes, stack 1, epoch 0 */
    0x10, 0x20, 0x02, 0x01,                   /* +0x10, 32, stack 2, epoch 1 */
    0xf0, 0xdf, 0x07, 0x80, 0x20, 0x03, 0x02, /* +0x1eff0, 4096, stack 3, epoch 2 */
    0x80, 0x80, 0x04, 0x00, 0x00, 0x00,       /* +0x10000, 0, stack 0, epoch 0 */
    /* END record */
    'E', 'N', 'D', '!', 0, 0, 0, 0,
};
/* clang-format on */

static void test_small_body_bytes(void **state) {
  fmt_buf file, body;
  fmt_small(&file);
  static const uint8_t preamble[16] = {'H', 'E', 'A', 'P', 'S', 'N', 'A', 'P',
                                       1,   0,   0,   0,   0,   0,   0,   0};
  assert_memory_equal(file.data, preamble, 16);
  fmt_unframe(file.data, file.len, &body);
  assert_int_equal(body.len, sizeof small_body);
  assert_memory_equal(body.data, small_body, sizeof small_body);
  fmt_buf_free(&body);
  fmt_buf_free(&file);
}

/* A HEAD string of exactly the limit, 1 MiB, is written and read back. */
static int big_fill(hs__writer *w, void *ctx) {
  hs_header h = fmt_small_header;
  h.exe = ctx;
  h.live_blocks = h.live_bytes = 0;
  HS__TRY(hs__writer_header(w, &h));
  return hs__writer_finish(w);
}

static void test_string_at_limit(void **state) {
  char *const exe = malloc(HS__MAX_STRING + 1);
  memset(exe, 'x', HS__MAX_STRING);
  exe[HS__MAX_STRING] = '\0';
  fmt_buf file;
  assert_int_equal(fmt_write(big_fill, exe, 1, &file), 0);
  hs_snapshot *s;
  assert_int_equal(hs_snapshot_load(file.data, file.len, &s), 0);
  assert_string_equal(hs_snapshot_header(s)->exe, exe);
  hs_snapshot_free(s);
  fmt_buf_free(&file);
  free(exe);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_level1),
      cmocka_unit_test(test_roundtrip_level19),
      cmocka_unit_test(test_open_file),
      cmocka_unit_test(test_small_body_bytes),
      cmocka_unit_test(test_string_at_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
