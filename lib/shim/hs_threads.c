/* hs_threads.c - which threads exist and where their stacks are, for the
 * reachability scan (a thread's stack is a root, named by its thread).
 *
 * pthread_create is interposed to run a small start routine that records
 * the new thread's id and an address on its stack, and forgets them when
 * the thread ends (returns, or pthread_exit: a cleanup handler). The scan
 * finds each stack's mapping from that address. Not on any hot path. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "hs_shim.h"

#define HS_THREADS_MAX 4096
#define HS_STARTS_MAX 256

typedef struct hs__start {
  void *(*fn)(void *);
  void *arg; /* a root of the scan until the thread has it (HS_ROOT_START) */
  int small; /* its stack is smaller than HS_SMALL_STACK */
  uint64_t sig_view, sig_forced; /* the creator's (hs_signal.c) */
  int32_t creator;               /* its thread id */
  _Atomic int used;
} hs__start;

static hs__thread hs__threads[HS_THREADS_MAX];
static _Atomic int32_t hs__thread_tid[HS_THREADS_MAX];
static hs__start hs__starts[HS_STARTS_MAX];
static int (*hs__real_create)(pthread_t *, const pthread_attr_t *,
                              void *(*)(void *), void *);

/* The word of this thread's descriptor that points to its TLS vector
 * (glibc's dtv, which it allocates with malloc and keeps with a cached
 * stack): tcbhead_t's second word where the thread pointer is the
 * descriptor (x86-64), its first where the TCB follows the descriptor
 * (aarch64). */
static uint64_t hs__dtv_slot(void) {
#if defined(__x86_64__)
  return (uint64_t)pthread_self() + sizeof(void *);
#elif defined(__aarch64__)
  return (uint64_t)__builtin_thread_pointer();
#else
  return 0;
#endif
}

/* This thread's slot in hs__threads, -1 when it has none (the main
 * thread, one started before the shim or when the table was full). */
static __thread int hs__own_slot = -1;
/* In a child of fork: the thread that forked was not the main thread, so
 * the main thread's stack ([stack]) is the parent's, dead here. */
static int hs__main_gone;

static int hs__thread_register(void) {
  const int32_t tid = (int32_t)gettid();
  for (int i = 0; i < HS_THREADS_MAX; i++) {
    int32_t free_slot = 0;
    if (atomic_compare_exchange_strong(&hs__thread_tid[i], &free_slot, tid)) {
      hs__threads[i].tid = tid;
      hs__threads[i].sp = (uint64_t)__builtin_frame_address(0);
      hs__threads[i].dtv_at = hs__dtv_slot();
      hs__own_slot = i;
      return i;
    }
  }
  return -1; /* full: the stack is still scanned, as an anonymous mapping */
}

/* The stacks of threads that exited, and their ids, newest last (a ring).
 * A thread joined a moment ago may still be listed in /proc/self/task
 * (the kernel wakes pthread_join before it takes the task away): by its
 * id the scan knows it is not a live thread whose stack cannot be told. */
#define HS_DEAD_MAX 1024
static _Atomic uint64_t hs__dead[HS_DEAD_MAX];
static _Atomic uint64_t hs__dead_dtv[HS_DEAD_MAX];
static _Atomic int32_t hs__dead_tid[HS_DEAD_MAX];
static _Atomic uint32_t hs__dead_next;

/* Moves thread slot i to the ring of exited threads' stacks. */
static void hs__thread_bury(int i) {
  const uint32_t d = atomic_fetch_add(&hs__dead_next, 1) % HS_DEAD_MAX;
  atomic_store(&hs__dead[d], 0); /* the entry is whole before it is seen */
  atomic_store(&hs__dead_dtv[d], hs__threads[i].dtv_at);
  atomic_store(&hs__dead_tid[d], hs__threads[i].tid);
  atomic_store(&hs__dead[d], hs__threads[i].sp);
  atomic_store(&hs__thread_tid[i], 0);
}

static void hs__thread_forget(void *slot) {
  hs__unwind_thread_end();
  const int i = (int)(intptr_t)slot;
  if (i >= 0)
    hs__thread_bury(i);
  hs__own_slot = -1;
}

/* 1 when tid is a thread started through pthread_create that has ended
 * (its function returned or it called pthread_exit). An id the kernel
 * gave again to another thread since would be taken for ended too; the
 * kernel hands ids out in turn, so that takes ~4M threads in between. */
int hs__threads_ended(int32_t tid) {
  for (int i = 0; i < HS_DEAD_MAX; i++)
    if (atomic_load(&hs__dead_tid[i]) == tid)
      return 1;
  return 0;
}

size_t hs__threads_dead(hs__thread *out, size_t max) {
  size_t n = 0;
  for (int i = 0; i < HS_DEAD_MAX && n < max; i++) {
    const uint64_t sp = atomic_load(&hs__dead[i]);
    if (sp)
      out[n++] = (hs__thread){atomic_load(&hs__dead_tid[i]), sp,
                              atomic_load(&hs__dead_dtv[i])};
  }
  return n;
}

/* A thread's stack smaller than this is worth watching: a new stack's
 * capture takes up to 8 KiB more of it than bare glibc (libunwind's check),
 * which a 16 KiB stack (PTHREAD_STACK_MIN) used 4 KiB deep did not have. */
#define HS_SMALL_STACK (1u << 20)

/* The lowest address of this thread's stack, from glibc's own record of
 * it (pthread_getattr_np, which allocates: untracked); 0 if unknown. */
static uint64_t hs__own_stack_lo(void) {
  pthread_attr_t a;
  void *lo = NULL;
  size_t size = 0;
  const int was_busy = hs__busy;
  hs__busy = HS_BUSY;
  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    if (pthread_attr_getstack(&a, &lo, &size))
      lo = NULL;
    pthread_attr_destroy(&a);
  }
  hs__busy = was_busy;
  return (uint64_t)lo;
}

/* Whether a thread created with attr gets a small stack (the program's
 * own included: its size is the attr's too); without one, the default's
 * (pthread_setattr_default_np, or RLIMIT_STACK at start). */
static int hs__attr_small(const pthread_attr_t *attr) {
  pthread_attr_t d;
  if (!attr && pthread_getattr_default_np(&d))
    return 0;
  size_t size = 0;
  const int small = pthread_attr_getstacksize(attr ? attr : &d, &size) == 0 &&
                    size < HS_SMALL_STACK;
  if (!attr)
    pthread_attr_destroy(&d);
  return small;
}

/* The argument is always where the scan looks: in the start slot (a root)
 * until this thread is registered (its stack a root) and holds it in this
 * frame, which lives as long as the thread's function runs; a register
 * alone would hide it (LSan's leak_check_before_thread_started). */
static void *hs__thread_start(void *p) {
  hs__start *st = p;
  void *(*fn)(void *) = st->fn;
  void *volatile arg = st->arg;
  if (st->small)
    hs__stack_lo = hs__own_stack_lo();
  hs__signal_inherit(st->sig_view, st->sig_forced);
  const int slot = hs__thread_register();
  atomic_store(&st->used, 0);
  void *ret;
  pthread_cleanup_push(hs__thread_forget, (void *)(intptr_t)slot);
  ret = fn(arg);
  pthread_cleanup_pop(1);
  return ret;
}

static hs__start *hs__start_claim(void *(*fn)(void *), void *arg) {
  for (int i = 0; i < HS_STARTS_MAX; i++) {
    int unused = 0;
    if (atomic_compare_exchange_strong(&hs__starts[i].used, &unused, 1)) {
      hs__starts[i].fn = fn;
      hs__starts[i].arg = arg;
      hs__starts[i].creator = (int32_t)gettid();
      hs__starts[i].sig_view = hs__signal_view();
      hs__starts[i].sig_forced = hs__signal_forced();
      return &hs__starts[i];
    }
  }
  return NULL;
}

HS_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                             void *(*fn)(void *), void *arg) {
  if (!hs__real_create)
    hs__real_create =
        (__typeof__(hs__real_create))hs__os_symbol_next("pthread_create");
  hs__start *st = hs__busy ? NULL : hs__start_claim(fn, arg);
  if (!st) /* the shim's own thread, or too many starting at once */
    return hs__real_create(t, attr, fn, arg);
  st->small = hs__attr_small(attr);
  const int rc = hs__real_create(t, attr, hs__thread_start, st);
  if (rc)
    atomic_store(&st->used, 0);
  return rc;
}

/* In a child of fork only the forking thread lives on, under a new id
 * (the child's pid). The parent's other threads are gone, and glibc keeps
 * their stacks for the child's next threads: what those stacks hold is
 * dead, as an exited thread's (a block only they held is lost in the
 * child, as LeakSanitizer says), and so is the main thread's when another
 * thread forked. Stacks of the parent's exited threads stay dead. */
void hs__threads_fork_child(void) {
  for (int i = 0; i < HS_THREADS_MAX; i++) {
    if (!atomic_load(&hs__thread_tid[i]))
      continue;
    if (i == hs__own_slot) {
      hs__threads[i].tid = (int32_t)getpid();
      atomic_store(&hs__thread_tid[i], hs__threads[i].tid);
    } else {
      hs__thread_bury(i);
    }
  }
  hs__main_gone = hs__own_slot >= 0;
  for (int i = 0; i < HS_STARTS_MAX; i++)
    atomic_store(&hs__starts[i].used, 0);
}

int hs__threads_main_gone(void) {
  return hs__main_gone;
}

size_t hs__threads_starting(uint64_t *arg_at, int32_t *creator, size_t max) {
  size_t n = 0;
  for (int i = 0; i < HS_STARTS_MAX && n < max; i++)
    if (atomic_load(&hs__starts[i].used)) {
      arg_at[n] = (uint64_t)&hs__starts[i].arg;
      creator[n++] = hs__starts[i].creator;
    }
  return n;
}

size_t hs__threads_list(hs__thread *out, size_t max) {
  size_t n = 0;
  for (int i = 0; i < HS_THREADS_MAX && n < max; i++)
    if (atomic_load(&hs__thread_tid[i]))
      out[n++] = hs__threads[i];
  return n;
}
