/* test_format_body.c - bodies built by hand, record by record, with a
 * valid frame and checksum around them: the reader must accept what the
 * format allows (unknown records, sections split anywhere, fields added
 * by later versions) and refuse the rest with HS_ECORRUPT or HS_ETRUNC,
 * without ever allocating for a count the bytes cannot back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format_testutil.h"
#include "hs_varint.h"

/* ------------------------------------------------------------------ */
/* allocations by code linked into this program (the reader included: it
 * is a static library), measured while `watching`. Linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc. */

static int watching;
static size_t alloc_total, alloc_max;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static void note(size_t n) {
  if (!watching)
    return;
  alloc_total += n;
  alloc_max = n > alloc_max ? n : alloc_max;
}

void *__wrap_malloc(size_t n) {
  note(n);
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  note(n * size);
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  note(n);
  return __real_realloc(p, n);
}

/* The reader's first body buffer is 64 KiB for a small frame; nothing in
 * these small bodies justifies much more, whatever they claim. */
#define ALLOC_MAX ((size_t)128 << 10)
#define ALLOC_TOTAL ((size_t)512 << 10)

/* ------------------------------------------------------------------ */

/* Frames `body`, loads it, and checks what the load allocated. */
static int load_body(const fmt_buf *body, hs_snapshot **out) {
  fmt_buf f;
  fmt_frame(body->data, body->len, HS_FORMAT_VERSION, &f);
  alloc_total = alloc_max = 0;
  watching = 1;
  const int err = hs_snapshot_load(f.data, f.len, out);
  watching = 0;
  fmt_buf_free(&f);
  assert_true(alloc_max <= ALLOC_MAX);
  assert_true(alloc_total <= ALLOC_TOTAL);
  return err;
}

/* Loads `body` expecting `code`, and frees the body. */
static void expect(fmt_buf *body, int code) {
  hs_snapshot *s;
  const int err = load_body(body, &s);
  if (err != code)
    fail_msg("got %d (%s), want %d (%s)", err, hs_strerror(err), code,
             hs_strerror(code));
  hs_snapshot_free(s);
  fmt_buf_free(body);
}

static fmt_buf varints(const uint64_t *v, size_t n) {
  fmt_buf b = {0};
  for (size_t i = 0; i < n; i++)
    fmt_put_varint(&b, v[i]);
  return b;
}
#define VARINTS(...)                                                           \
  varints((const uint64_t[]){__VA_ARGS__},                                     \
          sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))

/* Appends a record whose payload is the given varints. */
#define RECORD(body, tag, ...)                                                 \
  do {                                                                         \
    fmt_buf p_ = VARINTS(__VA_ARGS__);                                         \
    fmt_put_record(body, tag, &p_);                                            \
    fmt_buf_free(&p_);                                                         \
  } while (0)

static void put_head(fmt_buf *body, uint64_t live_blocks, uint64_t live_bytes) {
  fmt_buf p = {0};
  fmt_put_head(&p, live_blocks, live_bytes);
  fmt_put_record(body, HS__TAG_HEAD, &p);
  fmt_buf_free(&p);
}

static void put_end(fmt_buf *body) {
  fmt_put_u32(body, HS__TAG_END);
  fmt_put_u32(body, 0);
}

/* A record with an explicit length, whatever the payload really is. */
static void put_raw(fmt_buf *body, uint32_t tag, uint32_t len) {
  fmt_put_u32(body, tag);
  fmt_put_u32(body, len);
}

/* HEAD and END alone: a process with no blocks. */
static void test_minimal(void **state) {
  fmt_buf b = {0};
  put_head(&b, 0, 0);
  put_end(&b);
  hs_snapshot *s;
  assert_int_equal(load_body(&b, &s), 0);
  const hs_header *const h = hs_snapshot_header(s);
  assert_int_equal(h->pid, 42);
  assert_string_equal(h->exe, "/bin/t");
  assert_string_equal(h->trigger, "api");
  assert_int_equal(h->argc, 1);
  assert_string_equal(h->argv[0], "t");
  assert_int_equal(hs_snapshot_module_count(s), 0);
  assert_null(hs_snapshot_module_find(s, 0));
  assert_int_equal(hs_snapshot_stack_count(s), 1);
  assert_int_equal(hs_snapshot_block_count(s), 0);
  assert_non_null(hs_snapshot_blocks(s));
  hs_snapshot_free(s);
  fmt_buf_free(&b);
}

/* Records of unknown tags are skipped wherever they are, and a section
 * may be split anywhere, even inside an item, across records. */
static void test_unknown_and_split(void **state) {
  fmt_buf b = {0};
  put_head(&b, 2, 30);
  RECORD(&b, HS__TAG('X', 'T', 'R', 'A'), 1, 2, 3);
  RECORD(&b, HS__TAG_MODS, 0x1000, 0x1000, 0); /* split after bias */
  RECORD(&b, HS__TAG('Z', 'Z', 'Z', 'Z'));     /* empty unknown record */
  RECORD(&b, HS__TAG_MODS, 0, 0, 1, 'm');      /* flags, no id, "m" */
  RECORD(&b, HS__TAG_STKS, 2, 0x401000);
  RECORD(&b, HS__TAG_STKS, 4); /* zigzag(+2): second frame 0x401002 */
  RECORD(&b, HS__TAG_BLKS, 0x10, 10, 1, 0, 0x10, 20, 0, 3);
  RECORD(&b, HS__TAG('R', 'T', 'N', 'S'), 1, 0, 0, 0, 1, 0, 0, 0);
  put_end(&b);
  hs_snapshot *s;
  assert_int_equal(load_body(&b, &s), 0);
  assert_int_equal(hs_snapshot_module_count(s), 1);
  assert_string_equal(hs_snapshot_module(s, 0)->path, "m");
  assert_int_equal(hs_snapshot_module(s, 0)->end, 0x2000);
  const hs_stack st = hs_snapshot_stack(s, 1);
  assert_int_equal(st.depth, 2);
  assert_int_equal(st.frames[1], 0x401002);
  assert_int_equal(hs_snapshot_blocks(s)[1].addr, 0x20);
  assert_int_equal(hs_snapshot_blocks(s)[1].epoch, 3);
  hs_snapshot_free(s);
  fmt_buf_free(&b);
}

/* A later version may append HEAD fields after the ones this reader
 * knows (the last is scan_note); it reads the note and ignores them. */
static void test_head_extra_fields(void **state) {
  fmt_buf b = {0}, p = {0};
  fmt_put_head(&p, 0, 0);
  fmt_put_str(&p, "not scanned: a test");
  fmt_put_varint(&p, 12345);
  fmt_put_str(&p, "a field of version 2");
  fmt_put_record(&b, HS__TAG_HEAD, &p);
  put_end(&b);
  hs_snapshot *s;
  assert_int_equal(load_body(&b, &s), 0);
  assert_string_equal(hs_snapshot_header(s)->scan_note, "not scanned: a test");
  hs_snapshot_free(s);
  fmt_buf_free(&b);
  fmt_buf_free(&p);
}

/* The header must agree with the blocks present. */
static void test_live_mismatch(void **state) {
  fmt_buf b = {0};
  put_head(&b, 2, 30);
  RECORD(&b, HS__TAG_BLKS, 0x10, 30, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* live_blocks */
  put_head(&b, 1, 31);
  RECORD(&b, HS__TAG_BLKS, 0x10, 30, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* live_bytes */
  put_head(&b, 4000000000u, 30);
  RECORD(&b, HS__TAG_BLKS, 0x10, 30, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* billions claimed: nothing allocated for it */
  put_head(&b, 2, 0);
  RECORD(&b, HS__TAG_BLKS, 0x10, 1ull << 63, 0, 0, 1, 1ull << 63, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* sizes overflow 64 bits */
}

/* Lengths and counts that claim more than the bytes there are. */
static void test_huge_claims(void **state) {
  fmt_buf b = {0};
  put_head(&b, 1, 1);
  put_raw(&b, HS__TAG_BLKS, 0xfffffff0u); /* billions of blocks' bytes */
  fmt_put_varint(&b, 1);
  expect(&b, HS_ETRUNC);
  put_head(&b, 0, 0);
  RECORD(&b, HS__TAG_STKS, 3000000000u, 1, 1);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* depth */
  put_head(&b, 0, 0);
  RECORD(&b, HS__TAG_MODS, 1, 1, 0, 0, 1ull << 40);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* build id length */
  fmt_buf p = {0};
  fmt_put_head(&p, 0, 0);
  p.len -= 3; /* argc 1, "t" */
  fmt_put_varint(&p, 4000000000u);
  fmt_put_record(&b, HS__TAG_HEAD, &p);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* argc */
  p.len -= hs__varint_size(4000000000u);
  fmt_put_varint(&p, HS__MAX_ARGC);
  fmt_put_record(&b, HS__TAG_HEAD, &p);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* argc within the limit, strings missing */
  fmt_buf_free(&p);
}

/* The limits hold even when the bytes are there. */
static void test_limits(void **state) {
  fmt_buf b = {0}, p = {0};
  fmt_put_varint(&p, HS__MAX_DEPTH + 1);
  for (uint32_t i = 0; i <= HS__MAX_DEPTH; i++)
    fmt_put_varint(&p, 0);
  put_head(&b, 0, 0);
  fmt_put_record(&b, HS__TAG_STKS, &p);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* depth 1025 */
  p.data[0] = 0x80;        /* 1024 as a two-byte varint: 0x80 0x08 */
  p.data[1] = 0x08;
  put_head(&b, 0, 0);
  fmt_put_record(&b, HS__TAG_STKS, &p);
  put_end(&b);
  expect(&b, 0); /* depth 1024 */
  fmt_buf_free(&p);
  fmt_put_head(&p, 0, 0);
  p.len -= 3;
  fmt_put_varint(&p, HS__MAX_ARGC + 1);
  for (uint32_t i = 0; i <= HS__MAX_ARGC; i++)
    fmt_put_varint(&p, 0);
  fmt_put_record(&b, HS__TAG_HEAD, &p);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* argc 65537 */
  fmt_buf_free(&p);
}

/* The record structure: HEAD first and once, known sections in order,
 * END last and empty, nothing after it. */
static void test_record_order(void **state) {
  fmt_buf b = {0};
  expect(&b, HS_ETRUNC); /* empty body */
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* no HEAD */
  RECORD(&b, HS__TAG_MODS, 1, 1, 0, 0, 0, 0);
  put_head(&b, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* HEAD not first */
  put_head(&b, 0, 0);
  put_head(&b, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* two HEADs */
  put_head(&b, 0, 0);
  expect(&b, HS_ETRUNC); /* no END */
  put_head(&b, 0, 0);
  fmt_put_u32(&b, HS__TAG_END);
  expect(&b, HS_ETRUNC); /* END cut */
  put_head(&b, 0, 0);
  RECORD(&b, HS__TAG_END, 0);
  expect(&b, HS_ECORRUPT); /* END with a payload */
  put_head(&b, 0, 0);
  put_end(&b);
  fmt_put_u32(&b, 0);
  expect(&b, HS_ECORRUPT); /* bytes after END */
  put_head(&b, 0, 0);
  RECORD(&b, HS__TAG_STKS, 0);
  RECORD(&b, HS__TAG_MODS, 1, 1, 0, 0, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* MODS after STKS */
  put_head(&b, 1, 1);
  RECORD(&b, HS__TAG_BLKS, 0x10, 1, 0, 0);
  RECORD(&b, HS__TAG_STKS, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* STKS after BLKS */
}

/* Items that break the rules of their section. */
static void test_bad_items(void **state) {
  fmt_buf b = {0};
  put_head(&b, 2, 2);
  RECORD(&b, HS__TAG_BLKS, 0x10, 1, 0, 0, 0, 1, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* address not ascending */
  put_head(&b, 2, 2);
  RECORD(&b, HS__TAG_BLKS, UINT64_MAX, 1, 0, 0, 1, 1, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* address past 2^64 */
  put_head(&b, 1, 1);
  RECORD(&b, HS__TAG_STKS, 0);
  RECORD(&b, HS__TAG_BLKS, 0x10, 1, 2, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* stack 2 of 0..1 */
  put_head(&b, 1, 1);
  RECORD(&b, HS__TAG_BLKS, 0x10, 1, 0, 1ull << 32);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* epoch past u32 */
  put_head(&b, 0, 0);
  RECORD(&b, HS__TAG_MODS, UINT64_MAX, 2, 0, 0, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* module end past 2^64 */
  put_head(&b, 0, 0);
  RECORD(&b, HS__TAG_MODS, 1, 1, 0, 0, 0);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* module cut at the end of its section */
  put_head(&b, 0, 0);
  RECORD(&b, HS__TAG_MODS, 1, 1, 0, 0, 0, 3, 'a');
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* path longer than its section */
}

static void test_bad_head(void **state) {
  fmt_buf b = {0}, p = {0};
  RECORD(&b, HS__TAG_HEAD, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 64);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* strings missing */
  RECORD(&b, HS__TAG_HEAD, 1ull << 32, 1, 1, 1);
  put_end(&b);
  expect(&b, HS_ECORRUPT); /* flags past u32 */
  fmt_put_head(&p, 0, 0);
  p.data[0] = 0x80; /* flags 0, padded to two bytes */
  fmt_put_record(&b, HS__TAG_HEAD, &p);
  put_end(&b);
  expect(&b, HS_ECORRUPT);
  fmt_buf_free(&p);
  /* pid and ppid are the u32 of their two's complement */
  RECORD(&b, HS__TAG_HEAD, 0, 0xffffffffu, 0x80000000u, 0, 0, 0, 0, 0, 0, 0, 0,
         0, 0, 0, 0, 0);
  put_end(&b);
  hs_snapshot *s;
  assert_int_equal(load_body(&b, &s), 0);
  assert_int_equal(hs_snapshot_header(s)->pid, -1);
  assert_int_equal(hs_snapshot_header(s)->ppid, INT32_MIN);
  hs_snapshot_free(s);
  fmt_buf_free(&b);
}

/* module_find: loaded modules win over unloaded ones that had the same
 * range, nested modules give the innermost, gaps give NULL. */
static void test_module_find(void **state) {
  static const uint64_t mods[][3] = {
      /* start, size, flags */
      {0x1000, 0x1000, 0},
      {0x3000, 0x1000, 0},
      {0x1000, 0x4000, HS_MODULE_UNLOADED},
      {0x20000, 0x10000, 0},
      {0x21000, 0x1000, 0},
      {0x10000, 0x1000, HS_MODULE_UNLOADED},
      {0x10800, 0x100, 0},
      {0x50000, 0, 0},
  };
  fmt_buf b = {0}, p = {0};
  for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
    const fmt_buf item = VARINTS(mods[i][0], mods[i][1], 0, mods[i][2], 0, 0);
    fmt_put(&p, item.data, item.len);
    free(item.data);
  }
  put_head(&b, 0, 0);
  fmt_put_record(&b, HS__TAG_MODS, &p);
  put_end(&b);
  fmt_buf_free(&p);
  hs_snapshot *s;
  assert_int_equal(load_body(&b, &s), 0);
  static const struct {
    uint64_t addr;
    int module; /* index in mods, -1 for none */
  } want[] = {{0xfff, -1},  {0x1000, 0},   {0x1fff, 0},   {0x2000, 2},
              {0x3500, 1},  {0x4500, 2},   {0x5000, -1},  {0x10000, 5},
              {0x10850, 6}, {0x10900, 5},  {0x21500, 4},  {0x25000, 3},
              {0x20000, 3}, {0x30000, -1}, {0x50000, -1}, {UINT64_MAX, -1}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const hs_module *const m = hs_snapshot_module_find(s, want[i].addr);
    if (want[i].module < 0)
      assert_null(m);
    else
      assert_ptr_equal(m, hs_snapshot_module(s, (size_t)want[i].module));
  }
  hs_snapshot_free(s);
  fmt_buf_free(&b);
}

static void test_null_snapshot(void **state) {
  hs_snapshot_free(NULL);
  assert_null(hs_snapshot_header(NULL));
  assert_int_equal(hs_snapshot_module_count(NULL), 0);
  assert_null(hs_snapshot_module(NULL, 0));
  assert_null(hs_snapshot_module_find(NULL, 0));
  assert_int_equal(hs_snapshot_stack_count(NULL), 0);
  assert_int_equal(hs_snapshot_stack(NULL, 0).depth, 0);
  assert_int_equal(hs_snapshot_block_count(NULL), 0);
  assert_null(hs_snapshot_blocks(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minimal),
      cmocka_unit_test(test_unknown_and_split),
      cmocka_unit_test(test_head_extra_fields),
      cmocka_unit_test(test_live_mismatch),
      cmocka_unit_test(test_huge_claims),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_record_order),
      cmocka_unit_test(test_bad_items),
      cmocka_unit_test(test_bad_head),
      cmocka_unit_test(test_module_find),
      cmocka_unit_test(test_null_snapshot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
