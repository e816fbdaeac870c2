/* e2e_apis - every entry point of the allocation API leaves a known number
 * of live blocks at a known site; the snapshot must hold exactly those. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>

#include "e2e_sites.h"

#define N_KEEP 256
static void *keep[N_KEEP];
static size_t sizes[N_KEEP];
static int nkeep;
static int failures;

static void hold(void *p, size_t n) {
  if (!p) {
    fprintf(stderr, "allocation of %zu failed\n", n);
    exit(1);
  }
  keep[nkeep] = p;
  sizes[nkeep++] = n;
}

__attribute__((noinline)) void site_malloc(void) {
  for (int i = 0; i < 10; i++) {
    void *p = malloc(1001);
    if (i < 7)
      hold(p, 1001);
    else
      free(p);
  }
}

__attribute__((noinline)) void site_calloc(void) {
  for (int i = 0; i < 5; i++) {
    unsigned char *p = calloc(3, 337);
    for (int j = 0; j < 3 * 337; j++)
      failures += p[j] != 0;
    hold(p, 3 * 337);
  }
}

__attribute__((noinline)) void *site_realloc_src(void) {
  return malloc(16);
}

/* A block grown by realloc belongs to the realloc's stack. */
__attribute__((noinline)) void site_realloc(void) {
  for (int i = 0; i < 4; i++)
    hold(realloc(site_realloc_src(), 2000), 2000);
}

__attribute__((noinline)) void *site_zero_src(void) {
  return malloc(50);
}

/* realloc(p, 0) frees p in glibc. */
__attribute__((noinline)) void site_realloc_zero(void) {
  for (int i = 0; i < 3; i++)
    failures += realloc(site_zero_src(), 0) != NULL;
}

__attribute__((noinline)) void site_reallocarray(void) {
  for (int i = 0; i < 3; i++)
    hold(reallocarray(NULL, 10, 101), 1010);
  /* an overflowing product fails with ENOMEM, as in glibc */
  volatile size_t huge = SIZE_MAX / 2;
  errno = 0;
  failures += reallocarray(NULL, huge, 4) != NULL || errno != ENOMEM;
}

__attribute__((noinline)) void site_posix_memalign(void) {
  for (int i = 0; i < 4; i++) {
    void *p = NULL;
    failures += posix_memalign(&p, 64, 1003) != 0 || (uintptr_t)p % 64;
    hold(p, 1003);
  }
}

__attribute__((noinline)) void site_aligned_alloc(void) {
  for (int i = 0; i < 4; i++) {
    void *p = aligned_alloc(128, 1024);
    failures += (uintptr_t)p % 128 != 0;
    hold(p, 1024);
  }
}

__attribute__((noinline)) void site_memalign(void) {
  for (int i = 0; i < 2; i++)
    hold(memalign(256, 1005), 1005);
}

__attribute__((noinline)) void site_valloc(void) {
  for (int i = 0; i < 2; i++)
    hold(valloc(1006), 1006);
}

__attribute__((noinline)) void site_pvalloc(void) {
  for (int i = 0; i < 2; i++)
    hold(pvalloc(1007), 1007);
}

/* Through the C library: strdup calls malloc itself. */
__attribute__((noinline)) void site_strdup(void) {
  for (int i = 0; i < 3; i++)
    hold(strdup("hello"), 6);
}

__attribute__((noinline)) void site_freed(void) {
  void *p[20];
  for (int i = 0; i < 20; i++)
    p[i] = malloc(999);
  for (int i = 0; i < 20; i++)
    free(p[i]);
}

static void write_sites(FILE *f) {
  E2E_SITE(f, site_malloc, 7, 7 * 1001);
  E2E_SITE(f, site_calloc, 5, 5 * 3 * 337);
  E2E_SITE(f, site_realloc_src, 0, 0);
  E2E_SITE(f, site_realloc, 4, 4 * 2000);
  E2E_SITE(f, site_zero_src, 0, 0);
  E2E_SITE(f, site_realloc_zero, 0, 0);
  E2E_SITE(f, site_reallocarray, 3, 3 * 1010);
  E2E_SITE(f, site_posix_memalign, 4, 4 * 1003);
  E2E_SITE(f, site_aligned_alloc, 4, 4 * 1024);
  E2E_SITE(f, site_memalign, 2, 2 * 1005);
  E2E_SITE(f, site_valloc, 2, 2 * 1006);
  /* pvalloc's block is whole pages, all of them the program's */
  E2E_SITE(f, site_pvalloc, 2, 2 * (size_t)getpagesize());
  E2E_SITE(f, site_strdup, 3, 3 * 6);
  E2E_SITE(f, site_freed, 0, 0);
}

int main(void) {
  if (!heapsnap_active()) {
    fprintf(stderr, "e2e_apis: run me with the shim preloaded\n");
    return 2;
  }
  site_malloc();
  site_calloc();
  site_realloc();
  site_realloc_zero();
  site_reallocarray();
  site_posix_memalign();
  site_aligned_alloc();
  site_memalign();
  site_valloc();
  site_pvalloc();
  site_strdup();
  site_freed();
  for (int i = 0; i < nkeep; i++)
    failures += malloc_usable_size(keep[i]) < sizes[i];
  e2e_snapshot(write_sites);
  for (int i = 0; i < nkeep; i++)
    free(keep[i]);
  if (failures)
    fprintf(stderr, "e2e_apis: %d in-process checks failed\n", failures);
  return failures ? 1 : 0;
}
