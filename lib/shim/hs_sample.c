/* hs_sample.c - sampling by bytes (HEAPSNAP_SAMPLE_BYTES=R).
 *
 * Each byte allocated is a sample point with probability 1/R, as in
 * jemalloc's and tcmalloc's profilers: each thread draws the bytes to its
 * next sample point from an exponential distribution with mean R and
 * counts down with every allocation; the allocation that crosses zero is
 * sampled and a fresh gap is drawn. The distribution has no memory, so a
 * block of s bytes is sampled with p = 1 - exp(-s/R) whatever came before
 * it; readers weight it by 1/p (heapdiff does). The countdown and the
 * generator are per thread: the hot path is a subtraction and a branch.
 *
 * Frees must remove sampled blocks and should not look up the others. A
 * table of small counters indexed by an address hash counts the sampled
 * blocks in the table per bucket: a free whose bucket is 0 cannot be of a
 * sampled block and skips the table. A counter that reaches 255 stays
 * there (the bucket is always looked up), so it is never wrong. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hs_shim.h"

__thread int64_t hs__sample_left __attribute__((tls_model("initial-exec")));
__thread int64_t hs__sample_held __attribute__((tls_model("initial-exec")));
/* xorshift64* state; 0 until the thread's first allocation seeds it */
static __thread uint64_t hs__rng __attribute__((tls_model("initial-exec")));
static _Atomic uint64_t hs__threads_seeded;

_Atomic uint8_t hs__sample_filter[1u << HS_FILTER_BITS]; /* 4 MiB of bss */

static uint64_t hs__splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void hs__sample_reset(uint64_t seed) {
  hs__rng = hs__splitmix(seed) | 1; /* xorshift needs a non-zero state */
}

/* A thread's stream: from HEAPSNAP_SAMPLE_SEED and the order in which
 * threads first allocate (repeatable for a repeatable program), else from
 * the clock, the pid and the thread's own address. */
static void hs__seed(void) {
  const uint64_t k = atomic_fetch_add(&hs__threads_seeded, 1);
  uint64_t base = hs__cfg.sample_seed;
  if (!hs__cfg.sample_seeded)
    base = hs__clock_ns(CLOCK_MONOTONIC) ^ (uint64_t)getpid() << 32 ^
           (uint64_t)&hs__rng;
  hs__sample_reset(base ^ hs__splitmix(k));
}

static uint64_t hs__next(void) {
  uint64_t x = hs__rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  hs__rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* ln(u) for a normal u > 0, to about 1e-15 relative: u = m * 2^e with m
 * in [sqrt(1/2), sqrt(2)), ln m = 2 atanh((m - 1) / (m + 1)) as a series
 * (|s| < 0.172). The shim does not link libm. */
static double hs__ln(double u) {
  uint64_t bits;
  memcpy(&bits, &u, sizeof bits);
  int e = (int)((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & ((1ull << 52) - 1)) | 1023ull << 52;
  double m;
  memcpy(&m, &bits, sizeof m); /* in [1, 2) */
  if (m > 1.4142135623730951)
    m /= 2, e++;
  const double s = (m - 1) / (m + 1), s2 = s * s;
  double term = s, sum = 0;
  for (int k = 1; k <= 23; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return 2 * sum + e * 0.69314718055994531;
}

uint64_t hs__sample_gap(void) {
  const double u = (double)((hs__next() >> 11) + 1) * 0x1p-53; /* (0, 1] */
  const double g = -(double)hs__cfg.sample_bytes * hs__ln(u);
  return g < 4e18 ? (uint64_t)g + 1 : (uint64_t)4e18;
}

int hs__sample_hit(uint64_t n) {
  if (HS_UNLIKELY(!hs__rng)) { /* first allocation: the countdown was 0 */
    hs__seed();
    hs__sample_left += (int64_t)hs__sample_gap();
    if (hs__sample_left > 0)
      return 0;
  }
  hs__sample_left = (int64_t)hs__sample_gap();
  (void)n;
  return 1;
}

uint8_t hs__free_looks;

void hs__sample_clear(int filter) {
  if (filter) /* 4 MiB: only when a sampled attach used it */
    memset(hs__sample_filter, 0, sizeof hs__sample_filter);
  hs__free_looks = hs__cfg.sample_bytes == 0;
}

void hs__sample_init(void) {
  if (hs__cfg.sample_bytes)
    return;
  hs__free_looks = 1;
  /* seen before hs__tracking = 1 is (x86-64 keeps stores in order) */
  atomic_thread_fence(memory_order_release);
}

/* Held and released, the countdown is exactly what it would have been:
 * the child's sampling goes on as if nothing happened. Only the forking
 * thread is in the child when this runs. */
void hs__sample_fork_child(void) {
  if (hs__cfg.sample_bytes)
    hs__sample_hold();
}

void hs__sample_hold(void) {
  hs__sample_held += hs__sample_left;
  hs__sample_left = 0;
}

void hs__sample_release(void) {
  hs__sample_left += hs__sample_held;
  hs__sample_held = 0;
}

void hs__sample_add(uint64_t addr) {
  _Atomic uint8_t *const c = &hs__sample_filter[hs__filter_slot(addr)];
  uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
  while (v != 255 && !atomic_compare_exchange_weak(c, &v, (uint8_t)(v + 1)))
    ;
}

void hs__sample_pin(uint64_t addr) {
  atomic_store(&hs__sample_filter[hs__filter_slot(addr)], 255);
}

void hs__sample_del(uint64_t addr) {
  _Atomic uint8_t *const c = &hs__sample_filter[hs__filter_slot(addr)];
  uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
  while (v != 255 && v != 0 &&
         !atomic_compare_exchange_weak(c, &v, (uint8_t)(v - 1)))
    ;
}
