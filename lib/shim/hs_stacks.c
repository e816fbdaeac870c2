/* hs_stacks.c - stack capture and the deduplicated stack table.
 *
 * A stack is interned once and named by a 24-bit id, so a live block costs
 * one id, not its frames. Lookups of known stacks take no lock: ids are
 * published with a release store after the frames are in place, and the
 * table only grows. Inserting a new stack takes one mutex, which is rare
 * after warm-up. Memory is reserved once (HEAPSNAP_STACK_MB); when it is
 * used up, new stacks get id 0 ("unknown") and the snapshot says so. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "hs_shim.h"

#define HS_STACK_ID_MAX ((1u << 24) - 1)

typedef struct hs__slot {
  _Atomic uint32_t id; /* 0 = empty */
  uint32_t hash;
} hs__slot;

static struct {
  pthread_mutex_t lock;
  uint64_t *arena; /* per stack: depth, then frames */
  uint64_t arena_words, arena_used;
  uint64_t *offs; /* id -> offset in arena */
  uint32_t max_stacks;
  _Atomic uint32_t count; /* next id; ids below it are published */
  hs__slot *slots;
  uint64_t mask;
  _Atomic int full;
  uint64_t text_lo, text_hi; /* the shim's own code: not part of a stack */
} hs__st = {.lock = PTHREAD_MUTEX_INITIALIZER};

int hs__stacks_init(void) {
  const uint64_t budget = hs__cfg.stack_mb << 20;
  uint64_t max = budget / 4 / 24; /* a quarter for the index */
  if (max > HS_STACK_ID_MAX)
    max = HS_STACK_ID_MAX;
  uint64_t nslots = 1024;
  while (nslots < 2 * max)
    nslots *= 2;
  hs__st.max_stacks = (uint32_t)max;
  hs__st.arena_words = budget * 3 / 4 / 8;
  hs__st.arena = hs__os_alloc(hs__st.arena_words * 8);
  hs__st.offs = hs__os_alloc((max + 1) * 8);
  hs__st.slots = hs__os_alloc(nslots * sizeof(hs__slot));
  if (!hs__st.arena || !hs__st.offs || !hs__st.slots)
    return HS_ENOMEM;
  hs__st.mask = nslots - 1;
  hs__st.arena_used = 1; /* offset 0 is stack 0: depth 0 */
  atomic_store(&hs__st.count, 1);
  return 0;
}

void hs__stacks_set_text(uint64_t lo, uint64_t hi) {
  hs__st.text_lo = lo;
  hs__st.text_hi = hi;
}

static uint64_t hs__stack_hash(const uint64_t *f, uint32_t depth) {
  uint64_t h = 0xcbf29ce484222325ull ^ depth;
  for (uint32_t i = 0; i < depth; i++)
    h = (h ^ f[i]) * 0x100000001b3ull, h ^= h >> 29;
  return h;
}

static int hs__stack_equal(uint32_t id, const uint64_t *f, uint32_t depth) {
  const uint64_t *s = &hs__st.arena[hs__st.offs[id]];
  return s[0] == depth && memcmp(s + 1, f, depth * 8) == 0;
}

/* Probes from *at; returns the id found, or 0 with *at at an empty slot. */
static uint32_t hs__stack_probe(uint64_t *at, uint32_t h32, const uint64_t *f,
                                uint32_t depth) {
  for (uint64_t i = *at;; i = (i + 1) & hs__st.mask) {
    const uint32_t id =
        atomic_load_explicit(&hs__st.slots[i].id, memory_order_acquire);
    if (id == 0) {
      *at = i;
      return 0;
    }
    if (hs__st.slots[i].hash == h32 && hs__stack_equal(id, f, depth))
      return id;
  }
}

static uint32_t hs__stack_add(uint64_t at, uint32_t h32, const uint64_t *f,
                              uint32_t depth) {
  const uint32_t id = atomic_load_explicit(&hs__st.count, memory_order_relaxed);
  if (id > hs__st.max_stacks ||
      hs__st.arena_used + 1 + depth > hs__st.arena_words) {
    atomic_store(&hs__st.full, 1);
    return 0;
  }
  uint64_t *s = &hs__st.arena[hs__st.arena_used];
  s[0] = depth;
  memcpy(s + 1, f, depth * 8);
  hs__st.offs[id] = hs__st.arena_used;
  hs__st.arena_used += 1 + depth;
  hs__st.slots[at].hash = h32;
  atomic_store_explicit(&hs__st.slots[at].id, id, memory_order_release);
  atomic_store_explicit(&hs__st.count, id + 1, memory_order_release);
  return id;
}

uint32_t hs__stack_intern(const uint64_t *f, uint32_t depth) {
  const uint64_t h = hs__stack_hash(f, depth);
  const uint32_t h32 = (uint32_t)(h >> 32);
  uint64_t at = h & hs__st.mask;
  uint32_t id = hs__stack_probe(&at, h32, f, depth);
  if (id)
    return id;
  pthread_mutex_lock(&hs__st.lock);
  /* Another thread may have added it, or filled our empty slot. */
  id = hs__stack_probe(&at, h32, f, depth);
  if (!id)
    id = hs__stack_add(at, h32, f, depth);
  pthread_mutex_unlock(&hs__st.lock);
  return id;
}

uint32_t hs__stack_capture(void) {
  void *raw[HS_DEPTH_MAX + 8];
  const int n = unw_backtrace(raw, (int)hs__cfg.depth + 8);
  int first = 0;
  while (first < n && (uint64_t)raw[first] >= hs__st.text_lo &&
         (uint64_t)raw[first] < hs__st.text_hi)
    first++;
  uint32_t depth = (uint32_t)(n - first);
  if (depth > hs__cfg.depth)
    depth = hs__cfg.depth;
  return hs__stack_intern((const uint64_t *)(raw + first), depth);
}

uint32_t hs__stacks_count(void) {
  return atomic_load_explicit(&hs__st.count, memory_order_acquire);
}

int hs__stacks_full(void) {
  return atomic_load(&hs__st.full);
}

const uint64_t *hs__stack_frames(uint32_t id, uint32_t *depth) {
  const uint64_t *s = &hs__st.arena[id ? hs__st.offs[id] : 0];
  *depth = (uint32_t)s[0];
  return s + 1;
}

void hs__stacks_lock(void) {
  pthread_mutex_lock(&hs__st.lock);
}
void hs__stacks_unlock(void) {
  pthread_mutex_unlock(&hs__st.lock);
}
