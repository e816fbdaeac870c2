/* hs_init.c - start-up, exit and fork.
 *
 * Start-up happens in two steps. The real allocator functions are resolved
 * on first need (some library's constructor may allocate before ours runs);
 * until our constructor has finished, blocks pass through untracked. The
 * constructor then reads the settings, reserves the tables, starts the
 * shim's thread and only then turns tracking on. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>

#include "hs_shim.h"

static _Atomic int hs__resolve_state; /* 0 no, 1 under way, 2 done */

/* Preloaded, the allocator is the definition after the shim's. Attached
 * (loaded by dlopen, in no one's scope), it is the one every module bound
 * to: the first in the global scope, jemalloc's when the program links it. */
#ifdef HS_ATTACH
#define hs__os_symbol_alloc hs__attach_symbol
#else
#define hs__os_symbol_alloc hs__os_symbol_next
#endif
#define HS_SYM(name)                                                           \
  hs__real.name = (__typeof__(hs__real.name))hs__os_symbol_alloc(#name)
/* The four the hooks jump through without a test keep their boot function
 * (hs_hooks.c) when the allocator has none. */
#define HS_SYM_HOT(name)                                                       \
  do {                                                                         \
    void *const f = hs__os_symbol_alloc(#name);                                \
    if (f)                                                                     \
      hs__real.name = (__typeof__(hs__real.name))f;                            \
  } while (0)

void hs__resolve(void) {
  int expect = 0;
  if (!atomic_compare_exchange_strong(&hs__resolve_state, &expect, 1))
    return; /* done, or dlsym is calling back into us: the pool serves */
  HS_SYM_HOT(free); /* before malloc: its blocks must find the real free */
  HS_SYM_HOT(realloc);
  HS_SYM_HOT(calloc);
  HS_SYM_HOT(malloc);
  HS_SYM(posix_memalign);
  HS_SYM(aligned_alloc);
  HS_SYM(memalign);
  HS_SYM(valloc);
  HS_SYM(pvalloc);
  HS_SYM(malloc_usable_size);
  HS_SYM(mallocx);
  HS_SYM(rallocx);
  HS_SYM(xallocx);
  HS_SYM(sallocx);
  HS_SYM(dallocx);
  HS_SYM(sdallocx);
  HS_SYM(nallocx);
  HS_SYM(dlclose);
  atomic_store(&hs__resolve_state, 2);
}

/* fork. The child must find every structure of the shim whole, and no
 * lock it will need held by a thread that does not exist there. So the
 * parent, in one prepare handler, waits for or takes everything in this
 * order, and the child resets it all:
 *   0. the shim's fork lock: glibc (2.34 and later) lets go of its own
 *      atfork lock while each handler runs, so forks from two threads
 *      would run these handlers at once (one thread's parent handler then
 *      opened the libunwind gate while the other's fork was under way,
 *      and both wrote the loader capture): one fork at a time goes
 *      through them, from this prepare handler to the parent or child
 *      one. A fork from a signal handler that interrupted this thread
 *      inside them does not wait on itself;
 *   1. this thread is marked busy: an allocation made by a prepare handler
 *      that runs after ours (registered before the shim started, such as
 *      jemalloc's) passes through untracked instead of waiting on the
 *      table locks we are about to hold;
 *   1a. attached (hs_attach.c): the GOT patch lock, so no patch pass is
 *      half done in the child;
 *   2. the libunwind gate closes: no thread is left inside libunwind,
 *      whose own locks glibc does not reset;
 *   3. the module list is captured (hs_loader.c: a child that inherits the
 *      loader's write lock held answers the shim's dl_iterate_phdr calls
 *      from it); this waits for any dlopen, dlclose or dl_iterate_phdr
 *      under way, and holds nothing afterwards;
 *   4. the module table's lock (taken before the loader's, by a refresh),
 *   5. the stack table's lock,
 *   6. every shard lock of the live-block table,
 *   7. the list of the shim's mappings (taken under a shard lock when a
 *      table grows, so after them).
 * The parent releases 7 to 1 in reverse. The child re-initialises the
 * locks (their owner does not exist there), then starts afresh what
 * belonged to the parent's threads: the sampling countdown, the snapshot
 * numbering and folder state, the list of threads, the trigger (its thread
 * is started at the child's first allocation). Registered in the
 * constructor, after the handlers of libraries that started before the
 * shim: glibc runs prepare handlers in reverse order, so the program's own
 * handlers (registered later) run before ours, and may allocate. */
static __thread int hs__fork_was_busy;
static pthread_mutex_t hs__fork_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int hs__fork_depth; /* this thread's forks under way */

static void hs__fork_prepare(void) {
  const int outer = hs__fork_depth++ == 0;
  if (outer)
    pthread_mutex_lock(&hs__fork_lock);
  hs__fork_was_busy = hs__busy;
  hs__busy = 1;
#ifdef HS_ATTACH
  if (outer)
    hs__attach_fork_prepare();
#endif
  hs__unwind_fork_prepare();
  hs__loader_fork_prepare();
  hs__modules_lock();
  hs__stacks_lock();
  hs__table_lock_all();
  hs__os_lock();
}

static void hs__fork_parent(void) {
  hs__os_unlock();
  hs__table_unlock_all();
  hs__stacks_unlock();
  hs__modules_unlock();
  hs__unwind_fork_parent();
  hs__busy = hs__fork_was_busy;
  if (--hs__fork_depth == 0) {
#ifdef HS_ATTACH
    hs__attach_fork_parent();
#endif
    pthread_mutex_unlock(&hs__fork_lock);
  }
}

static void hs__fork_child(void) {
  hs__os_reinit_child();
  hs__table_fork_child();
  hs__stacks_unlock();
  hs__modules_reinit_child();
  hs__unwind_fork_child();
#ifdef HS_ATTACH
  hs__attach_fork_child();
#endif
  hs__loader_fork_child();
  hs__sample_fork_child();
  hs__snap_fork_child();
  hs__threads_fork_child();
  hs__signal_fork_child();
  hs__status_fork_child();
  hs__trigger_fork_child();
  hs__busy = hs__fork_was_busy;
  hs__fork_depth = 0; /* the only thread here, the lock's owner gone */
  pthread_mutex_init(&hs__fork_lock, NULL);
}

static int hs__own_text(void) {
  uint64_t lo, hi;
  if (hs__modules_text_of((const void *)hs__own_text, &lo, &hi))
    return HS_EINVAL;
  hs__stacks_set_text(lo, hi);
  return 0;
}

/* What the constructor (preloaded) or hs_attach_start (attached, the
 * settings loaded first) does before tracking goes on: the tables once,
 * the rest at each start. @return : 0, or a code after one line. */
int hs__shim_start(void) {
  static int reserved;
  if (!hs__allocator_found()) {
    hs__say("cannot find the allocator's malloc; not tracking");
    return HS_EINVAL;
  }
  if (!reserved && (hs__table_init() || hs__stacks_init() || hs__own_text())) {
    hs__say("cannot reserve memory for the tables; not tracking");
    return HS_ENOMEM;
  }
  if (!reserved)
    pthread_atfork(hs__fork_prepare, hs__fork_parent, hs__fork_child);
  reserved = 1;
  hs__sample_init(); /* before tracking: full mode's frees must look */
  hs__snap_mark_start();
  hs__status_open();
  hs__trigger_start();
  return 0;
}

/* Priority 200: before the constructors of the program and of libraries
 * loaded after the shim, which may already allocate. Attached, the shim
 * starts in hs_attach_start (hs_attach.c) instead. */
__attribute__((constructor(200))) static void hs__init(void) {
#ifndef HS_ATTACH
  hs__busy = 1;
  hs__resolve();
  hs__loader_init();
  hs__exec_init();
  hs__settings_load();
  hs__scan_main_tls();
  if (hs__shim_start() == 0)
    hs__tracking = 1;
  hs__busy = 0;
#endif
}

/* exit(). Runs after the program's atexit handlers and static destructors
 * (the preloaded shim was initialised before the program), never after
 * _exit or a fatal signal. In order: the shim's thread finishes the
 * snapshots already asked for and starts no other; then the exit
 * snapshot; last, the status file goes. */
__attribute__((destructor(200))) static void hs__fini(void) {
  if (hs__tracking) {
    hs__trigger_stop();
    if (hs__cfg.at_exit)
      hs__snapshot_take("exit", NULL, 0);
  }
  hs__status_remove();
}
