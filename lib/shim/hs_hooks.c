/* hs_hooks.c - the interposed allocation API.
 *
 * Every entry point forwards to the real allocator and, when tracking is on
 * and this thread is not already inside the shim, records or forgets the
 * block. The order matters with threads: a block leaves the table before
 * the real free/realloc gives its address back to the allocator (another
 * thread may get that address at once), and enters it after the real
 * allocation returned. Stacks are captured with no lock of the shim held. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "hs_shim.h"

int hs__tracking;

/* dlsym calls calloc before the real calloc is known: such early requests
 * are served from this pool, with a size word in front for realloc and
 * malloc_usable_size, and free ignores them. Each pool block pins its
 * page in the sample filter, so that free's common path sends it to
 * hs__free_slow, which knows the pool, in sampling mode too. */
static _Alignas(16) char hs__pool[1 << 16];
static _Atomic size_t hs__pool_used;

static void *hs__pool_alloc(size_t n) {
  const size_t need = ((n + 15) & ~(size_t)15) + 16;
  const size_t off = atomic_fetch_add(&hs__pool_used, need);
  if (n > sizeof hs__pool || off + need > sizeof hs__pool)
    return NULL;
  *(size_t *)(hs__pool + off) = n;
  hs__sample_pin((uint64_t)(hs__pool + off + 16));
  return hs__pool + off + 16;
}

static int hs__in_pool(const void *p) {
  return (const char *)p >= hs__pool &&
         (const char *)p < hs__pool + sizeof hs__pool;
}

static size_t hs__pool_size(const void *p) {
  return *(const size_t *)((const char *)p - 16);
}

/* Until hs__resolve has found the allocator, the four entries of hs__real
 * the hooks jump through without a test point here. hs__resolve sets free
 * and realloc before calloc and malloc, so a block of the real allocator
 * never meets a boot free or realloc. */
static void *hs__boot_malloc(size_t n) {
  hs__resolve();
  if (hs__real.malloc != hs__boot_malloc)
    return hs__real.malloc(n);
  return hs__pool_alloc(n);
}

static void hs__boot_free(void *p) {
  hs__resolve();
  if (hs__real.free != hs__boot_free)
    hs__real.free(p);
}

static void *hs__boot_calloc(size_t n, size_t m) {
  hs__resolve();
  if (hs__real.calloc != hs__boot_calloc)
    return hs__real.calloc(n, m);
  if (m && n > SIZE_MAX / m)
    return NULL;
  return hs__pool_alloc(n * m); /* static memory: already zero */
}

static void *hs__boot_realloc(void *p, size_t n) {
  hs__resolve();
  if (hs__real.realloc != hs__boot_realloc)
    return hs__real.realloc(p, n);
  return p ? NULL : hs__pool_alloc(n); /* p is never the pool's here */
}

hs__real_fns hs__real = {.malloc = hs__boot_malloc,
                         .free = hs__boot_free,
                         .calloc = hs__boot_calloc,
                         .realloc = hs__boot_realloc};

int hs__allocator_found(void) {
  return hs__real.malloc != hs__boot_malloc && hs__real.free != hs__boot_free;
}

/* The slow paths are out of line and reached by tail calls, so that the
 * hooks' common paths (a block not sampled, a free with nothing to look up)
 * save no registers. Each returns its block.
 *
 * The common paths test one thing each. An allocation counts its size
 * down from this thread's sampling countdown and goes straight to the
 * allocator while that stays positive. Only sampling ever makes it
 * positive: in full mode (and before start-up is complete, and in a child
 * of fork before its first allocation) it stays at or below 0, and every
 * allocation takes the slow path. A free reads one flag (full mode: every
 * free looks in the table) and the sample filter. */

/* Records p: its stack, then the table. What the C library allocates
 * during the walk is recorded too (HS_BUSY_WALK). */
static __attribute__((noinline)) void *hs__track(void *p, size_t n) {
  hs__table_prefetch((uint64_t)p); /* its slot loads during the walk */
  hs__busy = HS_BUSY_WALK;
  hs__signal_fix(); /* the snapshot signal moved: this thread follows */
  const uint32_t stack = hs__stack_capture();
  hs__busy = HS_BUSY;
  hs__table_insert((uint64_t)p, n, stack);
  hs__busy = 0;
  return p;
}

/* Full mode's common case captures around the allocation: the stack's
 * fast walk before the real call, which prefetches the stack table's
 * index slot (hs__stack_walk), the lookup after it. With thousands of hot
 * stacks that is a cache miss, and the allocator's work now overlaps it. The
 * rest (sampling, a busy thread, a child of fork starting its thread) records
 * after the call, as above. */
static inline int hs__walk_first(void) {
  return !hs__cfg.sample_bytes && HS_LIKELY(hs__tracking) && !hs__busy &&
         !hs__thread_pending;
}

/* Room for the walk's frames: HEAPSNAP_DEPTH and the shim's own, and
 * four more for the lookup (hs__stack_known). */
#define HS_WALK_FRAMES (hs__cfg.depth + 12)

/* Before the real call, hs__walk_first having said so; fp and pc are the
 * hook's frame (HS_HOOK_FRAME). */
static inline void hs__walk_before(hs__walked *w, uint64_t *f, const void *fp,
                                   void *pc) {
  hs__sample_left = 0; /* full mode: the countdown only says "come here" */
  hs__busy = HS_BUSY_WALK;
  hs__signal_fix(); /* the snapshot signal moved: this thread follows */
  hs__stack_walk(w, f, fp, pc);
  hs__busy = 0;
}

/* After it: p enters the table with the stack walked before, captured
 * again (with libunwind's check) if the table does not know that one. */
static __attribute__((noinline)) void *
hs__record(void *p, size_t n, const hs__walked *w, uint64_t *f) {
  if (HS_UNLIKELY(!p))
    return p;
  hs__table_prefetch((uint64_t)p); /* its slot loads during the lookup */
  hs__busy = HS_BUSY_WALK;
  uint32_t stack = hs__stack_known(w, f);
  if (HS_UNLIKELY(!stack))
    stack = hs__stack_capture();
  hs__busy = HS_BUSY;
  hs__table_insert((uint64_t)p, n, stack);
  hs__busy = 0;
  return p;
}

/* An allocation made while the shim walked a stack for the program. */
static __attribute__((noinline)) void *hs__track_walk(void *p, size_t n) {
  hs__busy = HS_BUSY;
  const uint32_t stack = hs__stack_capture_fast();
  hs__table_insert((uint64_t)p, n, stack);
  hs__busy = HS_BUSY_WALK;
  return p;
}

/* A child of fork starts its shim thread at its first allocation. */
static void hs__start_pending(void) {
  hs__busy = 1;
  hs__trigger_start_pending();
  hs__busy = 0;
}

/* Sampling: the countdown crossed zero (or is held: a child of fork). The
 * countdown runs over every allocation, the shim's own included: each byte
 * is a sample point with the same chance whatever came before, so that
 * cannot bias which of the program's blocks are sampled. A sample point
 * that falls in a block not recorded (the shim's own) is used up all the
 * same. Whether this block is sampled is settled before a pending shim
 * thread is started: starting it allocates, and those allocations count
 * down after this one. */
static __attribute__((noinline)) void *hs__track_sampled(void *p, size_t n) {
  const int was_busy = hs__busy;
  const int record = hs__tracking && was_busy != HS_BUSY;
  if (HS_UNLIKELY(hs__sample_held))
    hs__sample_release();
  if (hs__sample_left <= 0) {
    hs__busy = HS_BUSY;
    if (hs__sample_hit(n) && p && record) {
      uint32_t stack;
      if (was_busy == HS_BUSY_WALK) {
        stack = hs__stack_capture_fast();
      } else {
        hs__signal_fix();
        hs__busy = HS_BUSY_WALK;
        stack = hs__stack_capture();
        hs__busy = HS_BUSY;
      }
      hs__sample_add((uint64_t)p); /* before a free can look for it */
      hs__table_insert((uint64_t)p, n, stack);
    }
    hs__busy = was_busy;
  }
  if (HS_UNLIKELY(hs__thread_pending)) {
    if (record && !was_busy)
      hs__start_pending();
    else
      hs__sample_hold(); /* the next allocation comes back here */
  }
  return p;
}

/* In a child of fork, its first allocation: the shim's thread started,
 * then the block recorded. */
static __attribute__((noinline)) void *hs__start_and_track(void *p, size_t n) {
  hs__start_pending();
  return hs__track(p, n);
}

/* 1 when the allocation of n bytes needs nothing from the shim: the hook
 * can jump straight to the allocator. Else the hook calls it and then
 * hs__track_counted. */
static inline int hs__count_and_skip(size_t n) {
  return HS_LIKELY((hs__sample_left -= (int64_t)n) > 0);
}

/* After the real call: record p if tracking applies to this thread.
 * hs__count_and_skip has counted n already. */
static inline void *hs__track_counted(void *p, size_t n) {
  if (hs__cfg.sample_bytes)
    return hs__track_sampled(p, n);
  hs__sample_left = 0; /* full mode: the countdown only says "come here" */
  if (HS_UNLIKELY(!hs__tracking) || HS_UNLIKELY(!p))
    return p;
  if (HS_UNLIKELY(hs__busy))
    return hs__busy == HS_BUSY_WALK ? hs__track_walk(p, n) : p;
  if (HS_UNLIKELY(hs__thread_pending))
    return hs__start_and_track(p, n);
  return hs__track(p, n);
}

/* The same for the hooks that do not call hs__count_and_skip first. */
static inline void *hs__count_and_track(void *p, size_t n) {
  hs__sample_left -= (int64_t)n;
  return hs__track_counted(p, n);
}

/* Whether a free of p must look in the table: the common paths' test
 * (full mode, or the filter says a sampled block may be there), and this
 * thread tracking. */
static inline int hs__recorded(const void *p) {
  return hs__free_must_look((uint64_t)p) && HS_LIKELY(hs__tracking) &&
         hs__busy != HS_BUSY;
}

/* Before the real free: forget p. Marked busy so that a signal handler
 * that frees in the middle of this cannot wait on the same shard lock. */
static int hs__forget(void *p, hs__entry *out) {
  const int was_busy = hs__busy;
  hs__busy = HS_BUSY;
  const int found = hs__table_remove((uint64_t)p, out);
  if (found && hs__cfg.sample_bytes)
    hs__sample_del((uint64_t)p);
  hs__busy = was_busy;
  return found;
}

/* A failed realloc: the block is the program's again. */
static void hs__unforget(const hs__entry *old) {
  const int was_busy = hs__busy;
  hs__busy = HS_BUSY;
  if (hs__cfg.sample_bytes)
    hs__sample_add(old->addr);
  hs__table_restore(old);
  hs__busy = was_busy;
}

#define HS_NEED(fn)                                                            \
  do {                                                                         \
    if (HS_UNLIKELY(!hs__real.fn))                                             \
      hs__resolve();                                                           \
  } while (0)

static __attribute__((noinline)) void *hs__malloc_slow(size_t n) {
  if (!hs__walk_first())
    return hs__track_counted(hs__real.malloc(n), n);
  hs__walked w;
  uint64_t f[HS_WALK_FRAMES];
  hs__walk_before(&w, f, HS_HOOK_FRAME);
  return hs__record(hs__real.malloc(n), n, &w, f);
}

HS_EXPORT void *malloc(size_t n) {
  if (hs__count_and_skip(n))
    return hs__real.malloc(n);
  return hs__malloc_slow(n);
}

/* The filter said p may be recorded, or p is NULL or the pool's. */
static __attribute__((noinline)) void hs__free_slow(void *p) {
  if (!p || hs__in_pool(p))
    return;
  if (hs__recorded(p))
    hs__forget(p, NULL);
  hs__real.free(p);
}

HS_EXPORT void free(void *p) {
  if (HS_LIKELY(!hs__free_must_look((uint64_t)p)))
    return hs__real.free(p); /* NULL too, when its counter is 0 */
  return hs__free_slow(p);
}

static __attribute__((noinline)) void *hs__calloc_slow(size_t n, size_t m) {
  if (!hs__walk_first())
    return hs__track_counted(hs__real.calloc(n, m), n * m);
  hs__walked w;
  uint64_t f[HS_WALK_FRAMES];
  hs__walk_before(&w, f, HS_HOOK_FRAME);
  return hs__record(hs__real.calloc(n, m), n * m, &w, f);
}

HS_EXPORT void *calloc(size_t n, size_t m) {
  size_t size;
  if (__builtin_mul_overflow(n, m, &size) || hs__count_and_skip(size))
    return hs__real.calloc(n, m); /* an overflow fails there */
  return hs__calloc_slow(n, m);
}

static void *hs__realloc_pool(void *p, size_t n) {
  void *q = malloc(n);
  if (q) {
    const size_t old = hs__pool_size(p);
    memcpy(q, p, old < n ? old : n);
  }
  return q;
}

/* p may be recorded (the filter said so; in full mode it always does),
 * or it is the pool's. */
static __attribute__((noinline)) void *hs__realloc_slow(void *p, size_t n) {
  if (p && hs__in_pool(p))
    return hs__realloc_pool(p, n);
  if (!hs__tracking || hs__busy == HS_BUSY)
    return hs__count_and_track(hs__real.realloc(p, n), n);
  hs__entry old;
  const int had = p && hs__recorded(p) && hs__forget(p, &old);
  void *q;
  if (hs__walk_first()) {
    hs__walked w;
    uint64_t f[HS_WALK_FRAMES];
    hs__walk_before(&w, f, HS_HOOK_FRAME);
    q = hs__real.realloc(p, n);
    if (q)
      return hs__record(q, n, &w, f);
  } else {
    q = hs__real.realloc(p, n);
    if (q)
      return hs__count_and_track(q, n);
  }
  if (had && n != 0) /* failed: p is still the program's */
    hs__unforget(&old);
  return NULL;
}

/* p not recorded, n counted already. */
static __attribute__((noinline)) void *hs__realloc_counted(void *p, size_t n) {
  void *q = hs__real.realloc(p, n);
  return q ? hs__track_counted(q, n) : NULL;
}

HS_EXPORT void *realloc(void *p, size_t n) {
  if (HS_UNLIKELY(hs__free_must_look((uint64_t)p)))
    return hs__realloc_slow(p, n);
  if (hs__count_and_skip(n))
    return hs__real.realloc(p, n);
  return hs__realloc_counted(p, n);
}

HS_EXPORT void *reallocarray(void *p, size_t n, size_t m) {
  if (m && n > SIZE_MAX / m) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, n * m);
}

HS_EXPORT int posix_memalign(void **out, size_t align, size_t n) {
  HS_NEED(posix_memalign);
  const int rc = hs__real.posix_memalign(out, align, n);
  if (rc == 0)
    hs__count_and_track(*out, n);
  return rc;
}

HS_EXPORT void *aligned_alloc(size_t align, size_t n) {
  HS_NEED(aligned_alloc);
  return hs__count_and_track(hs__real.aligned_alloc(align, n), n);
}

HS_EXPORT void *memalign(size_t align, size_t n) {
  HS_NEED(memalign);
  return hs__count_and_track(hs__real.memalign(align, n), n);
}

HS_EXPORT void *valloc(size_t n) {
  HS_NEED(valloc);
  return hs__count_and_track(hs__real.valloc(n), n);
}

/* The block is n rounded up to whole pages, all of it the program's (a
 * pointer it keeps past n is scanned); n itself when that overflows (the
 * call then fails). */
HS_EXPORT void *pvalloc(size_t n) {
  HS_NEED(pvalloc);
  const size_t page = (size_t)getpagesize();
  const size_t whole = n + page - 1 < n ? n : (n + page - 1) & ~(page - 1);
  return hs__count_and_track(hs__real.pvalloc(n), whole);
}

HS_EXPORT size_t malloc_usable_size(void *p) {
  if (p && hs__in_pool(p))
    return hs__pool_size(p);
  HS_NEED(malloc_usable_size);
  return hs__real.malloc_usable_size ? hs__real.malloc_usable_size(p) : 0;
}

/* jemalloc's non-standard API: only programs that use jemalloc call these,
 * and then RTLD_NEXT resolved them to jemalloc. */
HS_EXPORT void *mallocx(size_t n, int flags) {
  HS_NEED(mallocx);
  if (!hs__real.mallocx)
    return NULL;
  return hs__count_and_track(hs__real.mallocx(n, flags), n);
}

HS_EXPORT void *rallocx(void *p, size_t n, int flags) {
  HS_NEED(rallocx);
  if (!hs__real.rallocx)
    return NULL;
  hs__entry old;
  const int had = p && hs__recorded(p) && hs__forget(p, &old);
  void *q = hs__real.rallocx(p, n, flags);
  if (q)
    return hs__count_and_track(q, n);
  if (had)
    hs__unforget(&old);
  return NULL;
}

/* Resizes in place: the block keeps its address and stack; its size
 * becomes what jemalloc granted, up to what was asked. */
HS_EXPORT size_t xallocx(void *p, size_t n, size_t extra, int flags) {
  HS_NEED(xallocx);
  if (!hs__real.xallocx)
    return 0;
  const size_t got = hs__real.xallocx(p, n, extra, flags);
  if (hs__recorded(p)) {
    const size_t want = n + extra < n ? SIZE_MAX : n + extra;
    const int was_busy = hs__busy;
    hs__busy = HS_BUSY;
    hs__table_resize((uint64_t)p, got < want ? got : want);
    hs__busy = was_busy;
  }
  return got;
}

HS_EXPORT size_t sallocx(const void *p, int flags) {
  HS_NEED(sallocx);
  return hs__real.sallocx ? hs__real.sallocx(p, flags) : 0;
}

HS_EXPORT void dallocx(void *p, int flags) {
  HS_NEED(dallocx);
  if (p && hs__recorded(p))
    hs__forget(p, NULL);
  if (hs__real.dallocx)
    hs__real.dallocx(p, flags);
}

HS_EXPORT void sdallocx(void *p, size_t n, int flags) {
  HS_NEED(sdallocx);
  if (p && hs__recorded(p))
    hs__forget(p, NULL);
  if (hs__real.sdallocx)
    hs__real.sdallocx(p, n, flags);
}

HS_EXPORT size_t nallocx(size_t n, int flags) {
  HS_NEED(nallocx);
  return hs__real.nallocx ? hs__real.nallocx(n, flags) : 0;
}

/* A library about to be unloaded is recorded first, so stacks through it
 * can still be named from the snapshot's module table; and its unload is
 * noted as soon as it is done, so that a stack through code loaded at its
 * addresses later is never taken for one of its stacks (hs_modules.c). */
HS_EXPORT int dlclose(void *handle) {
  HS_NEED(dlclose);
  const int look = hs__tracking && !hs__busy;
  if (look) {
    hs__busy = 1;
    hs__modules_refresh();
    hs__busy = 0;
  }
  const int rc = hs__real.dlclose ? hs__real.dlclose(handle) : -1;
  hs__unwind_flush(); /* its code may be gone, and other code come there */
  if (look) {
    const int saved = errno;
    hs__busy = 1;
    hs__modules_refresh();
    hs__busy = 0;
    errno = saved;
  }
  return rc;
}

/* The caller's callee-saved registers may hold the only pointer to a
 * block: __builtin_unwind_init saves them all in this frame, which lies
 * above the part of this thread's stack the scan leaves out
 * (hs__scan_self). No tail call: the frame must stay. */
HS_EXPORT int hs_snapshot_now(char *path, size_t path_len) {
  if (!hs__tracking)
    return HS_ENOSHIM;
  /* Busy: a signal handler that interrupted this thread inside the shim
   * (its snapshot, or a hook at a table lock), and would wait on a lock
   * this very thread holds. */
  if (hs__busy) {
    if (path && path_len)
      path[0] = '\0';
    return HS_EBUSY;
  }
  __builtin_unwind_init();
  const int rc = hs__snapshot_take("api", path, path_len);
  __asm__ volatile("" ::: "memory");
  return rc;
}
