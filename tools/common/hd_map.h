/* hd_map.h - a hash index from keys kept elsewhere to uint32 ids.
 *
 * The map stores only ids and their hashes; the caller keeps the keys in
 * its own arrays and answers "is id X equal to the key I look for?", so
 * one map type serves frames, sites and names. Open addressing, linear
 * probing, grows at 1/2 load. */
#ifndef HD_MAP_H
#define HD_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hd_map hd_map;

/*! @return : 1 when the stored `id` equals the key being looked up. */
typedef int (*hd_map_eq)(const void *ctx, uint32_t id, const void *key);

/*! @return : a new empty map, or NULL when out of memory. */
hd_map *hd_map_create(void);
void hd_map_free(hd_map *m); /* accepts NULL */

/*! @return : the id stored for the key, or UINT32_MAX. */
uint32_t hd_map_find(const hd_map *m, uint64_t hash, hd_map_eq eq,
                     const void *ctx, const void *key);

/*! Stores `id` under `hash` (the caller has checked it is not there).
 * @return : 0, or HS_ENOMEM. */
int hd_map_put(hd_map *m, uint64_t hash, uint32_t id);

/*! Makes room for one more element in the array *p of *cap elements of
 * `size` bytes holding n (doubling, from `first`).
 * @return : 0, or HS_ENOMEM with *p untouched. */
int hd_grow(void *p, size_t *cap, size_t n, size_t size, size_t first);

/*! A 64-bit hash of `len` bytes, continuing from `h` (start with 0). */
uint64_t hd_hash(uint64_t h, const void *data, size_t len);

#endif /* HD_MAP_H */
