/* test_sample - sampling by bytes (hs_sample.c): the gaps are exponential
 * with mean R, a block of s bytes is sampled with p = 1 - exp(-s/R), one
 * seed gives one sequence, and the free filter never forgets a sampled
 * block (a saturated page stays "maybe") and works per 4 KiB page. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hs_shim.h"

hs__settings hs__cfg;

#define R 4096

static int sample_setup(void **state) {
  hs__cfg.sample_bytes = R;
  hs__cfg.sample_seed = 42;
  hs__cfg.sample_seeded = 1;
  return 0;
}

static void test_gaps_are_exponential(void **state) {
  hs__sample_reset(1);
  const int n = 1000000;
  double sum = 0;
  int above_mean = 0, above_3 = 0;
  for (int i = 0; i < n; i++) {
    const double g = (double)hs__sample_gap();
    assert_true(g >= 1);
    sum += g;
    above_mean += g > R;
    above_3 += g > 3 * R;
  }
  /* mean R (+0.5 for rounding up), P(g > x) = exp(-x/R); 1e6 draws */
  assert_true(fabs(sum / n - R) < 0.005 * R);
  assert_true(fabs((double)above_mean / n - exp(-1)) < 0.002);
  assert_true(fabs((double)above_3 / n - exp(-3)) < 0.001);
}

/* The countdown as the hooks run it: the allocation that crosses zero. */
static int take(uint64_t n) {
  if ((hs__sample_left -= (int64_t)n) > 0)
    return 0;
  return hs__sample_hit(n);
}

static void test_inclusion_probability(void **state) {
  hs__sample_reset(2);
  hs__sample_left = (int64_t)hs__sample_gap();
  const uint64_t sizes[] = {16, 256, 4096, 32768};
  for (unsigned k = 0; k < 4; k++) {
    const int n = 400000;
    int hits = 0;
    for (int i = 0; i < n; i++)
      hits += take(sizes[k]);
    const double p = -expm1(-(double)sizes[k] / R);
    const double sd = sqrt(p * (1 - p) / n);
    print_message("size %5lu: sampled %.5f, p %.5f\n", (unsigned long)sizes[k],
                  (double)hits / n, p);
    assert_true(fabs((double)hits / n - p) < 5 * sd + 1e-6);
  }
}

static void test_same_seed_same_choices(void **state) {
  uint64_t a[64], b[64];
  hs__sample_reset(7);
  for (int i = 0; i < 64; i++)
    a[i] = hs__sample_gap();
  hs__sample_reset(7);
  for (int i = 0; i < 64; i++)
    b[i] = hs__sample_gap();
  assert_memory_equal(a, b, sizeof a);
  hs__sample_reset(8);
  assert_true(hs__sample_gap() != a[0]);
}

static void test_filter_never_forgets(void **state) {
  const uint64_t a = 0x7f0000001230ull, b = 0x7f0000009000ull;
  assert_false(hs__sample_maybe(a));
  hs__sample_add(a);
  assert_true(hs__sample_maybe(a));
  hs__sample_del(a);
  assert_false(hs__sample_maybe(a));
  /* 300 blocks in one page: it saturates and stays "maybe" */
  for (int i = 0; i < 300; i++)
    hs__sample_add(b + 16 * (uint64_t)i % 4096);
  for (int i = 0; i < 300; i++)
    hs__sample_del(b + 16 * (uint64_t)i % 4096);
  assert_true(hs__sample_maybe(b));
}

/* Per 4 KiB page: a block's neighbours in its page must look, those in
 * the next page or 1 GiB away need not (16 GiB away shares the counter);
 * two blocks in a page keep it "maybe" until both are gone; free(NULL)
 * looks at nothing. */
static void test_filter_is_per_page(void **state) {
  const uint64_t page = 0x55d000042000ull, a = page + 0x40, b = page + 0xf80;
  assert_false(hs__sample_maybe(a));
  hs__sample_add(a);
  assert_true(hs__sample_maybe(page));
  assert_true(hs__sample_maybe(page + 4095));
  assert_false(hs__sample_maybe(page + 4096));
  assert_false(hs__sample_maybe(page - 1));
  assert_false(hs__sample_maybe(a + (1ull << 30)));
  assert_true(hs__sample_maybe(a + (16ull << 30)));
  assert_false(hs__sample_maybe(0));
  hs__sample_add(b);
  hs__sample_del(a);
  assert_true(hs__sample_maybe(a)); /* b is still there */
  hs__sample_del(b);
  assert_false(hs__sample_maybe(a));
  /* a pinned page (a pool block) stays "maybe" */
  hs__sample_pin(page + 8192);
  hs__sample_del(page + 8192);
  assert_true(hs__sample_maybe(page + 8192));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gaps_are_exponential),
      cmocka_unit_test(test_inclusion_probability),
      cmocka_unit_test(test_same_seed_same_choices),
      cmocka_unit_test(test_filter_never_forgets),
      cmocka_unit_test(test_filter_is_per_page),
  };
  return cmocka_run_group_tests(tests, sample_setup, NULL);
}
