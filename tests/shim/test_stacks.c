/* test_stacks - stack capture and the deduplicated stack table: the same
 * call site gives the same id, another site another id, the depth limit
 * holds, the shim's own frames are skipped, a full table answers 0, and
 * the same frames are another stack once a module under them was
 * unloaded (load generations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hs_shim.h"

hs__settings hs__cfg;

static int stacks_setup(void **state) {
  hs__cfg.depth = 64;
  hs__cfg.stack_mb = 1; /* small, so the test can fill it */
  return hs__stacks_init();
}

__attribute__((noinline)) static uint32_t site_a(void) {
  uint32_t id = hs__stack_capture();
  __asm__ volatile("" ::: "memory"); /* no tail call */
  return id;
}

__attribute__((noinline)) static uint32_t site_b(void) {
  uint32_t id = hs__stack_capture();
  __asm__ volatile("" ::: "memory");
  return id;
}

static void test_same_site_same_id(void **state) {
  uint32_t a[3];
  for (int i = 0; i < 3; i++)
    a[i] = site_a();
  const uint32_t b = site_b();
  assert_true(a[0] != 0 && b != 0);
  assert_int_equal(a[0], a[1]);
  assert_int_equal(a[1], a[2]);
  assert_int_not_equal(a[0], b);
  uint32_t depth;
  const uint64_t *f = hs__stack_frames(a[0], &depth);
  /* no shim text declared: frame 0 is in hs__stack_capture, frame 1 is the
   * return address inside site_a */
  assert_true(depth >= 3);
  assert_true(f[1] > (uint64_t)site_a && f[1] < (uint64_t)site_a + 64);
}

static void test_skips_own_text(void **state) {
  uint32_t depth;
  const uint64_t capture_ra = hs__stack_frames(site_a(), &depth)[0];
  /* declare the capture's code as the shim's: its frame must go */
  hs__stacks_set_text(capture_ra - 1, capture_ra + 1);
  const uint64_t *f = hs__stack_frames(site_a(), &depth);
  hs__stacks_set_text(0, 0);
  assert_true(f[0] > (uint64_t)site_a && f[0] < (uint64_t)site_a + 64);
}

__attribute__((noinline)) static uint32_t recurse(int n) {
  uint32_t id = n ? recurse(n - 1) : hs__stack_capture();
  __asm__ volatile("" ::: "memory");
  return id;
}

static void test_depth_limit(void **state) {
  hs__cfg.depth = 5;
  uint32_t depth;
  hs__stack_frames(recurse(20), &depth);
  assert_int_equal(depth, 5);
  hs__cfg.depth = 64;
  hs__stack_frames(recurse(20), &depth);
  assert_true(depth > 20);
}

static void test_intern_and_full(void **state) {
  uint64_t f[4] = {1, 2, 3, 0};
  const uint32_t before = hs__stacks_count();
  const uint32_t x = hs__stack_intern(f, 3, 0);
  assert_int_equal(hs__stack_intern(f, 3, 0), x);
  assert_int_not_equal(hs__stack_intern(f, 2, 0), x); /* a prefix is another */
  assert_int_equal(hs__stacks_count(), before + 2);
  assert_false(hs__stacks_full());
  uint32_t last = x;
  for (uint64_t i = 0; i < 100000 && last; i++) {
    f[3] = 1000 + i;
    last = hs__stack_intern(f, 4, 0);
  }
  assert_int_equal(last, 0); /* 1 MiB holds fewer than 100k stacks */
  assert_true(hs__stacks_full());
  assert_int_equal(hs__stack_intern(f, 3, 0), x); /* known stacks still found */
  uint32_t depth;
  hs__stack_frames(0, &depth);
  assert_int_equal(depth, 0);
}

/* Frames in a range that was unloaded since a stack was recorded are
 * another stack (the code there may be another library's); frames
 * elsewhere are the same stack, moved up to the new generation. */
static void test_generations(void **state) {
  const uint32_t g0 = hs__modules_gen();
  uint64_t in[3] = {0x500100, 0x600200, 0x700300};
  uint64_t out[3] = {0x510100, 0x610200, 0x710300};
  const uint32_t x = hs__stack_intern(in, 3, g0);
  const uint32_t o = hs__stack_intern(out, 3, g0);
  assert_true(x != 0 && o != 0);
  assert_int_equal(hs__stack_intern(in, 3, g0), x);
  const uint32_t g1 = hs__modules_log_unload(0x600000, 0x601000);
  assert_int_equal(g1, g0 + 1);
  assert_int_equal(hs__modules_gen(), g1);
  const uint32_t y = hs__stack_intern(in, 3, g1);
  assert_true(y != 0 && y != x);
  assert_int_equal(hs__stack_gen(y), g1);
  assert_int_equal(hs__stack_intern(in, 3, g1), y);
  assert_int_equal(hs__stack_intern(in, 3, g0), x); /* recorded before */
  assert_int_equal(hs__stack_gen(x), g0);
  assert_int_equal(hs__stack_intern(out, 3, g1), o);
  assert_int_equal(hs__stack_gen(o), g1); /* checked once, moved up */
  /* a return address just past the range: the call was inside */
  uint64_t edge[1] = {0x601000};
  const uint32_t e = hs__stack_intern(edge, 1, g0);
  assert_int_not_equal(hs__stack_intern(edge, 1, g1), e);
  uint64_t past[1] = {0x600000}; /* a call just before the range */
  const uint32_t p = hs__stack_intern(past, 1, g0);
  assert_int_equal(hs__stack_intern(past, 1, g1), p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_site_same_id),
      cmocka_unit_test(test_generations),
      cmocka_unit_test(test_skips_own_text),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_intern_and_full),
  };
  return cmocka_run_group_tests(tests, stacks_setup, NULL);
}
