/* dumpsym_prog.c - a program with known allocation sites for
 * `heapsnap dump`'s symbols (cli_dump.sh), run under the shim; it takes one
 * API snapshot and prints its path. Built -O0 -g, so its names and lines
 * are stable: tests/heapsnap/dumpsym.golden holds this file's line numbers
 * (of the malloc calls and of the calls leading to them).
 *   keep_here  3 blocks of 10000 bytes through fill_one (always inlined),
 *              all held from a global: none lost
 *   lose_here  2 blocks of 7000 bytes, the pointer to the second dropped:
 *              1 block, 7000 bytes lost
 *   zero_here  3 blocks of malloc(0), held: 0 bytes, listed after the
 *              others and before no unused stack */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapsnap.h"

#define NOINLINE __attribute__((noinline))

static void *kept[3], *kept_one, *zeros[3];

static inline __attribute__((always_inline)) void *fill_one(size_t n) {
  void *p = malloc(n);
  memset(p, 0, n);
  return p;
}

NOINLINE void keep_here(void) {
  for (int i = 0; i < 3; i++)
    kept[i] = fill_one(10000);
}

NOINLINE void lose_here(void) {
  for (int i = 0; i < 2; i++) {
    void *p = malloc(7000);
    memset(p, 0, 7000);
    if (i == 0)
      kept_one = p;
  }
}

NOINLINE void zero_here(void) {
  for (int i = 0; i < 3; i++)
    zeros[i] = malloc(0);
}

/* The dropped pointer may still sit in the dead frames below main's. */
NOINLINE static void scrub(void) {
  volatile char area[64 * 1024];
  memset((char *)area, 0, sizeof area);
}

int main(void) {
  keep_here();
  lose_here();
  zero_here();
  scrub();
  char path[4096];
  if (heapsnap_snapshot(path, sizeof path)) {
    fprintf(stderr, "dumpsym_prog: snapshot failed (is the shim loaded?)\n");
    return 1;
  }
  printf("%s\n", path);
  return 0;
}
