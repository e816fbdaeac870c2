/* format_testutil.h - helpers shared by the snapshot format tests.
 *
 * They build snapshots two ways: through the real writer (fmt_write) and
 * by hand, byte by byte (fmt_buf + fmt_frame), so a test can produce the
 * malformed bodies the writer refuses to write. Helpers abort the test
 * (cmocka assertions) on any failure of their own. */
#ifndef FORMAT_TESTUTIL_H
#define FORMAT_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hs_format.h"

/* A growing byte buffer. */
typedef struct fmt_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} fmt_buf;

void fmt_buf_free(fmt_buf *b);
/* Appends n bytes from p, or n bytes of room when p is NULL. */
void fmt_put(fmt_buf *b, const void *p, size_t n);
void fmt_put_u32(fmt_buf *b, uint32_t v);
void fmt_put_varint(fmt_buf *b, uint64_t v);
void fmt_put_str(fmt_buf *b, const char *s);
/* Appends one record: tag, payload length, payload. */
void fmt_put_record(fmt_buf *b, uint32_t tag, const fmt_buf *payload);

/* A HEAD payload with the given block totals and small fixed values
 * elsewhere (exe "/bin/t", trigger "api", argv {"t"}). */
void fmt_put_head(fmt_buf *b, uint64_t live_blocks, uint64_t live_bytes);

/* A whole file: preamble with `version`, then `body` in one zstd frame
 * with the content checksum. The result is malloc'ed into *out. */
void fmt_frame(const void *body, size_t len, uint32_t version, fmt_buf *out);

/* A whole scanned file (fmt_frame, this version) of four records and END:
 * HEAD, BLKS, ROOT, RCHB, whose payloads are given. */
void fmt_scanned_file(const fmt_buf *head, const fmt_buf *blks,
                      const fmt_buf *roots, const fmt_buf *rchb, fmt_buf *out);

/* Decompresses the frame of a whole file (after the preamble). */
void fmt_unframe(const uint8_t *file, size_t len, fmt_buf *body);

/* Writes a snapshot through the writer into *out: fill() receives the
 * writer after hs__writer_create and returns the writer's last result. */
typedef int (*fmt_fill_fn)(hs__writer *w, void *ctx);
int fmt_write(fmt_fill_fn fill, void *ctx, int level, fmt_buf *out);

/* A small valid snapshot (2 modules, 3 stacks, 4 blocks) as a file. */
void fmt_small(fmt_buf *out);
/* The values fmt_small() writes. */
extern const hs_header fmt_small_header;

/* Asserts two snapshots hold exactly the same values. */
void fmt_assert_same(const hs_snapshot *a, const hs_snapshot *b);

#endif /* FORMAT_TESTUTIL_H */
