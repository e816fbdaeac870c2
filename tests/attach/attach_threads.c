/* attach_threads - threads that start and end after `heapsnap attach`.
 *
 * usage: attach_threads
 * Reads lines from stdin; for each, a count N: starts N threads one after
 * another, each allocating from call sites of its own and freeing, joins
 * each, and prints "round K: N threads, rss R" (R: its VmRSS in KiB).
 * Ends at end of input. The attached shim gives each thread's unwind-rule
 * cache back when the thread ends, though it did not start the thread
 * (no pthread_create wrapper in an attached process): kept, 9 KiB a
 * thread showed in R. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) void *site_a(size_t n) {
  return malloc(n);
}
static __attribute__((noinline)) void *site_b(size_t n) {
  return calloc(1, n);
}

static void *work(void *arg) {
  const size_t k = (size_t)arg;
  void *p = site_a(32 + k % 64), *q = site_b(48);
  free(p);
  free(q);
  return NULL;
}

static long rss_kib(void) {
  char line[256];
  long kib = -1;
  FILE *f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0)
      kib = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return kib;
}

int main(void) {
  char line[64];
  for (int round = 1; fgets(line, sizeof line, stdin); round++) {
    const long n = strtol(line, NULL, 10);
    for (long i = 0; i < n; i++) {
      pthread_t t;
      if (pthread_create(&t, NULL, work, (void *)(size_t)i) ||
          pthread_join(t, NULL))
        return 1;
    }
    printf("round %d: %ld threads, rss %ld\n", round, n, rss_kib());
    fflush(stdout);
  }
  return 0;
}
