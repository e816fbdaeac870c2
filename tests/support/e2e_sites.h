/* e2e_sites.h - how an end-to-end test program states what its snapshot
 * must hold. Each site is a function of the program; the program prints
 * one line per site with the function's address range (from its symbol,
 * so programs are linked with -rdynamic) and the exact live blocks and
 * bytes it left allocated there. e2e_check reads these lines and counts
 * the snapshot's blocks whose stack passes through each range. */
#ifndef E2E_SITES_H
#define E2E_SITES_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Prints "site NAME LO HI BLOCKS BYTES" for function fn. */
static inline void e2e_site(FILE *out, const char *name, void *fn,
                            unsigned long blocks, unsigned long bytes) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  if (!dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym) {
    fprintf(stderr, "e2e: no symbol for %s (link with -rdynamic)\n", name);
    exit(99);
  }
  const unsigned long lo = (unsigned long)info.dli_saddr;
  fprintf(out, "site %s %#lx %#lx %lu %lu\n", name, lo, lo + sym->st_size,
          blocks, bytes);
}

#define E2E_SITE(out, fn, blocks, bytes)                                       \
  e2e_site(out, #fn, (void *)(fn), blocks, bytes)

#endif

#include <string.h>

#include "heapsnap.h"

/* Takes a snapshot through the API and writes the expectations next to it
 * (<path>.sites) for e2e_check; write_sites adds the site lines. */
static inline void e2e_snapshot(void (*write_sites)(FILE *)) {
  char path[4096], sites[4200];
  const int rc = hs_snapshot_take(path, sizeof path);
  if (rc) {
    fprintf(stderr, "e2e: hs_snapshot_take failed: %d\n", rc);
    exit(98);
  }
  snprintf(sites, sizeof sites, "%s.sites", path);
  FILE *f = fopen(sites, "w");
  if (!f) {
    perror(sites);
    exit(97);
  }
  fprintf(f, "pid %d\ntrigger api\n", (int)getpid());
  write_sites(f);
  fclose(f);
}
