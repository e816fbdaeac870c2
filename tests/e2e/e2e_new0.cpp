// e2e_new0 - `new T[0]` for a T with a destructor allocates 8 bytes, the
// array's element count (0), and returns the address just past them: the
// program's only pointer to the block points one past its end. The scan
// counts such a pointer as holding an 8-byte block that holds 0, as
// LeakSanitizer does (docs/reachability.md); one past the end of any other
// block holds nothing.
//   site_new0       new Dtor[0], kept in a global: held
//   site_new0_drop  new Dtor[0], pointer dropped: lost
//   site_past       malloc(8) holding 1, a global points past its end: lost
#include <cstdint>
#include <cstring>

#include "e2e_sites.h"

struct Dtor {
  ~Dtor() { __asm__ volatile("" ::: "memory"); }
};

Dtor *g_kept;
volatile uintptr_t g_dropped; // masked: no pointer for the scan
char *g_past;

extern "C" __attribute__((noinline)) Dtor *site_new0() { return new Dtor[0]; }
extern "C" __attribute__((noinline)) Dtor *site_new0_drop() {
  return new Dtor[0];
}
extern "C" __attribute__((noinline)) char *site_past() {
  auto *p = static_cast<uint64_t *>(malloc(8));
  *p = 1;
  return reinterpret_cast<char *>(p) + 8;
}

static void sites(FILE *f) {
  E2E_SITE(f, site_new0, 1, 8);
  E2E_SITE(f, site_new0_drop, 1, 8);
  E2E_SITE(f, site_past, 1, 8);
  fprintf(f, "lost site_new0 0\nlost site_new0_drop 1\nlost site_past 1\n");
}

extern "C" __attribute__((noinline)) void scrub() {
  volatile char pad[16384];
  memset(const_cast<char *>(pad), 0, sizeof pad);
}

int main() {
  g_kept = site_new0();
  g_dropped = reinterpret_cast<uintptr_t>(site_new0_drop()) ^ 0x5a5a5a5aul;
  g_past = site_past();
  scrub();
  e2e_snapshot(sites);
  delete[] g_kept;
  delete[] reinterpret_cast<Dtor *>(g_dropped ^ 0x5a5a5a5aul);
  free(g_past - 8);
  puts("new0: done");
  return 0;
}
