/* hd_leaks - known leaks and known non-leaks for the leak check at exit
 * (heapdiff FILE --lost --fail-over-lost; hd_leaks.sh runs it under the
 * shim with HEAPSNAP_AT_EXIT=1 and checks the exact lost counts).
 *
 * `hd_leaks leaky` and `hd_leaks clean` both hold, at exit, blocks that are
 * NOT lost:
 *   keep_interior   64 B, reachable only through g_interior, a pointer
 *                   24 bytes into it;
 *   keep_tls_main   32 B, held only by the main thread's __thread t_held;
 *   keep_tls_worker 40 B, held only by the worker thread's t_held;
 *   keep_on_stack   5 x 56 B, a list whose head is only on the worker's
 *                   stack; the worker sits blocked in read() at exit;
 *   keep_replaced   48 B, the block g_over points at after the overwrite.
 * `leaky` also loses, and `clean` frees:
 *   lose_cycle_a, lose_cycle_b  64 B each, pointing at each other only;
 *   lose_overwritten            48 B, g_over's first block, overwritten;
 *   lose_zero                   malloc(0), its only pointer dropped.
 * So leaky's snapshot has exactly 4 lost blocks, 176 bytes; clean's none.
 * `hd_leaks suite` runs `leaky` and `clean` as two child processes (a test
 * suite of many processes) and stays clean itself.
 * Pointers are dropped in functions whose frames are scrubbed afterwards,
 * so no stale copy on a stack keeps them. */
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

struct cyc {
  struct cyc *other;
  char data[56];
};
struct lnode {
  struct lnode *next;
  char data[48];
};

char *g_interior;
void *g_over;
static __thread void *t_held;
static int ready[2], go[2];

NOINLINE void *keep_interior(void) {
  return calloc(1, 64);
}
NOINLINE void *keep_tls_main(void) {
  return calloc(1, 32);
}
NOINLINE void *keep_tls_worker(void) {
  return calloc(1, 40);
}
NOINLINE struct lnode *keep_on_stack(void) {
  return calloc(1, sizeof(struct lnode));
}
NOINLINE void *keep_replaced(void) {
  return calloc(1, 48);
}
NOINLINE struct cyc *lose_cycle_a(void) {
  return calloc(1, sizeof(struct cyc));
}
NOINLINE struct cyc *lose_cycle_b(void) {
  return calloc(1, sizeof(struct cyc));
}
NOINLINE void *lose_overwritten(void) {
  return calloc(1, 48);
}
NOINLINE void *lose_zero(void) {
  return malloc(0);
}

/* Zeroes the stack below the caller, where the builders' frames were. */
NOINLINE static void scrub(void) {
  volatile char area[256 * 1024];
  memset((char *)area, 0, sizeof area);
}

static void *worker(void *arg) {
  (void)arg;
  struct lnode *volatile head = NULL; /* in memory, on this stack only */
  for (int i = 0; i < 5; i++) {
    struct lnode *n = keep_on_stack();
    n->next = head;
    head = n;
  }
  t_held = keep_tls_worker();
  scrub();
  char c = 1;
  if (write(ready[1], &c, 1) != 1)
    return NULL;
  while (read(go[0], &c, 1) != 0) /* never written: blocked at exit */
    ;
  return head;
}

NOINLINE static void build_kept(void) {
  g_interior = (char *)keep_interior() + 24;
  t_held = keep_tls_main();
}

/* Leaky: drops what it made; clean: frees it. */
NOINLINE static void build_lost(int leak) {
  struct cyc *a = lose_cycle_a(), *b = lose_cycle_b();
  a->other = b;
  b->other = a;
  g_over = lose_overwritten();
  void *zero = lose_zero();
  if (!leak) {
    free(a);
    free(b);
    free(g_over);
    free(zero);
  }
  g_over = keep_replaced();
}

static int run(int leak) {
  if (pipe(ready) || pipe(go))
    return 1;
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL))
    return 1;
  char c;
  if (read(ready[0], &c, 1) != 1)
    return 1;
  build_kept();
  build_lost(leak);
  scrub();
  return 0; /* the worker is still blocked in read(): exit takes it down */
}

/* Two processes, as a test suite starts them; each writes its own at-exit
 * snapshot. */
static int suite(void) {
  static const char *const modes[] = {"leaky", "clean"};
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    char *argv[] = {"hd_leaks", (char *)modes[i], NULL};
    pid_t pid;
    int st;
    extern char **environ;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) ||
        waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
      rc = 1;
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "leaky"))
    return run(1);
  if (argc == 2 && !strcmp(argv[1], "clean"))
    return run(0);
  if (argc == 2 && !strcmp(argv[1], "suite"))
    return suite();
  fprintf(stderr, "usage: hd_leaks leaky|clean|suite\n");
  return 2;
}
