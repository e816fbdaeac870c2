/* hs_table.c - the live-block table: address -> size, stack, epoch.
 *
 * Sharded so threads rarely meet on a lock or a cache line: 256 shards, each
 * an open-addressing table (linear probing, backward-shift deletion, no
 * tombstones) behind its own mutex. The high four bits of the shard number
 * come from the block's 64 MiB address window, the low four from its
 * address: glibc gives each thread's arena its own 64 MiB heaps, so a
 * thread's blocks mostly live in 16 shards that other threads seldom touch
 * (a random spread made every lock and slot line bounce between cores).
 * Each shard has a small lock of its own (hs__lock), not a pthread mutex:
 * the common case is one atomic exchange to take it and a plain store to
 * give it back. A waiter spins only briefly and then sleeps, since with
 * more threads than cores a spinning waiter burns the holder's time slice.
 * No shard lock is ever held across a call into the allocator or the
 * unwinder, so fork's prepare handler can take them all safely.
 *
 * An entry is two words (16 bytes):
 *   word 0: address >> 3 (45 bits, addresses below 2^48) | epoch << 45
 *   word 1: size (40 bits) | stack id << 40 (24 bits)
 * Word 0 is 0 for an empty slot (address 0 is never tracked). */
#include <linux/futex.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hs_shim.h"

#define HS_SHARDS 256u
#define HS_SHARD_MIN 64u   /* slots: small, so a small table stays cached */
#define HS_WINDOW_SHIFT 26 /* glibc's arena heaps: 64 MiB, aligned */
#define HS_ADDR_BITS 45
#define HS_SIZE_BITS 40
#define HS_EPOCH_MAX ((1u << (64 - HS_ADDR_BITS)) - 1)
#define HS_SIZE_MAX ((1ull << HS_SIZE_BITS) - 1)
#define HS_STACK_BITS (64 - HS_SIZE_BITS)

/* A shard's lock. pthread_mutex_unlock's atomic instruction is a full
 * fence on x86: every allocation and free paid two of them, and each held
 * up the loads the shim and the program had in flight (the table's and
 * the stack index's misses). Here the unlock is a release store, and it
 * wakes a sleeper only when `waiters` says there may be one. That read
 * may pass the store (x86 lets a load pass an earlier store), so a waiter
 * can miss its wake-up; it sleeps 1 ms at most before it tries again.
 * Missing it takes a waiter that found the lock held, slept, and an unlock
 * whose store still sat in its core's store buffer when the sleep's system
 * call checked the word: the bound is there for safety, not for speed. */
typedef struct hs__lock {
  _Atomic uint32_t held;
  _Atomic uint32_t waiters;
} hs__lock;

#define HS_LOCK_SPINS 128

static inline void hs__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static inline int hs__lock_try(hs__lock *l) {
  return !atomic_exchange_explicit(&l->held, 1, memory_order_acquire);
}

/* Held by another thread: spin a little (a shard is held for tens of
 * nanoseconds), then sleep on the word until an unlock wakes us or 1 ms
 * passed. */
static __attribute__((noinline)) void hs__lock_wait(hs__lock *l) {
  for (int i = 0; i < HS_LOCK_SPINS; i++) {
    hs__cpu_relax();
    if (!atomic_load_explicit(&l->held, memory_order_relaxed) &&
        hs__lock_try(l))
      return;
  }
  atomic_fetch_add_explicit(&l->waiters, 1, memory_order_seq_cst);
  while (!hs__lock_try(l)) {
    const struct timespec ms = {0, 1000000};
    syscall(SYS_futex, &l->held, FUTEX_WAIT_PRIVATE, 1, &ms, NULL, 0);
  }
  atomic_fetch_sub_explicit(&l->waiters, 1, memory_order_relaxed);
}

static inline void hs__lock_take(hs__lock *l) {
  if (HS_UNLIKELY(!hs__lock_try(l)))
    hs__lock_wait(l);
}

static inline void hs__lock_give(hs__lock *l) {
  atomic_store_explicit(&l->held, 0, memory_order_release);
  if (HS_UNLIKELY(atomic_load_explicit(&l->waiters, memory_order_relaxed)))
    syscall(SYS_futex, &l->held, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Debug builds: the shard's lock is held (by some thread). */
#define HS_ASSERT_HELD(s)                                                      \
  HS_ASSERT(atomic_load_explicit(&(s)->lock.held, memory_order_relaxed))

typedef struct hs__shard {
  hs__lock lock;
  uint64_t mask;   /* slots - 1 */
  uint64_t count;  /* entries in use */
  uint64_t *slots; /* 2 words per slot */
} __attribute__((aligned(64))) hs__shard;

static hs__shard hs__shards[HS_SHARDS];
/* Written only while every shard lock is held, so a reader holding any one
 * shard lock sees a stable value. */
static uint32_t hs__epoch;

static inline uint64_t hs__hash(uint64_t addr) {
  return (addr >> 3) * 0x9E3779B97F4A7C15ull;
}

/* h is hs__hash(addr): its top bits pick the shard within the window's
 * group, its middle bits the home slot (the low bits of a product depend
 * on the low bits of the address only, and those are mostly zero). */
static inline hs__shard *hs__shard_of(uint64_t addr, uint64_t h) {
  const uint64_t w = ((addr >> HS_WINDOW_SHIFT) * 0xD6E8FEB86659FD93ull) >> 60;
  return &hs__shards[w << 4 | h >> 60];
}

/* The slot of hash h in a shard of mask + 1 slots. */
static inline uint64_t hs__slot_in(uint64_t mask, uint64_t h) {
  return (h >> 28) & mask;
}

static inline uint64_t hs__slot_of(const hs__shard *s, uint64_t h) {
  return hs__slot_in(s->mask, h);
}

/* The hash of an entry's address, from its word 0. */
static inline uint64_t hs__hash_word(uint64_t word0) {
  return hs__hash((word0 & ((1ull << HS_ADDR_BITS) - 1)) << 3);
}

/* The slot an entry hashes to. */
static inline uint64_t hs__home(uint64_t mask, uint64_t word0) {
  return hs__slot_in(mask, hs__hash_word(word0));
}

/* A block of 1 TiB or more is recorded as 1 TiB - 1 bytes. */
static inline uint64_t hs__size_field(uint64_t size) {
  return size < HS_SIZE_MAX ? size : HS_SIZE_MAX;
}

static inline int hs__trackable(uint64_t addr) {
  return addr != 0 && (addr & 7) == 0 && addr < (1ull << (HS_ADDR_BITS + 3));
}

int hs__table_init(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++) {
    hs__shard *s = &hs__shards[i];
    atomic_init(&s->lock.held, 0);
    atomic_init(&s->lock.waiters, 0);
    s->slots = hs__os_alloc(HS_SHARD_MIN * 16);
    if (!s->slots)
      return HS_ENOMEM;
    s->mask = HS_SHARD_MIN - 1;
    s->count = 0;
  }
  return 0;
}

/* Finds addr's slot, or the empty slot where it would go. */
static uint64_t hs__shard_probe(const hs__shard *s, uint64_t h,
                                uint64_t word_addr) {
  uint64_t i = hs__slot_of(s, h);
  for (;;) {
    const uint64_t w = s->slots[2 * i];
    if (w == 0 || (w & ((1ull << HS_ADDR_BITS) - 1)) == word_addr)
      return i;
    i = (i + 1) & s->mask;
  }
}

/* Doubles the shard; on mmap failure it stays full-ish but correct, since
 * the load limit leaves a quarter of the slots empty. */
static void hs__shard_grow(hs__shard *s) {
  HS_ASSERT_HELD(s);
  const uint64_t old_n = s->mask + 1, n = old_n * 2;
  uint64_t *old = s->slots, *fresh = hs__os_alloc(n * 16);
  if (!fresh)
    return;
  /* atomic: hs__table_prefetch reads both without the lock */
  __atomic_store_n(&s->slots, fresh, __ATOMIC_RELAXED);
  __atomic_store_n(&s->mask, n - 1, __ATOMIC_RELAXED);
  for (uint64_t i = 0; i < old_n; i++) {
    if (old[2 * i] == 0)
      continue;
    const uint64_t at =
        hs__shard_probe(s, hs__hash_word(old[2 * i]),
                        old[2 * i] & ((1ull << HS_ADDR_BITS) - 1));
    s->slots[2 * at] = old[2 * i];
    s->slots[2 * at + 1] = old[2 * i + 1];
  }
  hs__os_free(old, old_n * 16);
}

static void hs__table_put(uint64_t addr, uint64_t size, uint32_t stack,
                          uint32_t epoch_in);

/* Starts loading the lines that a put or remove of addr will write: its
 * shard's lock and its home slot. No lock: a shard that grows meanwhile
 * may make it fetch a stale line, which costs nothing but the fetch (a
 * prefetch never faults). */
static inline void hs__shard_prefetch(const hs__shard *s, uint64_t h) {
  const uint64_t *const slots = __atomic_load_n(&s->slots, __ATOMIC_RELAXED);
  const uint64_t mask = __atomic_load_n(&s->mask, __ATOMIC_RELAXED);
  __builtin_prefetch(s, 1);
  __builtin_prefetch(&slots[2 * hs__slot_in(mask, h)], 1);
}

void hs__table_prefetch(uint64_t addr) {
  const uint64_t h = hs__hash(addr);
  hs__shard_prefetch(hs__shard_of(addr, h), h);
}

void hs__table_insert(uint64_t addr, uint64_t size, uint32_t stack) {
  hs__table_put(addr, size, stack, UINT32_MAX);
}

void hs__table_restore(const hs__entry *e) {
  hs__table_put(e->addr, e->size, e->stack, e->epoch);
}

/* epoch UINT32_MAX: the current one, read under the shard lock so a block
 * inserted after a snapshot's copy always carries the advanced epoch. */
static void hs__table_put(uint64_t addr, uint64_t size, uint32_t stack,
                          uint32_t epoch_in) {
  HS_ASSERT(stack < (1u << HS_STACK_BITS)); /* hs_stacks.c's id limit */
  if (!hs__trackable(addr))
    return;
  const uint64_t h = hs__hash(addr), key = addr >> 3;
  hs__shard *s = hs__shard_of(addr, h);
  hs__lock_take(&s->lock);
  if ((s->count + 1) * 4 > (s->mask + 1) * 3)
    hs__shard_grow(s);
  if ((s->count + 1) * 8 <= (s->mask + 1) * 7) {
    const uint64_t i = hs__shard_probe(s, h, key);
    uint64_t epoch = epoch_in == UINT32_MAX ? hs__epoch : epoch_in;
    epoch = epoch < HS_EPOCH_MAX ? epoch : HS_EPOCH_MAX;
    s->count += s->slots[2 * i] == 0;
    s->slots[2 * i] = key | epoch << HS_ADDR_BITS;
    s->slots[2 * i + 1] = hs__size_field(size) | (uint64_t)stack
                                                     << HS_SIZE_BITS;
  }
  hs__lock_give(&s->lock);
}

static void hs__decode(const uint64_t *slot, hs__entry *out) {
  out->addr = (slot[0] & ((1ull << HS_ADDR_BITS) - 1)) << 3;
  out->epoch = (uint32_t)(slot[0] >> HS_ADDR_BITS);
  out->size = slot[1] & HS_SIZE_MAX;
  out->stack = (uint32_t)(slot[1] >> HS_SIZE_BITS);
}

/* Backward-shift deletion keeps every probe chain unbroken. Whether an
 * entry moves back depends on where it hashes, which is random; as a
 * branch it was mispredicted more than once a remove at allocbench's
 * load (cachegrind's simulation). So each entry of the run is written
 * either to the hole (a move) or back where it is, chosen by a mask:
 * 0.06x less wall time at depth 20 with frame pointers, 1 thread
 * (docs/performance.md, issue 18's fifth pass). */
static void hs__erase(hs__shard *s, uint64_t i) {
  HS_ASSERT_HELD(s);
  HS_ASSERT(s->count > 0 && s->slots[2 * i] != 0);
  uint64_t *const slots = s->slots;
  const uint64_t mask = s->mask;
  for (uint64_t j = (i + 1) & mask;; j = (j + 1) & mask) {
    const uint64_t w = slots[2 * j];
    if (w == 0)
      break;
    const uint64_t k = hs__home(mask, w);
    const uint64_t v = slots[2 * j + 1];
    uint64_t m = -(uint64_t)(((j - k) & mask) >= ((j - i) & mask));
    __asm__("" : "+r"(m)); /* keeps GCC from making it a branch again */
    const uint64_t to = j ^ ((i ^ j) & m); /* i if it moves, else j */
    slots[2 * to] = w;
    slots[2 * to + 1] = v;
    i ^= (i ^ j) & m;
  }
  s->slots[2 * i] = 0;
  s->slots[2 * i + 1] = 0;
  s->count--;
}

int hs__table_remove(uint64_t addr, hs__entry *out) {
  if (!hs__trackable(addr))
    return 0;
  const uint64_t h = hs__hash(addr);
  hs__shard *s = hs__shard_of(addr, h);
  hs__shard_prefetch(s, h); /* the slot's miss overlaps the lock's atomic */
  hs__lock_take(&s->lock);
  const uint64_t i = hs__shard_probe(s, h, addr >> 3);
  const int found = s->slots[2 * i] != 0;
  if (found) {
    if (out)
      hs__decode(&s->slots[2 * i], out);
    hs__erase(s, i);
  }
  hs__lock_give(&s->lock);
  return found;
}

void hs__table_resize(uint64_t addr, uint64_t size) {
  if (!hs__trackable(addr))
    return;
  const uint64_t h = hs__hash(addr);
  hs__shard *s = hs__shard_of(addr, h);
  hs__lock_take(&s->lock);
  const uint64_t i = hs__shard_probe(s, h, addr >> 3);
  if (s->slots[2 * i] != 0)
    s->slots[2 * i + 1] =
        (s->slots[2 * i + 1] & ~HS_SIZE_MAX) | hs__size_field(size);
  hs__lock_give(&s->lock);
}

void hs__table_lock_all(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++)
    hs__lock_take(&hs__shards[i].lock);
}

void hs__table_unlock_all(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++)
    hs__lock_give(&hs__shards[i].lock);
}

/* In a child of fork, which has one thread: the parent's waiters are not
 * there to wake, and a count left over would make every unlock a system
 * call. */
void hs__table_fork_child(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++) {
    atomic_store_explicit(&hs__shards[i].lock.waiters, 0, memory_order_relaxed);
    atomic_store_explicit(&hs__shards[i].lock.held, 0, memory_order_relaxed);
  }
}

/* Debug builds: the caller holds every shard lock. */
static void hs__assert_all_held(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++)
    HS_ASSERT_HELD(&hs__shards[i]);
}

size_t hs__table_count_locked(void) {
  hs__assert_all_held();
  size_t n = 0;
  for (unsigned i = 0; i < HS_SHARDS; i++)
    n += hs__shards[i].count;
  return n;
}

/* Copies raw entries: the pause is a plain scan; decoding and sorting
 * happen after the locks are dropped. Branch-free: every slot is written
 * out and kept only if it is in use (at 40-75% load a branch on that is a
 * coin toss, and the mispredictions were half the pause). */
size_t hs__table_copy_locked(uint64_t *out, size_t cap) {
  hs__assert_all_held();
  size_t n = 0;
  for (unsigned i = 0; i < HS_SHARDS; i++) {
    const hs__shard *s = &hs__shards[i];
    const uint64_t *slot = s->slots, *const end = slot + 2 * (s->mask + 1);
    for (; slot < end && n < cap; slot += 2) {
      out[2 * n] = slot[0];
      out[2 * n + 1] = slot[1];
      n += slot[0] != 0;
    }
  }
  if (n < cap) /* the last slot written may have been an empty one */
    out[2 * n] = out[2 * n + 1] = 0;
  return n;
}

void hs__table_decode(const uint64_t *pair, hs__entry *out) {
  hs__decode(pair, out);
}

/* What the sort orders by: the address, without the epoch above it. */
static inline uint64_t hs__sort_key(const uint64_t *pair) {
  return pair[0] & ((1ull << HS_ADDR_BITS) - 1);
}

/* The bucket counts of one pass of hs__table_sort, too big for a stack. */
#define HS_SORT_BITS 15
static uint64_t hs__sort_counts[1u << HS_SORT_BITS];

/* One pass: the pairs ordered by bits [shift, shift + 15) of the key,
 * stably, into out. */
static void hs__sort_pass(const uint64_t *in, uint64_t *out, size_t n,
                          unsigned shift) {
  const uint64_t mask = (1u << HS_SORT_BITS) - 1;
  uint64_t *const cnt = hs__sort_counts;
  memset(cnt, 0, sizeof hs__sort_counts);
  for (size_t i = 0; i < n; i++)
    cnt[(hs__sort_key(&in[2 * i]) >> shift) & mask]++;
  uint64_t sum = 0;
  for (size_t b = 0; b <= mask; b++) {
    const uint64_t k = cnt[b];
    cnt[b] = sum;
    sum += k;
  }
  for (size_t i = 0; i < n; i++) {
    const uint64_t at = cnt[(hs__sort_key(&in[2 * i]) >> shift) & mask]++;
    out[2 * at] = in[2 * i];
    out[2 * at + 1] = in[2 * i + 1];
  }
}

/* LSD radix sort, 15 bits a pass. */
uint64_t *hs__table_sort(uint64_t *pairs, uint64_t *tmp, size_t n) {
  for (unsigned shift = 0; shift < HS_ADDR_BITS; shift += HS_SORT_BITS) {
    hs__sort_pass(pairs, tmp, n, shift);
    uint64_t *const t = pairs;
    pairs = tmp;
    tmp = t;
  }
  return pairs;
}

uint32_t hs__table_epoch_advance_locked(void) {
  hs__assert_all_held();
  return hs__epoch++;
}

/* Attach mode, at a new attach: what a former one left is forgotten (its
 * blocks may have been freed while no hook saw it). The epoch goes on. */
void hs__table_clear(void) {
  hs__table_lock_all();
  for (unsigned i = 0; i < HS_SHARDS; i++) {
    hs__shard *const s = &hs__shards[i];
    memset(s->slots, 0, (s->mask + 1) * 16);
    s->count = 0;
  }
  hs__table_unlock_all();
}
