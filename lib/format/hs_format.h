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
#define HS__TAG_ROOT HS__TAG('R', 'O', 'O', 'T')
#define HS__TAG_RCHB HS__TAG('R', 'C', 'H', 'B')
#define HS__TAG_GENS HS__TAG('G', 'E', 'N', 'S')
#define HS__TAG_GRPH HS__TAG('G', 'R', 'P', 'H')
#define HS__TAG_END HS__TAG('E', 'N', 'D', '!')

/* The 16-byte preamble: magic "HEAPSNAP", u32 version, u32 reserved (0). */
#define HS__MAGIC "HEAPSNAP"
#define HS__MAGIC_SIZE 8
#define HS__PREAMBLE_SIZE 16

/* Each record starts with u32 tag and u32 payload length. */
#define HS__RECORD_HEAD_SIZE 8

/* The writer's staging buffer: a section record is flushed when it fills. */
#define HS__STAGE_SIZE ((size_t)64 << 10)

/* Limits both sides enforce: the writer refuses to write past them, so a
 * reader that refuses them never rejects a file this library wrote. */
#define HS__MAX_DEPTH 1024u                /* frames in one stack */
#define HS__MAX_STRING ((uint32_t)1 << 20) /* bytes in a string or build id */
#define HS__MAX_ARGC 65536u                /* strings in argv */

/* zstd levels the writer takes. None of them uses a window over 8 MiB,
 * the most a reader accepts (it bounds the reader's zstd memory). */
#define HS__MIN_LEVEL 1
#define HS__MAX_LEVEL 19
#define HS__MAX_WINDOW_LOG 23

/* The decompressed body may hold at most BASE + RATIO x the compressed size,
 * and never more than MAX; past that the reader answers HS_ETOOBIG. */
#define HS__BODY_BASE ((uint64_t)64 << 20)
#define HS__BODY_RATIO 1000u
#define HS__BODY_MAX ((uint64_t)16 << 30)

/* The frame may hold at most SLACK + RATIO x the body it has decoded so
 * far; past that the reader answers HS_ETOOBIG. zstd stores a block it
 * cannot shrink as is (3 bytes of header a 128 KiB block), so no real
 * frame comes near this; it ends a file of empty blocks early. */
#define HS__FRAME_SLACK ((uint64_t)1 << 20)
#define HS__FRAME_RATIO 2u

/* Returns from the calling function when `expr` (an int error code) fails. */
#define HS__TRY(expr)                                                          \
  do {                                                                         \
    const int hs__try_err = (expr);                                            \
    if (hs__try_err)                                                           \
      return hs__try_err;                                                      \
  } while (0)

typedef struct hs__writer hs__writer;

/*! hs__writer_create() :
 * Starts a snapshot on `fd` (already open for writing, positioned at 0).
 * `level` is the zstd level (1..19; the shim uses a fast one). The writer
 * and zstd take all their memory from `mem` (about 200 KiB for the writer
 * plus zstd's context for the level) and return it in hs__writer_free();
 * with ZSTD_defaultCMem, zstd uses malloc and the writer mmap.
 * Nothing is written before hs__writer_header().
 * @return : 0 and *out, HS_EINVAL for a bad argument, HS_ENOMEM. */
int hs__writer_create(int fd, ZSTD_customMem mem, int level, hs__writer **out);

/*! Writes the preamble and the HEAD record. Call first, once.
 * Fields of `h` the writer does not need (version) are ignored; NULL
 * strings are written as "". h->live_blocks and h->live_bytes must be what
 * the blocks will add up to: hs__writer_finish() checks them.
 * @return : 0, HS_EINVAL (out of order, or a limit above exceeded),
 *           -errno from write(2), HS_ENOMEM or HS_ECOMPRESS. After a write,
 *           memory or compression error every later call returns it. */
int hs__writer_header(hs__writer *w, const hs_header *h);

/*! Appends one module. Call after the header, before any stack. */
int hs__writer_module(hs__writer *w, const hs_module *m);

/*! Appends the next stack: the first call defines stack 1 (stack 0 is the
 * implicit empty stack). Call after the modules, before any block. */
int hs__writer_stack(hs__writer *w, const uint64_t *frames, uint32_t depth);

/*! Appends one block. Blocks must come in strictly ascending address order
 * and refer to stacks already written; HS_EINVAL otherwise. */
int hs__writer_block(hs__writer *w, const hs_block *b);

/*! Appends one root of the reachability scan. Call after the blocks,
 * before any reach record. */
int hs__writer_root(hs__writer *w, const hs_root *r);

/*! Appends how the next block (in block order) was first reached. When
 * any is written, one per block must be, each referring to a root or a
 * block that exists; hs__writer_finish() checks the count. */
int hs__writer_reach(hs__writer *w, const hs_reach *r);

/*! Writes the END record and ends the compressed frame. HS_EINVAL when
 * the blocks written do not add up to the header's live_blocks and
 * live_bytes (more blocks may still be added then). The caller still
 * owns fd (fsync, close, rename are its business). */
int hs__writer_finish(hs__writer *w);

/*! hs__writer_gens_module(), hs__writer_gens_stack() :
 * Optional, after the reach records: the life of every module (load_gen,
 * unload_gen of each, in the order they were written), then the load
 * generation of every stack from 1. When any is written, all must be:
 * hs__writer_finish() checks the counts. */
int hs__writer_gens_module(hs__writer *w, uint32_t load_gen,
                           uint32_t unload_gen);
int hs__writer_gens_stack(hs__writer *w, uint32_t gen);

/*! hs__writer_graph() :
 * Optional, last (after the generations): `len` bytes of GRPH items,
 * already encoded (docs/format.md; hs__graph_put_root() and
 * hs__graph_put_block() in hs_varint.h encode them). May be called many
 * times; only when the header has HS_SNAP_GRAPH (HS_EINVAL otherwise).
 * The items are not checked here: the reader checks them. */
int hs__writer_graph(hs__writer *w, const uint8_t *items, size_t len);

/*! Releases the writer through the memory functions it was created with;
 * accepts NULL. */
void hs__writer_free(hs__writer *w);

#endif /* HS_FORMAT_H */
