// e2e_nofp - the shim's stacks in a program built without frame pointers
// (-O2 -fomit-frame-pointer), through Debian's libraries, which have none
// either. Each site must hold exactly its blocks: a stack walk that
// followed rbp through strdup, operator new, qsort or a caller keeping
// garbage in rbp would lose the site's frame (or crash).
#include <cstring>
#include <string>
#include <vector>

#include "e2e_sites.h"

#define KEEP() __asm__ volatile("" ::: "memory") // no tail call

static std::vector<void *> kept;
static volatile int sink;

extern "C" __attribute__((noinline)) void site_strdup() {
  for (int i = 0; i < 7; i++)
    kept.push_back(strdup("twenty-one bytes long"));
  KEEP();
}

struct Obj {
  char data[77];
};

extern "C" __attribute__((noinline)) void site_new() {
  for (int i = 0; i < 5; i++)
    kept.push_back(new Obj());
  KEEP();
}

static int cmp_alloc(const void *a, const void *b) {
  if (kept.size() < 1000)
    kept.push_back(malloc(33));
  return *static_cast<const int *>(a) - *static_cast<const int *>(b);
}

static size_t qsort_blocks;

extern "C" __attribute__((noinline)) void site_qsort() {
  int v[6] = {4, 1, 5, 2, 6, 3};
  const size_t before = kept.size();
  qsort(v, 6, sizeof v[0], cmp_alloc);
  qsort_blocks = kept.size() - before;
  sink += v[0];
  KEEP();
}

extern "C" __attribute__((noinline)) void *leaf_alloc() {
  void *p = malloc(55);
  KEEP();
  return p;
}

// rbp holds garbage across the call.
extern "C" __attribute__((noinline)) void site_rbp_junk() {
  for (int i = 0; i < 3; i++) {
    register long junk __asm__("rbp") = 0x1234567;
    __asm__ volatile("" : "+r"(junk));
    kept.push_back(leaf_alloc());
    __asm__ volatile("" : "+r"(junk));
  }
  KEEP();
}

static void write_sites(FILE *f) {
  E2E_SITE(f, site_strdup, 7, 7 * 22);
  E2E_SITE(f, site_new, 5, 5 * sizeof(Obj));
  E2E_SITE(f, site_qsort, qsort_blocks, qsort_blocks * 33);
  E2E_SITE(f, site_rbp_junk, 3, 3 * 55);
}

int main() {
  kept.reserve(2000); // the vector's buffer comes from main, not a site
  site_strdup();
  site_new();
  site_qsort();
  site_rbp_junk();
  e2e_snapshot(write_sites);
  return 0;
}
