/* hd_map.c - the id index of hd_map.h. */
#include "hd_map.h"

#include <stdlib.h>

#include "hs_snapshot.h"

typedef struct hd_slot {
  uint64_t hash;
  uint32_t id; /* UINT32_MAX: empty */
} hd_slot;

struct hd_map {
  hd_slot *slots;
  size_t mask, count;
};

static hd_slot *hd_slots_new(size_t n) {
  hd_slot *s = malloc(n * sizeof *s);
  for (size_t i = 0; s && i < n; i++)
    s[i].id = UINT32_MAX;
  return s;
}

hd_map *hd_map_create(void) {
  hd_map *m = calloc(1, sizeof *m);
  if (m && !(m->slots = hd_slots_new(64))) {
    free(m);
    return NULL;
  }
  if (m)
    m->mask = 63;
  return m;
}

void hd_map_free(hd_map *m) {
  if (m)
    free(m->slots);
  free(m);
}

uint32_t hd_map_find(const hd_map *m, uint64_t hash, hd_map_eq eq,
                     const void *ctx, const void *key) {
  for (size_t i = hash & m->mask;; i = (i + 1) & m->mask) {
    const hd_slot *s = &m->slots[i];
    if (s->id == UINT32_MAX)
      return UINT32_MAX;
    if (s->hash == hash && eq(ctx, s->id, key))
      return s->id;
  }
}

static void hd_map_place(hd_slot *slots, size_t mask, uint64_t hash,
                         uint32_t id) {
  size_t i = hash & mask;
  while (slots[i].id != UINT32_MAX)
    i = (i + 1) & mask;
  slots[i].hash = hash;
  slots[i].id = id;
}

int hd_map_put(hd_map *m, uint64_t hash, uint32_t id) {
  if ((m->count + 1) * 2 > m->mask + 1) {
    const size_t n = (m->mask + 1) * 2;
    hd_slot *fresh = hd_slots_new(n);
    if (!fresh)
      return HS_ENOMEM;
    for (size_t i = 0; i <= m->mask; i++)
      if (m->slots[i].id != UINT32_MAX)
        hd_map_place(fresh, n - 1, m->slots[i].hash, m->slots[i].id);
    free(m->slots);
    m->slots = fresh;
    m->mask = n - 1;
  }
  hd_map_place(m->slots, m->mask, hash, id);
  m->count++;
  return 0;
}

int hd_grow(void *p, size_t *cap, size_t n, size_t size, size_t first) {
  if (n < *cap)
    return 0;
  const size_t want = *cap ? 2 * *cap : first;
  void *fresh = realloc(*(void **)p, want * size);
  if (!fresh)
    return HS_ENOMEM;
  *(void **)p = fresh;
  *cap = want;
  return 0;
}

uint64_t hd_hash(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  h ^= 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h ^ (h >> 31);
}
