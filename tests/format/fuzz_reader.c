/* fuzz_reader.c - libFuzzer target for the snapshot reader.
 *
 * Each input is tried twice: as a whole file, and as a decompressed body
 * that this target wraps in a preamble and a checksummed frame itself,
 * since random changes to a compressed file almost never get past the
 * checksum to the record parser. A snapshot that loads is walked through
 * every accessor with its invariants checked, then written again with the
 * writer and read back, and must come back the same. Any violation traps. */
#define _GNU_SOURCE /* memfd_create */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hs_format.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      __builtin_trap();                                                        \
  } while (0)

/* Reads every byte an accessor hands out, so ASan sees each one. */
static volatile uint64_t sink;

static void walk_header(const hs_header *h) {
  CHECK(h && h->exe && h->trigger && h->argv);
  sink += strlen(h->exe) + strlen(h->trigger);
  for (uint32_t i = 0; i < h->argc; i++)
    sink += strlen(h->argv[i]);
  CHECK(h->argv[h->argc] == NULL);
}

static void walk_modules(const hs_snapshot *s) {
  const size_t n = hs_snapshot_module_count(s);
  CHECK(hs_snapshot_module(s, n) == NULL);
  for (size_t i = 0; i < n; i++) {
    const hs_module *const m = hs_snapshot_module(s, i);
    CHECK(m && m->start <= m->end && m->path);
    sink += strlen(m->path);
    for (uint32_t k = 0; k < m->build_id_len; k++)
      sink += m->build_id[k];
    const hs_module *const f = hs_snapshot_module_find(s, m->start);
    CHECK(m->start == m->end ||
          (f && f->start <= m->start && m->start < f->end));
    const hs_module *const g = hs_snapshot_module_find(s, m->end);
    CHECK(!g || (g->start <= m->end && m->end < g->end));
  }
}

static void walk_stacks(const hs_snapshot *s) {
  const size_t n = hs_snapshot_stack_count(s);
  CHECK(n >= 1 && hs_snapshot_stack(s, 0).depth == 0);
  CHECK(hs_snapshot_stack(s, (uint32_t)n).depth == 0);
  for (uint32_t i = 0; i < n; i++) {
    const hs_stack st = hs_snapshot_stack(s, i);
    CHECK(st.depth <= HS__MAX_DEPTH);
    for (uint32_t k = 0; k < st.depth; k++)
      sink += st.frames[k];
  }
}

static void walk_blocks(const hs_snapshot *s) {
  const hs_header *const h = hs_snapshot_header(s);
  const hs_block *const b = hs_snapshot_blocks(s);
  const size_t n = hs_snapshot_block_count(s);
  uint64_t bytes = 0;
  CHECK(b && n == h->live_blocks);
  for (size_t i = 0; i < n; i++) {
    CHECK(i == 0 || b[i - 1].addr < b[i].addr);
    CHECK(b[i].stack < hs_snapshot_stack_count(s));
    bytes += b[i].size;
    sink += b[i].epoch;
  }
  CHECK(bytes == h->live_bytes);
}

/* Writes s again with the writer; the bytes are left in fd. */
static int rewrite(const hs_snapshot *s, int fd) {
  hs__writer *w;
  int err = hs__writer_create(fd, ZSTD_defaultCMem, 1, &w);
  if (!err)
    err = hs__writer_header(w, hs_snapshot_header(s));
  for (size_t i = 0; !err && i < hs_snapshot_module_count(s); i++)
    err = hs__writer_module(w, hs_snapshot_module(s, i));
  for (uint32_t i = 1; !err && i < hs_snapshot_stack_count(s); i++) {
    const hs_stack st = hs_snapshot_stack(s, i);
    err = hs__writer_stack(w, st.frames, st.depth);
  }
  for (size_t i = 0; !err && i < hs_snapshot_block_count(s); i++)
    err = hs__writer_block(w, &hs_snapshot_blocks(s)[i]);
  for (size_t i = 0; !err && i < hs_snapshot_root_count(s); i++)
    err = hs__writer_root(w, hs_snapshot_root(s, i));
  for (size_t i = 0;
       !err && hs_snapshot_reach(s) && i < hs_snapshot_block_count(s); i++)
    err = hs__writer_reach(w, &hs_snapshot_reach(s)[i]);
  if (!err)
    err = hs__writer_finish(w);
  hs__writer_free(w);
  return err;
}

static int same_header(const hs_header *x, const hs_header *y) {
  if (memcmp(x, y, offsetof(hs_header, argc)) != 0 || x->argc != y->argc ||
      strcmp(x->exe, y->exe) != 0 || strcmp(x->trigger, y->trigger) != 0 ||
      strcmp(x->scan_note, y->scan_note) != 0)
    return 0;
  for (uint32_t i = 0; i < x->argc; i++)
    if (strcmp(x->argv[i], y->argv[i]) != 0)
      return 0;
  return 1;
}

static int same_module(const hs_module *x, const hs_module *y) {
  return x->start == y->start && x->end == y->end && x->bias == y->bias &&
         x->flags == y->flags && x->build_id_len == y->build_id_len &&
         !memcmp(x->build_id, y->build_id, x->build_id_len) &&
         !strcmp(x->path, y->path);
}

static int same_reach(const hs_snapshot *a, const hs_snapshot *b) {
  const size_t nr = hs_snapshot_root_count(a), nb = hs_snapshot_block_count(a);
  if (nr != hs_snapshot_root_count(b) ||
      !hs_snapshot_reach(a) != !hs_snapshot_reach(b))
    return 0;
  for (size_t i = 0; i < nr; i++) {
    const hs_root *x = hs_snapshot_root(a, i), *y = hs_snapshot_root(b, i);
    if (x->kind != y->kind || x->module != y->module || x->tid != y->tid ||
        x->start != y->start || x->end != y->end || strcmp(x->name, y->name))
      return 0;
  }
  return !hs_snapshot_reach(a) || !nb ||
         !memcmp(hs_snapshot_reach(a), hs_snapshot_reach(b),
                 nb * sizeof(hs_reach));
}

static int same(const hs_snapshot *a, const hs_snapshot *b) {
  const size_t nm = hs_snapshot_module_count(a);
  const size_t ns = hs_snapshot_stack_count(a);
  const size_t nb = hs_snapshot_block_count(a);
  if (!same_header(hs_snapshot_header(a), hs_snapshot_header(b)) ||
      nm != hs_snapshot_module_count(b) || ns != hs_snapshot_stack_count(b) ||
      nb != hs_snapshot_block_count(b))
    return 0;
  for (size_t i = 0; i < nm; i++)
    if (!same_module(hs_snapshot_module(a, i), hs_snapshot_module(b, i)))
      return 0;
  for (uint32_t i = 0; i < ns; i++) {
    const hs_stack x = hs_snapshot_stack(a, i), y = hs_snapshot_stack(b, i);
    if (x.depth != y.depth ||
        (x.depth &&
         memcmp(x.frames, y.frames, x.depth * sizeof *x.frames) != 0))
      return 0;
  }
  if (nb && memcmp(hs_snapshot_blocks(a), hs_snapshot_blocks(b),
                   nb * sizeof(hs_block)) != 0)
    return 0;
  return same_reach(a, b);
}

/* What loaded must survive a write and a read unchanged. */
static void roundtrip(const hs_snapshot *s) {
  const int fd = memfd_create("fuzz_reader", MFD_CLOEXEC);
  CHECK(fd >= 0);
  CHECK(rewrite(s, fd) == 0);
  const off_t size = lseek(fd, 0, SEEK_END);
  uint8_t *const data = malloc((size_t)size);
  CHECK(data && pread(fd, data, (size_t)size, 0) == size);
  close(fd);
  hs_snapshot *again;
  CHECK(hs_snapshot_load(data, (size_t)size, &again) == 0);
  CHECK(same(s, again));
  hs_snapshot_free(again);
  free(data);
}

static void try_load(const uint8_t *data, size_t size) {
  hs_snapshot *s = NULL;
  const int err = hs_snapshot_load(data, size, &s);
  CHECK(err <= 0 && (err == 0) == (s != NULL));
  CHECK(hs_strerror(err) != NULL);
  if (err)
    return;
  walk_header(hs_snapshot_header(s));
  walk_modules(s);
  walk_stacks(s);
  walk_blocks(s);
  roundtrip(s);
  hs_snapshot_free(s);
}

/* The input as a body: preamble, then one checksummed frame of it. */
static void try_body(const uint8_t *data, size_t size) {
  static ZSTD_CCtx *cctx;
  if (!cctx) {
    cctx = ZSTD_createCCtx();
    CHECK(cctx);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  }
  const size_t cap = HS__PREAMBLE_SIZE + ZSTD_compressBound(size);
  uint8_t *const file = malloc(cap);
  CHECK(file);
  static const uint8_t preamble[HS__PREAMBLE_SIZE] = {
      'H', 'E', 'A', 'P', 'S', 'N', 'A', 'P', HS_FORMAT_VERSION};
  memcpy(file, preamble, sizeof preamble);
  const size_t n = ZSTD_compress2(cctx, file + HS__PREAMBLE_SIZE,
                                  cap - HS__PREAMBLE_SIZE, data, size);
  CHECK(!ZSTD_isError(n));
  try_load(file, HS__PREAMBLE_SIZE + n);
  free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try_load(data, size);
  try_body(data, size);
  return 0;
}
