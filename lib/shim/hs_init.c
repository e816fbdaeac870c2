/* hs_init.c - start-up, exit and fork.
 *
 * Start-up happens in two steps. The real allocator functions are resolved
 * on first need (some library's constructor may allocate before ours runs);
 * until our constructor has finished, blocks pass through untracked. The
 * constructor then reads the settings, reserves the tables, starts the
 * shim's thread and only then turns tracking on. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>

#include "hs_shim.h"

static _Atomic int hs__resolve_state; /* 0 no, 1 under way, 2 done */

#define HS_SYM(name)                                                           \
  hs__real.name = (__typeof__(hs__real.name))dlsym(RTLD_NEXT, #name)
/* The four the hooks jump through without a test keep their boot function
 * (hs_hooks.c) when the allocator has none. */
#define HS_SYM_HOT(name)                                                       \
  do {                                                                         \
    void *const f = dlsym(RTLD_NEXT, #name);                                   \
    if (f)                                                                     \
      hs__real.name = (__typeof__(hs__real.name))f;                            \
  } while (0)

void hs__resolve(void) {
  int expect = 0;
  if (!atomic_compare_exchange_strong(&hs__resolve_state, &expect, 1))
    return; /* done, or dlsym is calling back into us: the pool serves */
  const int was_busy = hs__busy;
  hs__busy = 1;
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
  hs__busy = was_busy;
  atomic_store(&hs__resolve_state, 2);
}

/* fork: the child gets the tables in a consistent state because the parent
 * holds every lock the hot path takes while the address space is copied.
 * Registered first, so ours is the last prepare handler to run (after any
 * of the program's that allocate) and the first child handler. */
static void hs__fork_prepare(void) {
  hs__stacks_lock();
  hs__table_lock_all();
}

static void hs__fork_parent(void) {
  hs__table_unlock_all();
  hs__stacks_unlock();
}

static void hs__fork_child(void) {
  hs__sample_fork_child();
  hs__os_reinit_child();
  hs__table_unlock_all();
  hs__stacks_unlock();
  hs__modules_reinit_child();
  hs__snap_fork_child();
  hs__threads_fork_child();
  hs__trigger_fork_child();
}

static int hs__own_text(void) {
  uint64_t lo, hi;
  if (hs__modules_text_of((const void *)hs__own_text, &lo, &hi))
    return HS_EINVAL;
  hs__stacks_set_text(lo, hi);
  return 0;
}

/* Priority 200: before hs__modules_init (201), which must register its
 * fork handlers after these. */
__attribute__((constructor(200))) static void hs__init(void) {
  hs__busy = 1;
  hs__resolve();
  hs__settings_load();
  if (!hs__allocator_found()) {
    hs__say("cannot find the allocator's malloc; not tracking");
  } else if (hs__table_init() || hs__stacks_init() || hs__own_text()) {
    hs__say("cannot reserve memory for the tables; not tracking");
  } else {
    hs__sample_init(); /* before tracking: full mode's frees must look */
    hs__snap_mark_start();
    pthread_atfork(hs__fork_prepare, hs__fork_parent, hs__fork_child);
    hs__trigger_start();
    hs__tracking = 1;
  }
  hs__busy = 0;
}

/* Runs at exit() (after the program's atexit handlers and static
 * destructors, since the preloaded shim was initialised first), never
 * after _exit or a fatal signal. Its priority puts it after
 * hs__trigger_fini, which stops the shim's thread: with snapshots due
 * back to back the thread kept the lock, and exit waited seconds. */
__attribute__((destructor(200))) static void hs__fini(void) {
  if (hs__tracking && hs__cfg.at_exit)
    hs__snapshot_take("exit", NULL, 0);
}
