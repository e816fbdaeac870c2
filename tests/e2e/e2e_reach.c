/* e2e_reach - what the reachability scan must call held, and lost, in the
 * patterns LeakSanitizer's and valgrind's own tests check. Each mode takes
 * API snapshots and writes beside each the sites it must hold (e2e_check):
 * how many blocks of a site there are, and how many of them are lost.
 *
 *   thread-arg ROUNDS  each round, a fresh child process starts 4 threads
 *                      whose argument is a block only the thread will
 *                      hold, and snapshots at once. It runs on one CPU and
 *                      the threads at SCHED_IDLE, so most have not run by
 *                      then: their argument is held by the shim's start
 *                      slot alone. Lost: 0.
 *   keys ROUNDS        (e2e_reach_keys only) e2e_keyslib took keys 0-31
 *                      before the shim started, so the first walk
 *                      libunwind makes in a thread sets a key of 32 or
 *                      more, and glibc allocates that thread's array for
 *                      keys 32-63 inside the shim. Each round a fresh
 *                      thread walks a new stack, then stores a block under
 *                      key 33, in that array: the block is held only if
 *                      the array is a block the scan knows. Lost: 0.
 *   many-keys ROUNDS   every key taken (the program's all), then each round
 *                      a fresh thread stores a block under each, and
 *                      allocates along a new stack (a walk by libunwind).
 *                      Its key 0 must keep the program's value (libunwind
 *                      once wrote its own there), and lost: 0.
 *
 *   dead-frame ROUNDS  each round a fresh thread drops its only pointer to a
 *                      block, deep in a frame that returned, then blocks in
 *                      read(2): the stack below its stack pointer is dead.
 *                      Lost: 1.
 *   exited ROUNDS      each round a thread drops its only pointer to a block
 *                      near the top of its stack (glibc discards the pages
 *                      below, but not those) and exits; glibc keeps the
 *                      stack for the next thread. A stack no live thread
 *                      has is no root. Lost: 1.
 *   joined ROUNDS      each round three threads each drop their only
 *                      pointer to a block and exit, and are joined. Their
 *                      blocks are lost (3), and nothing else is: glibc
 *                      keeps each thread's TLS vector (a block it
 *                      allocated in pthread_create) with the cached stack,
 *                      whose descriptor points to it.
 *   regs ROUNDS        the block's only pointer is in rbx (e2e_regs.S) when
 *                      the API snapshot is taken: the shim saves the
 *                      caller's registers before it scans. Lost: 0.
 *   registers ROUNDS   (run with HEAPSNAP_SCAN_REGISTERS=1) each round
 *                      three fresh threads hold a block in one register
 *                      alone (e2e_regs.S): r15 and xmm0 while running, r12
 *                      while blocked in read(2). Precise mode stops them:
 *                      lost 0, each held by a register root, and the
 *                      snapshot says every thread was stopped.
 *   registers-off ROUNDS   the same in the default mode: lost 1 each.
 *   registers-traced ROUNDS  (HEAPSNAP_SCAN_REGISTERS=1) the read(2)ing
 *                      thread is traced by another process, as by a
 *                      debugger: it cannot be stopped, its block is lost,
 *                      the other two held, and the snapshot's note says
 *                      ptrace was not permitted.
 *   heap-stack ROUNDS  each round a thread runs on a stack that is a
 *                      malloc'd block (pthread_attr_setstack), holds a
 *                      block in a local and blocks in read(2); then pairs
 *                      of blocks are made lost, the first holding the
 *                      second, after the stack in the heap. The stack
 *                      block is the thread's root, not all of malloc's
 *                      heap: lost 2 * PAIRS, the local's block held by the
 *                      thread.
 *   many-roots ROUNDS  10,000 one-page mappings, each below a guard page
 *                      (as coroutine stacks are made) and holding the
 *                      only pointer to a block, and a block held by a
 *                      local of the main thread, whose stack is the last
 *                      line of /proc/self/maps. Every root is scanned:
 *                      lost 0.
 *   fork-thread ROUNDS each round the main thread and a worker blocked in
 *                      read(2) each hold a block in a local, and a second
 *                      worker forks; the child snapshots. Neither thread
 *                      lives in the child: both blocks are lost there,
 *                      and the forking thread's own local still holds
 *                      its block (a thread root).
 * The blocks these lose are kept, address masked, in a global, and freed
 * after the snapshot.
 *
 * usage: e2e_reach MODE ROUNDS; prints one line, deterministic. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e_sites.h"

#define NOINLINE __attribute__((noinline))
#define ARG_SIZE 300
#define KEY_SIZE 1337
#define TLS_SIZE 123
#define WORKERS 4

#ifdef E2E_REACH_KEYSLIB
int e2e_keyslib_taken(void); /* e2e_keyslib: keys it took at start */
#else
static int e2e_keyslib_taken(void) {
  return 0;
}
#endif

static sem_t go, done;

/* Clears the stack below the caller's frame: dead frames of functions
 * that returned keep copies of pointers a scan of the whole stack would
 * take for live ones (the shim scans the caller's own stack from the
 * snapshot call up, so only what lies above matters). */
NOINLINE static void scrub(void) {
  volatile char pad[32768];
  memset((char *)pad, 0, sizeof pad);
}

/* --- thread-arg ------------------------------------------------------- */

NOINLINE void *site_arg(void) {
  return malloc(ARG_SIZE);
}

static void *arg_worker(void *arg) {
  sem_post(&done);
  while (sem_wait(&go) != 0)
    ;
  free(arg);
  return NULL;
}

/* Threads that run only when this one waits (one CPU, SCHED_IDLE). */
NOINLINE static void start_workers(pthread_t *t) {
  pthread_attr_t a;
  struct sched_param none = {0};
  pthread_attr_init(&a);
  pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
  pthread_attr_setschedpolicy(&a, SCHED_IDLE);
  pthread_attr_setschedparam(&a, &none);
  for (int i = 0; i < WORKERS; i++)
    if (pthread_create(&t[i], &a, arg_worker, site_arg()) != 0)
      exit(3);
  pthread_attr_destroy(&a);
}

static void arg_sites(FILE *f) {
  E2E_SITE(f, site_arg, WORKERS, WORKERS * ARG_SIZE);
  fprintf(f, "lost site_arg 0\n");
}

/* One round, in a fresh process: no thread has run in it before. */
static void thread_arg_round(void) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0)
    _exit(5);
  pthread_t t[WORKERS];
  start_workers(t);
  scrub();
  e2e_snapshot(arg_sites);
  for (int i = 0; i < WORKERS; i++)
    sem_post(&go);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(t[i], NULL);
  _exit(0);
}

static int thread_arg(int rounds) {
  for (int r = 0; r < rounds; r++) {
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0)
      thread_arg_round();
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
      return 7;
  }
  printf("thread-arg: %d rounds of %d threads\n", rounds, WORKERS);
  return 0;
}

/* A stack the shim has not seen: depth d, d new each round. */
NOINLINE void *site_walk(int d) {
  void *p = d > 0 ? site_walk(d - 1) : malloc(16);
  __asm__ volatile("" ::: "memory"); /* no tail call */
  return p;
}

/* --- keys ---------------------------------------------------------------- */

static pthread_key_t key;

NOINLINE void *site_key(void) {
  return malloc(KEY_SIZE);
}

/* Nothing but the key array keeps the block: this frame is cleared. */
NOINLINE static void set_key(void) {
  pthread_setspecific(key, site_key());
}

static void *key_worker(void *arg) {
  free(site_walk((int)(long)arg)); /* libunwind's first walk here */
  set_key();
  scrub();
  sem_post(&done);
  while (sem_wait(&go) != 0)
    ;
  free(pthread_getspecific(key));
  return NULL;
}

static void key_sites(FILE *f) {
  E2E_SITE(f, site_key, 1, KEY_SIZE);
  fprintf(f, "lost site_key 0\n");
}

static int keys(int rounds) {
  if (e2e_keyslib_taken() < 32 || pthread_key_create(&key, NULL) != 0)
    return 4;
  for (int r = 0; r < rounds; r++) {
    pthread_t t;
    pthread_create(&t, NULL, key_worker, (void *)(long)(r + 1));
    while (sem_wait(&done) != 0)
      ;
    scrub();
    e2e_snapshot(key_sites);
    sem_post(&go);
    pthread_join(t, NULL);
  }
  printf("keys: %d rounds, key %s 32\n", rounds, key > 32 ? ">" : "<=");
  return 0;
}

/* --- many-keys ----------------------------------------------------------- */

static pthread_key_t many[PTHREAD_KEYS_MAX];
static int n_many, bad_rounds;

NOINLINE void *site_tls(void) {
  return malloc(TLS_SIZE);
}

static void *many_worker(void *arg) {
  for (int i = 0; i < n_many; i++)
    pthread_setspecific(many[i], site_tls());
  void *const first = pthread_getspecific(many[0]);
  free(site_walk((int)(long)arg)); /* a new stack: libunwind walks it */
  if (pthread_getspecific(many[0]) != first)
    bad_rounds++;
  sem_post(&done);
  while (sem_wait(&go) != 0)
    ;
  for (int i = 0; i < n_many; i++)
    free(pthread_getspecific(many[i]));
  return NULL;
}

static void many_sites(FILE *f) {
  E2E_SITE(f, site_tls, (unsigned long)n_many,
           (unsigned long)n_many * TLS_SIZE);
  fprintf(f, "lost site_tls 0\n");
}

static int many_keys(int rounds) {
  while (n_many < PTHREAD_KEYS_MAX &&
         pthread_key_create(&many[n_many], NULL) == 0)
    n_many++; /* every key left; nothing allocated before */
  for (int r = 0; r < rounds; r++) {
    pthread_t t;
    pthread_create(&t, NULL, many_worker, (void *)(long)(r + 1));
    while (sem_wait(&done) != 0)
      ;
    scrub();
    e2e_snapshot(many_sites);
    sem_post(&go);
    pthread_join(t, NULL);
  }
  printf("many-keys: %d rounds; key 0 lost its value in %d\n", rounds,
         bad_rounds);
  return bad_rounds ? 1 : 0;
}

/* --- dead-frame, exited ----------------------------------------------- */

#define MASK 0x5a5a5a5a5a5a5a5aull
static uint64_t masked; /* the lost block, not a pointer to the scan */
static int pipe_fd[2];

NOINLINE void *site_dead(void) {
  return malloc(200);
}

/* Deep below the caller: the copy of the pointer lies far under where
 * read(2) and the like will put their frames. */
NOINLINE static void drop_deep(int d) {
  volatile char pad[1024];
  pad[0] = (char)d;
  if (d > 0) {
    drop_deep(d - 1);
    return;
  }
  void *volatile p = site_dead();
  masked = (uint64_t)p ^ MASK;
  (void)pad[0];
}

static void *dead_worker(void *arg) {
  drop_deep(arg ? 32 : 0);
  sem_post(&done);
  char c;
  if (arg) /* dead-frame: blocked in a system call */
    while (read(pipe_fd[0], &c, 1) < 0 && errno == EINTR)
      ;
  return NULL;
}

static void dead_sites(FILE *f) {
  E2E_SITE(f, site_dead, 1, 200);
  fprintf(f, "lost site_dead 1\n");
}

static int dead(int rounds, int exited) {
  if (pipe(pipe_fd))
    return 6;
  for (int r = 0; r < rounds; r++) {
    pthread_t t;
    pthread_create(&t, NULL, dead_worker, exited ? NULL : (void *)1);
    while (sem_wait(&done) != 0)
      ;
    if (exited)
      pthread_join(t, NULL);
    else
      usleep(20000); /* into read(2) */
    scrub();
    e2e_snapshot(dead_sites);
    if (!exited) {
      (void)!write(pipe_fd[1], "x", 1);
      pthread_join(t, NULL);
    }
    free((void *)(masked ^ MASK));
  }
  printf("%s: %d rounds\n", exited ? "exited" : "dead-frame", rounds);
  return 0;
}

/* --- joined ----------------------------------------------------------------
 */

#define JOINED 3
static uint64_t masked_joined[JOINED]; /* the lost blocks, masked */

NOINLINE void *site_joined(void) {
  return malloc(300);
}

static void *joined_worker(void *arg) {
  void *volatile p = site_joined();
  masked_joined[(intptr_t)arg] = (uint64_t)p ^ MASK;
  return NULL;
}

static void joined_sites(FILE *f) {
  E2E_SITE(f, site_joined, JOINED, JOINED * 300);
  fprintf(f, "lost site_joined %d\nunreachable %d\n", JOINED, JOINED);
}

static int joined(int rounds) {
  for (int r = 0; r < rounds; r++) {
    pthread_t t[JOINED];
    for (intptr_t i = 0; i < JOINED; i++)
      if (pthread_create(&t[i], NULL, joined_worker, (void *)i))
        return 7;
    for (int i = 0; i < JOINED; i++)
      pthread_join(t[i], NULL);
    scrub();
    e2e_snapshot(joined_sites);
    for (int i = 0; i < JOINED; i++)
      free((void *)(masked_joined[i] ^ MASK));
  }
  printf("joined: %d rounds\n", rounds);
  return 0;
}

/* --- heap-stack ----------------------------------------------------------- */

#define HEAP_STACK (64 * 1024) /* under malloc's mmap threshold: in [heap] */
#define PAIRS 8
static void *heap_stack;             /* a global holds the stack block */
static uint64_t masked_pairs[PAIRS]; /* the lost pairs' first blocks */

NOINLINE void *site_hs_stack(void) {
  return malloc(HEAP_STACK);
}
NOINLINE void *site_hs_held(void) {
  return malloc(77);
}
NOINLINE void *site_hs_a(void) {
  return malloc(90);
}
NOINLINE void *site_hs_b(void) {
  return malloc(91);
}

static void *heap_stack_worker(void *arg) {
  (void)arg;
  void *volatile held = site_hs_held();
  sem_post(&done);
  char c;
  while (read(pipe_fd[0], &c, 1) < 0 && errno == EINTR)
    ;
  free(held);
  return NULL;
}

static void heap_stack_sites(FILE *f) {
  E2E_SITE(f, site_hs_stack, 1, HEAP_STACK);
  E2E_SITE(f, site_hs_held, 1, 77);
  E2E_SITE(f, site_hs_a, PAIRS, PAIRS * 90);
  E2E_SITE(f, site_hs_b, PAIRS, PAIRS * 91);
  fprintf(
      f,
      "lost site_hs_stack 0\nlost site_hs_held 0\nroot site_hs_held thread\n");
  fprintf(f, "lost site_hs_a %d\nlost site_hs_b %d\nunreachable %d\n", PAIRS,
          PAIRS, 2 * PAIRS);
}

/* In a frame of its own, which scrub() clears: no copy of a pointer to
 * the pairs is left in the caller's. */
NOINLINE static void make_pairs(void) {
  for (int i = 0; i < PAIRS; i++) {
    void **first = site_hs_a();
    *first = site_hs_b();
    masked_pairs[i] = (uint64_t)first ^ MASK;
  }
}

NOINLINE static void free_pairs(void) {
  for (int i = 0; i < PAIRS; i++) {
    void **first = (void **)(masked_pairs[i] ^ MASK);
    free(*first);
    free(first);
  }
}

static int heap_stack_round(void) {
  pthread_attr_t a;
  pthread_t t;
  heap_stack = site_hs_stack();
  if (!heap_stack || pthread_attr_init(&a) ||
      pthread_attr_setstack(&a, heap_stack, HEAP_STACK) ||
      pthread_create(&t, &a, heap_stack_worker, NULL))
    return 8;
  pthread_attr_destroy(&a);
  while (sem_wait(&done) != 0)
    ;
  usleep(20000); /* into read(2) */
  make_pairs();
  scrub();
  e2e_snapshot(heap_stack_sites);
  (void)!write(pipe_fd[1], "x", 1);
  pthread_join(t, NULL);
  free_pairs();
  free(heap_stack);
  return 0;
}

static int heap_stack_rounds(int rounds) {
  if (pipe(pipe_fd))
    return 6;
  for (int r = 0; r < rounds; r++)
    if (heap_stack_round())
      return 8;
  printf("heap-stack: %d rounds\n", rounds);
  return 0;
}

/* --- many-roots ------------------------------------------------------------
 */

#define MANY_ROOTS 10000

NOINLINE void *site_mr_mapped(void) {
  return malloc(64);
}
NOINLINE void *site_mr_local(void) {
  return malloc(48);
}

static void many_roots_sites(FILE *f) {
  E2E_SITE(f, site_mr_mapped, MANY_ROOTS, MANY_ROOTS * 64);
  E2E_SITE(f, site_mr_local, 1, 48);
  fprintf(f, "lost site_mr_mapped 0\nlost site_mr_local 0\n");
  fprintf(f, "root site_mr_mapped mapping\nroot site_mr_local thread\n");
}

static int many_roots(int rounds) {
  /* a guard page, then the page holding the pointer: two lines of maps
   * that the kernel cannot merge with their neighbours */
  char *area = mmap(NULL, (size_t)MANY_ROOTS * 8192, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED)
    return 9;
  for (int i = 0; i < MANY_ROOTS; i++)
    if (mprotect(area + (size_t)i * 8192, 4096, PROT_NONE))
      return 9;
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < MANY_ROOTS; i++)
      *(void **)(area + (size_t)i * 8192 + 4096) = site_mr_mapped();
    void *volatile local = site_mr_local();
    scrub();
    e2e_snapshot(many_roots_sites);
    free(local);
    for (int i = 0; i < MANY_ROOTS; i++)
      free(*(void **)(area + (size_t)i * 8192 + 4096));
  }
  munmap(area, (size_t)MANY_ROOTS * 8192);
  printf("many-roots: %d rounds\n", rounds);
  return 0;
}

/* --- fork-thread -----------------------------------------------------------
 */

static uint64_t masked_main, masked_worker;

NOINLINE void *site_ft_main(void) {
  return malloc(111);
}
NOINLINE void *site_ft_worker(void) {
  return malloc(222);
}
NOINLINE void *site_ft_self(void) {
  return malloc(333);
}

static void fork_thread_sites(FILE *f) {
  E2E_SITE(f, site_ft_main, 1, 111);
  E2E_SITE(f, site_ft_worker, 1, 222);
  E2E_SITE(f, site_ft_self, 1, 333);
  fprintf(f,
          "lost site_ft_main 1\nlost site_ft_worker 1\nlost site_ft_self 0\n");
  fprintf(f, "root site_ft_self thread\nunreachable 2\n");
}

static void *fork_worker(void *arg) {
  (void)arg;
  void *volatile held = site_ft_worker();
  masked_worker = (uint64_t)held ^ MASK;
  sem_post(&done);
  char c;
  while (read(pipe_fd[0], &c, 1) < 0 && errno == EINTR)
    ;
  free(held);
  return NULL;
}

/* Forks; the child snapshots and exits. 0 when the child did so. */
static void *fork_forker(void *arg) {
  (void)arg;
  void *volatile held = site_ft_self();
  const pid_t pid = fork();
  if (pid == 0) {
    scrub();
    e2e_snapshot(fork_thread_sites);
    _exit(0);
  }
  int status = 0;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  free(held);
  return (void *)(intptr_t)(pid < 0 || !WIFEXITED(status) ||
                            WEXITSTATUS(status) != 0);
}

static int fork_thread(int rounds) {
  if (pipe(pipe_fd))
    return 6;
  for (int r = 0; r < rounds; r++) {
    void *volatile held = site_ft_main();
    masked_main = (uint64_t)held ^ MASK;
    pthread_t w, f;
    void *bad = NULL;
    if (pthread_create(&w, NULL, fork_worker, NULL))
      return 10;
    while (sem_wait(&done) != 0)
      ;
    usleep(20000); /* into read(2) */
    if (pthread_create(&f, NULL, fork_forker, NULL) || pthread_join(f, &bad) ||
        bad)
      return 11;
    (void)!write(pipe_fd[1], "x", 1);
    pthread_join(w, NULL);
    free(held);
  }
  printf("fork-thread: %d rounds\n", rounds);
  return 0;
}

/* --- regs ----------------------------------------------------------------- */

void *e2e_snap_holding_rbx(void); /* e2e_regs.S */

NOINLINE void *site_reg(void) {
  return malloc(500);
}

static void reg_sites(FILE *f) {
  E2E_SITE(f, site_reg, 1, 500);
  fprintf(f, "lost site_reg 0\n");
}

/* Called by e2e_snap_holding_rbx with the block in rbx alone. */
void e2e_reach_snapshot(void) {
  scrub();
  e2e_snapshot(reg_sites);
}

static int regs(int rounds) {
  for (int r = 0; r < rounds; r++)
    free(e2e_snap_holding_rbx());
  printf("regs: %d rounds\n", rounds);
  return 0;
}

/* --- registers ------------------------------------------------------------ */

/* e2e_regs.S: threads holding a block in one register alone. */
void *e2e_hold_r15(volatile int *ready, volatile int *stop);
void *e2e_hold_xmm0(volatile int *ready, volatile int *stop);
void *e2e_hold_r12(volatile int *ready, int fd);

#define HOLD_SIZE 310
NOINLINE void *site_hold_r15(void) {
  return malloc(HOLD_SIZE);
}
NOINLINE void *site_hold_xmm0(void) {
  return malloc(HOLD_SIZE + 1);
}
NOINLINE void *site_hold_r12(void) {
  return malloc(HOLD_SIZE + 2);
}

static volatile int hold_ready[3], hold_stop;
static volatile pid_t hold_tid[3];
static int hold_pipe[2];
static enum { HOLD_PRECISE, HOLD_DEFAULT, HOLD_TRACED } hold_how;

static void *hold_worker(void *arg) {
  hold_tid[(long)arg] = gettid();
  void *p = arg == (void *)0   ? e2e_hold_r15(&hold_ready[0], &hold_stop)
            : arg == (void *)1 ? e2e_hold_xmm0(&hold_ready[1], &hold_stop)
                               : e2e_hold_r12(&hold_ready[2], hold_pipe[0]);
  free(p);
  return NULL;
}

/* Precise mode holds all three by a register; the default mode, none.
 * With the read(2)ing thread traced by another process, precise mode
 * cannot stop it, says so, and misses its register. */
static void hold_sites(FILE *f) {
  E2E_SITE(f, site_hold_r15, 1, HOLD_SIZE);
  E2E_SITE(f, site_hold_xmm0, 1, HOLD_SIZE + 1);
  E2E_SITE(f, site_hold_r12, 1, HOLD_SIZE + 2);
  const int held = hold_how == HOLD_PRECISE;
  const int spin_lost = hold_how == HOLD_DEFAULT;
  fprintf(f, "lost site_hold_r15 %d\nlost site_hold_xmm0 %d\n", spin_lost,
          spin_lost);
  fprintf(f, "lost site_hold_r12 %d\n", !held);
  fprintf(f, "registers %d\n", held);
  if (hold_how != HOLD_DEFAULT)
    fprintf(f, "root site_hold_r15 register\nroot site_hold_xmm0 register\n");
  if (held)
    fprintf(f, "root site_hold_r12 register\n");
  if (hold_how == HOLD_TRACED)
    fprintf(f, "note ptrace not permitted\n");
}

/* Another process traces thread tid (as a debugger would) until told. */
static pid_t trace_thread(pid_t tid, int *release) {
  int ok[2], rel[2];
  if (pipe(ok) || pipe(rel))
    exit(8);
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY); /* Yama, where there is one */
  const pid_t pid = fork();
  if (pid == 0) {
    close(rel[1]);
    char c = ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0 ? 'y' : 'n';
    (void)!write(ok[1], &c, 1);
    (void)!read(rel[0], &c, 1);
    _exit(0);
  }
  char c = 'n';
  if (pid < 0 || read(ok[0], &c, 1) != 1 || c != 'y')
    exit(9);
  close(ok[0]);
  close(ok[1]);
  close(rel[0]);
  *release = rel[1];
  return pid;
}

static int registers(int rounds) {
  if (pipe(hold_pipe))
    return 6;
  for (int r = 0; r < rounds; r++) {
    pthread_t t[3];
    hold_stop = 0;
    for (long i = 0; i < 3; i++) {
      hold_ready[i] = 0;
      pthread_create(&t[i], NULL, hold_worker, (void *)i);
    }
    for (int i = 0; i < 3; i++)
      while (!hold_ready[i])
        usleep(1000);
    usleep(20000); /* the third into read(2) */
    int release = -1;
    const pid_t tracer =
        hold_how == HOLD_TRACED ? trace_thread(hold_tid[2], &release) : 0;
    scrub();
    e2e_snapshot(hold_sites);
    if (tracer) {
      close(release);
      waitpid(tracer, NULL, 0);
    }
    hold_stop = 1;
    (void)!write(hold_pipe[1], "x", 1);
    for (int i = 0; i < 3; i++)
      pthread_join(t[i], NULL);
  }
  printf("registers: %d rounds\n", rounds);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argc == 3 ? argv[1] : "";
  const int rounds = argc == 3 ? atoi(argv[2]) : 0;
  sem_init(&go, 0, 0);
  sem_init(&done, 0, 0);
  if (strcmp(mode, "thread-arg") == 0)
    return thread_arg(rounds);
  if (strcmp(mode, "keys") == 0)
    return keys(rounds);
  if (strcmp(mode, "many-keys") == 0)
    return many_keys(rounds);
  if (strcmp(mode, "dead-frame") == 0 || strcmp(mode, "exited") == 0)
    return dead(rounds, strcmp(mode, "exited") == 0);
  if (strcmp(mode, "joined") == 0)
    return joined(rounds);
  if (strcmp(mode, "regs") == 0)
    return regs(rounds);
  if (strcmp(mode, "heap-stack") == 0)
    return heap_stack_rounds(rounds);
  if (strcmp(mode, "many-roots") == 0)
    return many_roots(rounds);
  if (strcmp(mode, "fork-thread") == 0)
    return fork_thread(rounds);
  hold_how = strcmp(mode, "registers-off") == 0      ? HOLD_DEFAULT
             : strcmp(mode, "registers-traced") == 0 ? HOLD_TRACED
                                                     : HOLD_PRECISE;
  if (strncmp(mode, "registers", 9) == 0 &&
      (hold_how != HOLD_PRECISE || strcmp(mode, "registers") == 0))
    return registers(rounds);
  fprintf(stderr, "usage: e2e_reach thread-arg|keys|many-keys|dead-frame|"
                  "exited|regs|registers|registers-off|registers-traced|"
                  "heap-stack|many-roots|fork-thread "
                  "ROUNDS\n");
  return 2;
}
