/* test_format_gens - the load generations (GENS): an exact round trip,
 * which module held an address for a stack of a given generation when
 * two libraries used the same range in turn, a file without the section,
 * and what the writer and the reader refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format_testutil.h"

/* A and B at the same addresses: A in generations 0 and 1, B from 2 to
 * 3, A again from 4 on (another entry: B came in between). */
static const hs_module mods[4] = {
    {0x400000, 0x500000, 0x400000, HS_MODULE_MAIN, 0, NULL, "/bin/t"},
    {0x7f0000, 0x7f8000, 0x7f0000, HS_MODULE_UNLOADED, 0, NULL, "/lib/a.so"},
    {0x7f0000, 0x7f9000, 0x7f0000, HS_MODULE_UNLOADED, 0, NULL, "/lib/b.so"},
    {0x7f0000, 0x7f8000, 0x7f0000, 0, 0, NULL, "/lib/a.so"}};
static const uint32_t lives[4][2] = {{0, 0}, {0, 2}, {2, 4}, {4, 0}};
static const uint32_t gens[3] = {1, 3, 5}; /* stacks 1..3 */

/* What to write: all (0), no GENS (1), or one of the mistakes. */
enum { ALL, NONE, SHORT_STACKS, LIVES_AFTER, BACKWARDS, TOO_MANY };

static int fill(hs__writer *w, void *ctx) {
  const int how = *(const int *)ctx;
  static const char *const argv[] = {"t"};
  const hs_header h = {.number = 1,
                       .max_depth = 64,
                       .exe = "/bin/t",
                       .trigger = "api",
                       .argc = 1,
                       .argv = argv,
                       .scan_note = ""};
  const uint64_t frames[3] = {0x7f1234, 0x7f1234, 0x401000};
  int rc = hs__writer_header(w, &h);
  for (int i = 0; !rc && i < 4; i++)
    rc = hs__writer_module(w, &mods[i]);
  for (int i = 0; !rc && i < 3; i++)
    rc = hs__writer_stack(w, &frames[i], 1);
  if (rc || how == NONE)
    return rc ? rc : hs__writer_finish(w);
  for (int i = 0; !rc && i < 4; i++)
    rc = hs__writer_gens_module(w, lives[i][0],
                                how == BACKWARDS && i == 2 ? 1 : lives[i][1]);
  for (int i = 0; !rc && i < (how == SHORT_STACKS ? 2 : 3); i++)
    rc = hs__writer_gens_stack(w, gens[i]);
  if (!rc && how == LIVES_AFTER)
    rc = hs__writer_gens_module(w, 0, 0);
  if (!rc && how == TOO_MANY)
    rc = hs__writer_gens_stack(w, 9);
  return rc ? rc : hs__writer_finish(w);
}

static hs_snapshot *load(int how) {
  fmt_buf file;
  assert_int_equal(fmt_write(fill, &how, 3, &file), 0);
  hs_snapshot *s;
  assert_int_equal(hs_snapshot_load(file.data, file.len, &s), 0);
  fmt_buf_free(&file);
  return s;
}

static void test_roundtrip(void **state) {
  hs_snapshot *s = load(ALL);
  assert_true(hs_snapshot_has_gens(s));
  for (size_t i = 0; i < 4; i++) {
    uint32_t l, u;
    hs_snapshot_module_life(s, i, &l, &u);
    assert_int_equal(l, lives[i][0]);
    assert_int_equal(u, lives[i][1]);
  }
  for (uint32_t i = 1; i <= 3; i++)
    assert_int_equal(hs_snapshot_stack_gen(s, i), gens[i - 1]);
  assert_int_equal(hs_snapshot_stack_gen(s, 0), 0);
  assert_int_equal(hs_snapshot_stack_gen(s, 4), 0);
  uint32_t l = 7, u = 7;
  hs_snapshot_module_life(s, 4, &l, &u);
  assert_int_equal(l, 0);
  assert_int_equal(u, 0);
  hs_snapshot_free(s);
}

/* The same address, three owners in turn; the main program throughout. */
static void test_module_at(void **state) {
  hs_snapshot *s = load(ALL);
  const hs_module *m0 = hs_snapshot_module(s, 0);
  const char *want[6] = {"/lib/a.so", "/lib/a.so", "/lib/b.so",
                         "/lib/b.so", "/lib/a.so", "/lib/a.so"};
  for (uint32_t g = 0; g < 6; g++) {
    const hs_module *m = hs_snapshot_module_at(s, 0x7f1000, g);
    assert_non_null(m);
    assert_string_equal(m->path, want[g]);
    assert_int_equal(m - m0, g < 2 ? 1 : g < 4 ? 2 : 3);
    assert_ptr_equal(hs_snapshot_module_at(s, 0x401000, g), m0);
  }
  /* B is longer than A: past A's end, only B's generations name it */
  assert_null(hs_snapshot_module_at(s, 0x7f8800, 1));
  assert_string_equal(hs_snapshot_module_at(s, 0x7f8800, 3)->path, "/lib/b.so");
  assert_null(hs_snapshot_module_at(s, 0x7f8800, 4));
  hs_snapshot_free(s);
}

/* No GENS: generations 0, and an address goes to the module the reader
 * would pick without them. */
static void test_without(void **state) {
  hs_snapshot *s = load(NONE);
  assert_false(hs_snapshot_has_gens(s));
  assert_int_equal(hs_snapshot_stack_gen(s, 1), 0);
  uint32_t l = 7, u = 7;
  hs_snapshot_module_life(s, 1, &l, &u);
  assert_int_equal(l, 0);
  assert_int_equal(u, 0);
  assert_ptr_equal(hs_snapshot_module_at(s, 0x7f1000, 3),
                   hs_snapshot_module_find(s, 0x7f1000));
  hs_snapshot_free(s);
}

static void test_writer_refuses(void **state) {
  const int bad[] = {SHORT_STACKS, LIVES_AFTER, BACKWARDS, TOO_MANY};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fmt_buf file;
    assert_int_equal(fmt_write(fill, (void *)&bad[i], 3, &file), HS_EINVAL);
    fmt_buf_free(&file);
  }
}

/* A hand-built body: one module, one stack, then GENS holding `items`. */
static int load_gens(const uint64_t *items, size_t n) {
  fmt_buf b = {0}, head = {0}, ms = {0}, stks = {0}, gs = {0}, file;
  fmt_put_head(&head, 0, 0);
  fmt_put_str(&head, "");
  fmt_put_varint(&ms, 0x400000), fmt_put_varint(&ms, 0x1000);
  fmt_put_varint(&ms, 0x400000), fmt_put_varint(&ms, 0);
  fmt_put_varint(&ms, 0), fmt_put_str(&ms, "/bin/t");
  fmt_put_varint(&stks, 1), fmt_put_varint(&stks, 0x400100);
  for (size_t i = 0; i < n; i++)
    fmt_put_varint(&gs, items[i]);
  fmt_put_record(&b, HS__TAG_HEAD, &head);
  fmt_put_record(&b, HS__TAG_MODS, &ms);
  fmt_put_record(&b, HS__TAG_STKS, &stks);
  fmt_put_record(&b, HS__TAG_GENS, &gs);
  const fmt_buf end = {0};
  fmt_put_record(&b, HS__TAG_END, &end);
  fmt_frame(b.data, b.len, 1, &file);
  hs_snapshot *s;
  const int rc = hs_snapshot_load(file.data, file.len, &s);
  hs_snapshot_free(s);
  fmt_buf_free(&b), fmt_buf_free(&head), fmt_buf_free(&ms);
  fmt_buf_free(&stks), fmt_buf_free(&gs), fmt_buf_free(&file);
  return rc;
}

static void test_reader_refuses(void **state) {
  const uint64_t good[] = {3, 7, 5}, short_[] = {3, 7}, long_[] = {3, 7, 5, 5},
                 backwards[] = {7, 3, 5}, same[] = {7, 7, 5},
                 big[] = {3, 7, 1ull << 32};
  assert_int_equal(load_gens(good, 3), 0);
  assert_int_equal(load_gens(short_, 2), HS_ECORRUPT);
  assert_int_equal(load_gens(long_, 4), HS_ECORRUPT);
  assert_int_equal(load_gens(backwards, 3), HS_ECORRUPT);
  assert_int_equal(load_gens(same, 3), HS_ECORRUPT);
  assert_int_equal(load_gens(big, 3), HS_ECORRUPT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_module_at),
      cmocka_unit_test(test_without),
      cmocka_unit_test(test_writer_refuses),
      cmocka_unit_test(test_reader_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
