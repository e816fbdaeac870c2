/* attach_stress - 4 threads allocate through every function of the
 * allocation API the shim hooks (malloc, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc, strdup via
 * libc's own malloc, malloc_usable_size) and free, resize and check their
 * blocks, until the file STOP exists; attach_stress.sh attaches and
 * detaches heapsnap 50 times meanwhile. Every block carries a header and a
 * fill pattern checked before each free or resize: a block freed by the
 * wrong allocator, moved or corrupted shows. The main thread waits in
 * pthread_join (a futex: not a waiting call heapsnap uses), so attach
 * takes a thread running the program's own code. With fork (ctest
 * attach_stress_fork), thread 0 also forks a child every 512 rounds (the
 * child allocates, frees and exits), so forks happen while heapsnap
 * attaches, detaches and snapshots.
 *
 * usage: attach_stress STOP [fork]
 * stdout: one line per thread, "thread N: ok" or its first error, the same
 * with and without heapsnap; stderr: "signals N", the SIGRTMIN+1 it took
 * (the driver sends some while attaching). */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define SLOTS 256
#define MAGIC 0x5eb1a4c3u

typedef struct hdr {
  uint32_t magic, size; /* size: bytes after the header */
  uint64_t tag;
} hdr;

static const char *g_stop;
static int g_fork;
static atomic_uint g_signals;

static void on_signal(int sig) {
  (void)sig;
  atomic_fetch_add(&g_signals, 1);
}

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void fill(hdr *h, uint32_t size, uint64_t tag) {
  h->magic = MAGIC;
  h->size = size;
  h->tag = tag;
  memset(h + 1, (int)(tag & 0xff), size);
}

/* 0 when the block is whole. */
static int check(const hdr *h) {
  if (h->magic != MAGIC)
    return 1;
  const unsigned char *p = (const unsigned char *)(h + 1);
  for (uint32_t i = 0; i < h->size; i++)
    if (p[i] != (unsigned char)(h->tag & 0xff))
      return 2;
  return 0;
}

/* A new block of about n bytes from API api. */
static hdr *make(int api, uint32_t n, uint64_t tag) {
  void *p = NULL;
  const size_t len = sizeof(hdr) + n;
  switch (api) {
  case 0:
    p = malloc(len);
    break;
  case 1:
    p = calloc(1, len);
    break;
  case 2:
    p = realloc(NULL, len);
    break;
  case 3:
    p = reallocarray(NULL, 1, len);
    break;
  case 4:
    if (posix_memalign(&p, 64, len))
      p = NULL;
    break;
  case 5:
    p = aligned_alloc(32, (len + 31) & ~(size_t)31);
    break;
  case 6:
    p = memalign(128, len);
    break;
  case 7:
    p = valloc(len);
    break;
  case 8:
    p = pvalloc(len);
    break;
  default: {
    char *s = malloc(len + 1);
    if (s) {
      memset(s, 'x', len);
      s[len] = '\0';
      p = strdup(s); /* libc's own malloc, through its GOT */
      free(s);
    }
  }
  }
  if (p && malloc_usable_size(p) < len)
    return NULL;
  if (p)
    fill(p, n, tag);
  return p;
}

/* One round on slot i: free, resize or replace its block. */
static int round_on(hdr **slot, uint64_t *rng, uint64_t tag) {
  const uint64_t r = next_rand(rng);
  const uint32_t n = (uint32_t)(r % 2000);
  hdr *h = *slot;
  if (h && check(h))
    return 1;
  if (h && (r >> 20) % 3 == 0) {
    hdr *q = realloc(h, sizeof(hdr) + n);
    if (!q || q->magic != MAGIC)
      return 2;
    fill(q, n, tag);
    *slot = q;
    return 0;
  }
  free(h);
  *slot = make((int)((r >> 32) % 10), n, tag);
  return *slot ? 0 : 3;
}

/* A child that allocates through whatever the GOT says now, then exits;
 * 0 when it did so. */
static int fork_child(void) {
  const pid_t c = fork();
  if (c == 0) {
    char *p = malloc(64);
    if (p)
      memset(p, 1, 64);
    free(p);
    _exit(p ? 0 : 1);
  }
  int st = 0;
  return c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) &&
                 WEXITSTATUS(st) == 0
             ? 0
             : 5;
}

static void *worker(void *arg) {
  const long id = (long)arg;
  hdr **slots = calloc(SLOTS, sizeof *slots);
  uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1), tag = 0;
  int err = 0;
  for (uint64_t i = 0; !err; i++) {
    if (i % 1024 == 0 && access(g_stop, F_OK) == 0)
      break;
    if (g_fork && id == 0 && i % 512 == 511 && (err = fork_child()))
      break;
    err = round_on(&slots[i % SLOTS], &rng, ++tag);
  }
  for (int i = 0; i < SLOTS; i++) {
    if (!err && slots[i] && check(slots[i]))
      err = 4;
    free(slots[i]);
  }
  free(slots);
  return (void *)(intptr_t)err;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3)
    return 2;
  g_stop = argv[1];
  g_fork = argc == 3 && strcmp(argv[2], "fork") == 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGRTMIN + 1, &sa, NULL);
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, worker, (void *)i))
      return 2;
  for (int i = 0; i < THREADS; i++) {
    void *r;
    pthread_join(t[i], &r);
    if (r)
      printf("thread %d: error %d\n", i, (int)(intptr_t)r);
    else
      printf("thread %d: ok\n", i);
  }
  fprintf(stderr, "signals %u\n", atomic_load(&g_signals));
  return 0;
}
