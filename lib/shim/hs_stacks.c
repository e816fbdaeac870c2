/* hs_stacks.c - stack capture and the deduplicated stack table.
 *
 * A stack is interned once and named by a 24-bit id, so a live block costs
 * one id, not its frames. Lookups of known stacks take no lock: ids are
 * published with a release store after the frames are in place, and the
 * table only grows. Inserting a new stack takes one mutex, which is rare
 * after warm-up. Memory is reserved once (HEAPSNAP_STACK_MB); when it is
 * used up, new stacks get id 0 ("unknown") and the snapshot says so.
 *
 * Capture walks the stack with hs_unwind.c's cached CFI rules. A stack the
 * table does not know yet is walked again with libunwind and kept only if
 * both agree; where they do not, libunwind's stack is kept and the return
 * address where the walks parted is distrusted, so every later stack
 * through it comes from libunwind. Known stacks cost one walk and one
 * lock-free lookup. */
#include <pthread.h>
#include <stdatomic.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string.h>

#include "hs_shim.h"

#define HS_STACK_ID_MAX ((1u << 24) - 1)

/* The hash index over the arena: one word a slot, the stack's offset in
 * the arena (low HS_OFF_BITS) and the top bits of its hash as a tag (0 =
 * empty: offset 0 is stack 0, never indexed). A lookup goes from the slot
 * straight to the frames, with no id -> offset load in between, and a
 * slot whose tag differs is passed over without touching the arena (on a
 * program with thousands of hot stacks, each of those loads was a cache
 * miss). The index starts small, so the few stacks a program allocates
 * from most stay in cache, and doubles under the lock; an index it
 * outgrew stays mapped and valid (readers that still probe it find fewer
 * stacks and take the locked path). Per stack: 8 bytes in offs, an id
 * word in the arena, two slots, and the outgrown indexes, which add up to
 * less than the last: 40 bytes, from a quarter of HEAPSNAP_STACK_MB, and
 * the id word in the arena's three quarters. */
#define HS_OFF_BITS 40
#define HS_OFF_MASK ((1ull << HS_OFF_BITS) - 1)

/* Compact records. Each return address a stack goes through gets an id
 * for good (hs__stack_pc_id: up to HS_PC_ID_MAX of them), and a stack
 * whose addresses all have one is kept in 16 bits a frame: at depth 26,
 * 72 bytes with its two header words where 224 were needed. With
 * thousands of hot stacks, the frames a lookup compares were the shim's
 * largest cache miss, and the records' size decides how many stay in the
 * L2 (docs/performance.md, issue 18). The walk reads each frame's id from
 * the thread's rule cache, where it looks the frame's rule up anyway. A
 * stack with an address that has no id (all given) is kept wide, 64 bits
 * a frame; ids are never taken back, so a stack has one form for good. */
#define HS_HEAD_COMPACT (1u << 16) /* in the head's depth half */
#define HS_PC_ID_SLOTS (1u << 15)  /* twice the ids: probes stay short */

static struct {
  _Atomic uint64_t *slot; /* pc << 16 | id; 0 = empty */
  uint64_t *pc;           /* id -> pc */
  _Atomic uint32_t next;  /* the next id to give */
} hs__ids;

typedef struct hs__index {
  uint64_t mask;
  _Atomic uint64_t slot[];
} hs__index;

static struct {
  pthread_mutex_t lock;
  uint64_t *arena; /* per stack: depth and generation, id, then frames */
  uint64_t arena_words, arena_used;
  uint64_t *offs; /* id -> offset in arena */
  uint32_t max_stacks;
  _Atomic uint32_t count; /* next id; ids below it are published */
  _Atomic(hs__index *) index;
  uint64_t index_max; /* slots: twice the most stacks */
  _Atomic int full;
  _Atomic int slow_only;     /* the fast walk is off, or failed at its start */
  uint64_t text_lo, text_hi; /* the shim's own code: not part of a stack */
} hs__st = {.lock = PTHREAD_MUTEX_INITIALIZER};

int hs__stacks_init(void) {
  const uint64_t budget = hs__cfg.stack_mb << 20;
  uint64_t max = budget / 4 / 40; /* a quarter for the index */
  if (max > HS_STACK_ID_MAX)
    max = HS_STACK_ID_MAX;
  hs__st.index_max = 1024;
  while (hs__st.index_max < 2 * max)
    hs__st.index_max *= 2;
  hs__st.max_stacks = (uint32_t)max;
  hs__st.arena_words = budget * 3 / 4 / 8;
  if (hs__st.arena_words > HS_OFF_MASK)
    hs__st.arena_words = HS_OFF_MASK;
  hs__st.arena = hs__os_alloc(hs__st.arena_words * 8);
  hs__st.offs = hs__os_alloc((max + 1) * 8);
  hs__index *const x = hs__os_alloc(sizeof(hs__index) + 1024 * 8);
  hs__ids.slot = hs__os_alloc(HS_PC_ID_SLOTS * 8);
  hs__ids.pc = hs__os_alloc((HS_PC_ID_MAX + 1) * 8);
  atomic_store(&hs__ids.next, 1);
  if (!hs__st.arena || !hs__st.offs || !x || !hs__ids.slot || !hs__ids.pc ||
      hs__unwind_init())
    return HS_ENOMEM;
  x->mask = 1023;
  atomic_store(&hs__st.index, x);
  atomic_store(&hs__st.slow_only, hs__cfg.unwind_slow);
  hs__st.arena_used = 2; /* offset 0 is stack 0: depth 0, id 0 */
  atomic_store(&hs__st.count, 1);
  return 0;
}

void hs__stacks_set_text(uint64_t lo, uint64_t hi) {
  hs__st.text_lo = lo;
  hs__st.text_hi = hi;
}

/* Lock-free: an id is taken from the counter, its address written, then
 * the slot claimed; a thread that loses the slot to the same address uses
 * the winner's id (its own is never used). */
uint32_t hs__stack_pc_id(uint64_t pc) {
  if (!hs__ids.slot || !pc || pc >> HS_PC_ID_SHIFT)
    return 0;
  uint64_t i = (pc * 0x9E3779B97F4A7C15ull) >> 49; /* 15 bits */
  for (;;) {
    uint64_t w = atomic_load_explicit(&hs__ids.slot[i], memory_order_acquire);
    if (w == 0) {
      uint32_t id = atomic_load_explicit(&hs__ids.next, memory_order_relaxed);
      do {
        if (id > HS_PC_ID_MAX)
          return 0;
      } while (!atomic_compare_exchange_weak(&hs__ids.next, &id, id + 1));
      __atomic_store_n(&hs__ids.pc[id], pc, __ATOMIC_RELAXED);
      if (atomic_compare_exchange_strong_explicit(
              &hs__ids.slot[i], &w, pc << 16 | id, memory_order_release,
              memory_order_acquire))
        return id;
      /* w is the slot's word now */
    }
    if (w >> 16 == pc)
      return (uint32_t)(w & 0xffff);
    i = (i + 1) & (HS_PC_ID_SLOTS - 1);
  }
}

/* The walk hashes as it goes (hs__unwind_fast_hashed); this is the same
 * hash, for frames from libunwind and for growing the index. */
uint64_t hs__stack_hash(const uint64_t *f, uint32_t depth) {
  uint64_t h = HS_STACK_HASH_SEED;
  for (uint32_t i = 0; i < depth; i++)
    h = hs__stack_hash_step(h, f[i]);
  return hs__stack_hash_end(h, depth);
}

/* A stack's first arena word: its depth (with HS_HEAD_COMPACT), and the
 * load generation it was recorded in (hs_modules.c) in the high half. */
static inline uint64_t hs__stack_head(uint32_t form, uint32_t gen) {
  return form | (uint64_t)gen << 32;
}

/* A stack as a lookup compares it: its frames, each with its id above
 * 48 bits if the stack is compact (form has HS_HEAD_COMPACT; the frames
 * are then padded with 0 to a whole group of 4), else as they are. */
typedef struct hs__key {
  const uint64_t *f;
  uint32_t depth, form, gen;
} hs__key;

/* The words a record of this form keeps after its head and id. */
static inline uint32_t hs__form_words(uint32_t form) {
  const uint32_t depth = form & (HS_HEAD_COMPACT - 1);
  return form & HS_HEAD_COMPACT ? (depth + 3) / 4 : depth;
}

/* Arrays of frames on the program's stack are sized by the depth limit,
 * not HS_DEPTH_MAX: a new stack's capture (with libunwind's walk) took 9
 * to 12 KiB more of a thread's stack than bare glibc, and at the default
 * limit it takes at most 8 (tests/stress/stress_stack.sh). A walk's room:
 * the depth and the shim's own frames. A key's: its depth and the
 * padding to groups of 4. */
#define HS_WALK_ROOM (hs__cfg.depth + 8)
/* The stack a check with libunwind needs: measured 4.5-7.2 KiB more than
 * bare glibc at the default depth (stress_stack), more with the depth;
 * and a margin. */
#define HS_CHECK_ROOM (12288 + 32 * (uint64_t)hs__cfg.depth)
#define HS_KEY_ROOM(depth) ((depth) + 12)

/* The key of f: compact, with the frames and their ids in t (room for
 * depth + 3), if every address has an id; else wide, f itself. */
static void hs__key_of(hs__key *k, const uint64_t *f, uint32_t depth,
                       uint32_t gen, uint64_t *t) {
  *k = (hs__key){.f = f, .depth = depth, .form = depth, .gen = gen};
  for (uint32_t i = 0; i < depth; i++) {
    const uint64_t id = hs__stack_pc_id(f[i]);
    if (!id)
      return;
    t[i] = f[i] | id << HS_PC_ID_SHIFT;
  }
  for (uint32_t i = depth; i % 4; i++)
    t[i] = 0;
  k->f = t;
  k->form = depth | HS_HEAD_COMPACT;
}

/* A record's frames into out (room for its depth), and its depth. */
static uint32_t hs__stack_decode(const uint64_t *s, uint64_t *out) {
  const uint32_t form = (uint32_t)__atomic_load_n(&s[0], __ATOMIC_RELAXED);
  const uint32_t depth = form & (HS_HEAD_COMPACT - 1);
  if (!(form & HS_HEAD_COMPACT)) {
    memcpy(out, s + 2, (size_t)depth * 8);
    return depth;
  }
  for (uint32_t i = 0; i < depth; i++) {
    uint16_t c;
    memcpy(&c, (const char *)(s + 2) + 2 * i, 2);
    out[i] = __atomic_load_n(&hs__ids.pc[c], __ATOMIC_RELAXED);
  }
  return depth;
}

/* The same frames recorded in another generation: the same stack only if
 * no module under them was unloaded between the two generations (the same
 * addresses may be another library's code now). A stack found still right
 * in a later generation is moved up to it, so each is checked once per
 * unload. */
static __attribute__((noinline)) int
hs__stack_same_since(uint64_t *s, const hs__key *k, uint32_t was) {
  const uint32_t gen = k->gen;
  const int later = gen - was < (1u << 31);
  uint64_t f[k->depth + 1];
  for (uint32_t i = 0; i < k->depth; i++)
    f[i] = k->f[i] & (k->form & HS_HEAD_COMPACT ? HS_PC_MASK : UINT64_MAX);
  if (hs__modules_unloaded_since(later ? was : gen, later ? gen : was, f,
                                 k->depth))
    return 0;
  if (later)
    __atomic_store_n(&s[0], hs__stack_head(k->form, gen), __ATOMIC_RELAXED);
  return 1;
}

/* Branch-free, four frames a step in two vector registers (GCC's vector
 * extension: SSE2 on x86-64, NEON on arm64), so that the loads of a
 * stack's cache lines all start at once, with no call (memcmp) in between.
 * The scalar version took 6 instructions a frame. */
typedef uint64_t hs__v2 __attribute__((vector_size(16)));

static inline hs__v2 hs__v2_load(const uint64_t *p) {
  hs__v2 v;
  memcpy(&v, p, sizeof v); /* unaligned: the frames buffer is 8-aligned */
  return v;
}

static inline int hs__frames_equal(const uint64_t *a, const uint64_t *b,
                                   uint32_t n) {
  hs__v2 diff = {0, 0};
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4)
    diff |= (hs__v2_load(a + i) ^ hs__v2_load(b + i)) |
            (hs__v2_load(a + i + 2) ^ hs__v2_load(b + i + 2));
  uint64_t rest = diff[0] | diff[1];
  for (; i < n; i++)
    rest |= a[i] ^ b[i];
  return rest == 0;
}

/* A compact record's ids against frames that carry theirs above 48 bits
 * (hs__unwind_fast_from), both padded with 0 to whole groups of 4. */
#if defined(__SSE2__)
/* The ids of 4 frames, as 32-bit lanes. */
static inline __m128i hs__ids4(const uint64_t *f) {
  const __m128i a = _mm_srli_epi64(_mm_loadu_si128((const __m128i *)f), 48);
  const __m128i b =
      _mm_srli_epi64(_mm_loadu_si128((const __m128i *)(f + 2)), 48);
  return _mm_castps_si128(_mm_shuffle_ps(
      _mm_castsi128_ps(a), _mm_castsi128_ps(b), _MM_SHUFFLE(2, 0, 2, 0)));
}

static inline int hs__ids_equal(const uint64_t *r, const uint64_t *f,
                                uint32_t depth) {
  __m128i diff = _mm_setzero_si128();
  uint32_t i = 0;
  for (; i + 8 <= depth; i += 8) { /* 8 ids: 16 bytes of the record */
    const __m128i ids = _mm_packs_epi32(hs__ids4(f + i), hs__ids4(f + i + 4));
    diff = _mm_or_si128(
        diff,
        _mm_xor_si128(ids, _mm_loadu_si128((const __m128i *)(r + i / 4))));
  }
  for (; i < depth; i += 4) { /* 4 ids: 8 bytes, the high half 0 */
    const __m128i ids = _mm_packs_epi32(hs__ids4(f + i), _mm_setzero_si128());
    diff = _mm_or_si128(
        diff,
        _mm_xor_si128(ids, _mm_loadl_epi64((const __m128i *)(r + i / 4))));
  }
  return _mm_movemask_epi8(_mm_cmpeq_epi8(diff, _mm_setzero_si128())) == 0xffff;
}
#else
static inline int hs__ids_equal(const uint64_t *r, const uint64_t *f,
                                uint32_t depth) {
  uint64_t diff = 0;
  for (uint32_t i = 0; i < depth; i++) {
    uint16_t id;
    memcpy(&id, (const char *)r + 2 * i, 2);
    diff |= (f[i] >> HS_PC_ID_SHIFT) ^ id;
  }
  return diff == 0;
}
#endif

static inline int hs__stack_equal(uint64_t *s, const hs__key *k) {
  const uint64_t head = __atomic_load_n(&s[0], __ATOMIC_RELAXED);
  if ((uint32_t)head != k->form ||
      !(k->form & HS_HEAD_COMPACT ? hs__ids_equal(s + 2, k->f, k->depth)
                                  : hs__frames_equal(s + 2, k->f, k->depth)))
    return 0;
  const uint32_t was = (uint32_t)(head >> 32);
  return HS_LIKELY(was == k->gen) || hs__stack_same_since(s, k, was);
}

static inline uint64_t hs__slot_tag(uint64_t h) {
  return h & ~HS_OFF_MASK;
}

/* Probes x from *at; returns the id found, or 0 with *at at an empty slot.
 * The acquire load of a slot makes its stack's words visible. */
static uint32_t hs__stack_probe(const hs__index *x, uint64_t *at, uint64_t h,
                                const hs__key *k) {
  const uint64_t tag = hs__slot_tag(h);
  for (uint64_t i = *at;; i = (i + 1) & x->mask) {
    const uint64_t w = atomic_load_explicit(&x->slot[i], memory_order_acquire);
    if (w == 0) {
      *at = i;
      return 0;
    }
    if (hs__slot_tag(w) != tag)
      continue;
    uint64_t *const s = &hs__st.arena[w & HS_OFF_MASK];
    if (hs__stack_equal(s, k))
      return (uint32_t)__atomic_load_n(&s[1], __ATOMIC_RELAXED);
  }
}

static void hs__slot_fill(_Atomic uint64_t *slot, uint64_t off, uint64_t h) {
  atomic_store_explicit(slot, off | hs__slot_tag(h), memory_order_release);
}

/* Under the lock: a twice bigger index with every stack in it, published
 * whole. NULL when there is no memory or no room to grow. */
static hs__index *hs__index_grow(const hs__index *old) {
  const uint64_t n = (old->mask + 1) * 2;
  if (n > hs__st.index_max)
    return NULL;
  hs__index *x = hs__os_alloc(sizeof(hs__index) + n * 8);
  if (!x)
    return NULL;
  x->mask = n - 1;
  const uint32_t count =
      atomic_load_explicit(&hs__st.count, memory_order_relaxed);
  uint64_t f[HS_DEPTH_MAX + 8];
  for (uint32_t id = 1; id < count; id++) {
    const uint64_t off = hs__st.offs[id];
    const uint64_t h =
        hs__stack_hash(f, hs__stack_decode(&hs__st.arena[off], f));
    uint64_t i = h & x->mask;
    while (atomic_load_explicit(&x->slot[i], memory_order_relaxed))
      i = (i + 1) & x->mask;
    hs__slot_fill(&x->slot[i], off, h);
  }
  atomic_store_explicit(&hs__st.index, x, memory_order_release);
  return x;
}

/* Under the lock: a new stack, or 0 when the table is full. */
static uint32_t hs__stack_add(uint64_t h, const hs__key *k) {
  const uint32_t id = atomic_load_explicit(&hs__st.count, memory_order_relaxed);
  hs__index *x = atomic_load_explicit(&hs__st.index, memory_order_relaxed);
  if ((uint64_t)id * 2 > x->mask) {
    hs__index *const bigger = hs__index_grow(x);
    x = bigger ? bigger : x;
  }
  const uint32_t words = hs__form_words(k->form);
  if (id > hs__st.max_stacks || (uint64_t)id * 8 > x->mask * 7 ||
      hs__st.arena_used + 2 + words > hs__st.arena_words) {
    atomic_store(&hs__st.full, 1);
    return 0;
  }
  uint64_t at = h & x->mask;
  hs__stack_probe(x, &at, h, k);
  const uint64_t off = hs__st.arena_used;
  uint64_t *s = &hs__st.arena[off];
  s[0] = hs__stack_head(k->form, k->gen);
  s[1] = id;
  if (k->form & HS_HEAD_COMPACT)
    for (uint32_t i = 0; i < words * 4; i++) { /* the ids, 16 bits each */
      const uint16_t c = (uint16_t)(k->f[i] >> HS_PC_ID_SHIFT);
      memcpy((char *)(s + 2) + 2 * i, &c, 2);
    }
  else
    memcpy(s + 2, k->f, (size_t)words * 8);
  hs__st.offs[id] = off;
  hs__st.arena_used += 2 + words;
  hs__slot_fill(&x->slot[at], off, h);
  atomic_store_explicit(&hs__st.count, id + 1, memory_order_release);
  return id;
}

static uint32_t hs__stack_find_key(uint64_t h, const hs__key *k) {
  const hs__index *x =
      atomic_load_explicit(&hs__st.index, memory_order_acquire);
  uint64_t at = h & x->mask;
  return hs__stack_probe(x, &at, h, k);
}

/* The id of a stack the table has, without a lock; 0 if it has not. */
static uint32_t hs__stack_find(uint64_t h, const uint64_t *f, uint32_t depth,
                               uint32_t gen) {
  uint64_t t[HS_KEY_ROOM(depth)];
  hs__key k;
  hs__key_of(&k, f, depth, gen, t);
  return hs__stack_find_key(h, &k);
}

/* The key, ids and all, is worked out once: ids are given for good, so
 * it is the same under the lock. */
static uint32_t hs__stack_intern_hashed(uint64_t h, const uint64_t *f,
                                        uint32_t depth, uint32_t gen) {
  uint64_t t[HS_KEY_ROOM(depth)];
  hs__key k;
  hs__key_of(&k, f, depth, gen, t);
  uint32_t id = hs__stack_find_key(h, &k);
  if (id)
    return id;
  pthread_mutex_lock(&hs__st.lock);
  /* Another thread may have added it meanwhile. */
  id = hs__stack_find_key(h, &k);
  if (!id)
    id = hs__stack_add(h, &k);
  pthread_mutex_unlock(&hs__st.lock);
  return id;
}

uint32_t hs__stack_intern(const uint64_t *f, uint32_t depth, uint32_t gen) {
  return hs__stack_intern_hashed(hs__stack_hash(f, depth), f, depth, gen);
}

/* The frames after the shim's own, cut to the depth limit. */
static const uint64_t *hs__stack_trim(const uint64_t *f, int n,
                                      uint32_t *depth) {
  int first = 0;
  while (first < n && f[first] >= hs__st.text_lo && f[first] < hs__st.text_hi)
    first++;
  *depth = (uint32_t)(n - first);
  if (*depth > hs__cfg.depth)
    *depth = hs__cfg.depth;
  return f + first;
}

/* The first frame where two walks differ (or one of them ends). Frame 0 is
 * the capturing call itself, which differs by construction. */
static int hs__stack_parting(const uint64_t *f, int n, const uint64_t *g,
                             int m) {
  int i = 1;
  while (i < n && i < m && f[i] == g[i])
    i++;
  return i == n && i == m ? 0 : i;
}

/* Settles which walk to keep: the fast walk's f (n frames, the first
 * `first` of them the shim's, hashed h; n < 0 if it gave up) if
 * libunwind's g (m frames) agrees with it, over the frames the fast walk
 * went through (it stops at the depth limit). A disagreement distrusts
 * the return address where they parted, so later walks through it use
 * libunwind. */
static uint32_t hs__stack_settle(const uint64_t *f, int n, int first,
                                 uint64_t h, const uint64_t *g, int m,
                                 uint32_t gen) {
  uint32_t depth;
  const int kept = first + (int)hs__cfg.depth;
  const int at = n < 0 ? -1 : hs__stack_parting(f, n, g, m < kept ? m : kept);
  if (at == 0)
    return hs__stack_intern_hashed(h, f + first, (uint32_t)(n - first), gen);
  if (at == 1) /* wrong from its very first step: never use it again */
    atomic_store(&hs__st.slow_only, 1);
  else if (at > 1)
    hs__unwind_distrust(f[at - 1]);
  if (at > 0 && hs__cfg.verbose)
    hs__say("stack walk and libunwind differ after %#llx; using libunwind",
            (unsigned long long)f[at - 1]);
  const uint64_t *s = hs__stack_trim(g, m, &depth);
  return hs__stack_intern(s, depth, gen);
}

/* The fast walk from the caller of hs__stack_capture{,_fast}: n frames or
 * -1, the shim's first, hashed past them. Inlined even without
 * optimization: the walk's frame 0 must be in hs__stack_capture, as
 * libunwind's is, or the two disagree at once and the fast walk is
 * turned off for good (as it was in Debug builds). */
static inline __attribute__((always_inline)) int
hs__walk(uint64_t *f, int *first, uint64_t *h) {
  if (atomic_load_explicit(&hs__st.slow_only, memory_order_relaxed))
    return -1;
  return hs__unwind_fast_hashed(f, (int)hs__cfg.depth + 8, hs__st.text_lo,
                                hs__st.text_hi, hs__cfg.depth, first, h);
}

/* Both walks start here, so their frame 0 is this function. The load
 * generation is read first: every frame walked lay in a module loaded in
 * it (one unloaded meanwhile leaves its code to no new call). */
uint32_t hs__stack_capture(void) {
  const uint32_t gen = hs__modules_gen();
  uint64_t f[HS_WALK_ROOM], g[HS_WALK_ROOM], h = 0;
  int first = 0;
  const int n = hs__walk(f, &first, &h);
  const uint32_t id =
      n >= 0 ? hs__stack_find(h, f + first, (uint32_t)(n - first), gen) : 0;
  if (id)
    return id;
  /* libunwind's check takes some 8 KiB of stack: a signal handler on an
   * 8 KiB alternate stack (the old SIGSTKSZ) that allocated crashed there,
   * and so did a thread on a 16 KiB stack 4 KiB down. With less room the
   * fast walk is kept unchecked. */
  if (!hs__unwind_usable() || hs__stack_room() <= HS_CHECK_ROOM)
    return n >= 0 ? hs__stack_intern_hashed(h, f + first, (uint32_t)(n - first),
                                            gen)
                  : 0; /* the fast walk gave up, and there is nothing else */
  const int m = hs__unwind_slow(g, (int)hs__cfg.depth + 8);
  return hs__stack_settle(f, n, first, h, g, m, gen);
}

/* The first half of a capture made around an allocation: the fast walk
 * into f (room for HEAPSNAP_DEPTH + 12 frames: 4 for hs__stack_known's
 * padding), each frame with its id, from the hook's frame fp
 * (return address pc: the frames of the shim below it, two or three,
 * are not walked again and again), hashed, and its index slot
 * prefetched, so that the allocator's work overlaps that miss (with
 * thousands of hot stacks the index does not fit the L2). A prefetch, not
 * a load: a load that misses, or a prefetch of the frames whose address
 * it gives, holds up retirement until it is back (measured: the frames
 * fetched too was slower). hs__stack_known finds it after. */
void hs__stack_walk(hs__walked *w, uint64_t *f, const void *fp, void *pc) {
  w->gen = hs__modules_gen();
  if (atomic_load_explicit(&hs__st.slow_only, memory_order_relaxed)) {
    w->n = -1;
    return;
  }
  w->n = hs__unwind_fast_from(fp, (uint64_t)pc, f, (int)hs__cfg.depth + 8,
                              hs__st.text_lo, hs__st.text_hi, hs__cfg.depth,
                              &w->first, &w->h);
  if (w->n < 0)
    return;
  const hs__index *x =
      atomic_load_explicit(&hs__st.index, memory_order_acquire);
  __builtin_prefetch(&x->slot[w->h & x->mask]);
}

/* The id of the stack walked by hs__stack_walk, if the table knows it;
 * else 0 (a new stack is checked against libunwind, so it is captured
 * again by hs__stack_capture, from one frame). The common case compares
 * the walk's ids with a compact record's without taking them out of f;
 * f is changed only when that finds nothing. */
uint32_t hs__stack_known(const hs__walked *w, uint64_t *f) {
  if (w->n < 0)
    return 0;
  uint64_t *const g = f + w->first;
  const uint32_t depth = (uint32_t)(w->n - w->first);
  g[depth] = g[depth + 1] = g[depth + 2] = 0; /* whole groups of 4 */
  hs__key k = {g, depth, depth | HS_HEAD_COMPACT, w->gen};
  const uint32_t id = hs__stack_find_key(w->h, &k);
  if (HS_LIKELY(id))
    return id;
  /* Not a compact stack the table has. The walk's ids come from the rule
   * cache, which took them from hs__stack_pc_id: a frame with 0 has no id
   * and never will, so the stack is kept wide; with every id there, the
   * stack is new. */
  uint64_t none = 0;
  for (uint32_t i = 0; i < depth; i++) {
    none |= (g[i] >> HS_PC_ID_SHIFT) - 1; /* bit 63 set for id 0 */
    g[i] &= HS_PC_MASK;
  }
  if (!(none >> 63))
    return 0;
  k.form = depth;
  return hs__stack_find_key(w->h, &k);
}

uint32_t hs__stack_capture_fast(void) {
  const uint32_t gen = hs__modules_gen();
  uint64_t f[HS_WALK_ROOM], h;
  int first;
  const int n = hs__walk(f, &first, &h);
  if (n < 0)
    return 0;
  return hs__stack_intern_hashed(h, f + first, (uint32_t)(n - first), gen);
}

uint32_t hs__stacks_count(void) {
  return atomic_load_explicit(&hs__st.count, memory_order_acquire);
}

int hs__stacks_full(void) {
  return atomic_load(&hs__st.full);
}

uint32_t hs__stack_frames(uint32_t id, uint64_t *out) {
  return hs__stack_decode(&hs__st.arena[id ? hs__st.offs[id] : 0], out);
}

int hs__stack_ids_equal(const uint64_t *r, const uint64_t *f, uint32_t depth) {
  return hs__ids_equal(r, f, depth);
}

int hs__stack_compact(uint32_t id) {
  const uint64_t *s = &hs__st.arena[id ? hs__st.offs[id] : 0];
  return !!(__atomic_load_n(&s[0], __ATOMIC_RELAXED) & HS_HEAD_COMPACT);
}

uint32_t hs__stack_gen(uint32_t id) {
  const uint64_t *s = &hs__st.arena[id ? hs__st.offs[id] : 0];
  return (uint32_t)(__atomic_load_n(&s[0], __ATOMIC_RELAXED) >> 32);
}

void hs__stacks_lock(void) {
  pthread_mutex_lock(&hs__st.lock);
}
void hs__stacks_unlock(void) {
  pthread_mutex_unlock(&hs__st.lock);
}
