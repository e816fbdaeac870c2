/* memblocks.c - holds N live blocks of S bytes from D distinct call stacks,
 * for bench/overhead.sh's memory table: the peak RSS under the shim minus
 * the bare run's, over N, is what tracking costs per live block.
 *
 * usage: memblocks N S [D=64]
 */
#include <stdio.h>
#include <stdlib.h>

#define KEEP() __asm__ volatile("" ::: "memory") /* no tail call */

static void *one(size_t s) {
  char *p = malloc(s);
  if (!p)
    exit(1);
  p[0] = 1;
  return p;
}

/* d distinct stacks: the recursion depth names them. */
__attribute__((noinline)) static void *at_depth(unsigned d, size_t s) {
  void *p = d ? at_depth(d - 1, s) : one(s);
  KEEP();
  return p;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return 2;
  const size_t n = strtoull(argv[1], NULL, 10), s = strtoull(argv[2], NULL, 10);
  const unsigned d = argc > 3 ? (unsigned)atoi(argv[3]) : 64;
  void **keep = malloc(n * sizeof *keep);
  if (!keep || !d)
    return 1;
  for (size_t i = 0; i < n; i++)
    keep[i] = at_depth((unsigned)(i % d), s);
  printf("memblocks: %zu blocks of %zu bytes\n", n, s);
  return 0;
}
