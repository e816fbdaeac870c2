/* hd_e2e_grow - a program with known growth, run under the shim: three
 * API snapshots, between which each site does something known. The test
 * (hd_e2e.sh) checks heapdiff's JSON against these numbers exactly:
 *   site_grow     +10 blocks of 64 B per interval, 5 before: growing
 *   site_ring     8 blocks replaced each interval, 50 -> 60 -> 55 B:
 *                 bounded, +40 B
 *   site_churn    allocates and frees: no growth, not listed
 *   site_realloc  one array realloc'd 1000 -> 2000 -> 3000 B: growing,
 *                 +2000 B, 0 blocks
 *   site_multi    +5 blocks of 32 B per interval from each of two callers
 *                 (two sites by stack, one by function)
 *   site_wrapped  +3 blocks of 48 B per interval through my_alloc, a
 *                 wrapper that --alloc-fn my_alloc sees through
 *   site_two      +1 block of 16 B and +1 of 24 B per interval, from two
 *                 lines of one function: two sites, one folded line of
 *                 +80 B (folded names carry no line)
 * usage: hd_e2e_grow (writes the snapshot paths on stdout) */
#include <stdio.h>
#include <stdlib.h>

#include "heapsnap.h"

static void *grown[64], *ring[8], *multi[64], *wrapped[16], *two[16];
static char *array;
static int n_grown, n_multi, n_wrapped, n_two;

__attribute__((noinline)) void site_grow(int n) {
  for (int i = 0; i < n; i++)
    grown[n_grown++] = malloc(64);
}

__attribute__((noinline)) void site_ring(size_t size) {
  for (int i = 0; i < 8; i++) {
    free(ring[i]);
    ring[i] = malloc(size);
  }
}

__attribute__((noinline)) void site_churn(void) {
  for (int i = 0; i < 100; i++)
    free(malloc(128 + (size_t)i));
}

__attribute__((noinline)) void site_realloc(size_t size) {
  array = realloc(array, size);
}

__attribute__((noinline)) void site_multi(void) {
  multi[n_multi++] = malloc(32);
}

__attribute__((noinline)) void caller_a(void) {
  for (int i = 0; i < 5; i++)
    site_multi();
}

__attribute__((noinline)) void caller_b(void) {
  for (int i = 0; i < 5; i++)
    site_multi();
}

__attribute__((noinline)) void *my_alloc(size_t n) {
  return malloc(n);
}

__attribute__((noinline)) void site_wrapped(void) {
  for (int i = 0; i < 3; i++)
    wrapped[n_wrapped++] = my_alloc(48);
}

__attribute__((noinline)) void site_two(void) {
  two[n_two++] = malloc(16);
  two[n_two++] = malloc(24);
}

static void snap(void) {
  char path[4096];
  if (heapsnap_snapshot(path, sizeof path)) {
    fprintf(stderr, "hd_e2e_grow: snapshot failed (is the shim loaded?)\n");
    exit(1);
  }
  printf("%s\n", path);
}

static void phase(size_t ring_size, size_t array_size, int grow) {
  site_grow(grow);
  site_ring(ring_size);
  site_churn();
  site_realloc(array_size);
  caller_a();
  caller_b();
  site_wrapped();
  site_two();
}

/* One call site for phase(): the stacks of a site are the same in every
 * phase, as they would be in a service's request loop. */
int main(void) {
  static const size_t ring[3] = {50, 60, 55}, array[3] = {1000, 2000, 3000};
  static const int grow[3] = {5, 10, 10};
  for (int k = 0; k < 3; k++) {
    phase(ring[k], array[k], grow[k]);
    snap();
  }
  /* HD_E2E_REPEAT: a fourth snapshot with nothing allocated or freed
   * since the third (stdout's buffer is there from the first), as an
   * --at-exit one of an idle program: heapdiff's trends end at the third */
  if (getenv("HD_E2E_REPEAT"))
    snap();
  return 0;
}
