/* stress_apis - 16 threads allocate through every API of the allocation
 * family and free, resize and verify each other's blocks through a shared
 * exchange, while the driver (stress_apis.sh) takes interval snapshots and
 * sends SIGUSR2 in bursts, and two of the threads take API snapshots.
 *
 * usage: stress_apis ROUNDS
 * One more thread maps and unmaps anonymous memory all the while: the
 * reachability scan must cope with mappings that come and go around its
 * clone (it used to die on one gone since it read /proc/self/maps).
 * Every block carries a header and a fill pattern that whoever frees or
 * resizes it checks. At the end each thread keeps KEEP blocks of every
 * API's site, main drains the exchange, takes an API snapshot and writes
 * what it must hold beside it (<path>.sites, for e2e_check), and exits
 * with the kept blocks still live (for the exit snapshot). The output is
 * deterministic (the driver compares it with a run without the shim). */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "e2e_sites.h"

#define THREADS 16
#define SLOTS 512
#define KEEP 3
#define SNAP_EVERY 5000 /* rounds between API snapshots, threads 0 and 1 */
#define MAGIC 0x5eb1a4c3u

typedef struct hdr {
  uint32_t magic, size;
  uint64_t tag;
} hdr;

enum {
  API_MALLOC,
  API_CALLOC,
  API_REALLOC,
  API_REALLOCARRAY,
  API_POSIX_MEMALIGN,
  API_ALIGNED_ALLOC,
  API_MEMALIGN,
  API_VALLOC,
  API_PVALLOC,
  APIS
};

static _Atomic(hdr *) exchange[SLOTS];
static atomic_ulong corrupt, verified;
static hdr *kept[THREADS][APIS][KEEP];
static long rounds;
static atomic_int mapping = 1;

#define NOINLINE __attribute__((noinline))
NOINLINE void *site_malloc(size_t n) {
  return malloc(n);
}
NOINLINE void *site_calloc(size_t n) {
  return calloc(n / 8, 8);
}
NOINLINE void *site_realloc(size_t n) {
  return realloc(realloc(NULL, n / 2), n);
}
NOINLINE void *site_reallocarray(size_t n) {
  return reallocarray(NULL, n / 8, 8);
}
NOINLINE void *site_posix_memalign(size_t n) {
  void *p = NULL;
  return posix_memalign(&p, 64, n) ? NULL : p;
}
NOINLINE void *site_aligned_alloc(size_t n) {
  return aligned_alloc(256, n);
}
NOINLINE void *site_memalign(size_t n) {
  return memalign(128, n);
}
NOINLINE void *site_valloc(size_t n) {
  return valloc(n);
}
NOINLINE void *site_pvalloc(size_t n) {
  return pvalloc(n);
}

static void *(*const sites[APIS])(size_t) = {
    site_malloc,       site_calloc,         site_realloc,
    site_reallocarray, site_posix_memalign, site_aligned_alloc,
    site_memalign,     site_valloc,         site_pvalloc};
static const char *const site_names[APIS] = {
    "site_malloc",       "site_calloc",         "site_realloc",
    "site_reallocarray", "site_posix_memalign", "site_aligned_alloc",
    "site_memalign",     "site_valloc",         "site_pvalloc"};

static uint64_t next(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

/* A multiple of 256 (aligned_alloc) and of 8 (calloc, reallocarray). */
static size_t size_of(uint64_t r) {
  return 256 * (1 + r % 12);
}

static hdr *make(int api, size_t size, uint64_t tag) {
  hdr *h = sites[api](size);
  if (!h) {
    fprintf(stderr, "stress_apis: %s(%zu) failed\n", site_names[api], size);
    exit(3);
  }
  h->magic = MAGIC;
  h->size = (uint32_t)size;
  h->tag = tag;
  memset(h + 1, (int)(tag & 0xff), size - sizeof *h);
  return h;
}

static int intact(const hdr *h, size_t size) {
  if (h->magic != MAGIC || h->size < size)
    return 0;
  const unsigned char *p = (const unsigned char *)(h + 1);
  for (size_t i = 0; i < size - sizeof *h; i++)
    if (p[i] != (h->tag & 0xff))
      return 0;
  return 1;
}

static void check_free(hdr *h) {
  if (!intact(h, h->size))
    atomic_fetch_add(&corrupt, 1);
  atomic_fetch_add(&verified, 1);
  h->magic = 0;
  free(h);
}

/* Someone else's block, grown or shrunk: the common prefix must survive. */
static hdr *resize(hdr *h, uint64_t r) {
  const size_t old = h->size, size = size_of(r);
  hdr *q = realloc(h, size);
  if (!q)
    exit(4);
  if (!intact(q, old < size ? old : size))
    atomic_fetch_add(&corrupt, 1);
  q->size = (uint32_t)size;
  memset(q + 1, (int)(q->tag & 0xff), size - sizeof *q);
  return q;
}

static void *worker(void *arg) {
  const int id = (int)(long)arg;
  uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
  for (long i = 0; i < rounds; i++) {
    const uint64_t r = next(&s);
    hdr *h = make((int)(r % APIS), size_of(r >> 8), r);
    hdr *old = atomic_exchange(&exchange[(r >> 20) % SLOTS], h);
    if (old && (r >> 40) % 4 == 0) {
      old = resize(old, r >> 44);
      old = atomic_exchange(&exchange[(r >> 50) % SLOTS], old);
    }
    if (old)
      check_free(old);
    if (id < 2 && i % SNAP_EVERY == SNAP_EVERY - 1)
      heapsnap_snapshot(NULL, 0); /* without the shim: returns an error */
  }
  for (int api = 0; api < APIS; api++)
    for (int k = 0; k < KEEP; k++)
      kept[id][api][k] = make(api, size_of((uint64_t)(id + api + k)),
                              (uint64_t)(id * 100 + api * 10 + k));
  return NULL;
}

static void *mapper(void *arg) {
  while (atomic_load(&mapping)) {
    char *p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      exit(6);
    p[0] = 1;
    munmap(p, 1 << 16);
  }
  return NULL;
}

/* A block's size as the shim records it: pvalloc's is whole pages. */
static size_t recorded(int api, size_t size) {
  const size_t page = (size_t)getpagesize();
  return sites[api] == site_pvalloc ? (size + page - 1) / page * page : size;
}

static void write_sites(FILE *f) {
  for (int api = 0; api < APIS; api++) {
    unsigned long bytes = 0;
    for (int t = 0; t < THREADS; t++)
      for (int k = 0; k < KEEP; k++)
        bytes += recorded(api, kept[t][api][k]->size);
    e2e_site(f, site_names[api], (void *)sites[api], THREADS * KEEP, bytes);
  }
}

int main(int argc, char **argv) {
  rounds = argc == 2 ? atol(argv[1]) : 0;
  if (rounds <= 0) {
    fprintf(stderr, "usage: stress_apis ROUNDS\n");
    return 2;
  }
  pthread_t th[THREADS], map;
  if (pthread_create(&map, NULL, mapper, NULL))
    return 5;
  for (long i = 0; i < THREADS; i++)
    if (pthread_create(&th[i], NULL, worker, (void *)i))
      return 5;
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  atomic_store(&mapping, 0);
  pthread_join(map, NULL);
  for (int i = 0; i < SLOTS; i++) {
    hdr *h = atomic_exchange(&exchange[i], NULL);
    if (h)
      check_free(h);
  }
  unsigned long sum = 0;
  for (int t = 0; t < THREADS; t++)
    for (int api = 0; api < APIS; api++)
      for (int k = 0; k < KEEP; k++)
        sum += kept[t][api][k]->size * (kept[t][api][k]->tag + 1) *
               intact(kept[t][api][k], kept[t][api][k]->size);
  printf("blocks %ld verified %lu corrupt %lu kept-sum %lu\n", THREADS * rounds,
         atomic_load(&verified), atomic_load(&corrupt), sum);
  if (heapsnap_active())
    e2e_snapshot(write_sites);
  return atomic_load(&corrupt) ? 1 : 0;
}
