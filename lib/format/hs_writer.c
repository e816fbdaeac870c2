/* hs_writer.c - streams one snapshot to a file descriptor (hs_format.h).
 *
 * It runs in the shim's snapshot thread, so it never reaches malloc or
 * stdio: its own memory and zstd's come from the caller's ZSTD_customMem
 * (mmap when that is ZSTD_defaultCMem), and bytes leave through write(2).
 * Section items are staged in a 64 KiB buffer that becomes one record each
 * time it fills. The layout is specified in docs/format.md. */
#include "hs_format.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zstd_errors.h>

#include "hs_varint.h"

/* What has been written so far; each call may only move forward. */
enum {
  HS__W_NEW,  /* nothing */
  HS__W_HEAD, /* preamble and HEAD */
  HS__W_MODS, /* modules */
  HS__W_STKS, /* stacks */
  HS__W_BLKS, /* blocks */
  HS__W_ROOT, /* roots of the reachability scan */
  HS__W_RCHB, /* how each block was reached */
  HS__W_GENS, /* module lives, stack generations */
  HS__W_GRPH, /* the heap graph */
  HS__W_DONE  /* END and the end of the frame */
};

/* Tag of staged bytes that continue a record whose head is already out. */
#define HS__TAG_RAW 0u

struct hs__writer {
  ZSTD_customMem mem;
  ZSTD_CCtx *cctx;
  size_t alloc_size; /* of this struct and out, for munmap */
  int fd;
  int err;       /* first I/O or compression error; every later call fails */
  int state;     /* HS__W_* */
  int measuring; /* hs__put() only counts bytes into `measured` */
  size_t measured;
  uint32_t tag;         /* tag of the staged bytes */
  size_t staged;        /* bytes in stage */
  uint64_t stacks;      /* stacks written, stack 0 not counted */
  uint64_t blocks;      /* blocks written */
  uint64_t bytes;       /* sum of their sizes */
  uint64_t last_addr;   /* address of the last block */
  uint64_t want_blocks; /* what the header promised */
  uint64_t want_bytes;
  uint32_t flags;   /* the header's */
  uint64_t roots;   /* roots written */
  uint64_t reaches; /* reach records written */
  uint64_t modules; /* modules written */
  uint64_t lives;   /* GENS: module lives written */
  uint64_t gens;    /* GENS: stack generations written */
  uint8_t *out;     /* compressed output, out_cap bytes */
  size_t out_cap;
  uint8_t stage[HS__STAGE_SIZE];
};

/* ------------------------------------------------------------------ */
/* memory and output */

static void *hs__mem_alloc(ZSTD_customMem mem, size_t size) {
  if (mem.customAlloc)
    return mem.customAlloc(mem.opaque, size);
  /* ZSTD_defaultCMem: zstd will use malloc, but our own buffers need not */
  void *const p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void hs__mem_free(ZSTD_customMem mem, void *p, size_t size) {
  if (mem.customFree)
    mem.customFree(mem.opaque, p);
  else
    munmap(p, size);
}

/* Writes all n bytes, resuming after signals and short writes. */
static int hs__write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    const ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -errno;
    if (k == 0)
      return -EIO; /* no progress and no reason: do not spin */
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static int hs__zstd_error(size_t code) {
  return ZSTD_getErrorCode(code) == ZSTD_error_memory_allocation ? HS_ENOMEM
                                                                 : HS_ECOMPRESS;
}

/* Feeds n bytes to the compressor and writes out whatever it produces;
 * with ZSTD_e_end, until the frame is complete. */
static int hs__compress(hs__writer *w, const void *src, size_t n,
                        ZSTD_EndDirective op) {
  ZSTD_inBuffer in = {src, n, 0};
  for (;;) {
    ZSTD_outBuffer out = {w->out, w->out_cap, 0};
    const size_t left = ZSTD_compressStream2(w->cctx, &out, &in, op);
    if (ZSTD_isError(left))
      return hs__zstd_error(left);
    HS__TRY(hs__write_all(w->fd, w->out, out.pos));
    if (op == ZSTD_e_end ? left == 0 : in.pos == in.size)
      return 0;
  }
}

static void hs__le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> 8 * i);
}

static int hs__record_head(hs__writer *w, uint32_t tag, uint32_t len) {
  uint8_t head[HS__RECORD_HEAD_SIZE];
  hs__le32(head, tag);
  hs__le32(head + 4, len);
  return hs__compress(w, head, sizeof head, ZSTD_e_continue);
}

/* ------------------------------------------------------------------ */
/* staging: errors are kept in w->err, so encoders need not check each put */

/* Sends the staged bytes, as a record of their own unless they continue
 * the HEAD record. */
static void hs__flush(hs__writer *w) {
  if (w->err || w->staged == 0)
    return;
  int err = 0;
  if (w->tag != HS__TAG_RAW)
    err = hs__record_head(w, w->tag, (uint32_t)w->staged);
  if (!err)
    err = hs__compress(w, w->stage, w->staged, ZSTD_e_continue);
  w->staged = 0;
  w->err = err;
}

static void hs__put(hs__writer *w, const void *src, size_t n) {
  const uint8_t *p = src;
  if (w->measuring) {
    w->measured += n;
    return;
  }
  while (n > 0 && !w->err) {
    const size_t room = HS__STAGE_SIZE - w->staged;
    const size_t k = n < room ? n : room;
    memcpy(w->stage + w->staged, p, k);
    w->staged += k;
    p += k;
    n -= k;
    if (w->staged == HS__STAGE_SIZE)
      hs__flush(w);
  }
}

static void hs__put_varint(hs__writer *w, uint64_t v) {
  uint8_t buf[HS__VARINT_MAX];
  hs__put(w, buf, hs__varint_put(buf, v));
}

static void hs__put_bytes(hs__writer *w, const void *p, size_t n) {
  hs__put_varint(w, n);
  hs__put(w, p, n);
}

static size_t hs__strlen(const char *s) {
  return s ? strlen(s) : 0;
}

static void hs__put_str(hs__writer *w, const char *s) {
  hs__put_bytes(w, s, hs__strlen(s));
}

/* ------------------------------------------------------------------ */
/* creation */

static int hs__cctx_setup(ZSTD_CCtx *cctx, int level) {
  if (ZSTD_isError(
          ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)))
    return HS_ECOMPRESS;
  return 0;
}

int hs__writer_create(int fd, ZSTD_customMem mem, int level, hs__writer **out) {
  if (!out)
    return HS_EINVAL;
  *out = NULL;
  if (fd < 0 || level < HS__MIN_LEVEL || level > HS__MAX_LEVEL ||
      !mem.customAlloc != !mem.customFree)
    return HS_EINVAL;
  const size_t out_cap = ZSTD_CStreamOutSize();
  const size_t size = sizeof(hs__writer) + out_cap;
  hs__writer *const w = hs__mem_alloc(mem, size);
  if (!w)
    return HS_ENOMEM;
  memset(w, 0, sizeof *w);
  w->mem = mem;
  w->alloc_size = size;
  w->fd = fd;
  w->out = (uint8_t *)(w + 1);
  w->out_cap = out_cap;
  w->cctx = ZSTD_createCCtx_advanced(mem);
  const int err = w->cctx ? hs__cctx_setup(w->cctx, level) : HS_ENOMEM;
  if (err) {
    hs__writer_free(w);
    return err;
  }
  *out = w;
  return 0;
}

void hs__writer_free(hs__writer *w) {
  if (!w)
    return;
  ZSTD_freeCCtx(w->cctx);
  hs__mem_free(w->mem, w, w->alloc_size);
}

/* ------------------------------------------------------------------ */
/* ordering */

/* May the next item belong to `state`? Never backwards, never after END. */
static int hs__may_enter(const hs__writer *w, int state) {
  if (!w)
    return HS_EINVAL;
  if (w->err)
    return w->err;
  if (w->state < HS__W_HEAD || w->state > state || state == HS__W_DONE)
    return HS_EINVAL;
  return 0;
}

/* Moves to `state`; its items are staged as records of `tag`. */
static void hs__enter(hs__writer *w, int state, uint32_t tag) {
  if (w->state == state)
    return;
  hs__flush(w);
  w->state = state;
  w->tag = tag;
}

/* ------------------------------------------------------------------ */
/* header */

static int hs__header_valid(const hs_header *h) {
  if (!h || (h->argc > 0 && !h->argv) || h->argc > HS__MAX_ARGC)
    return 0;
  if (hs__strlen(h->exe) > HS__MAX_STRING ||
      hs__strlen(h->trigger) > HS__MAX_STRING ||
      hs__strlen(h->scan_note) > HS__MAX_STRING)
    return 0;
  for (uint32_t i = 0; i < h->argc; i++)
    if (hs__strlen(h->argv[i]) > HS__MAX_STRING)
      return 0;
  return 1;
}

static void hs__put_head(hs__writer *w, const hs_header *h) {
  const uint64_t numbers[] = {h->flags,     (uint32_t)h->pid, (uint32_t)h->ppid,
                              h->number,    h->epoch,         h->time_ns,
                              h->start_ns,  h->live_blocks,   h->live_bytes,
                              h->rss_bytes, h->sample_bytes,  h->pause_ns,
                              h->max_depth};
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
    hs__put_varint(w, numbers[i]);
  hs__put_str(w, h->exe);
  hs__put_str(w, h->trigger);
  hs__put_varint(w, h->argc);
  for (uint32_t i = 0; i < h->argc; i++)
    hs__put_str(w, h->argv[i]);
  hs__put_str(w, h->scan_note);
}

static int hs__write_preamble(hs__writer *w) {
  uint8_t pre[HS__PREAMBLE_SIZE] = {0};
  /* the magic is 8 bytes in the file, with no NUL */
  // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
  memcpy(pre, HS__MAGIC, HS__MAGIC_SIZE);
  hs__le32(pre + HS__MAGIC_SIZE, HS_FORMAT_VERSION);
  return hs__write_all(w->fd, pre, sizeof pre);
}

int hs__writer_header(hs__writer *w, const hs_header *h) {
  if (!w || w->state != HS__W_NEW || !hs__header_valid(h))
    return HS_EINVAL;
  /* HEAD is one record however long, so its length is counted first */
  w->measuring = 1;
  w->measured = 0;
  hs__put_head(w, h);
  w->measuring = 0;
  if (w->measured > UINT32_MAX)
    return HS_EINVAL;
  int err = hs__write_preamble(w);
  if (!err)
    err = hs__record_head(w, HS__TAG_HEAD, (uint32_t)w->measured);
  w->err = err;
  w->state = HS__W_HEAD;
  w->tag = HS__TAG_RAW;
  w->want_blocks = h->live_blocks;
  w->want_bytes = h->live_bytes;
  w->flags = h->flags;
  hs__put_head(w, h);
  return w->err;
}

/* ------------------------------------------------------------------ */
/* sections */

int hs__writer_module(hs__writer *w, const hs_module *m) {
  HS__TRY(hs__may_enter(w, HS__W_MODS));
  if (!m || m->end < m->start || m->build_id_len > HS__MAX_STRING ||
      (m->build_id_len > 0 && !m->build_id) ||
      hs__strlen(m->path) > HS__MAX_STRING)
    return HS_EINVAL;
  hs__enter(w, HS__W_MODS, HS__TAG_MODS);
  hs__put_varint(w, m->start);
  hs__put_varint(w, m->end - m->start);
  hs__put_varint(w, m->bias);
  hs__put_varint(w, m->flags);
  hs__put_bytes(w, m->build_id, m->build_id_len);
  hs__put_str(w, m->path);
  w->modules++;
  return w->err;
}

int hs__writer_stack(hs__writer *w, const uint64_t *frames, uint32_t depth) {
  HS__TRY(hs__may_enter(w, HS__W_STKS));
  /* the last index must still fit a block's u32 stack field */
  if ((depth > 0 && !frames) || depth > HS__MAX_DEPTH ||
      w->stacks >= UINT32_MAX)
    return HS_EINVAL;
  hs__enter(w, HS__W_STKS, HS__TAG_STKS);
  hs__put_varint(w, depth);
  for (uint32_t i = 0; i < depth; i++)
    hs__put_varint(w,
                   i == 0 ? frames[0] : hs__zigzag(frames[i] - frames[i - 1]));
  w->stacks++;
  return w->err;
}

int hs__writer_block(hs__writer *w, const hs_block *b) {
  HS__TRY(hs__may_enter(w, HS__W_BLKS));
  if (!b || (w->blocks > 0 && b->addr <= w->last_addr) ||
      b->stack > w->stacks || b->size > UINT64_MAX - w->bytes)
    return HS_EINVAL;
  hs__enter(w, HS__W_BLKS, HS__TAG_BLKS);
  hs__put_varint(w, w->blocks > 0 ? b->addr - w->last_addr : b->addr);
  hs__put_varint(w, b->size);
  hs__put_varint(w, b->stack);
  hs__put_varint(w, b->epoch);
  w->blocks++;
  w->bytes += b->size;
  w->last_addr = b->addr;
  return w->err;
}

int hs__writer_root(hs__writer *w, const hs_root *r) {
  HS__TRY(hs__may_enter(w, HS__W_ROOT));
  if (!r || r->kind < HS_ROOT_GLOBAL || r->kind > HS_ROOT_START ||
      r->end < r->start || hs__strlen(r->name) > HS__MAX_STRING ||
      w->roots >= UINT32_MAX)
    return HS_EINVAL;
  hs__enter(w, HS__W_ROOT, HS__TAG_ROOT);
  hs__put_varint(w, r->kind);
  hs__put_varint(w, r->kind == HS_ROOT_GLOBAL ? r->module : 0);
  hs__put_varint(w, (uint32_t)r->tid);
  hs__put_varint(w, r->start);
  hs__put_varint(w, r->end - r->start);
  hs__put_str(w, r->name);
  w->roots++;
  return w->err;
}

int hs__writer_reach(hs__writer *w, const hs_reach *r) {
  HS__TRY(hs__may_enter(w, HS__W_RCHB));
  if (!r || w->reaches >= w->blocks || r->kind > HS_REACH_BLOCK ||
      (r->kind == HS_REACH_ROOT && r->index >= w->roots) ||
      (r->kind == HS_REACH_BLOCK && r->index >= w->blocks))
    return HS_EINVAL;
  hs__enter(w, HS__W_RCHB, HS__TAG_RCHB);
  if (r->kind == HS_REACH_NONE) {
    hs__put_varint(w, 0);
  } else {
    hs__put_varint(w, (uint64_t)r->index << 2 | r->kind);
    hs__put_varint(w, r->from);
    hs__put_varint(w, r->target);
  }
  w->reaches++;
  return w->err;
}

int hs__writer_gens_module(hs__writer *w, uint32_t load_gen,
                           uint32_t unload_gen) {
  HS__TRY(hs__may_enter(w, HS__W_GENS));
  if (w->lives >= w->modules || w->gens > 0 ||
      (unload_gen && unload_gen <= load_gen))
    return HS_EINVAL;
  hs__enter(w, HS__W_GENS, HS__TAG_GENS);
  hs__put_varint(w, load_gen);
  hs__put_varint(w, unload_gen);
  w->lives++;
  return w->err;
}

int hs__writer_gens_stack(hs__writer *w, uint32_t gen) {
  HS__TRY(hs__may_enter(w, HS__W_GENS));
  if (w->lives != w->modules || w->gens >= w->stacks)
    return HS_EINVAL;
  hs__enter(w, HS__W_GENS, HS__TAG_GENS);
  hs__put_varint(w, gen);
  w->gens++;
  return w->err;
}

/* Generations for every module and every stack, or none. */
static int hs__gens_whole(const hs__writer *w) {
  return w->state != HS__W_GENS ||
         (w->lives == w->modules && w->gens == w->stacks);
}

int hs__writer_graph(hs__writer *w, const uint8_t *items, size_t len) {
  HS__TRY(hs__may_enter(w, HS__W_GRPH));
  const uint32_t want = HS_SNAP_SCANNED | HS_SNAP_GRAPH;
  if ((len > 0 && !items) || (w->flags & want) != want || !hs__gens_whole(w))
    return HS_EINVAL;
  hs__enter(w, HS__W_GRPH, HS__TAG_GRPH);
  hs__put(w, items, len);
  return w->err;
}

int hs__writer_finish(hs__writer *w) {
  HS__TRY(hs__may_enter(w, HS__W_GRPH));
  if (!hs__gens_whole(w))
    return HS_EINVAL;
  /* a reader refuses a header that disagrees with the blocks */
  if (w->blocks != w->want_blocks || w->bytes != w->want_bytes)
    return HS_EINVAL;
  /* a graph is a scan's */
  if ((w->flags & HS_SNAP_GRAPH) && !(w->flags & HS_SNAP_SCANNED))
    return HS_EINVAL;
  /* a scanned snapshot says how every block was reached, or none is */
  if (w->reaches != ((w->flags & HS_SNAP_SCANNED) ? w->blocks : 0))
    return HS_EINVAL;
  hs__flush(w);
  uint8_t end[HS__RECORD_HEAD_SIZE] = {0};
  hs__le32(end, HS__TAG_END);
  if (!w->err)
    w->err = hs__compress(w, end, sizeof end, ZSTD_e_end);
  w->state = HS__W_DONE;
  return w->err;
}
