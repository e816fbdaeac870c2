/* test_unwind - the fast stack walk (hs_unwind.c) against libunwind, in
 * code built WITHOUT frame pointers (this file is -O2 -fomit-frame-pointer)
 * and through Debian's libraries, which have none either.
 *
 * The test defines malloc: every allocation made while a case is armed is
 * walked twice from the same function, by hs__unwind_fast and by
 * unw_backtrace, and the frames must be the same (or the fast walk must
 * give up and say so). The cases reach malloc through strdup (libc),
 * operator new (libstdc++), a qsort comparator (user code called back from
 * libc), a variable-length array (rbp-based frames amid rsp-based ones),
 * a caller that keeps garbage in rbp (a frame-pointer walk would crash),
 * deep recursion (truncation), another thread, and a signal handler
 * (the walk must give up at the signal frame). A naive frame-pointer walk
 * is run too, to show the cases are ones it gets wrong. Then
 * hs__stack_capture must keep exactly libunwind's stack, and a distrusted
 * return address must send the walk to libunwind. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "hs_shim.h"

hs__settings hs__cfg;

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory") /* no tail call */
#define MAXF 72

extern void *__libc_malloc(size_t);

/* What the last armed allocation saw. */
typedef struct walk {
  int armed, calls, fast_used, gave_up, differ, naive_differ;
  int n_fast, n_slow;
  uint64_t fast[MAXF], slow[MAXF];
} walk;

static walk w;
static __thread int inside;

/* The frame pointer chain, as a naive fast path would follow it: within
 * the caller-supplied bounds only, so that it cannot crash the test. */
static NOINLINE int naive_walk(uint64_t *out, int max) {
  const uint64_t *fp = __builtin_frame_address(0);
  const uint64_t lo = (uint64_t)fp, hi = lo + (1u << 20);
  int n = 0;
  out[n++] = (uint64_t)__builtin_return_address(0);
  uint64_t b = fp[0];
  while (n < max && b > lo && b + 16 <= hi && !(b & 7)) {
    out[n++] = ((const uint64_t *)b)[1];
    const uint64_t next = ((const uint64_t *)b)[0];
    if (next <= b)
      break;
    b = next;
  }
  KEEP();
  return n;
}

static int same_from(const uint64_t *a, int na, const uint64_t *b, int nb,
                     int from) {
  if (na != nb)
    return 0;
  for (int i = from; i < na; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

/* Both walks from here: frame 0 of each is in this function. */
static NOINLINE void observe(void) {
  uint64_t naive[MAXF];
  w.n_fast = hs__unwind_fast(w.fast, MAXF);
  w.n_slow = hs__unwind_slow(w.slow, MAXF);
  const int n_naive = naive_walk(naive, MAXF);
  w.calls++;
  if (w.n_fast < 0) {
    w.gave_up++;
  } else {
    w.fast_used++;
    w.differ += !same_from(w.fast, w.n_fast, w.slow, w.n_slow, 1);
  }
  w.naive_differ += !same_from(naive, n_naive, w.slow, w.n_slow, 1);
  KEEP();
}

void *malloc(size_t n) {
  if (w.armed && !inside) {
    inside = 1;
    observe();
    inside = 0;
  }
  return __libc_malloc(n);
}

static void arm(void) {
  memset(&w, 0, sizeof w);
  w.armed = 1;
}

static int unw_setup(void **state) {
  hs__cfg.depth = 64;
  hs__cfg.stack_mb = 4;
  return hs__stacks_init();
}

/* Is return address ra in fn (bounds from its FDE)? */
static int in_fn(uint64_t ra, const void *fn) {
  unw_proc_info_t pi;
  if (unw_get_proc_info_by_ip(unw_local_addr_space, (unw_word_t)fn, &pi,
                              NULL) != 0)
    return 0;
  return ra - 1 >= pi.start_ip && ra - 1 < pi.end_ip;
}

/* Does a walk pass through fn? */
static int passes(const uint64_t *f, int n, const void *fn) {
  for (int i = 0; i < n; i++)
    if (in_fn(f[i], fn))
      return 1;
  return 0;
}

/* --- the cases, each a chain of functions without frame pointers ------ */

static volatile int sink;

static NOINLINE char *site_strdup(const char *s) {
  char *p = strdup(s);
  sink += p[0];
  KEEP();
  return p;
}

static NOINLINE char *mid_strdup(int k) {
  char buf[40];
  memset(buf, 'a' + k, sizeof buf - 1);
  buf[sizeof buf - 1] = '\0';
  char *p = site_strdup(buf);
  KEEP();
  return p;
}

static void test_through_strdup(void **state) {
  arm();
  char *p = mid_strdup(3);
  w.armed = 0;
  free(p);
  assert_int_equal(w.calls, 1);
  assert_int_equal(w.fast_used, 1);
  assert_int_equal(w.differ, 0);
  assert_true(passes(w.slow, w.n_slow, (void *)site_strdup));
  assert_true(passes(w.slow, w.n_slow, (void *)mid_strdup));
  /* strdup keeps no frame pointer: the naive walk skips site_strdup */
  assert_int_equal(w.naive_differ, 1);
}

static void *(*op_new)(size_t);
static void (*op_delete)(void *);

static NOINLINE void *site_new(size_t n) {
  void *p = op_new(n);
  KEEP();
  return p;
}

static void test_through_operator_new(void **state) {
  void *lib = dlopen("libstdc++.so.6", RTLD_NOW);
  if (!lib)
    skip();
  op_new = (void *(*)(size_t))dlsym(lib, "_Znwm");
  op_delete = (void (*)(void *))dlsym(lib, "_ZdlPv");
  assert_non_null(op_new);
  arm();
  void *p = site_new(123);
  w.armed = 0;
  op_delete(p);
  assert_int_equal(w.calls, 1);
  assert_int_equal(w.fast_used, 1);
  assert_int_equal(w.differ, 0);
  assert_true(passes(w.slow, w.n_slow, (void *)site_new));
}

static void *qsort_blocks[64];
static int qsort_n;

static NOINLINE int cmp_alloc(const void *a, const void *b) {
  if (qsort_n < 64)
    qsort_blocks[qsort_n++] = malloc(8);
  KEEP();
  return *(const int *)a - *(const int *)b;
}

static NOINLINE void site_qsort(void) {
  int v[8] = {5, 3, 7, 1, 8, 2, 6, 4};
  qsort(v, 8, sizeof v[0], cmp_alloc);
  sink += v[0];
  KEEP();
}

static void test_through_qsort_callback(void **state) {
  qsort_n = 0;
  arm();
  site_qsort();
  w.armed = 0;
  for (int i = 0; i < qsort_n; i++)
    free(qsort_blocks[i]);
  assert_true(w.calls >= 8);
  assert_int_equal(w.gave_up, 0);
  assert_int_equal(w.differ, 0);
  assert_true(passes(w.slow, w.n_slow, (void *)site_qsort));
}

static NOINLINE void *site_vla(int n) {
  volatile char buf[n]; /* needs rbp as a frame pointer, even here */
  buf[0] = (char)n;
  void *p = malloc((size_t)n);
  sink += buf[0];
  KEEP();
  return p;
}

static NOINLINE void *vla_caller(int n) {
  void *p = site_vla(n);
  KEEP();
  return p;
}

/* The rule of the first return address into fn in the libunwind walk. */
static int rule_in(const void *fn, int64_t *off, int *rbp) {
  for (int i = 0; i < w.n_slow; i++)
    if (in_fn(w.slow[i], fn))
      return hs__unwind_rule(w.slow[i], off, rbp);
  return -1;
}

static void test_rbp_frame_among_rsp_frames(void **state) {
  arm();
  void *p = vla_caller(100);
  w.armed = 0;
  free(p);
  assert_int_equal(w.fast_used, 1);
  assert_int_equal(w.differ, 0);
  int64_t off;
  int rbp;
  assert_int_equal(rule_in((void *)site_vla, &off, &rbp), 1);
  assert_int_equal(rbp, 1); /* CFA = rbp + 16 */
  assert_int_equal(off, 16);
  assert_int_equal(rule_in((void *)vla_caller, &off, &rbp), 1);
  assert_int_equal(rbp, 0); /* CFA = rsp + N */
}

static NOINLINE void *leaf_alloc(void) {
  void *p = malloc(16);
  KEEP();
  return p;
}

/* rbp holds garbage across the call, as in any function that uses it as
 * a general register: the CFI says where the real one was saved. */
static NOINLINE void *rbp_junk_caller(void *(*fn)(void)) {
  register long junk __asm__("rbp") = 0x1234567;
  __asm__ volatile("" : "+r"(junk));
  void *p = fn();
  __asm__ volatile("" : "+r"(junk));
  return p;
}

static void test_garbage_in_rbp(void **state) {
  arm();
  void *p = rbp_junk_caller(leaf_alloc);
  w.armed = 0;
  free(p);
  assert_int_equal(w.fast_used, 1);
  assert_int_equal(w.differ, 0);
  assert_true(passes(w.slow, w.n_slow, (void *)rbp_junk_caller));
}

static NOINLINE void *deep(int n) {
  void *p = n ? deep(n - 1) : malloc(8);
  KEEP();
  return p;
}

static void test_deep_stack_truncates_alike(void **state) {
  arm();
  void *p = deep(200);
  w.armed = 0;
  free(p);
  assert_int_equal(w.fast_used, 1);
  assert_int_equal(w.differ, 0);
  assert_int_equal(w.n_fast, MAXF);
}

static void *thread_main(void *arg) {
  char *p = mid_strdup(5);
  KEEP();
  return p;
}

static void test_other_thread(void **state) {
  pthread_t t;
  void *p;
  assert_int_equal(pthread_create(&t, NULL, thread_main, NULL), 0);
  assert_int_equal(pthread_join(t, &p), 0);
  free(p);
  arm();
  assert_int_equal(pthread_create(&t, NULL, thread_main, NULL), 0);
  assert_int_equal(pthread_join(t, &p), 0);
  w.armed = 0;
  free(p);
  assert_int_equal(w.calls, 1);
  assert_int_equal(w.fast_used, 1);
  assert_int_equal(w.differ, 0);
  assert_true(passes(w.slow, w.n_slow, (void *)thread_main));
}

static void *handler_block;

static void on_signal(int sig) {
  handler_block = leaf_alloc();
}

static void test_signal_frame_falls_back(void **state) {
  signal(SIGUSR1, on_signal);
  arm();
  raise(SIGUSR1);
  w.armed = 0;
  free(handler_block);
  assert_int_equal(w.calls, 1);
  assert_int_equal(w.gave_up, 1); /* __restore_rt: a signal frame */
  assert_true(passes(w.slow, w.n_slow, (void *)test_signal_frame_falls_back));
}

/* A walk's kept frames (g from first on, n in all) are hs__unwind_fast's
 * f from its frame 1 on (nf of them), cut at the depth limit, the first
 * in caller, and hashed as the stack table hashes them. */
static void check_kept(const uint64_t *f, int nf, const uint64_t *g, int n,
                       int first, uint64_t h, uint32_t depth, void *caller) {
  assert_true(nf > 22);
  const int want = nf - 1 < (int)depth ? nf - 1 : (int)depth;
  assert_int_equal(n - first, want);
  assert_true(in_fn(g[first], caller));
  assert_memory_equal(g + first, f + 1, (size_t)want * 8);
  assert_int_equal(h, hs__stack_hash(g + first, (uint32_t)want));
}

/* The capture's walk (hs__unwind_fast_hashed): the frames hs__unwind_fast
 * gives from the same function, minus the leading ones in the skipped
 * range, cut at the depth limit, hashed as the stack table hashes them. */
static NOINLINE int hashed_site(uint64_t *f, int *nf, uint64_t *g, int *first,
                                uint64_t *h, uint32_t depth) {
  unw_proc_info_t pi;
  assert_int_equal(unw_get_proc_info_by_ip(unw_local_addr_space,
                                           (unw_word_t)hashed_site, &pi, NULL),
                   0);
  *nf = hs__unwind_fast(f, MAXF);
  const int n =
      hs__unwind_fast_hashed(g, MAXF, pi.start_ip, pi.end_ip, depth, first, h);
  KEEP();
  return n;
}

static NOINLINE int hashed_caller(int levels, uint64_t *f, int *nf, uint64_t *g,
                                  int *first, uint64_t *h, uint32_t depth) {
  const int n = levels ? hashed_caller(levels - 1, f, nf, g, first, h, depth)
                       : hashed_site(f, nf, g, first, h, depth);
  KEEP();
  return n;
}

static void test_hashed_walk_skips_cuts_and_hashes(void **state) {
  uint64_t f[MAXF], g[MAXF], h;
  int nf, first;
  for (uint32_t depth = 1; depth <= 40; depth += 13) {
    const int n = hashed_caller(20, f, &nf, g, &first, &h, depth);
    /* frame 0 (the walk's own call site in hashed_site) is skipped */
    assert_int_equal(first, 1);
    check_kept(f, nf, g, n, first, h, depth, (void *)hashed_caller);
  }
  /* depth 0: the skipped frame only, and the hash of no frames */
  const int n = hashed_caller(3, f, &nf, g, &first, &h, 0);
  assert_int_equal(first, 1);
  assert_int_equal(n, 1);
  assert_int_equal(h, hs__stack_hash(g + 1, 0));
}

/* hs__unwind_fast_from (full mode's walk, from the hook's frame): the
 * frames above the frame it starts at, as hs__unwind_fast gives them,
 * cut at the depth limit and hashed as the stack table hashes them, each
 * with its return address's id above 48 bits. */
static NOINLINE int from_site(uint64_t *f, int *nf, uint64_t *g, int *first,
                              uint64_t *h, uint32_t depth, int cold) {
  if (cold) /* no rule cached: every frame steps out of the inner loop */
    hs__unwind_flush();
  const int n = hs__unwind_fast_from(__builtin_frame_address(0),
                                     (uint64_t)__builtin_return_address(0), g,
                                     MAXF, 0, 0, depth, first, h);
  *nf = hs__unwind_fast(f, MAXF);
  KEEP();
  return n;
}

static NOINLINE int from_caller(int levels, uint64_t *f, int *nf, uint64_t *g,
                                int *first, uint64_t *h, uint32_t depth,
                                int cold) {
  const int n = levels
                    ? from_caller(levels - 1, f, nf, g, first, h, depth, cold)
                    : from_site(f, nf, g, first, h, depth, cold);
  KEEP();
  return n;
}

static void test_walk_from_a_frame(void **state) {
  uint64_t f[MAXF], g[MAXF], h;
  int nf, first;
  for (int cold = 0; cold <= 1; cold++) {
    for (uint32_t depth = 1; depth <= 40; depth += 13) {
      const int n = from_caller(20, f, &nf, g, &first, &h, depth, cold);
      /* f[0] is in from_site; the walk from its frame starts at f[1] */
      assert_int_equal(first, 0);
      for (int i = 0; i < n; i++) { /* every frame has its own id */
        const uint64_t pc = g[i] & HS_PC_MASK, id = g[i] >> HS_PC_ID_SHIFT;
        assert_true(id != 0);
        assert_int_equal(id, hs__stack_pc_id(pc));
        g[i] = pc;
      }
      check_kept(f, nf, g, n, first, h, depth, (void *)from_caller);
    }
  }
}

/* A thread whose function has ended walks without a rule cache (its cache
 * is back in the pool): the same frames, ids and hash as with one. */
static void *walk_after_end(void *arg) {
  uint64_t f[MAXF], g[2][MAXF], hs[2];
  int nf, firsts[2], ns[2];
  for (int k = 0; k < 2; k++) { /* 21 frames, from_caller's alone */
    ns[k] = from_caller(20, f, &nf, g[k], &firsts[k], &hs[k], 21, 0);
    if (k == 0)
      hs__unwind_thread_end();
  }
  const int n = ns[0], n2 = ns[1], first = firsts[0], first2 = firsts[1];
  const uint64_t h = hs[0], h2 = hs[1], *const g2 = g[1];
  int *same = arg;
  *same = n == 21 && n2 == n && first2 == first && h2 == h &&
          !memcmp(g[0], g2, sizeof *g2 * (size_t)n);
  for (int i = 0; i < n2; i++)
    *same &= (g2[i] >> HS_PC_ID_SHIFT) != 0;
  return NULL;
}

static pthread_barrier_t pool_all_in;
static int pool_by_key; /* the threads leave it to the key's destructor */

static void *walk_and_wait(void *arg) {
  uint64_t f[MAXF], g[MAXF], h;
  int nf, first;
  *(int *)arg = from_caller(3, f, &nf, g, &first, &h, 40, 0);
  pthread_barrier_wait(&pool_all_in); /* every thread holds a cache */
  pthread_barrier_wait(&pool_all_in); /* the count was read */
  if (!pool_by_key)
    hs__unwind_thread_end(); /* what the pthread_create wrapper calls */
  return NULL;
}

/* Each thread takes a cache at its first walk and gives it back at its
 * end: more threads at once than a chunk holds (64), then as many
 * again, and the pool has out what it had before; the same for threads
 * that end without the wrapper's call (an attached process's), whose
 * caches the thread-specific key's destructor gives back. */
static void test_rule_cache_pool(void **state) {
  pthread_t t[100];
  int got[100], same = 0;
  assert_int_equal(pthread_create(&t[0], NULL, walk_after_end, &same), 0);
  assert_int_equal(pthread_join(t[0], NULL), 0);
  assert_true(same);
  const int before = hs__unwind_caches_used();
  for (int round = 0; round < 3; round++) {
    pool_by_key = round == 2;
    pthread_barrier_init(&pool_all_in, NULL, 101);
    for (int i = 0; i < 100; i++)
      assert_int_equal(pthread_create(&t[i], NULL, walk_and_wait, &got[i]), 0);
    pthread_barrier_wait(&pool_all_in);
    assert_int_equal(hs__unwind_caches_used(), before + 100);
    pthread_barrier_wait(&pool_all_in);
    for (int i = 0; i < 100; i++) {
      assert_int_equal(pthread_join(t[i], NULL), 0);
      assert_true(got[i] > 3);
    }
    pthread_barrier_destroy(&pool_all_in);
    assert_int_equal(hs__unwind_caches_used(), before);
  }
}

/* A child of fork has out only its own thread's cache: the parent's
 * other threads are not in it. */
static void test_rule_cache_pool_after_fork(void **state) {
  uint64_t f[MAXF], g[MAXF], h;
  int nf, first, got = 0;
  from_caller(3, f, &nf, g, &first, &h, 40, 0); /* this thread has one */
  pthread_t t;
  pthread_barrier_init(&pool_all_in, NULL, 2);
  assert_int_equal(pthread_create(&t, NULL, walk_and_wait, &got), 0);
  pthread_barrier_wait(&pool_all_in);
  assert_true(hs__unwind_caches_used() >= 2);
  const pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    hs__unwind_fork_child();
    const int n = hs__unwind_caches_used();
    const int walked = from_caller(3, f, &nf, g, &first, &h, 40, 0);
    _exit(n == 1 && walked > 3 ? 0 : 1);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  pthread_barrier_wait(&pool_all_in);
  assert_int_equal(pthread_join(t, NULL), 0);
  pthread_barrier_destroy(&pool_all_in);
}

/* hs__stack_capture keeps exactly libunwind's frames. */
static NOINLINE uint32_t capture_site(void) {
  const uint32_t id = hs__stack_capture();
  KEEP();
  return id;
}

static NOINLINE uint32_t capture_caller(void) {
  const uint32_t id = capture_site();
  KEEP();
  return id;
}

static void test_capture_keeps_libunwind_stack(void **state) {
  uint64_t g[MAXF];
  const uint64_t mismatches = hs__unwind_mismatches();
  const uint32_t id = capture_caller();
  const int n = hs__unwind_slow(g, MAXF);
  uint64_t f[HS_DEPTH_MAX + 8];
  const uint32_t depth = hs__stack_frames(id, f);
  /* f: in hs__stack_capture, capture_site, capture_caller, this test, its
   * callers; g: this test, its callers (no shim text set: nothing cut) */
  assert_true(id != 0);
  assert_true(in_fn(f[1], (void *)capture_site));
  assert_true(in_fn(f[2], (void *)capture_caller));
  assert_int_equal(depth, (uint32_t)n + 3);
  assert_memory_equal(f + 4, g + 1, (size_t)(n - 1) * 8);
  assert_int_equal(hs__unwind_mismatches(), mismatches);
  /* the same site twice: the second is found from the fast walk alone */
  static volatile int reps = 2; /* not unrolled: one call site */
  uint32_t ids[2];
  for (int i = 0; i < reps; i++)
    ids[i] = capture_caller();
  assert_int_equal(ids[0], ids[1]);
  assert_int_equal(hs__unwind_mismatches(), mismatches);
}

static void test_distrusted_address_goes_to_libunwind(void **state) {
  arm();
  char *p = mid_strdup(1);
  w.armed = 0;
  free(p);
  assert_int_equal(w.fast_used, 1);
  /* the return address into mid_strdup, found by both walks */
  uint64_t ra = 0;
  for (int i = 0; i < w.n_slow; i++)
    if (in_fn(w.slow[i], (void *)mid_strdup))
      ra = w.slow[i];
  assert_true(ra != 0);
  const uint64_t before = hs__unwind_mismatches();
  hs__unwind_distrust(ra);
  assert_int_equal(hs__unwind_mismatches(), before + 1);
  arm();
  p = mid_strdup(1);
  w.armed = 0;
  free(p);
  assert_int_equal(w.gave_up, 1);
  /* a new generation (dlclose) works the rules out again */
  hs__unwind_flush();
  arm();
  p = mid_strdup(1);
  w.armed = 0;
  free(p);
  assert_int_equal(w.fast_used, 1);
  assert_int_equal(w.differ, 0);
}

/* hs__os_readable, which answers libunwind's check of a page in place of
 * the write into its pipe: a page that reads is readable (its word equal
 * to the probe's compare value or not); one that would fault is not, and
 * costs no signal; errno is as it was. */
static void test_readable_probe(void **state) {
  (void)state;
  const size_t page = (size_t)getpagesize();
  int on_stack = 7;
  char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(m != MAP_FAILED);
  m[page] = 1; /* page 0 all zeros (the compare value), page 1 not */
  assert_int_equal(mprotect(m + 2 * page, page, PROT_NONE), 0);
  errno = 1234;
  assert_int_equal(hs__os_readable(&on_stack), 1);
  assert_int_equal(hs__os_readable(m), 1);
  assert_int_equal(hs__os_readable(m + page), 1);
  assert_int_equal(hs__os_readable(m + page + 5), 1); /* rounded down */
  assert_int_equal(hs__os_readable(m + 2 * page), 0); /* PROT_NONE */
  assert_int_equal(hs__os_readable(NULL), 0);
  assert_int_equal(munmap(m + page, page), 0);
  assert_int_equal(hs__os_readable(m + page), 0); /* unmapped */
  /* a file's page past its end: a load would raise SIGBUS */
  char path[] = "/tmp/test_unwind.XXXXXX";
  const int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  assert_int_equal(ftruncate(fd, 16), 0);
  char *f = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
  assert_true(f != MAP_FAILED);
  assert_int_equal(hs__os_readable(f), 1);
  assert_int_equal(hs__os_readable(f + page), 0);
  assert_int_equal(errno, 1234);
  munmap(f, 2 * page);
  close(fd);
  munmap(m, page);
  munmap(m + 2 * page, page);
}

/* The descriptors open, one bit each: main's before any walk, now. */
static uint64_t start_fds[16];

static void open_fds(uint64_t set[16]) {
  memset(set, 0, 16 * sizeof *set);
  for (int fd = 0; fd < 1024; fd++)
    if (fcntl(fd, F_GETFD) != -1)
      set[fd / 64] |= 1ull << (fd % 64);
}

static void *slow_walk(void *arg) {
  uint64_t f[MAXF];
  *(int *)arg = hs__unwind_slow(f, MAXF);
  return NULL;
}

/* libunwind's walks make no descriptor of the program's: its pipe for
 * checking pages is never made (hs_unwio.c), neither at the first walk
 * (hs__stacks_init's) nor later. A thread on a stack of its own, never
 * walked before, makes libunwind check its pages. */
static void test_libunwind_takes_no_descriptor(void **state) {
  (void)state;
  const size_t size = 1 << 20;
  void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(stack != MAP_FAILED);
  pthread_attr_t a;
  pthread_t t;
  int frames = 0;
  assert_int_equal(pthread_attr_init(&a), 0);
  assert_int_equal(pthread_attr_setstack(&a, stack, size), 0);
  assert_int_equal(pthread_create(&t, &a, slow_walk, &frames), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  pthread_attr_destroy(&a);
  munmap(stack, size);
  assert_true(frames >= 2); /* slow_walk, start_thread, ... */
  uint64_t now[16];
  open_fds(now);
  assert_memory_equal(now, start_fds, sizeof now);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_readable_probe),
      cmocka_unit_test(test_libunwind_takes_no_descriptor),
      cmocka_unit_test(test_through_strdup),
      cmocka_unit_test(test_hashed_walk_skips_cuts_and_hashes),
      cmocka_unit_test(test_walk_from_a_frame),
      cmocka_unit_test(test_rule_cache_pool),
      cmocka_unit_test(test_rule_cache_pool_after_fork),
      cmocka_unit_test(test_through_operator_new),
      cmocka_unit_test(test_through_qsort_callback),
      cmocka_unit_test(test_rbp_frame_among_rsp_frames),
      cmocka_unit_test(test_garbage_in_rbp),
      cmocka_unit_test(test_deep_stack_truncates_alike),
      cmocka_unit_test(test_other_thread),
      cmocka_unit_test(test_signal_frame_falls_back),
      cmocka_unit_test(test_capture_keeps_libunwind_stack),
      cmocka_unit_test(test_distrusted_address_goes_to_libunwind),
  };
  open_fds(start_fds);
  return cmocka_run_group_tests(tests, unw_setup, NULL);
}
