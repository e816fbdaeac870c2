/* snapbench - what a snapshot costs a service with N live blocks.
 * usage (under the shim): snapbench N [SNAPSHOTS]
 * Allocates N blocks of random sizes (16 B to 4 KiB) from 64 call stacks
 * in random order, frees a random quarter (a heap with holes, so the file
 * size is not flattered by a regular pattern), then takes SNAPSHOTS API
 * snapshots (default 5) while a second thread keeps allocating and
 * freeing, and prints one line per snapshot:
 *   stall_ns write_ns file_bytes path
 * (the pause, how long allocations were held, is in the snapshot's header)
 * stall_ns: the longest single malloc+free the other thread saw during
 * the snapshot; write_ns: the whole hs_snapshot_take() call. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "heapsnap.h"

static _Atomic int running = 1, measuring;
static _Atomic uint64_t stall_max;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *churn(void *arg) {
  while (running) {
    const uint64_t t0 = now_ns();
    free(malloc(64));
    const uint64_t dt = now_ns() - t0;
    if (measuring && dt > stall_max)
      stall_max = dt;
  }
  return NULL;
}

/* 64 distinct stacks: recursion depth picks the stack. */
__attribute__((noinline)) static void *alloc_at(int depth, size_t n) {
  void *p = depth ? alloc_at(depth - 1, n) : malloc(n);
  __asm__ volatile("" ::: "memory");
  return p;
}

int main(int argc, char **argv) {
  if (argc < 2 || !hs_shim_active()) {
    fprintf(stderr, "usage: LD_PRELOAD=libheapsnap.so snapbench N [SNAPS]\n");
    return 2;
  }
  const long n = atol(argv[1]), snaps = argc > 2 ? atol(argv[2]) : 5;
  void **blocks = malloc((size_t)n * sizeof *blocks);
  uint64_t seed = 42;
  for (long i = 0; i < n; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    blocks[i] = alloc_at((int)(seed >> 58), 16 + (size_t)(seed >> 20) % 4081);
  }
  for (long i = 0; i < n; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    if ((seed >> 62) == 0)
      free(blocks[i]), blocks[i] = NULL;
  }
  pthread_t t;
  pthread_create(&t, NULL, churn, NULL);
  for (long k = 0; k < snaps; k++) {
    char path[4096];
    struct stat st;
    stall_max = 0;
    measuring = 1;
    const uint64_t t0 = now_ns();
    if (hs_snapshot_take(path, sizeof path))
      return 1;
    const uint64_t dt = now_ns() - t0;
    measuring = 0;
    stat(path, &st);
    printf("%llu %llu %lld %s\n", (unsigned long long)stall_max,
           (unsigned long long)dt, (long long)st.st_size, path);
  }
  running = 0;
  pthread_join(t, NULL);
  return 0;
}
