/* hs_shim.h - what the parts of the preloaded shim share.
 *
 * The shim is built with -fvisibility=hidden: only the C library's
 * allocation API, dlclose and hs_snapshot_now leave it (HS_EXPORT).
 * Nothing in here may reach the malloc the shim interposes: the shim's own
 * memory comes from mmap (hs__os_alloc). */
#ifndef HS_SHIM_H
#define HS_SHIM_H

#include <elf.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hs_snapshot.h"

/* Everything declared here stays inside the shim: hidden declarations let
 * the compiler address the shim's globals directly, not through the GOT. */
#pragma GCC visibility push(hidden)

#define HS_EXPORT __attribute__((visibility("default")))
#define HS_LIKELY(x) __builtin_expect(!!(x), 1)
#define HS_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* An invariant, checked in Debug builds only: every other build type
 * defines NDEBUG (RelWithDebInfo is the default). A failure writes
 * "file:line: assertion failed: cond" with write(2), no malloc, and aborts
 * (hs_prim.c). Off, the condition is not evaluated, but still compiled. */
#ifdef NDEBUG
#define HS_ASSERT(cond) ((void)sizeof(!(cond)))
#else
#define HS_ASSERT(cond)                                                        \
  (HS_LIKELY(cond) ? (void)0 : hs__assert_fail(__FILE__, __LINE__, #cond))
#endif
__attribute__((noreturn)) void hs__assert_fail(const char *file, int line,
                                               const char *cond);

#define HS_DEPTH_MAX 256

/* Settings, read once from the environment at start (hs_settings.c). */
typedef struct hs__settings {
  char dir[PATH_MAX];   /* absolute snapshot folder */
  char name[64];        /* <name> in <name>.<pid>.<n>.snap */
  int signo;            /* snapshot signal, 0 = none */
  int at_exit;          /* snapshot in the destructor */
  int verbose;          /* one line per snapshot on stderr */
  int scan;             /* reachability scan in each snapshot */
  int scan_registers;   /* precise mode: threads stopped for registers */
  int graph;            /* the scan records the heap graph (GRPH) */
  uint32_t depth;       /* stack depth limit */
  uint64_t interval_ns; /* 0 = no interval snapshots */
  uint64_t keep;        /* files kept per process, 0 = all */
  uint64_t stack_mb;    /* cap of the stack table */

  int unwind_slow;       /* HEAPSNAP_UNWIND=libunwind: no fast walk */
  uint64_t sample_bytes; /* mean sampling gap R in bytes, 0 = every block */
  uint64_t sample_seed;  /* HEAPSNAP_SAMPLE_SEED, when sample_seeded */
  int sample_seeded;
} hs__settings;

extern hs__settings hs__cfg;
void hs__settings_load(void);

/* What a thread is doing inside the shim, so that an allocation it makes
 * there is handled right. initial-exec: reading it must not call into the
 * TLS machinery, which may allocate.
 *   0             the program's code.
 *   HS_BUSY       the shim's own work (a lock of the shim may be held, or
 *                 the memory is the shim's: its thread, for its whole
 *                 life): an allocation passes straight through, untracked.
 *   HS_BUSY_WALK  walking a stack for the program (libunwind, the loader):
 *                 what the C library allocates there is the program's
 *                 (glibc's array for thread-specific keys 32 and up, the
 *                 first time libunwind sets its key in a thread): it is
 *                 recorded, with the stack of the fast walk alone, and
 *                 its free forgets it. */
#define HS_BUSY 1
#define HS_BUSY_WALK 2
extern __thread int hs__busy __attribute__((tls_model("initial-exec")));

/* The allocator's functions, resolved with dlsym(RTLD_NEXT): glibc's, or
 * jemalloc's when the program links it. Unresolved ones stay NULL, except
 * malloc, free, calloc and realloc, which are never NULL: until resolved
 * they point at boot functions that resolve, then forward or use a pool. */
typedef struct hs__real_fns {
  void *(*malloc)(size_t);
  void (*free)(void *);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  int (*posix_memalign)(void **, size_t, size_t);
  void *(*aligned_alloc)(size_t, size_t);
  void *(*memalign)(size_t, size_t);
  void *(*valloc)(size_t);
  void *(*pvalloc)(size_t);
  size_t (*malloc_usable_size)(void *);
  void *(*mallocx)(size_t, int);
  void *(*rallocx)(void *, size_t, int);
  size_t (*xallocx)(void *, size_t, size_t, int);
  size_t (*sallocx)(const void *, int);
  void (*dallocx)(void *, int);
  void (*sdallocx)(void *, size_t, int);
  size_t (*nallocx)(size_t, int);
  int (*dlclose)(void *);
} hs__real_fns;
extern hs__real_fns hs__real;
extern int hs__tracking; /* set once start-up is complete */
void hs__resolve(void);
int hs__allocator_found(void); /* 1 once malloc and free are resolved */
/*! The start after the settings (hs_init.c): tables (once), sampling,
 * status file, the shim's thread. @return : 0 or a code after one line. */
int hs__shim_start(void);

typedef struct hs__range {
  uint64_t start, end;
} hs__range;

/* hs_prim.c: the operating-system calls, each usable from any thread at any
 * time, a lock of the shim held or not: the list of the shim's mappings
 * (hs__os_owned) has a lock of its own, taken by the calls that change it
 * and never held across another call. None reaches the interposed malloc.
 * The preconditions below are checked by HS_ASSERT in Debug builds. */
/*! Memory of the shim, listed in hs__os_owned (so never a root).
 * @return : zeroed pages; NULL on failure or when size is 0. */
void *hs__os_alloc(size_t size);
/*! Gives back hs__os_alloc's p, of that size (> 0). Accepts NULL. */
void hs__os_free(void *p, size_t size);
/* A file mapped shared (the status file), listed like the rest. Needs an
 * open fd and size > 0. @return : NULL on failure. */
void *hs__os_map_shared(int fd, size_t size);
void hs__os_unmap_shared(void *p, size_t size);
/*! Anonymous memory, zeroed: private, or shared with the children of
 * clone and fork (shared != 0). Not listed in hs__os_owned and takes no
 * lock, so the scan's clone, whose parent's other threads may have held
 * the list's lock at the clone, can call it. Shared memory is not
 * reserved: its pages cost only once written. Needs size > 0.
 * @return : NULL on failure. */
void *hs__os_map(size_t size, int shared);
void hs__os_unmap(void *p, size_t size); /* hs__os_map's; accepts NULL */
/*! Reads a small file (/proc) from its start: up to len - 1 bytes into
 * buf, then a '\0'. Needs len > 0. No lock: a clone may call it.
 * @return : the bytes read, or -1 when it cannot be opened (buf as was). */
ssize_t hs__os_read_file(const char *path, char *buf, size_t len);
/*! Closes every descriptor but keep (-1: all). For the shim's copies of the
 * process (the scan, precise mode's helper): a copy holding the service's
 * descriptors keeps a pipe or socket the service closed open for its
 * peer, which then waits for the scan to see its end. */
void hs__os_close_all_but(int keep);
/*! dlsym(RTLD_NEXT, name): the definition after the shim's (the C
 * library's, the allocator's), found with this thread marked busy, so that
 * what dlsym allocates passes untracked. Usable before start-up is done:
 * an allocation dlsym makes before the allocator is known comes from the
 * boot pool (hs_hooks.c). @return : NULL when there is none. */
void *hs__os_symbol_next(const char *name);
/*! The same for dlsym(RTLD_DEFAULT, name): the first definition. */
void *hs__os_symbol_any(const char *name);
size_t hs__os_round(size_t size); /* up to whole pages */
/*! 1 when the word at p (rounded down to 4 bytes) can be read, else 0;
 * with no descriptor, and nothing read in user space. */
int hs__os_readable(const void *p);
/* The mappings hs__os_alloc made and has not freed (never roots). */
const hs__range *hs__os_owned(size_t *n);
void hs__os_lock(void); /* fork: the list of mappings stays whole */
void hs__os_unlock(void);
/*! The list's lock if it is free (0; else -1, not taken), and the two
 * calls that need it held: for a caller that may be a signal handler that
 * interrupted the lock's holder (hs__status_restore). */
int hs__os_trylock(void);
void *hs__os_map_shared_locked(int fd, size_t size);
void hs__os_unmap_shared_locked(void *p, size_t size);
void hs__os_reinit_child(void);
void hs__say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t hs__clock_ns(int clock_id);
/* A gate keeps fork out while a library that takes locks of its own is
 * running (libunwind): a fork while another thread held such a lock would
 * leave it held for good in the child. Callers count themselves in and
 * out; fork's prepare handler closes the gate, waits until no caller but
 * its own thread's (own: 0 or 1) is inside and holds new ones at the door
 * until the fork is done. No wait hangs a process: the prepare handler
 * waits 2 s at most, and a caller goes in after one fork has kept it out
 * for 2 s (forks that follow each other close the gate anew: the caller
 * waits on). The child learns whether anyone else was inside. */
typedef struct hs__gate {
  _Atomic int inside, forking;
  _Atomic uint32_t forks; /* closes so far */
} hs__gate;
void hs__gate_enter(hs__gate *g);
void hs__gate_leave(hs__gate *g);
void hs__gate_close(hs__gate *g, int own); /* prepare */
void hs__gate_open(hs__gate *g);           /* parent */
/*! In the child. @return : 1 when another thread was inside at the fork. */
int hs__gate_reset(hs__gate *g, int own);
/* zstd's memory functions, mmap-backed. */
void *hs__zstd_alloc(void *opaque, size_t size);
void hs__zstd_free(void *opaque, void *p);

/* hs_table.c: the live-block table. */
typedef struct hs__entry {
  uint64_t addr;
  uint64_t size;
  uint32_t stack;
  uint32_t epoch;
} hs__entry;
int hs__table_init(void);
void hs__table_insert(uint64_t addr, uint64_t size, uint32_t stack);
/* How many times a thread waiting for a shard's lock went to sleep (for
 * tests). */
uint64_t hs__table_lock_sleeps(void);
void hs__table_restore(const hs__entry *e); /* put back a removed entry */
int hs__table_remove(uint64_t addr, hs__entry *out); /* 1 if it was there */
void hs__table_resize(uint64_t addr, uint64_t size);
/*! A hint, no lock: a put or remove of addr follows (its cache lines start
 * loading while the caller walks the stack). */
void hs__table_prefetch(uint64_t addr);
void hs__table_lock_all(void);
void hs__table_unlock_all(void);
void hs__table_fork_child(void);
size_t hs__table_count_locked(void);
int hs__table_sound_locked(void); /* tests: 1 when the shards are sound */
size_t hs__table_copy_locked(uint64_t *pairs, size_t cap); /* 2 words each */
void hs__table_decode(const uint64_t *pair, hs__entry *out);
/*! Sorts n pairs of hs__table_copy_locked by address, with tmp (as big)
 * for room. Deterministic: the scan's child, sorting its own copy, gets
 * the parent's order. One sort at a time in a process (under the snapshot
 * lock; the child is a process of its own).
 * @return : the buffer holding the result, pairs or tmp. */
uint64_t *hs__table_sort(uint64_t *pairs, uint64_t *tmp, size_t n);
uint32_t hs__table_epoch_advance_locked(void); /* returns the old epoch */
void hs__table_clear(void); /* attach mode: a new attach starts empty */

/* The stack table's hash of frames f[0..depth): one multiply a frame, so
 * that the walk can work it out as it goes (its loads, one frame after
 * the other, take longer than the multiply). */
#define HS_STACK_HASH_SEED 0xcbf29ce484222325ull
static inline uint64_t hs__stack_hash_step(uint64_t h, uint64_t frame) {
  return (h ^ frame) * 0x9E3779B97F4A7C15ull;
}
/* Mixed at the end because the low bits pick the index slot. */
static inline uint64_t hs__stack_hash_end(uint64_t h, uint32_t depth) {
  h = (h ^ depth ^ (h >> 29)) * 0xD6E8FEB86659FD93ull;
  return h ^ (h >> 32);
}

/* hs_stacks.c: stack capture and the deduplicated stack table. */
uint64_t hs__stack_hash(const uint64_t *f, uint32_t depth);
int hs__stacks_init(void);
void hs__stacks_set_text(uint64_t lo, uint64_t hi); /* frames to skip */
uint32_t hs__stack_capture(void); /* 0 when the table is full */
/*! A capture around an allocation: hs__stack_walk before it (its fast
 * walk, the table's index slot fetched meanwhile), hs__stack_known after it;
 * when that says 0, hs__stack_capture. f: HEAPSNAP_DEPTH + 8 frames. */
typedef struct hs__walked {
  uint64_t h;
  uint32_t gen;
  int n, first;
} hs__walked;
/* The hook's frame, where the walk of hs__stack_walk starts: the frame of
 * the function that expands it and that function's return address. */
#define HS_HOOK_FRAME __builtin_frame_address(0), __builtin_return_address(0)
void hs__stack_walk(hs__walked *w, uint64_t *f, const void *fp, void *pc);
uint32_t hs__stack_known(const hs__walked *w, uint64_t *f);
/* A return address's id, 1 to HS_PC_ID_MAX, given once and for good (0
 * when all are given, or pc is above 48 bits): a stack whose addresses
 * all have one is kept in 16 bits a frame. */
#define HS_PC_ID_SHIFT 48
#define HS_PC_MASK ((1ull << HS_PC_ID_SHIFT) - 1)
#define HS_PC_ID_MAX 16383u
uint32_t hs__stack_pc_id(uint64_t pc);
/*! The fast walk alone (never libunwind): for an allocation made while
 * the shim walks another stack. 0 when it cannot walk this one. */
uint32_t hs__stack_capture_fast(void);
uint32_t hs__stack_intern(const uint64_t *frames, uint32_t depth, uint32_t gen);
uint32_t hs__stack_gen(uint32_t id); /* its load generation */
int hs__stack_compact(uint32_t id);  /* kept in 16 bits a frame */
/* For tests: the lookup's compare of a compact record's ids r with the
 * walk's frames f (ids above 48 bits), both padded with 0 to groups of 4. */
int hs__stack_ids_equal(const uint64_t *r, const uint64_t *f, uint32_t depth);
uint32_t hs__stacks_count(void); /* ids 1..count-1 are valid */
int hs__stacks_full(void);
/* Its frames into out (room for HS_DEPTH_MAX + 8), and its depth. */
uint32_t hs__stack_frames(uint32_t id, uint64_t *out);
void hs__stacks_lock(void);
void hs__stacks_unlock(void);

/* hs_unwind.c: the stack walk, with cached CFI rules per return address.
 * Both walks fill out[] from their caller's frame: out[0] is their own
 * return address; at most max frames. */
int hs__unwind_init(void);
/*! @return the number of frames, or -1 when the walk met a frame whose
 * unwind rule it does not follow (the caller then uses hs__unwind_slow). */
int hs__unwind_fast(uint64_t *out, int max);
int hs__unwind_slow(uint64_t *out, int max); /* unw_backtrace */
/*! hs__unwind_fast for a capture, in one pass: the leading frames whose
 * return address lies in [skip_lo, skip_hi) (the shim's own) are walked
 * and stored but not hashed; *first says how many. After them at most
 * depth frames are stored (the walk stops there, or at max in all) and
 * hashed: *hash is hs__stack_hash of out + *first. @return the number
 * of frames stored, or -1 as hs__unwind_fast (then *hash is not to be
 * used). */
int hs__unwind_fast_hashed(uint64_t *out, int max, uint64_t skip_lo,
                           uint64_t skip_hi, uint32_t depth, int *first,
                           uint64_t *hash);
/*! The same walk, started at frame fp (a frame pointer of the shim's own
 * code) whose return address is pc: the frames below it are not walked.
 * Frames of the shim above it are still skipped. The hashed frames carry
 * their return address's id (hs__stack_pc_id) above HS_PC_ID_SHIFT, 0
 * where the walk did not have it. */
int hs__unwind_fast_from(const void *fp, uint64_t pc, uint64_t *out, int max,
                         uint64_t skip_lo, uint64_t skip_hi, uint32_t depth,
                         int *first, uint64_t *hash);
/*! Walks through return address pc use libunwind from now on. */
void hs__unwind_distrust(uint64_t pc);
uint64_t hs__unwind_mismatches(void); /* hs__unwind_distrust calls */
/* fork: no thread is inside libunwind while the address space is copied
 * (its locks would stay held in the child). */
void hs__unwind_fork_prepare(void);
void hs__unwind_fork_parent(void);
void hs__unwind_fork_child(void);
/*! 0 in a child of fork that must not call libunwind (hs_unwind.c). */
int hs__unwind_usable(void);
/*! Code may have been unmapped (dlclose): forget the cached rules. */
void hs__unwind_flush(void);
/*! The calling thread's function has ended: its rule cache goes back to
 * the pool, and what it allocates from then on walks without one. */
void hs__unwind_thread_end(void);
/*! How many threads' rule caches the pool has out (for tests). */
int hs__unwind_caches_used(void);
/*! The rule the CFI gives for return address ra, uncached (for tests):
 * 1 a plain step (CFA = rbp or rsp + *cfa_off), 2 the outermost frame,
 * 3 a frame the fast walk leaves to libunwind. */
int hs__unwind_rule(uint64_t ra, int64_t *cfa_off, int *cfa_rbp);

/* hs_got.c: a loaded module's relocated slots (its GOT). */
struct dl_phdr_info;
typedef struct hs__module_view {
  uint64_t base, lo, hi;       /* load bias; its mapped span */
  uint64_t relro_lo, relro_hi; /* read-only after relocation */
  const Elf64_Sym *symtab;
  const char *strtab;
  const Elf64_Rela *rela[2]; /* DT_JMPREL, DT_RELA */
  size_t n_rela[2];
} hs__module_view;
/*! @return 0 with m filled, or -1 for a module with no dynamic symbols. */
int hs__got_view(const struct dl_phdr_info *info, hs__module_view *m);
/*! The symbol a slot's relocation (JUMP_SLOT, GLOB_DAT) names; NULL for
 * any other relocation. */
const char *hs__got_name(const hs__module_view *m, const Elf64_Rela *r);
int hs__got_lazy_slot(const Elf64_Rela *r); /* a JUMP_SLOT */
/*! Stores v in the slot at address slot, RELRO or not. */
void hs__got_store(const hs__module_view *m, uint64_t slot, uint64_t v);

/* hs_unwio.c: libunwind kept off the program's file descriptors. */
/*! Points libunwind's own slots of pipe2, read, write and syscall at the shim,
 * before its first walk. @return 0, or -1 when its module was not found. */
int hs__unwind_guard(void);

/* hs_sample.c: sampling by bytes (HEAPSNAP_SAMPLE_BYTES). Each thread
 * counts down the bytes to its next sample point; gaps are exponential
 * with mean R, so a block of size s is sampled with p = 1 - exp(-s/R). */
extern __thread int64_t hs__sample_left
    __attribute__((tls_model("initial-exec")));
/*! The countdown crossed zero: 1 if the block of n bytes is sampled (it
 * always is, except on a thread's first allocation); draws the next gap. */
int hs__sample_hit(uint64_t n);
/*! A sampled block is about to enter the table: its address may be freed
 * later. */
void hs__sample_add(uint64_t addr);
void hs__sample_del(uint64_t addr); /* it left the table */
/* The free filter: counters of the sampled blocks in the table, one per
 * 4 KiB page of the address space, direct-mapped: 4M counters, so pages
 * 16 GiB apart share one. A free whose counter is 0 skips the table.
 * Per page, not per hashed address: frees of neighbouring blocks share
 * cache lines, and only the pages holding a sampled block (about 4 KiB / R
 * of the heap, plus what shares their counters) make a free look. */
#define HS_FILTER_PAGE_BITS 12
#define HS_FILTER_BITS 22
extern _Atomic uint8_t hs__sample_filter[1u << HS_FILTER_BITS];
static inline uint32_t hs__filter_slot(uint64_t addr) {
  return (uint32_t)(addr >> HS_FILTER_PAGE_BITS) & ((1u << HS_FILTER_BITS) - 1);
}
/*! 1 in full mode: every free looks in the table. */
extern uint8_t hs__free_looks;
/*! 0 when no sampled block at addr can be in the table (skip the lookup). */
static inline int hs__sample_maybe(uint64_t addr) {
  return atomic_load_explicit(&hs__sample_filter[hs__filter_slot(addr)],
                              memory_order_relaxed) != 0;
}
/*! 0 when a free of addr need not look in the table: sampling mode, and
 * the filter says no sampled block can be there. */
static inline int hs__free_must_look(uint64_t addr) {
  return hs__free_looks || hs__sample_maybe(addr);
}
/*! Marks addr's page "maybe" for good (a pool block). */
void hs__sample_pin(uint64_t addr);
/*! At start-up, before tracking is on: in full mode every free must look
 * in the table (hs__free_looks). */
void hs__sample_init(void);
/*! In a child of fork: its next allocation must come to the slow path (to
 * start the shim's thread), so the countdown is held and set to 0. */
void hs__sample_fork_child(void);
extern __thread int64_t hs__sample_held
    __attribute__((tls_model("initial-exec")));
void hs__sample_hold(void);    /* held += countdown, countdown = 0 */
void hs__sample_release(void); /* gives the held countdown back */
/*! Reseeds this thread's generator (tests): the same seed, the same gaps. */
void hs__sample_reset(uint64_t seed);
uint64_t hs__sample_gap(void); /* the next gap drawn (tests) */
/*! Attach mode, at a new attach: the filter emptied (filter != 0: the
 * last attach sampled), full mode's flag set from the settings. */
void hs__sample_clear(int filter);

/* hs_modules.c: every module seen loaded, including dlclose'd ones. */
void hs__modules_refresh(void);
size_t hs__modules_count(void);
void hs__modules_get(size_t i, hs_module *out);
void hs__modules_life(size_t i, uint32_t *load, uint32_t *unload);
/*! The load generation now: the number of module unloads seen. */
uint32_t hs__modules_gen(void);
/*! Logs the unload of [lo, hi): @return : the generation it begins. */
uint32_t hs__modules_log_unload(uint64_t lo, uint64_t hi);
/*! 1 when some frame of f lay in a module unloaded in a generation in
 * (from, to] (or when that is older than the log), else 0. */
int hs__modules_unloaded_since(uint32_t from, uint32_t to, const uint64_t *f,
                               uint32_t depth);
int hs__modules_text_of(const void *fn, uint64_t *lo, uint64_t *hi);
/* The writable segments of the modules loaded now, with their index in
 * the module table (call after hs__modules_refresh). */
size_t hs__modules_data(hs__range *out, uint32_t *module, size_t max);
int hs__modules_is_libc(uint32_t module);
void hs__modules_lock(void);
void hs__modules_unlock(void);
void hs__modules_reinit_child(void);

/* hs_loader.c: dl_iterate_phdr (interposed), safe in a child of fork
 * whose parent had another thread inside the loader. */
void hs__loader_init(void);         /* at start: finds the loader's lock */
int hs__loader_lock_found(void);    /* 1 when the probe found it */
int hs__loader_frozen(void);        /* 1 in a child that inherited it held */
void hs__loader_fork_prepare(void); /* captures the module list */
void hs__loader_fork_child(void);

/* hs_signal.c: the snapshot signal, kept blocked in the program's threads
 * and given back when the program takes it (see the file's head). */
#include <signal.h>
int hs__signal_init(int configured); /* @return : the signal owned */
int hs__signal_current(void);        /* 0: none */
int hs__signal_take_pending(void);   /* at exit: 1 if one was pending */
void hs__signal_check(void);         /* the shim's thread, each wake */
void hs__signal_fork_child(void);
/* The C library's sigaction and pthread_sigmask, for the shim's own use. */
int hs__os_sigaction(int sig, const struct sigaction *act,
                     struct sigaction *old);
int hs__os_sigmask(int how, const sigset_t *set, sigset_t *old);
/*! Every signal blocked in this thread; the mask it had into *old. */
void hs__os_block_all(sigset_t *old);
int hs__os_sigtimedwait(const sigset_t *set, siginfo_t *info,
                        const struct timespec *tmo);
/*! Attached, the shim's thread took the configured signal, sent to the
 * process (not `heapsnap snap`'s tgkill), as *info says: 1 when it was
 * the program's after all (it waits for it now), and so was given back to
 * the process and the shim moved; 0 when it is a snapshot request. */
int hs__signal_give_back(int sig, const siginfo_t *info);
/* Per thread: follow a change of the shim's signal (cheap when none). */
extern _Atomic uint32_t hs__sig_gen;
extern __thread uint32_t hs__sig_seen
    __attribute__((tls_model("initial-exec")));
void hs__signal_fix_slow(void);
static inline void hs__signal_fix(void) {
  if (HS_UNLIKELY(hs__sig_seen !=
                  atomic_load_explicit(&hs__sig_gen, memory_order_relaxed)))
    hs__signal_fix_slow();
}
/*! The shim's signals this thread blocks against the program's view. */
uint64_t hs__signal_forced(void);
uint64_t hs__signal_view(void);
/* Around an exec (hs_exec.c): the shim's signal set so that the new image
 * gets the program's disposition of it; 0, or the signal for _back when
 * the exec fails. */
int hs__signal_exec_prepare(void);
void hs__signal_exec_back(int sig);
/* For posix_spawn: the signal to reset to the default in the child
 * (POSIX_SPAWN_SETSIGDEF), or 0. */
int hs__signal_spawn_default(void);
void hs__signal_inherit(uint64_t view, uint64_t forced);

/* hs_threads.c: the program's threads (pthread_create is interposed). */
typedef struct hs__thread {
  int32_t tid;
  uint64_t sp; /* an address on its stack */
  /* Where its descriptor keeps the pointer to its TLS vector (the DTV,
   * glibc's block), or 0 on a machine where that is not known. */
  uint64_t dtv_at;
} hs__thread;
size_t hs__threads_list(hs__thread *out, size_t max);
/*! Bytes of stack left below the caller on the alternate signal stack it
 * runs on (a handler's), or on its thread's stack when that is small and
 * the thread started through pthread_create (hs__stack_lo), else
 * UINT64_MAX (hs_prim.c). */
uint64_t hs__stack_room(void);
/*! The alternate signal stack this thread set, for hs__stack_room (NULL:
 * not known, the kernel is asked there). */
void hs__alt_stack_set(const stack_t *ss);
/*! Every thread's alternate stack not known (attach: the program's calls
 * made while detached were not seen). */
void hs__alt_stacks_forget(void);
/* The lowest address of this thread's stack when it is small (under 1 MiB,
 * or the program's own), else 0 (hs_threads.c). */
extern __thread uint64_t hs__stack_lo
    __attribute__((tls_model("initial-exec")));
/*! Threads that exited (the most recent): glibc keeps their stacks for
 * reuse and what those hold is dead, but for the descriptor at the top of
 * each, whose TLS vector glibc keeps allocated with the stack. */
size_t hs__threads_dead(hs__thread *out, size_t max);
/*! 1 when tid is a thread that ended (it may linger in /proc/self/task). */
int hs__threads_ended(int32_t tid);
/*! Threads being started: where each one's argument is held (8 bytes)
 * and which thread created it. */
size_t hs__threads_starting(uint64_t *arg_at, int32_t *creator, size_t max);
void hs__threads_fork_child(void);
/*! 1 in a child of fork made by a thread other than the main one: the
 * main thread's stack ([stack]) holds nothing live. */
int hs__threads_main_gone(void);

/* hs_tasks.c: the live threads as /proc/self/task shows them. */
typedef struct hs__task {
  int32_t tid;
  char name[16];
  uint64_t sp_start; /* an address on its stack from its start, or 0 */
  uint64_t sp, pc;   /* in a system call (/proc/.../syscall), or 0 */
  long nr;
  uint64_t switches; /* context switches + 1; 0: unknown */
} hs__task;
size_t hs__tasks_read(hs__task *out, size_t max);
/*! The ids of process pid's threads (pid 0: this process). No malloc. */
size_t hs__tasks_ids(int pid, int32_t *out, size_t max);
/*! 1 when every live thread of this process but `except` blocks sig
 * (one at least). Stops at the first that does not. A thread inside the
 * shim's own calls may block everything for a moment: a caller needs
 * more (hs__tasks_wait_for). For the shim's thread alone. No malloc. */
int hs__tasks_all_block(int sig, int32_t except);
/*! 1 when a thread of this process but `except` waits in sigtimedwait
 * with sig in its set, or a signalfd of this process takes sig. For the
 * shim's thread alone (a static holds sig). No malloc. */
int hs__tasks_wait_for(int sig, int32_t except);
/*! Thread tid's name ("" if gone). */
void hs__tasks_name(int pid, int32_t tid, char name[16]);
/*! 1 when thread tid has exited (gone, or a zombie: a main thread that
 * called pthread_exit stays one while the others run). */
int hs__tasks_gone(int pid, int32_t tid);
/*! Reads each thread's state again: valid_sp[i] is t[i].sp when the thread
 * stayed blocked in the same call since t was read, else 0. */
void hs__tasks_settle(const hs__task *t, size_t n, uint64_t *valid_sp);

/* hs_scan.c: the reachability scan, in a clone of the process
 * (docs/reachability.md), with precise mode's stop of the other threads
 * (hs_stop.c). An opaque handle: its insides are hs_scan.h's. One scan
 * at a time, under the snapshot's lock. */
#define HS_SCAN_THREADS 4096 /* threads a scan and /proc/self/task list */
typedef struct hs__scan hs__scan;
/*! The thread taking the snapshot, and its stack pointer on entry. */
void hs__scan_self(uint64_t sp);
/*! At start, in the main thread: where its static TLS and descriptor
 * are, a root of every scan. */
void hs__scan_main_tls(void);
/*! The same from the main thread's thread pointer tp, read by `heapsnap
 * attach` (0: unknown, no such root). */
void hs__scan_main_tls_at(uint64_t tp);
/*! Before the table locks: what the child cannot gather itself, room for
 * cap blocks' results and, in precise mode, the helper that stops the
 * threads. @return : the scan, or NULL with *note saying why there is
 * none (a static string). */
hs__scan *hs__scan_create(uint64_t rss, size_t cap, const char **note);
/*! Table locks held, before the copy: precise mode stops every thread but
 * this one (or gives up on it); otherwise nothing. */
void hs__stop_world(hs__scan *sc);
/*! Table locks held, right after the copy of n (<= cap) blocks: clones the
 * child, which sorts its copy of pairs as hs__table_sort does and scans,
 * and lets stopped threads go. @return : 0, or -errno when the clone
 * failed. */
int hs__scan_start_locked(hs__scan *sc, uint64_t *pairs, uint64_t *tmp,
                          size_t n);
/*! After the locks: which threads stayed blocked across the clone, for the
 * child (their stacks from their stack pointer); precise mode's helper
 * reaped. */
void hs__scan_settle(hs__scan *sc);
/*! Waits for the child. @return : 0 when it scanned all n blocks, else
 * nonzero (hs__scan_note may say why). */
int hs__scan_finish(hs__scan *sc, size_t n);
const char *hs__scan_note(const hs__scan *sc); /* why no scan, or NULL */
/*! 1 when precise mode stopped every other thread for its registers. */
int hs__scan_stopped_all(const hs__scan *sc);
/*! What precise mode missed ("" when nothing, or not precise mode). */
const char *hs__scan_stop_note(const hs__scan *sc);
/*! After hs__scan_finish: one record per block, in address order.
 * *n_roots : the roots they refer to (hs__scan_result_root). */
const hs_reach *hs__scan_result(const hs__scan *sc, uint32_t *n_roots);
/*! Root i of the result, its name in the scan's memory. */
void hs__scan_result_root(const hs__scan *sc, uint32_t i, hs_root *out);
/*! After hs__scan_finish: the heap graph as GRPH items (docs/format.md),
 * *len bytes; NULL when the scan's graph area filled up. */
const uint8_t *hs__scan_graph(const hs__scan *sc, size_t *len);
/*! Ends the scan: its helper let go and reaped, its memory given back.
 * Accepts NULL. */
void hs__scan_free(hs__scan *sc);

/* hs_snap.c: taking and writing one snapshot. */
int hs__snapshot_take(const char *trigger, char *path, size_t path_len);
void hs__snap_mark_start(void);
void hs__snap_fork_child(void);

/* hs_exec.c: exec, spawn, system, popen, _exit (interposed). */
void hs__exec_init(void);

/* hs_channel.c: the status file (lib/common/hs_status.h). */
void hs__status_open(void); /* this process's file, at start or first use */
void hs__status_thread(int tid);
void hs__status_signal(int sig, int moved);
void hs__status_attempt(void);
void hs__status_result(int rc, uint32_t number);
void hs__status_remove(void);  /* exit, _exit, exec */
void hs__status_close(void);   /* detach: removed (or marked), unmapped */
void hs__status_restore(void); /* a failed exec; async-signal-safe */
void hs__status_mend(void);    /* the shim's thread: what restore left */
void hs__status_fork_child(void);

/* hs_trigger.c: the shim's thread, the signal and the start-up. */
void hs__trigger_start(void);
/*! Installs the shim's handler for sig (the C library's sigaction). */
void hs__trigger_install(int sig);
/* Whether q is the disposition hs__trigger_install sets. */
int hs__trigger_is_ours(const struct sigaction *q);
/*! The snapshot signal is now sig (0: none): the thread is renamed and,
 * when it was waiting with the old one unblocked, woken; returns once it
 * no longer accepts the old one (1 s at most). */
void hs__trigger_retarget(int sig);
void hs__trigger_poke(void); /* async-signal-safe: the thread looks again */
/*! A snapshot asked for, as the preloaded shim's signal handler asks:
 * counted, and the thread woken (or it takes it when it starts, and exit
 * waits for it). Async-signal-safe. */
void hs__trigger_request(void);
int hs__trigger_is_self(void); /* 1 in the shim's own thread */
/*! At exit: lets the snapshots already asked for (and one under way)
 * finish, then keeps the thread from starting another. */
void hs__trigger_stop(void);
void hs__trigger_fork_child(void);
extern volatile int hs__thread_pending; /* child of fork: start it lazily */
void hs__trigger_start_pending(void);

/* Attach mode only (libheapsnap-attach.so, HS_ATTACH). */
#ifdef HS_ATTACH
void hs__trigger_end(void); /* detach: the shim's thread ends */
/*! Detach: the program's disposition of the shim's signal put back. */
void hs__signal_release(void);
/* The GOT hooks of sigprocmask and pthread_sigmask (hs_signal.c). */
int hs__attach_sigprocmask(int how, const sigset_t *set, sigset_t *old);
int hs__attach_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
/*! hs_attach.c: the GOT slots of modules loaded since the last pass
 * pointed at the hooks (a snapshot, dlopen, dlclose). */
void hs__attach_refresh(void);
/*! fork's handlers (hs_init.c): no patch pass runs while it copies. */
void hs__attach_fork_prepare(void);
void hs__attach_fork_parent(void);
void hs__attach_fork_child(void);
/*! The definition of name every module bound to: the first in load order
 * that is a function body (not an executable's PLT entry standing for it),
 * never the shim's own. NULL when there is none. */
void *hs__attach_symbol(const char *name);
/*! hs_dlpath.c: the paths its search builds (mapped for the call: 12 KiB
 * is too much for a small thread's stack). */
typedef struct hs_dlpath_scratch {
  char path[PATH_MAX], origin[PATH_MAX], dir[PATH_MAX];
} hs_dlpath_scratch;
/*! 1 when dlopen's search for file depends on its caller (no slash, or
 * $ORIGIN): hs__dlpath has work to do. */
int hs__dlpath_needed(const char *file);
/*! The name to give dlopen for file, called from caller: file, or the full
 * path (in s->path) the caller's RUNPATH, RPATH or $ORIGIN gives. */
const char *hs__dlpath(const char *file, const void *caller,
                       hs_dlpath_scratch *s, int (*already)(const char *));
#endif

#pragma GCC visibility pop

#endif /* HS_SHIM_H */
