/* sample_gen - a seeded, repeatable allocation pattern for the sampling
 * accuracy test: five sites with different size mixes, frees of random
 * blocks and reallocs. Takes a snapshot through the API and writes beside
 * it (<path>.sites) each site's address range and the blocks and bytes it
 * left live (e2e_sites.h), so a checker can compare the snapshot's numbers,
 * or a sampled snapshot's estimates, against them. The pattern depends on
 * SEED (argv[1]) only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_sites.h"

#define KEEP() __asm__ volatile("" ::: "memory") /* no tail call */

typedef struct site_total {
  unsigned long blocks, bytes;
} site_total;

static uint64_t rng;
static site_total t_small, t_medium, t_large, t_churn, t_realloc;

static uint64_t next(void) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1Dull;
}

static size_t uniform(size_t lo, size_t hi) {
  return lo + (size_t)(next() % (hi - lo + 1));
}

static void *must(void *p) {
  if (!p) {
    fprintf(stderr, "sample_gen: out of memory\n");
    exit(99);
  }
  return p;
}

static void touch(void *p, size_t n) {
  ((volatile char *)p)[0] = 1;
  ((volatile char *)p)[n - 1] = 1;
}

/* Many small blocks: each sampled one stands for about R / size blocks. */
__attribute__((noinline)) void site_small(void **keep, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const size_t s = uniform(16, 256);
    touch(keep[i] = must(malloc(s)), s);
    t_small.blocks++, t_small.bytes += s;
  }
  KEEP();
}

__attribute__((noinline)) void site_medium(void **keep, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const size_t s = uniform(512, 4096);
    touch(keep[i] = must(calloc(1, s)), s);
    t_medium.blocks++, t_medium.bytes += s;
  }
  KEEP();
}

/* Blocks far above R: sampled almost surely, weight about 1. */
__attribute__((noinline)) void site_large(void **keep, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const size_t s = uniform(32768, 131072);
    touch(keep[i] = must(malloc(s)), s);
    t_large.blocks++, t_large.bytes += s;
  }
  KEEP();
}

/* Allocates n blocks and frees three in four along the way, at random:
 * sampled blocks must leave the table when freed, unsampled ones must not
 * disturb it. Returns how many it kept (at the front of keep). */
__attribute__((noinline)) size_t site_churn(void **keep, size_t *sizes,
                                            size_t n) {
  size_t live = 0;
  for (size_t i = 0; i < n; i++) {
    const size_t s = uniform(16, 512);
    touch(keep[live] = must(malloc(s)), s);
    sizes[live++] = s;
    if (next() % 4 != 0) {
      const size_t k = (size_t)(next() % live);
      free(keep[k]);
      keep[k] = keep[--live];
      sizes[k] = sizes[live];
    }
  }
  for (size_t i = 0; i < live; i++)
    t_churn.blocks++, t_churn.bytes += sizes[i];
  KEEP();
  return live;
}

/* Grows or shrinks each block once: the new block is the site's. */
__attribute__((noinline)) void site_realloc(void **keep, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const size_t s = uniform(16, 256);
    touch(keep[i] = must(malloc(s)), s);
  }
  for (size_t i = 0; i < n; i++) {
    const size_t s = uniform(16, 1024);
    touch(keep[i] = must(realloc(keep[i], s)), s);
    t_realloc.blocks++, t_realloc.bytes += s;
  }
  KEEP();
}

static void write_sites(FILE *f) {
  E2E_SITE(f, site_small, t_small.blocks, t_small.bytes);
  E2E_SITE(f, site_medium, t_medium.blocks, t_medium.bytes);
  E2E_SITE(f, site_large, t_large.blocks, t_large.bytes);
  E2E_SITE(f, site_churn, t_churn.blocks, t_churn.bytes);
  E2E_SITE(f, site_realloc, t_realloc.blocks, t_realloc.bytes);
}

int main(int argc, char **argv) {
  rng = 0x9E3779B97F4A7C15ull ^ (argc > 1 ? strtoull(argv[1], NULL, 10) : 1);
  const size_t n_small = 320000, n_medium = 20000, n_large = 200;
  const size_t n_churn = 800000, n_realloc = 100000;
  /* the bookkeeping arrays come from main, outside every site */
  void **small = must(malloc(n_small * sizeof *small));
  void **medium = must(malloc(n_medium * sizeof *medium));
  void **large = must(malloc(n_large * sizeof *large));
  void **churn = must(malloc(n_churn * sizeof *churn));
  size_t *churn_sizes = must(malloc(n_churn * sizeof *churn_sizes));
  void **moved = must(malloc(n_realloc * sizeof *moved));
  site_small(small, n_small);
  site_medium(medium, n_medium);
  site_large(large, n_large);
  site_churn(churn, churn_sizes, n_churn);
  site_realloc(moved, n_realloc);
  e2e_snapshot(write_sites);
  return 0;
}
