/* busy_worker.h - a thread that keeps allocating and freeing, for the
 * test services that are attached or signalled while they run: start it
 * with pthread_create(&t, NULL, busy_worker, &stop), where stop is an
 * atomic_int the service sets to end it. Between its frees and mallocs
 * it sleeps 1 ms every 1024 rounds, so that it does not starve the
 * machine's other work. */
#ifndef BUSY_WORKER_H
#define BUSY_WORKER_H

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static void *busy_worker(void *arg) {
  atomic_int *const stop = arg;
  void *keep[64] = {0};
  for (unsigned i = 0; !atomic_load(stop); i++) {
    free(keep[i % 64]);
    keep[i % 64] = malloc(32 + i % 512);
    if (i % 1024 == 0) {
      const struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  for (int i = 0; i < 64; i++)
    free(keep[i]);
  return NULL;
}

#endif
