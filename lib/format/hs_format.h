/* hs_format.h - internal interface of the snapshot format library.
 *
 * The writer streams one snapshot to a file descriptor without calling
 * malloc: every byte of memory it needs comes from the ZSTD_customMem the
 * caller passes, so the shim can hand it mmap-backed memory while the tools
 * and tests pass ZSTD_defaultCMem. The layout is specified in
 * docs/format.md; the reader is declared in include/hs_snapshot.h. */
#ifndef HS_FORMAT_H
#define HS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem */
#include <zstd.h>

#include "hs_snapshot.h"

/* Record tags: four ASCII bytes read as a little-endian u32. */
#define HS__TAG(a, b, c, d)                                                    \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |                  \
   (uint32_t)(d) << 24)
#define HS__TAG_HEAD HS__TAG('H', 'E', 'A', 'D')
#define HS__TAG_MODS HS__TAG('M', 'O', 'D', 'S')
#define HS__TAG_STKS HS__TAG('S', 'T', 'K', 'S')
#define HS__TAG_BLKS HS__TAG('B', 'L', 'K', 'S')
#define HS__TAG_END HS__TAG('E', 'N', 'D', '!')

/* The 16-byte preamble: magic "HEAPSNAP", u32 version, u32 reserved (0). */
#define HS__MAGIC "HEAPSNAP"
#define HS__PREAMBLE_SIZE 16

typedef struct hs__writer hs__writer;

/*! hs__writer_create() :
 * Starts a snapshot on `fd` (already open for writing, positioned at 0).
 * `level` is the zstd level (1..19; the shim uses a fast one).
 * @return : 0 and *out, or a negative error code. */
int hs__writer_create(int fd, ZSTD_customMem mem, int level, hs__writer **out);

/*! Writes the preamble and the HEAD record. Call first, once.
 * Fields of `h` the writer does not need (version) are ignored. */
int hs__writer_header(hs__writer *w, const hs_header *h);

/*! Appends one module. Call after the header, before any stack. */
int hs__writer_module(hs__writer *w, const hs_module *m);

/*! Appends the next stack: the first call defines stack 1 (stack 0 is the
 * implicit empty stack). Call after the modules, before any block. */
int hs__writer_stack(hs__writer *w, const uint64_t *frames, uint32_t depth);

/*! Appends one block. Blocks must come in strictly ascending address order
 * and refer to stacks already written; HS_EINVAL otherwise. */
int hs__writer_block(hs__writer *w, const hs_block *b);

/*! Writes the END record and ends the compressed frame. The caller still
 * owns fd (fsync, close, rename are its business). */
int hs__writer_finish(hs__writer *w);

/*! Releases the writer through the memory functions it was created with;
 * accepts NULL. */
void hs__writer_free(hs__writer *w);

#endif /* HS_FORMAT_H */
