/* hs_testsnap.h - the one way test programs write a snapshot.
 *
 * The programs that make snapshots for tests and benchmarks (the format
 * tests, mkcorpus, mksnap_tools, hd_mksnap, bench/mkbigsnap) each decide
 * what goes in; this writes it through the format library's writer
 * (lib/format/hs_format.h): into a file it creates or a descriptor the
 * caller keeps, a section from an array at a time. Like the writer
 * (lib/format/hs_writer.c), it keeps the first error: every later call
 * does nothing, and hs_testsnap_close() returns that error, so a caller
 * writes all it has and checks once. */
#ifndef HS_TESTSNAP_H
#define HS_TESTSNAP_H

#include <stddef.h>
#include <stdint.h>

#include "hs_format.h"

/* The zstd level of every test snapshot: what the tests' golden files and
 * seeds were made with. */
#define HS_TESTSNAP_LEVEL 3

/* One snapshot being written. Fill it with hs_testsnap_create*() and give
 * it back with hs_testsnap_close(); its fields are its own. */
typedef struct hs_testsnap {
  hs__writer *w;
  int fd;
  int own_fd;          /* the file was opened here: close it */
  int err;             /* the first error */
  uint32_t graph_last; /* the last GRPH block item's block */
} hs_testsnap;

/*! hs_testsnap_create() :
 * Creates `path` (or truncates it) and starts a snapshot in it at
 * HS_TESTSNAP_LEVEL. Even on error, call hs_testsnap_close(t).
 * @return : 0, -errno from open(2), or the writer's error. */
int hs_testsnap_create(hs_testsnap *t, const char *path);

/*! hs_testsnap_create_fd() :
 * The same on `fd` (open for writing, at offset 0), which the caller
 * keeps: hs_testsnap_close() does not close it. */
int hs_testsnap_create_fd(hs_testsnap *t, int fd, int level);

/*! The sections, in the order the format wants them: the header once,
 * then modules, stacks (the first call is stack 1), blocks in ascending
 * address order, roots, one reach record per block (when there are
 * roots), the generations of every module then of every stack. */
void hs_testsnap_header(hs_testsnap *t, const hs_header *h);
void hs_testsnap_modules(hs_testsnap *t, const hs_module *m, size_t n);
void hs_testsnap_stack(hs_testsnap *t, const uint64_t *frames, uint32_t depth);
void hs_testsnap_blocks(hs_testsnap *t, const hs_block *b, size_t n);
void hs_testsnap_roots(hs_testsnap *t, const hs_root *r, size_t n);
void hs_testsnap_reach(hs_testsnap *t, const hs_reach *r, size_t n);
void hs_testsnap_gens_module(hs_testsnap *t, uint32_t load_gen,
                             uint32_t unload_gen);
void hs_testsnap_gens_stack(hs_testsnap *t, uint32_t gen);
/*! The heap graph (the header has HS_SNAP_GRAPH), last: a root's pointer
 * at offset `from` into `block`; block `block`'s pointers into `targets`
 * (any order, repeats allowed). */
void hs_testsnap_graph_root(hs_testsnap *t, uint32_t root, uint64_t from,
                            uint32_t block);
void hs_testsnap_graph_block(hs_testsnap *t, uint32_t block,
                             const uint32_t *targets, size_t n);

/*! hs_testsnap_close() :
 * Ends the snapshot (the END record) unless an error came first, frees
 * the writer and closes the file hs_testsnap_create() opened.
 * @return : the first error since create, or 0. */
int hs_testsnap_close(hs_testsnap *t);

/*! hs_testsnap_body() :
 * Decompresses the body of the snapshot file `file` (`len` bytes: the
 * preamble, then the frame) into *body, malloc'ed, of *body_len bytes.
 * @return : 0, or -1 (nothing allocated) when the frame is not whole
 *           and valid zstd, or memory runs out. */
int hs_testsnap_body(const void *file, size_t len, uint8_t **body,
                     size_t *body_len);

#endif /* HS_TESTSNAP_H */
