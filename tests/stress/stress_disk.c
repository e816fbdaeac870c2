/* stress_disk - a program that runs on while its snapshots cannot be
 * written (stress_disk.sh fills or write-protects the folder, then frees
 * it). Four threads do a fixed amount of allocation work; main takes an
 * API snapshot every 100 ms until stdin reaches end of file, and writes
 * each result on fd 3 ("api RC"), if open. Its stdout is deterministic. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapsnap.h"

static unsigned long sums[4];

__attribute__((noinline)) void site_work(int id) {
  void *ring[32] = {0};
  unsigned seed = (unsigned)id + 1;
  for (int i = 0; i < 200000; i++) {
    seed = seed * 1103515245u + 12345u;
    free(ring[i % 32]);
    const size_t n = 16 + (seed >> 16) % 1024;
    ring[i % 32] = malloc(n);
    memset(ring[i % 32], i & 0xff, n);
    sums[id] += n;
  }
  for (int i = 0; i < 32; i++)
    free(ring[i]);
}

static void *worker(void *arg) {
  site_work((int)(long)arg);
  return NULL;
}

int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  char buf[256];
  for (;;) {
    struct pollfd p = {0, POLLIN, 0};
    if (poll(&p, 1, 100) == 1 && read(0, buf, sizeof buf) <= 0)
      break;
    if (heapsnap_active())
      dprintf(3, "api %d\n", heapsnap_snapshot(NULL, 0));
  }
  unsigned long total = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    total += sums[i];
  }
  printf("done %lu\n", total);
  return 0;
}
