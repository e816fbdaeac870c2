/* graphbench - what keeping the heap graph costs a snapshot, on a heap
 * shaped like a service's cache. usage (under the shim):
 *   graphbench ENTRIES [SNAPSHOTS]
 * A chained hash table (a bucket array from a global) of ENTRIES entries,
 * each with a key string and a value of 32 B to 1 KiB, and an LRU list
 * through the entries in random order; a tenth of the values hold a
 * pointer to another entry's value (shared data). Then SNAPSHOTS API
 * snapshots (default 3); prints, per snapshot:
 *   call_ns live_blocks path */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heapsnap.h"

typedef struct entry {
  struct entry *next; /* bucket chain */
  struct entry *lru_prev, *lru_next;
  char *key;
  uint64_t *value;
} entry;

entry **g_table;
entry *g_lru;

static uint64_t seed = 11;
static uint64_t rnd(void) {
  seed = seed * 6364136223846793005ull + 1442695040888963407ull;
  return seed >> 33;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2 || !hs_shim_active()) {
    fprintf(stderr,
            "usage: LD_PRELOAD=libheapsnap.so graphbench ENTRIES [SNAPS]\n");
    return 2;
  }
  const size_t n = strtoull(argv[1], NULL, 0), buckets = n / 2 + 1;
  const long snaps = argc > 2 ? atol(argv[2]) : 3;
  entry **all = calloc(n, sizeof *all);
  g_table = calloc(buckets, sizeof *g_table);
  for (size_t i = 0; i < n; i++) {
    entry *e = calloc(1, sizeof *e);
    e->key = malloc(24);
    snprintf(e->key, 24, "key:%zu", i);
    const size_t len = 32 + rnd() % 993;
    e->value = malloc(len);
    for (size_t w = 0; w < len / 8; w++)
      e->value[w] = rnd() * 2 + 1; /* odd: data, not pointers */
    if (i > 0 && rnd() % 10 == 0)
      e->value[0] = (uint64_t)all[rnd() % i]->value; /* shared */
    const size_t b = rnd() % buckets;
    e->next = g_table[b];
    g_table[b] = e;
    all[i] = e;
  }
  for (size_t i = n; i > 1; i--) { /* the LRU order: a shuffle */
    const size_t j = rnd() % i;
    entry *t = all[i - 1];
    all[i - 1] = all[j];
    all[j] = t;
  }
  for (size_t i = 0; i < n; i++) {
    all[i]->lru_prev = i ? all[i - 1] : NULL;
    all[i]->lru_next = i + 1 < n ? all[i + 1] : NULL;
  }
  g_lru = n ? all[0] : NULL;
  free(all);
  for (long k = 0; k < snaps; k++) {
    char path[4096];
    const uint64_t t0 = now_ns();
    if (hs_snapshot_take(path, sizeof path))
      return 1;
    printf("%llu %llu %s\n", (unsigned long long)(now_ns() - t0),
           (unsigned long long)(3 * n + 1), path);
  }
  return 0;
}
