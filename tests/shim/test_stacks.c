/* test_stacks - stack capture and the deduplicated stack table: the same
 * call site gives the same id, another site another id, the depth limit
 * holds, the shim's own frames are skipped, a full table answers 0, and
 * the same frames are another stack once a module under them was
 * unloaded (load generations). Stacks are kept in 16 bits a frame while
 * return addresses have ids, wide after, and found and read back exactly
 * both ways, by the allocation's walk too. */
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
  uint64_t f[HS_DEPTH_MAX + 8];
  const uint32_t depth = hs__stack_frames(a[0], f);
  /* no shim text declared: frame 0 is in hs__stack_capture, frame 1 is the
   * return address inside site_a */
  assert_true(depth >= 3);
  assert_true(f[1] > (uint64_t)site_a && f[1] < (uint64_t)site_a + 64);
}

static void test_skips_own_text(void **state) {
  uint64_t f[HS_DEPTH_MAX + 8];
  hs__stack_frames(site_a(), f);
  const uint64_t capture_ra = f[0];
  /* declare the capture's code as the shim's: its frame must go */
  hs__stacks_set_text(capture_ra - 1, capture_ra + 1);
  hs__stack_frames(site_a(), f);
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
  uint64_t f[HS_DEPTH_MAX + 8];
  assert_int_equal(hs__stack_frames(recurse(20), f), 5);
  hs__cfg.depth = 64;
  assert_true(hs__stack_frames(recurse(20), f) > 20);
}

/* A return address's id is its own and for good. */
static void test_pc_ids(void **state) {
  const uint64_t a = 0x7f0000001234, b = 0x7f0000001238;
  const uint32_t ia = hs__stack_pc_id(a), ib = hs__stack_pc_id(b);
  assert_true(ia != 0 && ib != 0 && ia != ib);
  assert_int_equal(hs__stack_pc_id(a), ia);
  assert_int_equal(hs__stack_pc_id(b), ib);
  assert_int_equal(hs__stack_pc_id(0), 0);
  assert_int_equal(hs__stack_pc_id(1ull << 48), 0); /* not user space */
  uint64_t f[3] = {a, b, a}, out[HS_DEPTH_MAX + 8];
  const uint32_t x = hs__stack_intern(f, 3, 0);
  assert_true(hs__stack_compact(x));
  assert_int_equal(hs__stack_frames(x, out), 3);
  assert_memory_equal(out, f, sizeof f);
  f[2] = 1ull << 48; /* no id: kept wide, read back the same */
  const uint32_t y = hs__stack_intern(f, 3, 0);
  assert_true(y != 0 && y != x && !hs__stack_compact(y));
  assert_int_equal(hs__stack_intern(f, 3, 0), y);
  assert_int_equal(hs__stack_frames(y, out), 3);
  assert_memory_equal(out, f, sizeof f);
}

/* The compare of a record's ids with the walk's frames, at every depth
 * up to 40 (groups of 8 and 4, the tail), and a difference anywhere. */
static void test_ids_compare(void **state) {
  for (uint32_t depth = 1; depth <= 40; depth++) {
    uint64_t f[44] = {0}, r[11] = {0};
    uint16_t ids[44] = {0};
    for (uint32_t i = 0; i < depth; i++) {
      ids[i] = (uint16_t)(1 + (i * 7919) % HS_PC_ID_MAX);
      f[i] = (0x7f0000000000 + i * 0x1111) | (uint64_t)ids[i] << 48;
    }
    memcpy(r, ids, sizeof r);
    assert_true(hs__stack_ids_equal(r, f, depth));
    for (uint32_t k = 0; k < depth; k++) {
      f[k] ^= 1ull << 60; /* the walk's id differs */
      assert_false(hs__stack_ids_equal(r, f, depth));
      f[k] ^= 1ull << 60;
      f[k] ^= 0xfff; /* the address alone differs: the ids decide */
      assert_true(hs__stack_ids_equal(r, f, depth));
      f[k] ^= 0xfff;
      ids[k] ^= 0x100; /* the record's */
      memcpy(r, ids, sizeof r);
      assert_false(hs__stack_ids_equal(r, f, depth));
      ids[k] ^= 0x100;
      memcpy(r, ids, sizeof r);
    }
  }
}

/* The allocation's capture: hs__stack_walk from this frame, then
 * hs__stack_known; 0 the first time, as the hooks then capture. */
__attribute__((noinline)) static uint32_t walked_site(uint64_t *clean,
                                                      uint32_t *depth) {
  hs__walked w;
  uint64_t f[HS_DEPTH_MAX + 12];
  hs__stack_walk(&w, f, HS_HOOK_FRAME);
  const uint32_t id = hs__stack_known(&w, f);
  assert_true(w.n >= 0); /* the fast walk is on: it agreed with libunwind */
  *depth = (uint32_t)(w.n - w.first);
  for (uint32_t i = 0; i < *depth; i++)
    clean[i] = f[w.first + i] & HS_PC_MASK;
  __asm__ volatile("" ::: "memory");
  return id;
}

__attribute__((noinline)) static uint32_t walked_other(uint64_t *clean,
                                                       uint32_t *depth) {
  const uint32_t id = walked_site(clean, depth); /* a new return address */
  __asm__ volatile("" ::: "memory");
  return id;
}

/* A site's stack, new to the table, then found by the walk's lookup
 * (from the same call: one return address). */
static void walked_twice(uint32_t (*site)(uint64_t *, uint32_t *),
                         int compact) {
  uint64_t clean[2][HS_DEPTH_MAX + 12], out[HS_DEPTH_MAX + 8];
  uint32_t depth[2], id[2], x = 0;
  for (int i = 0; i < 2; i++) {
    id[i] = site(clean[i], &depth[i]);
    if (i == 0)
      x = hs__stack_intern(clean[0], depth[0], hs__modules_gen());
  }
  assert_int_equal(id[0], 0); /* new */
  assert_true(x != 0 && depth[0] > 3);
  assert_int_equal(hs__stack_compact(x), compact);
  assert_int_equal(id[1], x);
  assert_int_equal(depth[1], depth[0]);
  assert_memory_equal(clean[1], clean[0], depth[0] * 8);
  assert_int_equal(hs__stack_frames(x, out), depth[0]);
  assert_memory_equal(out, clean[0], depth[0] * 8);
}

static void test_walked_lookup(void **state) {
  walked_twice(walked_site, 1);
}

/* A stack deeper than the compare's groups of 8 and 4 ids (and than a
 * cache line of them), found by the walk's lookup. */
__attribute__((noinline)) static uint32_t deep(int n, uint64_t *clean,
                                               uint32_t *depth) {
  const uint32_t id = n ? deep(n - 1, clean, depth) : walked_site(clean, depth);
  __asm__ volatile("" ::: "memory");
  return id;
}

__attribute__((noinline)) static uint32_t deep_site(uint64_t *clean,
                                                    uint32_t *depth) {
  const uint32_t id = deep(28, clean, depth);
  __asm__ volatile("" ::: "memory");
  return id;
}

static void test_walked_lookup_deep(void **state) {
  uint64_t clean[HS_DEPTH_MAX + 12];
  uint32_t depth;
  deep_site(clean, &depth);
  assert_true(depth > 28);
  walked_twice(deep_site, 1);
}

/* Stacks of many depths, compact and wide, are found again by id, read
 * back exactly and not taken for their prefix; test_intern_and_full finds
 * them again after the index has grown (from the records the grown
 * index was built from). */
static struct {
  uint32_t depth, id;
  uint64_t base;
} kept[32];
static int kept_n;

static void depth_stack(uint64_t *f, uint64_t base, uint32_t depth) {
  for (uint32_t i = 0; i < depth; i++)
    f[i] = base + i * 16;
}

static void depth_add(uint64_t base, uint32_t depth, int compact) {
  uint64_t f[HS_DEPTH_MAX], out[HS_DEPTH_MAX + 8];
  depth_stack(f, base, depth);
  const uint32_t x = hs__stack_intern(f, depth, 0);
  assert_true(x != 0);
  assert_int_equal(hs__stack_compact(x), compact);
  assert_int_equal(hs__stack_intern(f, depth, 0), x);
  assert_int_equal(hs__stack_frames(x, out), depth);
  assert_memory_equal(out, f, depth * 8);
  if (depth > 1) {
    const uint32_t prefix = hs__stack_intern(f, depth - 1, 0);
    assert_true(prefix != 0 && prefix != x);
    assert_int_equal(hs__stack_intern(f, depth, 0), x);
  }
  kept[kept_n].depth = depth, kept[kept_n].id = x, kept[kept_n].base = base;
  kept_n++;
}

static void depths_found_again(void) {
  uint64_t f[HS_DEPTH_MAX];
  for (int i = 0; i < kept_n; i++) {
    depth_stack(f, kept[i].base, kept[i].depth);
    assert_int_equal(hs__stack_intern(f, kept[i].depth, 0), kept[i].id);
  }
}

static void test_many_depths(void **state) {
  static const uint32_t depth[] = {1, 4, 5, 16, 17, 20, 21, 24, 25, 64};
  for (size_t i = 0; i < sizeof depth / sizeof *depth; i++)
    depth_add(0x7e0000000000 + depth[i] * 0x10000, depth[i], 1);
  depths_found_again();
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
  depths_found_again(); /* from the copies the grown index made */
  uint64_t out[HS_DEPTH_MAX + 8];
  assert_int_equal(hs__stack_frames(0, out), 0);
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

/* After HS_PC_ID_MAX return addresses, new ones get none: their stacks
 * are kept wide, and found exactly, by the walk too. The ids are gone for
 * the tests after it (test_intern_and_full's stacks are wide). */
static void test_ids_run_out(void **state) {
  for (uint64_t i = 0; i <= HS_PC_ID_MAX; i++)
    hs__stack_pc_id(0x100000000 + 16 * i);
  assert_int_equal(hs__stack_pc_id(0x200000000), 0);
  uint64_t f[2] = {0x7f0000001234, 0x200000000}, out[HS_DEPTH_MAX + 8];
  const uint32_t y = hs__stack_intern(f, 2, 0);
  assert_true(y != 0 && !hs__stack_compact(y));
  assert_int_equal(hs__stack_intern(f, 2, 0), y);
  assert_int_equal(hs__stack_frames(y, out), 2);
  assert_memory_equal(out, f, sizeof f);
  f[1] = 0x100000000; /* both have ids: still compact */
  assert_true(hs__stack_compact(hs__stack_intern(f, 2, 0)));
  walked_twice(walked_other, 0);
  static const uint32_t depth[] = {1, 4, 5, 6, 9};
  for (size_t i = 0; i < sizeof depth / sizeof *depth; i++)
    depth_add(0x7d0000000000 + depth[i] * 0x10000, depth[i], 0);
  depths_found_again();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_site_same_id),
      cmocka_unit_test(test_generations),
      cmocka_unit_test(test_skips_own_text),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_pc_ids),
      cmocka_unit_test(test_ids_compare),
      cmocka_unit_test(test_walked_lookup),
      cmocka_unit_test(test_walked_lookup_deep),
      cmocka_unit_test(test_many_depths),
      cmocka_unit_test(test_ids_run_out),
      cmocka_unit_test(test_intern_and_full),
  };
  return cmocka_run_group_tests(tests, stacks_setup, NULL);
}
