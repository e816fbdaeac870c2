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
#include <string.h>

#include "hs_shim.h"

#define HS_STACK_ID_MAX ((1u << 24) - 1)

typedef struct hs__slot {
  _Atomic uint32_t id; /* 0 = empty; published last */
  uint32_t hash;
} hs__slot;

/* The hash index over the arena. It starts small, so the few stacks a
 * program allocates from most stay in cache, and doubles under the lock;
 * an index it outgrew stays mapped and valid (readers that still probe it
 * find fewer stacks and take the locked path). Per stack: 8 bytes in offs,
 * two slots, and the outgrown indexes, which add up to less than the last:
 * 40 bytes, from a quarter of HEAPSNAP_STACK_MB. */
typedef struct hs__index {
  uint64_t mask;
  hs__slot slot[];
} hs__index;

static struct {
  pthread_mutex_t lock;
  uint64_t *arena; /* per stack: depth, then frames */
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
  hs__st.arena = hs__os_alloc(hs__st.arena_words * 8);
  hs__st.offs = hs__os_alloc((max + 1) * 8);
  hs__index *const x =
      hs__os_alloc(sizeof(hs__index) + 1024 * sizeof(hs__slot));
  if (!hs__st.arena || !hs__st.offs || !x || hs__unwind_init())
    return HS_ENOMEM;
  x->mask = 1023;
  atomic_store(&hs__st.index, x);
  atomic_store(&hs__st.slow_only, hs__cfg.unwind_slow);
  hs__st.arena_used = 1; /* offset 0 is stack 0: depth 0 */
  atomic_store(&hs__st.count, 1);
  return 0;
}

void hs__stacks_set_text(uint64_t lo, uint64_t hi) {
  hs__st.text_lo = lo;
  hs__st.text_hi = hi;
}

/* Four independent lanes, so the multiplies overlap; mixed at the end
 * because the low bits pick the slot. */
static uint64_t hs__stack_hash(const uint64_t *f, uint32_t depth) {
  const uint64_t k = 0x9E3779B97F4A7C15ull;
  uint64_t a = 0xcbf29ce484222325ull ^ depth, b = 0x243F6A8885A308D3ull;
  uint64_t c = 0x13198A2E03707344ull, d = 0xA4093822299F31D0ull;
  uint32_t i = 0;
  for (; i + 4 <= depth; i += 4) {
    a = (a ^ f[i]) * k;
    b = (b ^ f[i + 1]) * k;
    c = (c ^ f[i + 2]) * k;
    d = (d ^ f[i + 3]) * k;
  }
  for (; i < depth; i++)
    a = (a ^ f[i]) * k;
  uint64_t h =
      a ^ (b << 17 | b >> 47) ^ (c << 31 | c >> 33) ^ (d << 47 | d >> 17);
  h = (h ^ (h >> 32)) * 0xD6E8FEB86659FD93ull;
  return h ^ (h >> 32);
}

/* A stack's first arena word: its depth, and the load generation it was
 * recorded in (hs_modules.c) in the high half. */
static inline uint64_t hs__stack_head(uint32_t depth, uint32_t gen) {
  return depth | (uint64_t)gen << 32;
}

/* The same frames recorded in another generation: the same stack only if
 * no module under them was unloaded between the two generations (the same
 * addresses may be another library's code now). A stack found still right
 * in a later generation is moved up to it, so each is checked once per
 * unload. */
static __attribute__((noinline)) int
hs__stack_same_since(uint64_t *s, const uint64_t *f, uint32_t depth,
                     uint32_t gen, uint32_t was) {
  const int later = gen - was < (1u << 31);
  if (hs__modules_unloaded_since(later ? was : gen, later ? gen : was, f,
                                 depth))
    return 0;
  if (later)
    __atomic_store_n(&s[0], hs__stack_head(depth, gen), __ATOMIC_RELAXED);
  return 1;
}

static inline int hs__stack_equal(uint32_t id, const uint64_t *f,
                                  uint32_t depth, uint32_t gen) {
  uint64_t *const s = &hs__st.arena[hs__st.offs[id]];
  const uint64_t head = __atomic_load_n(&s[0], __ATOMIC_RELAXED);
  if ((uint32_t)head != depth || memcmp(s + 1, f, (size_t)depth * 8) != 0)
    return 0;
  const uint32_t was = (uint32_t)(head >> 32);
  return HS_LIKELY(was == gen) || hs__stack_same_since(s, f, depth, gen, was);
}

/* Probes x from *at; returns the id found, or 0 with *at at an empty slot. */
static uint32_t hs__stack_probe(const hs__index *x, uint64_t *at, uint32_t h32,
                                const uint64_t *f, uint32_t depth,
                                uint32_t gen) {
  for (uint64_t i = *at;; i = (i + 1) & x->mask) {
    const uint32_t id =
        atomic_load_explicit(&x->slot[i].id, memory_order_acquire);
    if (id == 0) {
      *at = i;
      return 0;
    }
    if (x->slot[i].hash == h32 && hs__stack_equal(id, f, depth, gen))
      return id;
  }
}

static void hs__slot_fill(hs__slot *s, uint32_t id, uint32_t h32) {
  s->hash = h32;
  atomic_store_explicit(&s->id, id, memory_order_release);
}

/* Under the lock: a twice bigger index with every stack in it, published
 * whole. NULL when there is no memory or no room to grow. */
static hs__index *hs__index_grow(const hs__index *old) {
  const uint64_t n = (old->mask + 1) * 2;
  if (n > hs__st.index_max)
    return NULL;
  hs__index *x = hs__os_alloc(sizeof(hs__index) + n * sizeof(hs__slot));
  if (!x)
    return NULL;
  x->mask = n - 1;
  const uint32_t count =
      atomic_load_explicit(&hs__st.count, memory_order_relaxed);
  for (uint32_t id = 1; id < count; id++) {
    const uint64_t *s = &hs__st.arena[hs__st.offs[id]];
    const uint64_t h = hs__stack_hash(s + 1, (uint32_t)s[0]); /* depth */
    uint64_t i = h & x->mask;
    while (atomic_load_explicit(&x->slot[i].id, memory_order_relaxed))
      i = (i + 1) & x->mask;
    hs__slot_fill(&x->slot[i], id, (uint32_t)(h >> 32));
  }
  atomic_store_explicit(&hs__st.index, x, memory_order_release);
  return x;
}

/* Under the lock: a new stack, or 0 when the table is full. */
static uint32_t hs__stack_add(uint64_t h, const uint64_t *f, uint32_t depth,
                              uint32_t gen) {
  const uint32_t id = atomic_load_explicit(&hs__st.count, memory_order_relaxed);
  hs__index *x = atomic_load_explicit(&hs__st.index, memory_order_relaxed);
  if ((uint64_t)id * 2 > x->mask) {
    hs__index *const bigger = hs__index_grow(x);
    x = bigger ? bigger : x;
  }
  if (id > hs__st.max_stacks || (uint64_t)id * 8 > x->mask * 7 ||
      hs__st.arena_used + 1 + depth > hs__st.arena_words) {
    atomic_store(&hs__st.full, 1);
    return 0;
  }
  uint64_t at = h & x->mask;
  hs__stack_probe(x, &at, (uint32_t)(h >> 32), f, depth, gen);
  uint64_t *s = &hs__st.arena[hs__st.arena_used];
  s[0] = hs__stack_head(depth, gen);
  memcpy(s + 1, f, (size_t)depth * 8);
  hs__st.offs[id] = hs__st.arena_used;
  hs__st.arena_used += 1 + depth;
  hs__slot_fill(&x->slot[at], id, (uint32_t)(h >> 32));
  atomic_store_explicit(&hs__st.count, id + 1, memory_order_release);
  return id;
}

/* The id of a stack the table has, without a lock; 0 if it has not. */
static uint32_t hs__stack_find(uint64_t h, const uint64_t *f, uint32_t depth,
                               uint32_t gen) {
  const hs__index *x =
      atomic_load_explicit(&hs__st.index, memory_order_acquire);
  uint64_t at = h & x->mask;
  return hs__stack_probe(x, &at, (uint32_t)(h >> 32), f, depth, gen);
}

uint32_t hs__stack_intern(const uint64_t *f, uint32_t depth, uint32_t gen) {
  const uint64_t h = hs__stack_hash(f, depth);
  uint32_t id = hs__stack_find(h, f, depth, gen);
  if (id)
    return id;
  pthread_mutex_lock(&hs__st.lock);
  /* Another thread may have added it meanwhile. */
  id = hs__stack_find(h, f, depth, gen);
  if (!id)
    id = hs__stack_add(h, f, depth, gen);
  pthread_mutex_unlock(&hs__st.lock);
  return id;
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

/* Settles which walk to keep: f (the fast walk, n < 0 if it gave up) if
 * libunwind's g agrees with it. A disagreement distrusts the return
 * address where they parted, so later walks through it use libunwind. */
static uint32_t hs__stack_settle(const uint64_t *f, int n, const uint64_t *g,
                                 int m, uint32_t gen) {
  uint32_t depth;
  const int at = n < 0 ? -1 : hs__stack_parting(f, n, g, m);
  if (at == 0) {
    const uint64_t *s = hs__stack_trim(f, n, &depth);
    return hs__stack_intern(s, depth, gen);
  }
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

/* Both walks start here, so their frame 0 is this function. The load
 * generation is read first: every frame walked lay in a module loaded in
 * it (one unloaded meanwhile leaves its code to no new call). */
uint32_t hs__stack_capture(void) {
  const uint32_t gen = hs__modules_gen();
  uint64_t f[HS_DEPTH_MAX + 8], g[HS_DEPTH_MAX + 8];
  const int max = (int)hs__cfg.depth + 8;
  const int n = atomic_load_explicit(&hs__st.slow_only, memory_order_relaxed)
                    ? -1
                    : hs__unwind_fast(f, max);
  if (n >= 0) {
    uint32_t depth;
    const uint64_t *s = hs__stack_trim(f, n, &depth);
    const uint32_t id = hs__stack_find(hs__stack_hash(s, depth), s, depth, gen);
    if (id || !hs__unwind_usable())
      return id ? id : hs__stack_intern(s, depth, gen);
  }
  if (!hs__unwind_usable())
    return 0; /* the fast walk gave up, and there is nothing else */
  const int m = hs__unwind_slow(g, max);
  return hs__stack_settle(f, n, g, m, gen);
}

uint32_t hs__stack_capture_fast(void) {
  const uint32_t gen = hs__modules_gen();
  uint64_t f[HS_DEPTH_MAX + 8];
  const int n = atomic_load_explicit(&hs__st.slow_only, memory_order_relaxed)
                    ? -1
                    : hs__unwind_fast(f, (int)hs__cfg.depth + 8);
  if (n < 0)
    return 0;
  uint32_t depth;
  const uint64_t *s = hs__stack_trim(f, n, &depth);
  return hs__stack_intern(s, depth, gen);
}

uint32_t hs__stacks_count(void) {
  return atomic_load_explicit(&hs__st.count, memory_order_acquire);
}

int hs__stacks_full(void) {
  return atomic_load(&hs__st.full);
}

const uint64_t *hs__stack_frames(uint32_t id, uint32_t *depth) {
  const uint64_t *s = &hs__st.arena[id ? hs__st.offs[id] : 0];
  *depth = (uint32_t)__atomic_load_n(&s[0], __ATOMIC_RELAXED);
  return s + 1;
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
