/* stackbench - what scanning thread stacks from their stack pointer gives
 * and costs (issue 11). usage (under the shim):
 *   stackbench THREADS LEAKS [SNAPSHOTS]
 * Each of THREADS threads allocates LEAKS blocks of 48 B (site
 * stackbench_leak) 64 frames down, each frame touching 1 KiB of stack,
 * keeps their pointers only in the deepest frame, returns without freeing
 * them (leaked: only dead frames below its stack pointer still name them),
 * allocates one block of 80 B it keeps in a live local (held), and blocks
 * in sem_wait. The main thread then takes SNAPSHOTS API snapshots
 * (default 3) and prints, per snapshot:
 *   call_ns leaked held path
 * Whether the scan calls the leaked blocks lost (they are) or held by a
 * stack, and the pause, are in each snapshot (heapsnap dump). */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heapsnap.h"

#define DEPTH 64
#define MAX_LEAKS 1024

static long leaks;
static sem_t ready, go;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) void *stackbench_leak(void) {
  return malloc(48);
}

/* The deepest frame holds the leaked blocks' only pointers. */
__attribute__((noinline)) static long deep(int d) {
  volatile char pad[1024];
  memset((char *)pad, d, sizeof pad);
  if (d > 0)
    return deep(d - 1) + pad[0];
  void *volatile keep[MAX_LEAKS];
  for (long i = 0; i < leaks; i++)
    keep[i] = stackbench_leak();
  return keep[0] != NULL;
}

__attribute__((noinline)) void *stackbench_held(void) {
  return malloc(80);
}

static void *worker(void *arg) {
  (void)arg;
  deep(DEPTH);
  void *volatile held = stackbench_held();
  sem_post(&ready);
  while (sem_wait(&go) != 0)
    ;
  free(held);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3 || !hs_shim_active()) {
    fprintf(stderr, "usage: LD_PRELOAD=libheapsnap.so stackbench THREADS "
                    "LEAKS [SNAPSHOTS]\n");
    return 2;
  }
  const long threads = atol(argv[1]);
  leaks = atol(argv[2]);
  const long snaps = argc > 3 ? atol(argv[3]) : 3;
  if (threads < 1 || leaks < 1 || leaks > MAX_LEAKS)
    return 2;
  sem_init(&ready, 0, 0);
  sem_init(&go, 0, 0);
  pthread_t *t = calloc((size_t)threads, sizeof *t);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 1 << 20);
  for (long i = 0; i < threads; i++)
    if (pthread_create(&t[i], &a, worker, NULL))
      return 1;
  for (long i = 0; i < threads; i++)
    while (sem_wait(&ready) != 0)
      ;
  for (long k = 0; k < snaps; k++) {
    char path[4096];
    const uint64_t t0 = now_ns();
    if (hs_snapshot_take(path, sizeof path))
      return 1;
    printf("%llu %ld %ld %s\n", (unsigned long long)(now_ns() - t0),
           threads * leaks, threads, path);
  }
  for (long i = 0; i < threads; i++)
    sem_post(&go);
  for (long i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  free(t);
  return 0;
}
