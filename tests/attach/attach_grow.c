/* attach_grow - a service with known growth, for `heapsnap attach`
 * (attach_grow.sh). Started without the shim; reads commands on stdin:
 *   r N   N requests; then prints "done N" (after the worker's share too)
 *   v N   N blocks of valloc (make_valloc, kept in a global array): the
 *         first call of valloc, so its GOT slot is not bound yet at the
 *         attach (lazy binding); prints "done N"
 *   l N   loads attach_dllib (argv[1]) with dlopen, the first time, and
 *         keeps N blocks of its attach_dl_alloc in a global array: a
 *         module loaded after the attach; prints "done N"
 *   q     exits
 * Each request, in this order:
 *   make_entry   48 bytes into a global cache: a hash table whose bucket
 *                array (calloc'd at start, before any attach) heads each
 *                bucket's chain; a new entry goes first in its chain
 *   make_dropped 40 bytes, filled, and the pointer dropped: lost
 *   make_lnode   32 bytes appended by the worker thread to a list it
 *                holds in locals of its own stack (head and tail)
 *   make_inode   64 bytes appended to a list linked through interior
 *                pointers: g_ilist and each node's next point at offset
 *                40 of the next node
 * Blocks of requests served before the attach are not tracked; those
 * after are, and reach the old ones' chains only through them (or the
 * bucket array): the cache, the worker's list and the interior list are
 * held, the dropped requests lost. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUCKETS 64

typedef struct entry {
  struct entry *next;
  uint64_t key;
  char value[32];
} entry;

typedef struct lnode {
  struct lnode *next;
  uint64_t seq[3];
} lnode;

typedef struct inode {
  uint64_t pad[5];
  char *next; /* offset 40 of the next node, or NULL */
  uint64_t seq[2];
} inode;

static entry **g_buckets;
static char *g_ilist;  /* offset 40 of the first node */
static inode *g_itail; /* written once, read by appends */
static uint64_t g_seq;
static int g_to_worker[2], g_from_worker[2];
static void *g_valloc[16], *g_dl[16];
static unsigned g_n_valloc, g_n_dl;

static void load_and_alloc(const char *lib, unsigned long n) {
  static void *(*alloc)(size_t);
  if (!alloc) {
    void *h = dlopen(lib, RTLD_NOW);
    if (!h || !(alloc = (void *(*)(size_t))dlsym(h, "attach_dl_alloc")))
      exit(4);
  }
  for (unsigned long i = 0; i < n && g_n_dl < 16; i++)
    g_dl[g_n_dl++] = alloc(200);
}

__attribute__((noinline)) static void *make_valloc(void) {
  return valloc(100);
}

__attribute__((noinline)) static entry *make_entry(uint64_t key) {
  entry *e = malloc(sizeof *e);
  e->key = key;
  snprintf(e->value, sizeof e->value, "value %llu", (unsigned long long)key);
  return e;
}

__attribute__((noinline)) static void make_dropped(uint64_t seq) {
  volatile char *p = malloc(40);
  memset((char *)p, (int)(seq & 0x7f), 40);
  p = NULL; /* the request is dropped: nothing keeps it */
}

__attribute__((noinline)) static lnode *make_lnode(uint64_t seq) {
  lnode *n = calloc(1, sizeof *n);
  n->seq[0] = seq;
  return n;
}

__attribute__((noinline)) static inode *make_inode(uint64_t seq) {
  inode *n = calloc(1, sizeof *n);
  n->seq[0] = seq;
  return n;
}

static void cache_put(uint64_t key) {
  entry *e = make_entry(key);
  entry **b = &g_buckets[key % BUCKETS];
  e->next = *b;
  *b = e;
}

static void ilist_append(uint64_t seq) {
  inode *n = make_inode(seq);
  if (g_itail)
    g_itail->next = (char *)n + 40;
  else
    g_ilist = (char *)n + 40;
  g_itail = n;
}

/* The worker: one list node per byte read; its list lives in its frame. */
static void *worker(void *arg) {
  (void)arg;
  lnode *head = NULL, *tail = NULL;
  uint64_t seq = 0;
  unsigned char c;
  while (read(g_to_worker[0], &c, 1) == 1) {
    lnode *n = make_lnode(++seq);
    if (tail)
      tail->next = n;
    else
      head = n;
    tail = n;
    if (write(g_from_worker[1], &c, 1) != 1)
      break;
  }
  __asm__ volatile("" : : "r"(head) : "memory"); /* head stays live */
  return NULL;
}

static void serve(unsigned long n) {
  for (unsigned long i = 0; i < n; i++) {
    const uint64_t key = ++g_seq * 7919;
    cache_put(key);
    make_dropped(key);
    unsigned char c = 1;
    if (write(g_to_worker[1], &c, 1) != 1 || read(g_from_worker[0], &c, 1) != 1)
      exit(3);
    ilist_append(key);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  g_buckets = calloc(BUCKETS, sizeof *g_buckets);
  pthread_t t;
  if (pipe(g_to_worker) || pipe(g_from_worker) ||
      pthread_create(&t, NULL, worker, NULL))
    return 2;
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    unsigned long n;
    if (line[0] == 'q')
      break;
    if (sscanf(line, "r %lu", &n) == 1) {
      serve(n);
      printf("done %lu\n", n);
    } else if (sscanf(line, "l %lu", &n) == 1 && argc > 1) {
      load_and_alloc(argv[1], n);
      printf("done %lu\n", n);
    } else if (sscanf(line, "v %lu", &n) == 1) {
      for (unsigned long i = 0; i < n && g_n_valloc < 16; i++)
        g_valloc[g_n_valloc++] = make_valloc();
      printf("done %lu\n", n);
    }
  }
  close(g_to_worker[1]);
  pthread_join(t, NULL);
  return 0;
}
