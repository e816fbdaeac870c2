/* symbols_speed.c - times hd_symbolize over distinct offsets of a file's
 * .text: the first pass (libdwfl and DWARF lookups) and the second (the
 * cache), and checks every answer: an offset inside a sized function
 * symbol (libelf's .symtab) must end in a frame named after it; the
 * second pass must return the very frames of the first.
 * Usage: symbols_speed FILE [COUNT]. Prints one line of timings. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hd_symbols.h"
#include "symbols_util.h"

typedef struct speed_run {
  hd_symbolizer *s;
  uint32_t h;
  uint64_t start;
  uint64_t count;
  const hd_frame **first; /* count of them: the first pass's answers */
  symtest_func *funcs;
  size_t n_funcs;
  size_t inlined; /* frames marked inlined, first pass */
} speed_run;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* @return : the function symbol holding off, or NULL. */
static const char *func_at(const speed_run *r, uint64_t off) {
  size_t lo = 0;
  size_t hi = r->n_funcs;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (r->funcs[mid].lo <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && off < r->funcs[lo - 1].hi ? r->funcs[lo - 1].name : NULL;
}

/* @return : the number of wrong answers in the first pass. */
static size_t check(speed_run *r) {
  size_t wrong = 0;
  for (uint64_t i = 0; i < r->count; i++) {
    const hd_frame *f = r->first[i];
    size_t n = 1;
    while (f[n - 1].inlined)
      n++;
    r->inlined += n - 1;
    const char *want = func_at(r, r->start + i);
    if (want != NULL &&
        (f[n - 1].function == NULL || strcmp(f[n - 1].function, want) != 0)) {
      if (wrong++ < 5)
        fprintf(stderr, "offset %#" PRIx64 ": %s, want %s\n", r->start + i,
                f[n - 1].function ? f[n - 1].function : "(unknown)", want);
    }
  }
  return wrong;
}

/* One pass; the second compares with the first. @return : mismatches. */
static size_t pass(speed_run *r) {
  size_t differ = 0;
  for (uint64_t i = 0; i < r->count; i++) {
    const hd_frame *f = NULL;
    (void)hd_symbolize(r->s, r->h, r->start + i, &f);
    if (r->first[i] == NULL)
      r->first[i] = f;
    else
      differ += r->first[i] != f;
  }
  return differ;
}

static int setup(speed_run *r, const char *path, uint64_t count) {
  uint64_t size = 0;
  uint8_t id[SYMTEST_MAX_ID];
  const int id_len = symtest_build_id(path, id, sizeof id);
  const int n_funcs = symtest_funcs(path, &r->funcs);
  if (id_len < 0 || n_funcs <= 0 ||
      symtest_section(path, ".text", &r->start, &size) != 0)
    return fprintf(stderr, "symbols_speed: %s: no .text or .symtab\n", path);
  r->n_funcs = (size_t)n_funcs;
  r->count = count ? count : size;
  if (r->count > size)
    return fprintf(stderr, "symbols_speed: .text has %llu bytes\n",
                   (unsigned long long)size);
  r->first = calloc(r->count, sizeof(const hd_frame *));
  symtest_module m;
  symtest_module_init(&m, path, id, (size_t)id_len);
  return r->first == NULL || hd_symbolizer_create(NULL, &r->s) != 0 ||
         hd_symbolizer_add_module(r->s, &m.mod, &r->h) != 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return fprintf(stderr, "usage: symbols_speed FILE [COUNT]\n"), 2;
  speed_run r = {0};
  if (setup(&r, argv[1], argc > 2 ? strtoull(argv[2], NULL, 0) : 0) != 0)
    return 1;
  const double t0 = now();
  (void)hd_symbolizer_module_status(r.s, r.h, NULL); /* opening it */
  const double t1 = now();
  (void)pass(&r);
  const double t2 = now();
  const size_t differ = pass(&r);
  const double t3 = now();
  const size_t wrong = check(&r);
  printf("%llu offsets: open %.1f ms, first pass %.2f us/lookup (%.3f s), "
         "cached %.3f us/lookup; %zu inlined frames; %zu wrong, %zu "
         "differ\n",
         (unsigned long long)r.count, (t1 - t0) * 1e3,
         (t2 - t1) * 1e6 / (double)r.count, t2 - t1,
         (t3 - t2) * 1e6 / (double)r.count, r.inlined, wrong, differ);
  hd_symbolizer_free(r.s);
  symtest_funcs_free(r.funcs, r.n_funcs);
  free(r.first);
  return wrong == 0 && differ == 0 ? 0 : 1;
}
