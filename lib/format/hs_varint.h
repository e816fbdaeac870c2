/* hs_varint.h - LEB128 varints and zigzag deltas of the snapshot format.
 *
 * Header-only and allocation-free so the writer (inside the shim) and the
 * reader (in the tools) share one definition of the encoding that
 * docs/format.md specifies. */
#ifndef HS_VARINT_H
#define HS_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "hs_snapshot.h"

/* A u64 takes at most 10 bytes: 9 x 7 bits, then 1 bit. */
#define HS__VARINT_MAX 10

/*! hs__varint_put() :
 * Writes v as unsigned LEB128 (7 bits a byte, low bits first, high bit set
 * on every byte but the last) into dst, which has HS__VARINT_MAX bytes.
 * @return : the number of bytes written, 1..10. */
static inline size_t hs__varint_put(uint8_t *dst, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    dst[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  dst[n++] = (uint8_t)v;
  return n;
}

/*! hs__varint_size() : @return : bytes hs__varint_put() writes for v. */
static inline size_t hs__varint_size(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7)
    n++;
  return n;
}

/*! hs__varint_get() :
 * Reads one varint from [*p, end) and advances *p past it.
 * Only the shortest encoding is accepted, so every value has exactly one
 * byte sequence and a changed byte cannot go unnoticed as padding.
 * @return : 0 and *out, or HS_ECORRUPT when the varint runs past end, is
 *           longer than 10 bytes, overflows 64 bits or is padded. */
static inline int hs__varint_get(const uint8_t **p, const uint8_t *end,
                                 uint64_t *out) {
  const uint8_t *s = *p;
  uint64_t v = 0;
  for (unsigned shift = 0; s < end && shift < 64; shift += 7) {
    const uint8_t b = *s++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (b & 0x80)
      continue;
    /* a last byte of 0 pads a shorter form; byte 10 may carry one bit */
    if ((b == 0 && shift > 0) || (shift == 63 && b > 1))
      return HS_ECORRUPT;
    *p = s;
    *out = v;
    return 0;
  }
  return HS_ECORRUPT;
}

/*! hs__zigzag() :
 * Maps a wrapping 64-bit difference, read as signed, to an unsigned value
 * that is small when the difference is small either way:
 * 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ... */
static inline uint64_t hs__zigzag(uint64_t d) {
  return d << 1 ^ (0 - (d >> 63));
}

/*! hs__unzigzag() : the inverse of hs__zigzag(). */
static inline uint64_t hs__unzigzag(uint64_t z) {
  return z >> 1 ^ (0 - (z & 1));
}

/* GRPH items (docs/format.md): a root's pointer into a block is the link
 * `root << 2 | 1`, the pointer's offset in the root, the block; a block's
 * pointers are the link `zigzag(block - last) << 2 | 2` (last: the block of
 * the previous block item, 0 at first), then each target t as
 * zigzag(t - previous) + 1 (previous: the block itself, then the last
 * target), then 0. Each put needs HS__VARINT_MAX bytes at dst at most,
 * hs__graph_put_root() three times that. @return : bytes written. */
#define HS__GRAPH_ROOT 1u
#define HS__GRAPH_BLOCK 2u

static inline size_t hs__graph_put_root(uint8_t *dst, uint32_t root,
                                        uint64_t from, uint32_t block) {
  size_t n = hs__varint_put(dst, (uint64_t)root << 2 | HS__GRAPH_ROOT);
  n += hs__varint_put(dst + n, from);
  return n + hs__varint_put(dst + n, block);
}

static inline size_t hs__graph_put_source(uint8_t *dst, uint32_t last,
                                          uint32_t block) {
  return hs__varint_put(dst, hs__zigzag((uint64_t)block - last) << 2 |
                                 HS__GRAPH_BLOCK);
}

static inline size_t hs__graph_put_target(uint8_t *dst, uint32_t prev,
                                          uint32_t target) {
  return hs__varint_put(dst, hs__zigzag((uint64_t)target - prev) + 1);
}

static inline size_t hs__graph_put_end(uint8_t *dst) {
  return hs__varint_put(dst, 0);
}

#endif /* HS_VARINT_H */
