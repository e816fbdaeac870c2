/* e2e_jemalloc - a program linked with jemalloc: malloc resolves to
 * jemalloc's, and jemalloc's own API (mallocx, rallocx, xallocx, dallocx,
 * sdallocx) is tracked too. */
#include <jemalloc/jemalloc.h>
#include <stdint.h>

#include "e2e_sites.h"

static size_t xallocx_bytes;
static int failures;

__attribute__((noinline)) void site_je_malloc(void) {
  for (int i = 0; i < 5; i++)
    failures += malloc(1001) == NULL;
}

__attribute__((noinline)) void site_mallocx(void) {
  for (int i = 0; i < 4; i++)
    failures += mallocx(2000, MALLOCX_ZERO) == NULL;
}

__attribute__((noinline)) void *site_rallocx_src(void) {
  return mallocx(10, 0);
}

__attribute__((noinline)) void site_rallocx(void) {
  for (int i = 0; i < 3; i++)
    failures += rallocx(site_rallocx_src(), 3000, 0) == NULL;
}

/* Resized in place: the block keeps this site; its size becomes what
 * jemalloc granted, up to size + extra. */
__attribute__((noinline)) void site_xallocx(void) {
  for (int i = 0; i < 2; i++) {
    void *p = mallocx(4096, 0);
    const size_t got = xallocx(p, 4096, 8192, 0);
    xallocx_bytes += got < 4096 + 8192 ? got : 4096 + 8192;
  }
}

__attribute__((noinline)) void site_dallocx(void) {
  void *p[6];
  for (int i = 0; i < 6; i++)
    p[i] = mallocx(333, 0);
  for (int i = 0; i < 3; i++)
    dallocx(p[i], 0);
}

__attribute__((noinline)) void site_sdallocx(void) {
  for (int i = 0; i < 4; i++)
    sdallocx(mallocx(444, 0), 444, 0);
}

static void write_sites(FILE *f) {
  E2E_SITE(f, site_je_malloc, 5, 5 * 1001);
  E2E_SITE(f, site_mallocx, 4, 4 * 2000);
  E2E_SITE(f, site_rallocx_src, 0, 0);
  E2E_SITE(f, site_rallocx, 3, 3 * 3000);
  E2E_SITE(f, site_xallocx, 2, xallocx_bytes);
  E2E_SITE(f, site_dallocx, 3, 3 * 333);
  E2E_SITE(f, site_sdallocx, 0, 0);
}

int main(void) {
  /* proof that jemalloc, not glibc, serves this program's malloc: its
   * per-thread byte counter moves by what malloc handed out */
  uint64_t before = 0, after = 0;
  size_t len = sizeof before;
  mallctl("thread.allocated", &before, &len, NULL, 0);
  void *probe = malloc(1 << 20);
  mallctl("thread.allocated", &after, &len, NULL, 0);
  if (after - before < (1 << 20)) {
    fprintf(stderr, "e2e_jemalloc: malloc is not jemalloc's\n");
    return 1;
  }
  free(probe);
  site_je_malloc();
  site_mallocx();
  site_rallocx();
  site_xallocx();
  site_dallocx();
  site_sdallocx();
  e2e_snapshot(write_sites);
  return failures ? 1 : 0;
}
