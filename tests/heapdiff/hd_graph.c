/* hd_graph - known pointer graphs for the reachability scan. Takes a
 * snapshot, builds them, takes another; hd_graph_check.py then checks
 * heapdiff's JSON exactly:
 *   make_array -> make_entry -> make_payload, held by the global g_root;
 *   a list of 5 make_lnode whose head lives only on a worker thread's stack
 *     (the thread is named hs-worker);
 *   an intrusive list of 6 make_inode linked through a member 40 bytes
 *     into each node, held by g_ilist (interior pointers: reachable);
 *   make_cycle_a <-> make_cycle_b, a cycle nothing points to (unreachable);
 *   3 make_dropped blocks whose pointers are dropped (unreachable);
 *   a make_shared block that g_pair points into (a char * 13 bytes in,
 *     scanned first) and at (its start, 8 bytes later): the pointer to
 *     the start is its retainer.
 * The program keeps no stale copies of the pointers it drops: they are
 * built in functions whose frames are scrubbed before the snapshot. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapsnap.h"

struct entry {
  void *payload;
  char data[24];
};
struct lnode {
  struct lnode *next;
  char data[40];
};
struct ilink {
  struct ilink *next;
};
struct inode {
  char head[40];
  struct ilink link; /* at offset 40 */
  char tail[24];
};
struct cyc {
  struct cyc *other;
  char data[56];
};

struct entry **g_root;
struct ilink *g_ilist;
struct {
  char *into; /* scanned first: a pointer into the middle */
  void *start;
} g_pair;
static int ready[2], go[2];

#define NOINLINE __attribute__((noinline))

NOINLINE struct entry **make_array(void) {
  return calloc(8, sizeof(void *));
}
NOINLINE struct entry *make_entry(void) {
  return calloc(1, sizeof(struct entry));
}
NOINLINE void *make_payload(void) {
  return calloc(1, 100);
}
NOINLINE struct lnode *make_lnode(void) {
  return calloc(1, sizeof(struct lnode));
}
NOINLINE struct inode *make_inode(void) {
  return calloc(1, sizeof(struct inode));
}
NOINLINE struct cyc *make_cycle_a(void) {
  return calloc(1, sizeof(struct cyc));
}
NOINLINE struct cyc *make_cycle_b(void) {
  return calloc(1, sizeof(struct cyc));
}
NOINLINE void *make_dropped(void) {
  return calloc(1, 48);
}

NOINLINE void *make_shared(void) {
  return calloc(1, 64);
}

NOINLINE static void build_tree(void) {
  g_root = make_array();
  for (int i = 0; i < 8; i++) {
    g_root[i] = make_entry();
    g_root[i]->payload = make_payload();
  }
}

NOINLINE static void build_ilist(void) {
  struct ilink *prev = NULL;
  for (int i = 0; i < 6; i++) {
    struct inode *n = make_inode();
    n->link.next = prev;
    prev = &n->link;
  }
  g_ilist = prev;
}

NOINLINE static void build_pair(void) {
  g_pair.start = make_shared();
  g_pair.into = (char *)g_pair.start + 13;
}

NOINLINE static void build_garbage(void) {
  struct cyc *a = make_cycle_a(), *b = make_cycle_b();
  a->other = b;
  b->other = a;
  for (int i = 0; i < 3; i++)
    memset(make_dropped(), 0, 48);
}

/* Zeroes the stack below the caller, where the builders' frames were. */
NOINLINE static void scrub(void) {
  volatile char area[256 * 1024];
  memset((char *)area, 0, sizeof area);
}

static void *worker(void *arg) {
  pthread_setname_np(pthread_self(), "hs-worker");
  struct lnode *volatile head = NULL; /* in memory, on this stack */
  for (int i = 0; i < 5; i++) {
    struct lnode *n = make_lnode();
    n->next = head;
    head = n;
  }
  scrub(); /* calloc's own frames may have kept interior pointers */
  char c = 1;
  if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
    return NULL;
  return head; /* still in use until the end */
}

static void snap(void) {
  char path[4096];
  if (heapsnap_snapshot(path, sizeof path)) {
    fprintf(stderr, "hd_graph: snapshot failed (is the shim loaded?)\n");
    exit(1);
  }
  printf("%s\n", path);
}

int main(void) {
  if (pipe(ready) || pipe(go))
    return 1;
  setvbuf(stdout, NULL, _IONBF, 0); /* no stdout buffer block in between */
  snap();
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  char c;
  if (read(ready[0], &c, 1) != 1)
    return 1;
  build_tree();
  build_ilist();
  build_pair();
  build_garbage();
  scrub();
  snap();
  if (write(go[1], &c, 1) != 1)
    return 1;
  pthread_join(t, NULL);
  return 0;
}
