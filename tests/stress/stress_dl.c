/* stress_dl - two libraries loaded and unloaded in turn while two threads
 * allocate and interval snapshots run (stress_dl.sh sets
 * HEAPSNAP_INTERVAL): round r loads library A (even r) or B (odd r), has
 * it allocate K blocks the program keeps and a few the library keeps in
 * its own static array, unloads it and takes an API snapshot. The loader
 * tends to put B where A was: the snapshots' module tables must still
 * tell whose frames are whose.
 * usage: stress_dl LIB_A LIB_B ROUNDS   (output deterministic) */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "heapsnap.h"

#define K 3
#define ROUNDS_MAX 64

void *given[ROUNDS_MAX * K]; /* the program's: reachable after unload */
static volatile int churning = 1;

__attribute__((noinline)) void site_churn(unsigned seed) {
  void *ring[16] = {0};
  for (unsigned i = 0; churning; i++) {
    seed = seed * 1103515245u + 12345u;
    free(ring[i % 16]);
    ring[i % 16] = malloc(32 + (seed >> 16) % 512);
  }
  for (int i = 0; i < 16; i++)
    free(ring[i]);
}

static void *churner(void *arg) {
  site_churn((unsigned)(long)arg);
  return NULL;
}

int main(int argc, char **argv) {
  const int rounds = argc == 4 ? atoi(argv[3]) : 0;
  if (rounds <= 0 || rounds > ROUNDS_MAX) {
    fprintf(stderr, "usage: stress_dl LIB_A LIB_B ROUNDS (1 to %d)\n",
            ROUNDS_MAX);
    return 2;
  }
  pthread_t t[2];
  for (long i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, churner, (void *)i);
  for (int r = 0; r < rounds; r++) {
    void *h = dlopen(argv[1 + r % 2], RTLD_NOW | RTLD_LOCAL);
    void (*alloc)(void **, int) =
        h ? (void (*)(void **, int))dlsym(h, "dllib_alloc") : NULL;
    if (!alloc) {
      fprintf(stderr, "stress_dl: %s\n", dlerror());
      return 1;
    }
    alloc(&given[r * K], K);
    if (dlclose(h)) {
      fprintf(stderr, "stress_dl: dlclose: %s\n", dlerror());
      return 1;
    }
    heapsnap_snapshot(NULL, 0); /* without the shim: does nothing */
  }
  churning = 0;
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("rounds %d given %d\n", rounds, rounds * K);
  return 0;
}
