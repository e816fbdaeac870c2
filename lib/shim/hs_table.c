/* hs_table.c - the live-block table: address -> size, stack, epoch.
 *
 * Sharded so threads rarely meet on a lock or a cache line: 256 shards, each
 * a hash table of buckets behind its own lock. The high four bits of the
 * shard number come from the block's 64 MiB address window, the low four
 * from its address: glibc gives each thread's arena its own 64 MiB heaps,
 * so a thread's blocks mostly live in 16 shards that other threads seldom
 * touch (a random spread made every lock and slot line bounce between
 * cores). Each shard has a small lock of its own (hs__lock), not a pthread
 * mutex: the common case is one atomic exchange to take it and a plain
 * store to give it back. A waiter spins only briefly and then sleeps, since
 * with more threads than cores a spinning waiter burns the holder's time
 * slice. No shard lock is ever held across a call into the allocator or
 * the unwinder, so fork's prepare handler can take them all safely.
 *
 * A bucket is one cache line of four entries, read at once (four compares,
 * no branch). An entry goes to the first bucket from its home with a free
 * slot, and every full bucket it passes on the way counts it (`passing`).
 * A lookup goes on past a bucket only while that count is not 0, and a
 * remove just empties the slot and takes the entry off the counts of the
 * buckets it passed. Nothing moves: the linear probing this replaced
 * (issue 18's sixth pass) scanned and shifted 5-6 entries a remove.
 *
 * An entry is two words (16 bytes), the bucket's four words 0 first:
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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define HS_SHARDS 256u
#define HS_SHARD_MIN 64u   /* slots: small, so a small table stays cached */
#define HS_WINDOW_SHIFT 26 /* glibc's arena heaps: 64 MiB, aligned */
#define HS_ADDR_BITS 45
#define HS_SIZE_BITS 40
#define HS_EPOCH_MAX ((1u << (64 - HS_ADDR_BITS)) - 1)
_Static_assert(HS_EPOCH_MAX == HS_BLOCK_EPOCH_MAX,
               "the format's epoch limit is the live table's");
#define HS_SIZE_MAX ((1ull << HS_SIZE_BITS) - 1)
#define HS_STACK_BITS (64 - HS_SIZE_BITS)
/* A bucket is one 64-byte line: four entries, compared at once
 * (hs__slots_where). */
#define HS_BUCKET_SLOTS 4u
#define HS_BUCKET_WORDS (2 * HS_BUCKET_SLOTS)

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

/* How many threads hold every shard's lock
 * (hs__table_lock_all: a snapshot's copy, fork), which lasts milliseconds.
 * A waiter then sleeps on this word, woken when the locks are given back:
 * waking every 1 ms to try again, 2,000 waiting threads on two cores
 * starved the holder and the threads it waited for (fork took 10-50 times
 * as long). That wait cannot miss its wake-up: the waker changes the word,
 * then always calls the kernel; the bound is for safety alone. */
static _Atomic uint32_t hs__all_held;
static _Atomic uint64_t hs__lock_sleeps; /* for tests */

/* Held by another thread: spin a little (a shard is held for tens of
 * nanoseconds), then sleep on the word until an unlock wakes us or 1 ms
 * passed, or, while every lock is held, until they are given back. */
static __attribute__((noinline)) void hs__lock_wait(hs__lock *l) {
  for (int i = 0; i < HS_LOCK_SPINS; i++) {
    hs__cpu_relax();
    if (!atomic_load_explicit(&l->held, memory_order_relaxed) &&
        hs__lock_try(l))
      return;
  }
  atomic_fetch_add_explicit(&l->waiters, 1, memory_order_seq_cst);
  while (!hs__lock_try(l)) {
    atomic_fetch_add_explicit(&hs__lock_sleeps, 1, memory_order_relaxed);
    const uint32_t all =
        atomic_load_explicit(&hs__all_held, memory_order_acquire);
    if (all) {
      const struct timespec bound = {0, 100000000};
      syscall(SYS_futex, &hs__all_held, FUTEX_WAIT_PRIVATE, all, &bound, NULL,
              0);
      continue;
    }
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
  uint64_t mask;     /* buckets - 1 */
  uint64_t count;    /* entries in use */
  uint64_t *bucket;  /* HS_BUCKET_WORDS words a bucket */
  uint32_t *passing; /* per bucket: entries from before it stored after */
  uint64_t grow_at;  /* count that makes a put grow the shard: 3/4 full */
  uint64_t full_at;  /* count where a put is dropped (the grow failed) */
} __attribute__((aligned(64))) hs__shard;

static hs__shard hs__shards[HS_SHARDS];
/* Written only while every shard lock is held, so a reader holding any one
 * shard lock sees a stable value. */
static uint32_t hs__epoch;

#define HS_ADDR_MASK ((1ull << HS_ADDR_BITS) - 1)

static inline uint64_t hs__hash(uint64_t addr) {
  return (addr >> 3) * 0x9E3779B97F4A7C15ull;
}

/* h is hs__hash(addr): its top bits pick the shard within the window's
 * group, its middle bits the home bucket (the low bits of a product depend
 * on the low bits of the address only, and those are mostly zero). */
static inline hs__shard *hs__shard_of(uint64_t addr, uint64_t h) {
  const uint64_t w = ((addr >> HS_WINDOW_SHIFT) * 0xD6E8FEB86659FD93ull) >> 60;
  return &hs__shards[w << 4 | h >> 60];
}

/* The bucket of hash h in a shard of mask + 1 buckets. */
static inline uint64_t hs__bucket_in(uint64_t mask, uint64_t h) {
  return (h >> 28) & mask;
}

/* The hash of an entry's address, from its word 0. */
static inline uint64_t hs__hash_word(uint64_t word0) {
  return hs__hash((word0 & HS_ADDR_MASK) << 3);
}

static inline uint64_t *hs__bucket_at(const hs__shard *s, uint64_t b) {
  return &s->bucket[HS_BUCKET_WORDS * b];
}

/* Bit k set: slot k of bucket b has (word 0 & mask) == want. Four
 * compares and no branch: a bucket's slots are read at once. */
static inline unsigned hs__slots_where(const uint64_t *b, uint64_t mask,
                                       uint64_t want) {
#if defined(__SSE2__)
  const __m128i m = _mm_set1_epi64x((long long)mask);
  const __m128i w = _mm_set1_epi64x((long long)want);
  __m128i lo =
      _mm_cmpeq_epi32(_mm_and_si128(_mm_load_si128((const void *)b), m), w);
  __m128i hi = _mm_cmpeq_epi32(
      _mm_and_si128(_mm_load_si128((const void *)(b + 2)), m), w);
  /* a word is equal when both its halves are */
  lo = _mm_and_si128(lo, _mm_shuffle_epi32(lo, _MM_SHUFFLE(2, 3, 0, 1)));
  hi = _mm_and_si128(hi, _mm_shuffle_epi32(hi, _MM_SHUFFLE(2, 3, 0, 1)));
  return (unsigned)(_mm_movemask_pd(_mm_castsi128_pd(lo)) |
                    _mm_movemask_pd(_mm_castsi128_pd(hi)) << 2);
#else
  return (unsigned)((b[0] & mask) == want) |
         (unsigned)((b[1] & mask) == want) << 1 |
         (unsigned)((b[2] & mask) == want) << 2 |
         (unsigned)((b[3] & mask) == want) << 3;
#endif
}

/* Bit k set: slot k holds key. A key is never 0, so an empty slot never
 * matches. */
static inline unsigned hs__match(const uint64_t *b, uint64_t key) {
  return hs__slots_where(b, HS_ADDR_MASK, key);
}

/* Bit k set: slot k is empty. */
static inline unsigned hs__free_slots(const uint64_t *b) {
  return hs__slots_where(b, ~0ull, 0);
}

/* A block of 1 TiB or more is recorded as 1 TiB - 1 bytes. */
static inline uint64_t hs__size_field(uint64_t size) {
  return size < HS_SIZE_MAX ? size : HS_SIZE_MAX;
}

static inline int hs__trackable(uint64_t addr) {
  return addr != 0 && (addr & 7) == 0 && addr < (1ull << (HS_ADDR_BITS + 3));
}

/* One mapping holds a shard's buckets and, after them, its passing counts. */
static size_t hs__shard_bytes(uint64_t buckets) {
  return buckets * (HS_BUCKET_WORDS * 8 + sizeof(uint32_t));
}

static int hs__shard_map(hs__shard *s, uint64_t buckets) {
  uint64_t *const mem = hs__os_alloc(hs__shard_bytes(buckets));
  if (!mem)
    return HS_ENOMEM;
  /* atomic: hs__table_prefetch reads both without the lock */
  __atomic_store_n(&s->bucket, mem, __ATOMIC_RELAXED);
  __atomic_store_n(&s->mask, buckets - 1, __ATOMIC_RELAXED);
  s->passing = (uint32_t *)(mem + HS_BUCKET_WORDS * buckets);
  s->grow_at = buckets * HS_BUCKET_SLOTS / 4 * 3;
  s->full_at = buckets * HS_BUCKET_SLOTS / 8 * 7;
  return 0;
}

int hs__table_init(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++) {
    hs__shard *s = &hs__shards[i];
    atomic_init(&s->lock.held, 0);
    atomic_init(&s->lock.waiters, 0);
    s->count = 0;
    if (hs__shard_map(s, HS_SHARD_MIN / HS_BUCKET_SLOTS))
      return HS_ENOMEM;
  }
  return 0;
}

/* Where key is: the index of its word 0 in s->bucket (its word 1 is
 * HS_BUCKET_SLOTS after it), or -1. The search goes on past a bucket only
 * while entries that passed it exist. */
static inline int64_t hs__find(const hs__shard *s, uint64_t h, uint64_t key) {
  uint64_t b = hs__bucket_in(s->mask, h);
  for (;;) {
    const unsigned m = hs__match(hs__bucket_at(s, b), key);
    if (m)
      return (int64_t)(b * HS_BUCKET_WORDS + (unsigned)__builtin_ctz(m));
    if (s->passing[b] == 0)
      return -1;
    b = (b + 1) & s->mask;
  }
}

/* A free slot for a key not in the shard (as hs__find gives it): the
 * first bucket from its home with one; each full bucket on the way counts
 * the entry as passing it. */
static inline uint64_t hs__place(hs__shard *s, uint64_t h) {
  uint64_t b = hs__bucket_in(s->mask, h);
  for (;;) {
    const unsigned m = hs__free_slots(hs__bucket_at(s, b));
    if (m)
      return b * HS_BUCKET_WORDS + (unsigned)__builtin_ctz(m);
    s->passing[b]++;
    b = (b + 1) & s->mask;
  }
}

static inline void hs__store(hs__shard *s, uint64_t at, uint64_t w0,
                             uint64_t w1) {
  s->bucket[at] = w0;
  s->bucket[at + HS_BUCKET_SLOTS] = w1;
}

/* Doubles the shard. On mmap failure it stays as it is, and correct:
 * puts stop at 7/8 full (full_at), so a free slot is always found. */
static void hs__shard_grow(hs__shard *s) {
  HS_ASSERT_HELD(s);
  const uint64_t old_n = s->mask + 1;
  uint64_t *const old = s->bucket;
  if (hs__shard_map(s, old_n * 2))
    return;
  for (uint64_t i = 0; i < old_n; i++) {
    const uint64_t *const b = &old[HS_BUCKET_WORDS * i];
    for (unsigned k = 0; k < HS_BUCKET_SLOTS; k++)
      if (b[k] != 0)
        hs__store(s, hs__place(s, hs__hash_word(b[k])), b[k],
                  b[HS_BUCKET_SLOTS + k]);
  }
  hs__os_free(old, hs__shard_bytes(old_n));
}

static void hs__table_put(uint64_t addr, uint64_t size, uint32_t stack,
                          uint32_t epoch_in);

/* Starts loading the lines that a put or remove of addr will write: its
 * shard's lock and its home bucket. No lock: a shard that grows meanwhile
 * may make it fetch a stale line, which costs nothing but the fetch (a
 * prefetch never faults). */
static inline void hs__shard_prefetch(const hs__shard *s, uint64_t h) {
  const uint64_t *const bucket = __atomic_load_n(&s->bucket, __ATOMIC_RELAXED);
  const uint64_t mask = __atomic_load_n(&s->mask, __ATOMIC_RELAXED);
  __builtin_prefetch(s, 1);
  __builtin_prefetch(&bucket[HS_BUCKET_WORDS * hs__bucket_in(mask, h)], 1);
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
 * inserted after a snapshot's copy always carries the advanced epoch. A
 * key already there (a free the shim did not see) is overwritten. */
static void hs__table_put(uint64_t addr, uint64_t size, uint32_t stack,
                          uint32_t epoch_in) {
  HS_ASSERT(stack < (1u << HS_STACK_BITS)); /* hs_stacks.c's id limit */
  if (!hs__trackable(addr))
    return;
  const uint64_t h = hs__hash(addr), key = addr >> 3;
  hs__shard *s = hs__shard_of(addr, h);
  hs__lock_take(&s->lock);
  if (HS_UNLIKELY(s->count >= s->grow_at))
    hs__shard_grow(s);
  int64_t at = hs__find(s, h, key);
  if (at < 0 && s->count < s->full_at) {
    at = (int64_t)hs__place(s, h);
    s->count++;
  }
  if (at >= 0) {
    uint64_t epoch = epoch_in == UINT32_MAX ? hs__epoch : epoch_in;
    epoch = epoch < HS_EPOCH_MAX ? epoch : HS_EPOCH_MAX;
    hs__store(s, (uint64_t)at, key | epoch << HS_ADDR_BITS,
              hs__size_field(size) | (uint64_t)stack << HS_SIZE_BITS);
  }
  hs__lock_give(&s->lock);
}

static void hs__decode(const uint64_t w0, uint64_t w1, hs__entry *out) {
  out->addr = (w0 & HS_ADDR_MASK) << 3;
  out->epoch = (uint32_t)(w0 >> HS_ADDR_BITS);
  out->size = w1 & HS_SIZE_MAX;
  out->stack = (uint32_t)(w1 >> HS_SIZE_BITS);
}

/* Empties slot `at` of the entry of hash h: no shift, no tombstone; the
 * buckets it passed count it no more. */
static void hs__erase(hs__shard *s, uint64_t h, uint64_t at) {
  HS_ASSERT_HELD(s);
  HS_ASSERT(s->count > 0);
  const uint64_t to = at / HS_BUCKET_WORDS;
  for (uint64_t b = hs__bucket_in(s->mask, h); b != to; b = (b + 1) & s->mask)
    s->passing[b]--;
  hs__store(s, at, 0, 0);
  s->count--;
}

int hs__table_remove(uint64_t addr, hs__entry *out) {
  if (!hs__trackable(addr))
    return 0;
  const uint64_t h = hs__hash(addr);
  hs__shard *s = hs__shard_of(addr, h);
  hs__shard_prefetch(s, h); /* the bucket's miss overlaps the lock's atomic */
  hs__lock_take(&s->lock);
  const int64_t at = hs__find(s, h, addr >> 3);
  if (at >= 0) {
    if (out)
      hs__decode(s->bucket[at], s->bucket[at + HS_BUCKET_SLOTS], out);
    hs__erase(s, h, (uint64_t)at);
  }
  hs__lock_give(&s->lock);
  return at >= 0;
}

void hs__table_resize(uint64_t addr, uint64_t size) {
  if (!hs__trackable(addr))
    return;
  const uint64_t h = hs__hash(addr);
  hs__shard *s = hs__shard_of(addr, h);
  hs__lock_take(&s->lock);
  const int64_t at = hs__find(s, h, addr >> 3);
  if (at >= 0) {
    uint64_t *const w1 = &s->bucket[at + HS_BUCKET_SLOTS];
    *w1 = (*w1 & ~HS_SIZE_MAX) | hs__size_field(size);
  }
  hs__lock_give(&s->lock);
}

uint64_t hs__table_lock_sleeps(void) {
  return atomic_load(&hs__lock_sleeps);
}

/* Counted once every lock is held: counted before, its own wait for a
 * shard another thread held slept on the count, for 100 ms. */
void hs__table_lock_all(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++)
    hs__lock_take(&hs__shards[i].lock);
  atomic_fetch_add(&hs__all_held, 1);
}

void hs__table_unlock_all(void) {
  for (unsigned i = 0; i < HS_SHARDS; i++)
    hs__lock_give(&hs__shards[i].lock);
  atomic_fetch_sub(&hs__all_held, 1);
  syscall(SYS_futex, &hs__all_held, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL,
          0);
}

/* In a child of fork, which has one thread: the parent's waiters are not
 * there to wake, and a count left over would make every unlock a system
 * call. */
void hs__table_fork_child(void) {
  atomic_store_explicit(&hs__all_held, 0, memory_order_relaxed);
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

/* Tests: 1 when every shard's passing counts are what its entries imply,
 * its count is its entries', and every entry is found from its home. */
int hs__table_sound_locked(void) {
  hs__assert_all_held();
  for (unsigned i = 0; i < HS_SHARDS; i++) {
    const hs__shard *s = &hs__shards[i];
    const uint64_t n = s->mask + 1;
    uint64_t entries = 0;
    int found = 1;
    uint32_t *want = hs__os_alloc(n * sizeof *want);
    if (!want)
      return 0;
    for (uint64_t at = 0; at < n * HS_BUCKET_WORDS; at++) {
      const uint64_t w = s->bucket[at];
      if (at % HS_BUCKET_WORDS >= HS_BUCKET_SLOTS || w == 0)
        continue;
      entries++;
      const uint64_t h = hs__hash_word(w);
      for (uint64_t b = hs__bucket_in(s->mask, h); b != at / HS_BUCKET_WORDS;
           b = (b + 1) & s->mask)
        want[b]++;
      found &= hs__find(s, h, w & HS_ADDR_MASK) == (int64_t)at;
    }
    const int ok = found && entries == s->count &&
                   memcmp(want, s->passing, n * sizeof *want) == 0;
    hs__os_free(want, n * sizeof *want);
    if (!ok)
      return 0;
  }
  return 1;
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
    const uint64_t *b = s->bucket, *const end =
                                       b + HS_BUCKET_WORDS * (s->mask + 1);
    for (; b < end; b += HS_BUCKET_WORDS)
      for (unsigned k = 0; k < HS_BUCKET_SLOTS && n < cap; k++) {
        out[2 * n] = b[k];
        out[2 * n + 1] = b[HS_BUCKET_SLOTS + k];
        n += b[k] != 0;
      }
  }
  if (n < cap) /* the last slot written may have been an empty one */
    out[2 * n] = out[2 * n + 1] = 0;
  return n;
}

void hs__table_decode(const uint64_t *pair, hs__entry *out) {
  hs__decode(pair[0], pair[1], out);
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
    memset(s->bucket, 0, hs__shard_bytes(s->mask + 1));
    s->count = 0;
  }
  hs__table_unlock_all();
}
