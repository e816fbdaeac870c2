/* stress_exit - leaves while eight threads allocate and the shim is busy
 * with snapshots (stress_exit.sh sets HEAPSNAP_INTERVAL=0.02 and
 * HEAPSNAP_AT_EXIT=1).
 * usage: stress_exit MODE MS
 *   _exit        main calls _exit(3) after MS milliseconds
 *   abort        main calls abort()
 *   exit         main calls exit(0), the threads still running
 *   thread-exit  a worker calls exit(0), main still sleeping
 *   snap-exit    no threads: main allocates 100000 blocks, sends itself
 *                the snapshot signal (SIGUSR2) and calls exit(0) MS
 *                milliseconds later, while the shim's thread works */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *mode;
static long delay_ms;
void *many[100000]; /* held to the end: a snapshot that takes a while */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts))
    ;
}

__attribute__((noinline)) void site_work(unsigned seed) {
  void *ring[64] = {0};
  for (unsigned i = 0;; i++) {
    seed = seed * 1103515245u + 12345u;
    free(ring[i % 64]);
    ring[i % 64] = malloc(16 + (seed >> 16) % 2048);
  }
}

static void *worker(void *arg) {
  if (arg == (void *)1 && strcmp(mode, "thread-exit") == 0) {
    sleep_ms(delay_ms);
    exit(0);
  }
  site_work((unsigned)(long)arg);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: stress_exit MODE MS\n");
    return 2;
  }
  mode = argv[1];
  delay_ms = atol(argv[2]);
  pthread_t t[8];
  for (long i = 0; i < 8 && strcmp(mode, "snap-exit") != 0; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  if (strcmp(mode, "thread-exit") == 0) {
    sleep_ms(60000);
    return 5; /* the worker's exit did not end the process */
  }
  if (strcmp(mode, "snap-exit") == 0) {
    for (int i = 0; i < 100000; i++)
      many[i] = malloc(24);
    kill(getpid(), SIGUSR2);
  }
  sleep_ms(delay_ms);
  if (strcmp(mode, "_exit") == 0)
    _exit(3);
  if (strcmp(mode, "abort") == 0) {
    signal(SIGABRT, SIG_DFL);
    abort();
  }
  exit(0);
}
