/* scanbench - what the reachability scan costs a service with a heap of a
 * given size. usage (under the shim): scanbench MIB [SNAPSHOTS]
 * Fills MIB MiB of live heap with blocks of 64 B to 4 KiB, each holding a
 * pointer to the one before (one long chain from a global, so the scan
 * follows every block) and filled with non-pointer data, then takes
 * SNAPSHOTS API snapshots (default 3) and prints, per snapshot:
 *   call_ns live_blocks path
 * call_ns is the whole hs_snapshot_take() call in this thread; the pause
 * the other threads feel is in the snapshot header. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heapsnap.h"

void *g_last; /* the root of the chain */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2 || !hs_shim_active()) {
    fprintf(stderr, "usage: LD_PRELOAD=libheapsnap.so scanbench MIB [SNAPS]\n");
    return 2;
  }
  const uint64_t total = strtoull(argv[1], NULL, 0) << 20;
  const long snaps = argc > 2 ? atol(argv[2]) : 3;
  uint64_t seed = 7, used = 0, blocks = 0;
  while (used < total) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    const size_t n = 64 + (size_t)(seed >> 33) % 4033;
    uint64_t *p = malloc(n);
    p[0] = (uint64_t)g_last;
    for (size_t i = 1; i < n / 8; i++)
      p[i] = seed ^ i; /* data, not pointers */
    g_last = p;
    used += n;
    blocks++;
  }
  for (long k = 0; k < snaps; k++) {
    char path[4096];
    const uint64_t t0 = now_ns();
    if (hs_snapshot_take(path, sizeof path))
      return 1;
    printf("%llu %llu %s\n", (unsigned long long)(now_ns() - t0),
           (unsigned long long)blocks, path);
  }
  return 0;
}
