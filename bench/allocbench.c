/* allocbench.c - allocation-heavy workload for comparing leak-detector
 * overheads (a copy of the team's shared/bench/allocbench.c, so that
 * bench/overhead.sh needs nothing outside the repository).
 *
 * Each thread keeps a ring of NSLOTS live blocks. Op i works on slot
 * i % NSLOTS:
 *   80%: free(old) + malloc(new)
 *   10%: free(old) + calloc(new)
 *   10%: realloc(old, new)
 * Sizes: 95% uniform 16..256 B, 5% uniform 257 B..64 KiB.
 * Every op is performed at the bottom of a recursive, noinline call chain of
 * `-d` frames; the chain alternates between two functions according to a
 * per-op random "path" so there are `-p` distinct call stacks (realistic
 * depth and some stack diversity). At exit all ring blocks are freed, then
 * leak_site() deliberately leaks `-l` blocks (one distinct allocation site).
 *
 * Build: cc -O2 -g -fno-omit-frame-pointer -pthread allocbench.c
 * Usage: allocbench [-t threads=2] [-n ops_per_thread=2000000] [-d depth=12]
 *                   [-p paths=64] [-l leak_blocks=1000] [-w]
 * -w: wait for a line on stdin before the timed run (bench/attach_cost.sh
 * attaches heapsnap meanwhile).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSLOTS 10000
#define NOINLINE __attribute__((noinline))
#define BARRIER()                                                              \
  __asm__ volatile("" ::: "memory") /* also defeats tail calls */

static long g_ops = 2000000;
static int g_threads = 2, g_depth = 12, g_leak = 1000, g_wait;
static unsigned g_paths = 64;

struct tstate {
  uint64_t rng, sum;
  long n_malloc, n_calloc, n_realloc, n_a, n_b;
  void *slot[NSLOTS];
  size_t size[NSLOTS];
};

static inline uint64_t rnd(struct tstate *t) {
  uint64_t x = t->rng; /* xorshift64* */
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t->rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static inline size_t pick_size(struct tstate *t) {
  uint64_t r = rnd(t);
  if (r % 100 < 5)
    return 257 + (r >> 8) % (65536 - 256);
  return 16 + (r >> 8) % 241;
}

static inline void touch(struct tstate *t, unsigned char *p, size_t n,
                         size_t i) {
  p[0] = (unsigned char)i; /* write first and last byte */
  p[n - 1] = (unsigned char)(i >> 8);
  t->sum += p[n - 1];
}

/* The actual allocator traffic: three distinct call sites + free. */
static NOINLINE void do_op(struct tstate *t, long i) {
  size_t s = (size_t)(i % NSLOTS), n = pick_size(t);
  unsigned r = (unsigned)(rnd(t) % 100);
  unsigned char *p;
  if (r < 10) {
    p = realloc(t->slot[s], n);
    t->n_realloc++;
  } else {
    if (t->slot[s])
      t->sum += *(unsigned char *)t->slot[s];
    free(t->slot[s]);
    if (r < 20) {
      p = calloc(1, n);
      t->n_calloc++;
    } else {
      p = malloc(n);
      t->n_malloc++;
    }
  }
  if (!p) {
    perror("alloc");
    exit(1);
  }
  touch(t, p, n, (size_t)i);
  t->slot[s] = p;
  t->size[s] = n;
}

static NOINLINE void descend_b(struct tstate *t, long i, int d, unsigned path);

static NOINLINE void descend_a(struct tstate *t, long i, int d, unsigned path) {
  t->n_a++;
  if (d <= 0)
    do_op(t, i);
  else if (path & 1)
    descend_b(t, i, d - 1, path >> 1);
  else
    descend_a(t, i, d - 1, path >> 1);
  BARRIER();
}

static NOINLINE void descend_b(struct tstate *t, long i, int d, unsigned path) {
  t->n_b += 2;
  if (d <= 0)
    do_op(t, i);
  else if (path & 1)
    descend_a(t, i, d - 1, path >> 1);
  else
    descend_b(t, i, d - 1, path >> 1);
  BARRIER();
}

static void *worker(void *arg) {
  struct tstate *t = arg;
  for (long i = 0; i < g_ops; i++) {
    unsigned path = (unsigned)(rnd(t) % g_paths);
    descend_a(t, i, g_depth, path);
  }
  for (int s = 0; s < NSLOTS; s++) {
    free(t->slot[s]);
    t->slot[s] = NULL;
  }
  BARRIER();
  return NULL;
}

/* Deliberate leak: g_leak blocks from one distinct site, pointers dropped. */
static NOINLINE long leak_site(int n) {
  long acc = 0;
  for (int k = 0; k < n; k++) {
    char *p = malloc(48);
    if (!p)
      exit(1);
    memset(p, 0x5a, 48);
    acc += p[k % 48];
    __asm__ volatile("" : : "r"(p) : "memory");
  }
  return acc;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int c;
  while ((c = getopt(argc, argv, "t:n:d:p:l:w")) != -1) {
    switch (c) {
    case 't':
      g_threads = atoi(optarg);
      break;
    case 'n':
      g_ops = atol(optarg);
      break;
    case 'd':
      g_depth = atoi(optarg);
      break;
    case 'p':
      g_paths = (unsigned)atoi(optarg);
      break;
    case 'l':
      g_leak = atoi(optarg);
      break;
    case 'w':
      g_wait = 1;
      break;
    default:
      fprintf(stderr,
              "usage: %s [-t threads] [-n ops/thread] [-d depth] "
              "[-p paths] [-l leak_blocks] [-w]\n",
              argv[0]);
      return 2;
    }
  }
  if (g_threads < 1 || g_paths < 1 || g_depth < 0)
    return 2;

  char line[16];
  if (g_wait && !fgets(line, sizeof line, stdin))
    return 2;
  pthread_t *tid = calloc((size_t)g_threads, sizeof *tid);
  struct tstate **ts = calloc((size_t)g_threads, sizeof *ts);
  double t0 = now();
  for (int k = 0; k < g_threads; k++) {
    ts[k] = calloc(1, sizeof **ts);
    ts[k]->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(k + 1);
    if (pthread_create(&tid[k], NULL, worker, ts[k])) {
      perror("pthread");
      return 1;
    }
  }
  uint64_t sum = 0;
  long nm = 0, nc = 0, nr = 0;
  for (int k = 0; k < g_threads; k++) {
    pthread_join(tid[k], NULL);
    sum += ts[k]->sum;
    nm += ts[k]->n_malloc;
    nc += ts[k]->n_calloc;
    nr += ts[k]->n_realloc;
    free(ts[k]);
  }
  double el = now() - t0;
  free(ts);
  free(tid);
  long lk = leak_site(g_leak);
  printf(
      "allocbench: threads=%d ops/thread=%ld depth=%d paths=%u malloc=%ld "
      "calloc=%ld "
      "realloc=%ld leaked=%d (x48B) elapsed=%.3fs Mops/s=%.2f chk=%llu/%ld\n",
      g_threads, g_ops, g_depth, g_paths, nm, nc, nr, g_leak, el,
      g_threads * g_ops / el / 1e6, (unsigned long long)sum, lk);
  return 0;
}
