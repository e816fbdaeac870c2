/* e2e_threads - 8 threads allocate, free their own blocks and each other's,
 * and churn while snapshots are taken; the final snapshot must hold
 * exactly the blocks still live. */
#include <pthread.h>

#include "e2e_sites.h"

#define THREADS 8
#define PER_THREAD 100
#define HANDED 20

static pthread_barrier_t barrier;
static void *blocks[THREADS][PER_THREAD];
static volatile int churning = 1;

__attribute__((noinline)) void *site_thread(size_t n) {
  return malloc(n);
}

__attribute__((noinline)) void site_churn(unsigned seed) {
  void *slot[64] = {0};
  for (int i = 0; i < 20000; i++) {
    seed = seed * 1103515245u + 12345u;
    const unsigned k = (seed >> 8) % 64;
    free(slot[k]);
    slot[k] = malloc(16 + (seed >> 16) % 512);
  }
  for (int k = 0; k < 64; k++)
    free(slot[k]);
}

static void *worker(void *arg) {
  const int id = (int)(long)arg;
  for (int i = 0; i < PER_THREAD; i++)
    blocks[id][i] = site_thread(100 + (size_t)id);
  for (int i = 1; i < PER_THREAD; i += 2) /* free every other one */
    free(blocks[id][i]), blocks[id][i] = NULL;
  site_churn((unsigned)id);
  pthread_barrier_wait(&barrier);
  /* free HANDED blocks of the previous thread: cross-thread frees */
  const int other = (id + THREADS - 1) % THREADS;
  for (int i = 0, n = 0; n < HANDED; i += 2, n++)
    free(blocks[other][i]), blocks[other][i] = NULL;
  return NULL;
}

static void write_sites(FILE *f) {
  unsigned long n = 0, bytes = 0;
  for (int t = 0; t < THREADS; t++)
    for (int i = 0; i < PER_THREAD; i++)
      if (blocks[t][i])
        n++, bytes += 100 + (unsigned long)t;
  /* what the test meant to leave: 30 blocks a thread */
  if (n != THREADS * (PER_THREAD / 2 - HANDED)) {
    fprintf(stderr, "e2e_threads: bookkeeping error\n");
    exit(1);
  }
  E2E_SITE(f, site_thread, n, bytes);
  E2E_SITE(f, site_churn, 0, 0);
}

static void *snapper(void *arg) {
  while (churning)
    heapsnap_snapshot(NULL, 0); /* consistency under load; not checked */
  return NULL;
}

int main(void) {
  pthread_t t[THREADS], s;
  pthread_barrier_init(&barrier, NULL, THREADS);
  pthread_create(&s, NULL, snapper, NULL);
  for (long i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  churning = 0;
  pthread_join(s, NULL);
  e2e_snapshot(write_sites);
  return 0;
}
