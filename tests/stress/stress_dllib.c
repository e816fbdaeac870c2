/* stress_dllib - a library stress_dl loads and unloads again and again.
 * Built twice, as stress_dllib_a.so and stress_dllib_b.so, with
 * STRESS_DLLIB_B set for the second: different function names and code
 * sizes, so the two are told apart by name, whichever address each gets.
 * dllib_alloc(out, k) allocates k blocks for the caller (the "give" site)
 * and STRESS_DLLIB_KEEP more held by the library's own static array (the
 * "keep" site): once the library is unloaded, nothing reaches those. */
#include <stdlib.h>
#include <string.h>

#define STRESS_DLLIB_KEEP 2

static void *kept[64];
static int n_kept;

#ifndef STRESS_DLLIB_B
#define GIVE dllib_a_give
#define KEEP dllib_a_keep
#define SIZE 1111
#else
#define GIVE dllib_b_give
#define KEEP dllib_b_keep
#define SIZE 2222
/* Some code the a build lacks, so the two differ in layout too. */
__attribute__((noinline)) unsigned dllib_b_pad(unsigned x) {
  for (int i = 0; i < 64; i++)
    x = x * 2654435761u + (unsigned)i;
  return x;
}
#endif

__attribute__((noinline)) void *GIVE(void) {
  void *p = malloc(SIZE);
  memset(p, 1, SIZE);
  return p;
}

__attribute__((noinline)) void *KEEP(void) {
  return calloc(1, SIZE / 2);
}

void dllib_alloc(void **out, int k) {
  for (int i = 0; i < k; i++)
    out[i] = GIVE();
  for (int i = 0; i < STRESS_DLLIB_KEEP && n_kept < 64; i++)
    kept[n_kept++] = KEEP();
}
