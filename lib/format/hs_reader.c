/* hs_reader.c - opens and validates snapshot files (hs_snapshot.h).
 *
 * A snapshot is read in three steps: the preamble is checked by value, the
 * one zstd frame is decompressed (its XXH64 checksum covers the body) into
 * a buffer that may not outgrow what the file size can justify, and the
 * body's records are parsed into arrays. Every count and length is checked
 * against the bytes that carry it before anything is allocated for it, so
 * what this file allocates stays within a small factor of the body size.
 * It runs in the tools only and uses malloc freely. Layout: docs/format.md */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd_errors.h>

#include "hs_format.h"
#include "hs_varint.h"

struct hs_snapshot {
  hs_header header;
  char *head_strings; /* exe, trigger and argv, NUL-terminated */
  const char **argv;  /* argc + 1 pointers, the last NULL */
  hs_module *modules; /* in file order */
  size_t module_count;
  uint8_t *module_bytes;      /* build ids and paths */
  const hs_module **by_start; /* loaded modules by start, then unloaded */
  uint64_t *reach;            /* highest end in by_start[group start .. i] */
  size_t loaded_count;        /* modules in the first group of by_start */
  hs_stack *stacks;           /* stack_count, stack 0 included */
  size_t stack_count;
  uint64_t *frames; /* the frames of all stacks */
  hs_block *blocks;
  size_t block_count;
  hs_root *roots; /* the reachability scan's, root_count of them */
  size_t root_count;
  char *root_names;
  hs_reach *reaches;    /* block_count of them, or NULL: no scan */
  uint32_t *lives;      /* GENS: load, unload per module; NULL without */
  uint32_t *stack_gen;  /* GENS: per stack, [0] unused */
  uint32_t *edge_first; /* GRPH: block b's targets are edges[first[b] .. */
  uint32_t *edges;      /* first[b + 1]); NULL without a graph */
  hs_root_edge *root_edges;
  size_t root_edge_count;
};

/* Bytes [p, end) still to parse in one section. */
typedef struct hs__cur {
  const uint8_t *p;
  const uint8_t *end;
} hs__cur;

/* The sections of a body, each the concatenation of its records. */
typedef struct hs__sections {
  hs__cur head, mods, stks, blks, root, rchb, gens, grph;
} hs__sections;

/* Bytes read from a descriptor at a time, and the initial capacity of the
 * growing buffers. */
#define HS__READ_CHUNK ((size_t)64 << 10)

/* ------------------------------------------------------------------ */
/* items */

static size_t hs__left(const hs__cur *c) {
  return (size_t)(c->end - c->p);
}

static int hs__get(hs__cur *c, uint64_t *v) {
  return hs__varint_get(&c->p, c->end, v);
}

static int hs__get32(hs__cur *c, uint32_t *v) {
  uint64_t x;
  HS__TRY(hs__get(c, &x));
  if (x > UINT32_MAX)
    return HS_ECORRUPT;
  *v = (uint32_t)x;
  return 0;
}

/* A length-prefixed byte string, left in place. */
static int hs__get_bytes(hs__cur *c, const uint8_t **p, uint32_t *n) {
  uint64_t len;
  HS__TRY(hs__get(c, &len));
  if (len > HS__MAX_STRING || len > hs__left(c))
    return HS_ECORRUPT;
  *p = c->p;
  *n = (uint32_t)len;
  c->p += len;
  return 0;
}

/* A string copied to *arena with a NUL; the caller sized the arena from
 * the section, where each string takes at least its length + 1 bytes.
 * A NUL inside would hide the rest of the string from every C caller. */
static int hs__get_str(hs__cur *c, char **arena, const char **out) {
  const uint8_t *p;
  uint32_t n;
  HS__TRY(hs__get_bytes(c, &p, &n));
  if (memchr(p, '\0', n))
    return HS_ECORRUPT;
  memcpy(*arena, p, n);
  (*arena)[n] = '\0';
  *out = *arena;
  *arena += n + 1;
  return 0;
}

static uint32_t hs__le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* calloc that never returns NULL for a zero count, so empty arrays are
 * still valid pointers for the accessors. */
static void *hs__array(size_t n, size_t size) {
  return calloc(n ? n : 1, size);
}

/* ------------------------------------------------------------------ */
/* the source: the file's bytes, a chunk at a time */

/* Where a snapshot's bytes come from: a buffer holding all of them, or a
 * descriptor read a chunk at a time. Reading from a descriptor stops as
 * soon as the bytes read so far break a rule (a bad preamble, a frame
 * longer than its body justifies), so a huge file or a device that never
 * ends costs one chunk, not a read to its end. */
typedef struct hs__src {
  int fd;           /* -1: `in` already holds every byte */
  int eof;          /* nothing more to read */
  ZSTD_inBuffer in; /* the bytes at hand; in.pos is the first unused */
  uint8_t *chunk;   /* fd's buffer, HS__READ_CHUNK bytes */
  uint64_t taken;   /* bytes taken from the file so far, preamble included */
  uint64_t size;    /* the frame's size, or HS__SIZE_UNKNOWN (a pipe) */
} hs__src;

#define HS__SIZE_UNKNOWN UINT64_MAX

static const uint8_t *hs__src_at(const hs__src *s) {
  return (const uint8_t *)s->in.src + s->in.pos;
}

static size_t hs__src_have(const hs__src *s) {
  return s->in.size - s->in.pos;
}

/* Reads until `want` bytes are at hand or the file ends, keeping the
 * unused ones. @return : 0 or -errno. */
static int hs__src_fill(hs__src *s, size_t want) {
  assert(want <= HS__READ_CHUNK);
  while (!s->eof && hs__src_have(s) < want) {
    const size_t have = hs__src_have(s);
    memmove(s->chunk, hs__src_at(s), have);
    s->in = (ZSTD_inBuffer){s->chunk, have, 0};
    const ssize_t k = read(s->fd, s->chunk + have, HS__READ_CHUNK - have);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -errno;
    s->eof = k == 0;
    s->in.size += (size_t)k;
    s->taken += (uint64_t)k;
  }
  return 0;
}

/* Bytes of the frame zstd has taken in so far. */
static uint64_t hs__src_used(const hs__src *s) {
  return s->taken - hs__src_have(s) - HS__PREAMBLE_SIZE;
}

/* ------------------------------------------------------------------ */
/* preamble and frame */

static int hs__check_preamble(const uint8_t *data, size_t len,
                              uint32_t *version) {
  if (len == 0)
    return HS_EEMPTY;
  const size_t m = len < HS__MAGIC_SIZE ? len : HS__MAGIC_SIZE;
  if (memcmp(data, HS__MAGIC, m) != 0)
    return HS_EMAGIC;
  if (len < HS__PREAMBLE_SIZE)
    return HS_ETRUNC;
  *version = hs__le32(data + HS__MAGIC_SIZE);
  if (*version > HS_FORMAT_VERSION)
    return HS_EVERSION;
  if (*version == 0 || hs__le32(data + HS__MAGIC_SIZE + 4) != 0)
    return HS_ECORRUPT;
  return 0;
}

/* The preamble, checked before anything past it is read. */
static int hs__src_preamble(hs__src *s, uint32_t *version) {
  HS__TRY(hs__src_fill(s, HS__PREAMBLE_SIZE));
  HS__TRY(hs__check_preamble(hs__src_at(s), hs__src_have(s), version));
  s->in.pos += HS__PREAMBLE_SIZE;
  return 0;
}

/* A plain zstd frame with the content checksum: without it nothing would
 * check the body. */
static int hs__check_frame(hs__src *s) {
  HS__TRY(hs__src_fill(s, ZSTD_FRAMEHEADERSIZE_MAX));
  ZSTD_frameHeader fh;
  const size_t r = ZSTD_getFrameHeader(&fh, hs__src_at(s), hs__src_have(s));
  if (ZSTD_isError(r))
    return HS_ECORRUPT;
  if (r > 0)
    return HS_ETRUNC;
  if (fh.frameType != ZSTD_frame || !fh.checksumFlag)
    return HS_ECORRUPT;
  return 0;
}

static int hs__unzstd_error(size_t code) {
  switch (ZSTD_getErrorCode(code)) {
  case ZSTD_error_checksum_wrong:
    return HS_ECHECKSUM;
  case ZSTD_error_memory_allocation:
    return HS_ENOMEM;
  default:
    return HS_ECORRUPT;
  }
}

/* The most a frame of `len` compressed bytes may decompress to. */
static uint64_t hs__body_cap(uint64_t len) {
  if (len >= (HS__BODY_MAX - HS__BODY_BASE) / HS__BODY_RATIO)
    return HS__BODY_MAX;
  return HS__BODY_BASE + len * HS__BODY_RATIO;
}

/* The cap of the body: by the frame's size when known; from a pipe, by
 * the bytes read so far, so it holds for every prefix. */
static uint64_t hs__src_cap(const hs__src *s) {
  if (s->size != HS__SIZE_UNKNOWN)
    return hs__body_cap(s->size);
  return hs__body_cap(s->taken - HS__PREAMBLE_SIZE);
}

/* Grows the output buffer to take more body, up to cap + 1 bytes: one byte
 * past the cap is how an oversized body is noticed. */
static int hs__grow(ZSTD_outBuffer *out, uint64_t cap) {
  if (out->size > cap)
    return HS_ETOOBIG;
  uint64_t want = (uint64_t)out->size * 2;
  if (want > cap + 1)
    want = cap + 1;
  if (want > SIZE_MAX)
    return HS_ENOMEM;
  void *const p = realloc(out->dst, (size_t)want);
  if (!p)
    return HS_ENOMEM;
  out->dst = p;
  out->size = (size_t)want;
  return 0;
}

/* The frame may not outgrow its body: zstd never needs to (a block it
 * cannot shrink is stored as is), and a run of empty blocks could
 * otherwise go on for as long as the file does. */
static int hs__check_used(const hs__src *s, size_t body) {
  const uint64_t most = HS__FRAME_SLACK + HS__FRAME_RATIO * (uint64_t)body;
  return hs__src_used(s) > most ? HS_ETOOBIG : 0;
}

/* The HEAD record is whole in out (it is the first record). */
static int hs__head_whole(const ZSTD_outBuffer *out) {
  const uint8_t *b = out->dst;
  return out->pos >= HS__RECORD_HEAD_SIZE &&
         out->pos - HS__RECORD_HEAD_SIZE >= hs__le32(b + 4);
}

/* After the frame: a body within its cap, and nothing more in the file. */
static int hs__src_end(hs__src *s, const ZSTD_outBuffer *out) {
  if (out->pos > hs__src_cap(s))
    return HS_ETOOBIG;
  HS__TRY(hs__src_fill(s, 1));
  return hs__src_have(s) ? HS_ECORRUPT : 0; /* bytes after the frame */
}

/* Decodes the frame into out (which the caller frees): all of it, or with
 * head_only until the HEAD record is whole, under HS__BODY_BASE. */
static int hs__decode(ZSTD_DCtx *d, hs__src *s, ZSTD_outBuffer *out,
                      int head_only) {
  for (;;) {
    HS__TRY(hs__src_fill(s, 1));
    if (out->pos == out->size)
      HS__TRY(hs__grow(out, head_only ? HS__BODY_BASE : hs__src_cap(s)));
    const size_t r = ZSTD_decompressStream(d, out, &s->in);
    if (ZSTD_isError(r))
      return hs__unzstd_error(r);
    HS__TRY(hs__check_used(s, out->pos));
    if (head_only && hs__head_whole(out))
      return hs__le32(out->dst) == HS__TAG_HEAD ? 0 : HS_ECORRUPT;
    if (r == 0)
      return head_only ? HS_ETRUNC : hs__src_end(s, out);
    /* room left over means zstd wants input, and there is none */
    if (s->eof && !hs__src_have(s) && out->pos < out->size)
      return HS_ETRUNC;
  }
}

static int hs__dctx_setup(ZSTD_DCtx *d) {
  const size_t r =
      ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, HS__MAX_WINDOW_LOG);
  return ZSTD_isError(r) ? HS_ENOMEM : 0;
}

/* A first size for the body: a guess from the frame's size when known,
 * not over HS__BODY_BASE, so a long file with a short frame in it costs
 * no more than a short file. */
static size_t hs__first_size(const hs__src *s, int head_only) {
  if (head_only || s->size == HS__SIZE_UNKNOWN)
    return HS__READ_CHUNK;
  const uint64_t guess = s->size * 4;
  if (guess < HS__READ_CHUNK)
    return HS__READ_CHUNK;
  return (size_t)(guess < HS__BODY_BASE ? guess : HS__BODY_BASE);
}

/* Decodes the frame after the preamble into *body (which the caller
 * frees), with its length in *body_len. */
static int hs__inflate(hs__src *s, int head_only, uint8_t **body,
                       size_t *body_len) {
  HS__TRY(hs__check_frame(s));
  const size_t first = hs__first_size(s, head_only);
  ZSTD_outBuffer out = {malloc(first), first, 0};
  ZSTD_DCtx *const d = ZSTD_createDCtx();
  int err = out.dst && d ? hs__dctx_setup(d) : HS_ENOMEM;
  if (!err)
    err = hs__decode(d, s, &out, head_only);
  ZSTD_freeDCtx(d);
  if (err) {
    free(out.dst);
    return err;
  }
  *body = out.dst;
  *body_len = out.pos;
  return 0;
}

/* ------------------------------------------------------------------ */
/* records */

/* Order of the known sections; 0 for tags this reader does not know. */
static int hs__rank(uint32_t tag) {
  switch (tag) {
  case HS__TAG_MODS:
    return 1;
  case HS__TAG_STKS:
    return 2;
  case HS__TAG_BLKS:
    return 3;
  case HS__TAG_ROOT:
    return 4;
  case HS__TAG_RCHB:
    return 5;
  case HS__TAG_GENS:
    return 6;
  case HS__TAG_GRPH:
    return 7;
  default:
    return 0;
  }
}

/* Appends the payload at `pos` to section `sec` (starting it when `fresh`),
 * moving it down over the record heads and skipped records before it, so
 * that each section ends up contiguous. */
static void hs__append(uint8_t *body, size_t *w, size_t pos, uint32_t len,
                       hs__cur *sec, int fresh) {
  memmove(body + *w, body + pos, len);
  if (fresh)
    sec->p = body + *w;
  *w += len;
  sec->end = body + *w;
}

/* Splits the body into sections, in place (see hs__append). */
static int hs__split(uint8_t *body, size_t len, hs__sections *s) {
  hs__cur *const sec[] = {&s->head, &s->mods, &s->stks, &s->blks,
                          &s->root, &s->rchb, &s->gens, &s->grph};
  for (int i = 0; i < 8; i++)
    sec[i]->p = sec[i]->end = body;
  size_t pos = 0, w = 0;
  int rank = -1;
  for (;;) {
    if (len - pos < HS__RECORD_HEAD_SIZE)
      return HS_ETRUNC; /* the body ended before END */
    const uint32_t tag = hs__le32(body + pos);
    const uint32_t n = hs__le32(body + pos + 4);
    pos += HS__RECORD_HEAD_SIZE;
    if (n > len - pos)
      return HS_ETRUNC;
    if ((rank < 0) != (tag == HS__TAG_HEAD))
      return HS_ECORRUPT; /* HEAD is the first record and the only one */
    if (tag == HS__TAG_END)
      return n == 0 && pos == len ? 0 : HS_ECORRUPT;
    const int r = tag == HS__TAG_HEAD ? 0 : hs__rank(tag);
    if (r > 0 && r < rank)
      return HS_ECORRUPT;
    if (r > 0 || rank < 0) {
      hs__append(body, &w, pos, n, sec[r], r != rank);
      rank = r;
    }
    pos += n;
  }
}

/* ------------------------------------------------------------------ */
/* HEAD */

static int hs__get_pid(hs__cur *c, int32_t *pid) {
  uint32_t v;
  HS__TRY(hs__get32(c, &v));
  *pid = (int32_t)v; /* written as the u32 of its two's complement */
  return 0;
}

static int hs__head_numbers(hs__cur *c, hs_header *h) {
  HS__TRY(hs__get32(c, &h->flags));
  HS__TRY(hs__get_pid(c, &h->pid));
  HS__TRY(hs__get_pid(c, &h->ppid));
  HS__TRY(hs__get32(c, &h->number));
  HS__TRY(hs__get32(c, &h->epoch));
  uint64_t *const u64s[] = {&h->time_ns,    &h->start_ns,  &h->live_blocks,
                            &h->live_bytes, &h->rss_bytes, &h->sample_bytes,
                            &h->pause_ns};
  for (size_t i = 0; i < sizeof u64s / sizeof u64s[0]; i++)
    HS__TRY(hs__get(c, u64s[i]));
  return hs__get32(c, &h->max_depth);
}

static int hs__head_argv(hs_snapshot *s, hs__cur *c, char **arena) {
  hs_header *const h = &s->header;
  HS__TRY(hs__get32(c, &h->argc));
  /* each string takes at least one byte */
  if (h->argc > HS__MAX_ARGC || h->argc > hs__left(c))
    return HS_ECORRUPT;
  s->argv = hs__array((size_t)h->argc + 1, sizeof *s->argv);
  if (!s->argv)
    return HS_ENOMEM;
  for (uint32_t i = 0; i < h->argc; i++)
    HS__TRY(hs__get_str(c, arena, &s->argv[i]));
  h->argv = s->argv;
  return 0;
}

/* Bytes after the last field this reader knows are fields of a later
 * version, and are ignored. */
static int hs__parse_head(hs_snapshot *s, hs__cur c) {
  hs_header *const h = &s->header;
  HS__TRY(hs__head_numbers(&c, h));
  s->head_strings = malloc(hs__left(&c) + 1);
  if (!s->head_strings)
    return HS_ENOMEM;
  char *arena = s->head_strings;
  HS__TRY(hs__get_str(&c, &arena, &h->exe));
  HS__TRY(hs__get_str(&c, &arena, &h->trigger));
  HS__TRY(hs__head_argv(s, &c, &arena));
  h->scan_note = "";
  return c.p < c.end ? hs__get_str(&c, &arena, &h->scan_note) : 0;
}

/* ------------------------------------------------------------------ */
/* MODS */

/* One module; build_id and *path are left pointing into the section. */
static int hs__module_item(hs__cur *c, hs_module *m, const uint8_t **path,
                           uint32_t *path_len) {
  uint64_t size;
  HS__TRY(hs__get(c, &m->start));
  HS__TRY(hs__get(c, &size));
  if (size > UINT64_MAX - m->start)
    return HS_ECORRUPT;
  m->end = m->start + size;
  HS__TRY(hs__get(c, &m->bias));
  HS__TRY(hs__get32(c, &m->flags));
  HS__TRY(hs__get_bytes(c, &m->build_id, &m->build_id_len));
  HS__TRY(hs__get_bytes(c, path, path_len));
  return memchr(*path, '\0', *path_len) ? HS_ECORRUPT : 0;
}

/* Copies a module's bytes into the arena (sized like the section). */
static void hs__module_keep(hs_module *m, const uint8_t *path,
                            uint32_t path_len, uint8_t **arena) {
  uint8_t *p = *arena;
  memcpy(p, m->build_id, m->build_id_len);
  m->build_id = p;
  p += m->build_id_len;
  memcpy(p, path, path_len);
  p[path_len] = '\0';
  m->path = (const char *)p;
  *arena = p + path_len + 1;
}

/* Reads every module: counts them when out is NULL, else stores them. */
static int hs__modules_pass(hs__cur c, hs_module *out, uint8_t *arena,
                            size_t *count) {
  size_t n = 0;
  for (; c.p < c.end; n++) {
    hs_module m = {0};
    const uint8_t *path;
    uint32_t path_len;
    HS__TRY(hs__module_item(&c, &m, &path, &path_len));
    if (out) {
      hs__module_keep(&m, path, path_len, &arena);
      out[n] = m;
    }
  }
  *count = n;
  return 0;
}

/* Loaded modules first (they are what is mapped now), then by start. */
static int hs__module_cmp(const void *a, const void *b) {
  const hs_module *const x = *(const hs_module *const *)a;
  const hs_module *const y = *(const hs_module *const *)b;
  const int xu = (x->flags & HS_MODULE_UNLOADED) != 0;
  const int yu = (y->flags & HS_MODULE_UNLOADED) != 0;
  if (xu != yu)
    return xu - yu;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x < y ? -1 : x > y; /* file order: a stable sort */
}

static void hs__index_modules(hs_snapshot *s) {
  const size_t n = s->module_count;
  for (size_t i = 0; i < n; i++)
    s->by_start[i] = &s->modules[i];
  qsort(s->by_start, n, sizeof(const hs_module *), hs__module_cmp);
  s->loaded_count = 0;
  while (s->loaded_count < n &&
         !(s->by_start[s->loaded_count]->flags & HS_MODULE_UNLOADED))
    s->loaded_count++;
  for (size_t i = 0; i < n; i++) {
    const uint64_t end = s->by_start[i]->end;
    const int first = i == 0 || i == s->loaded_count;
    s->reach[i] = first || end > s->reach[i - 1] ? end : s->reach[i - 1];
  }
}

static int hs__parse_modules(hs_snapshot *s, hs__cur c) {
  size_t n;
  HS__TRY(hs__modules_pass(c, NULL, NULL, &n));
  s->modules = hs__array(n, sizeof *s->modules);
  s->module_bytes = hs__array(hs__left(&c), 1);
  s->by_start = hs__array(n, sizeof(const hs_module *));
  s->reach = hs__array(n, sizeof *s->reach);
  if (!s->modules || !s->module_bytes || !s->by_start || !s->reach)
    return HS_ENOMEM;
  HS__TRY(hs__modules_pass(c, s->modules, s->module_bytes, &n));
  s->module_count = n;
  hs__index_modules(s);
  return 0;
}

/* ------------------------------------------------------------------ */
/* STKS */

/* One stack; frames (NULL when counting) receives its depth frames. */
static int hs__stack_item(hs__cur *c, uint64_t *frames, uint32_t *depth) {
  HS__TRY(hs__get32(c, depth));
  if (*depth > HS__MAX_DEPTH || *depth > hs__left(c))
    return HS_ECORRUPT;
  uint64_t frame = 0;
  for (uint32_t i = 0; i < *depth; i++) {
    uint64_t v;
    HS__TRY(hs__get(c, &v));
    frame = i == 0 ? v : frame + hs__unzigzag(v);
    if (frames)
      frames[i] = frame;
  }
  return 0;
}

/* Reads every stack: counts stacks and frames when s->stacks is NULL,
 * else stores them after stack 0. */
static int hs__stacks_pass(hs_snapshot *s, hs__cur c, size_t *count,
                           size_t *frames) {
  size_t n = 0, total = 0;
  for (; c.p < c.end; n++) {
    uint64_t *const f = s->stacks ? s->frames + total : NULL;
    uint32_t depth;
    HS__TRY(hs__stack_item(&c, f, &depth));
    if (s->stacks)
      s->stacks[n + 1] = (hs_stack){f, depth};
    total += depth;
  }
  /* a block's u32 stack field must reach every stack */
  if (n >= UINT32_MAX)
    return HS_ECORRUPT;
  *count = n;
  *frames = total;
  return 0;
}

static int hs__parse_stacks(hs_snapshot *s, hs__cur c) {
  size_t n, total;
  HS__TRY(hs__stacks_pass(s, c, &n, &total));
  s->frames = hs__array(total, sizeof *s->frames);
  s->stacks = hs__array(n + 1, sizeof *s->stacks);
  if (!s->frames || !s->stacks)
    return HS_ENOMEM;
  HS__TRY(hs__stacks_pass(s, c, &n, &total));
  s->stack_count = n + 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* BLKS */

/* One block; *addr holds the previous address (first: no previous). */
static int hs__block_item(hs__cur *c, uint64_t *addr, int first, hs_block *b) {
  uint64_t delta;
  HS__TRY(hs__get(c, &delta));
  if (!first && (delta == 0 || delta > UINT64_MAX - *addr))
    return HS_ECORRUPT; /* addresses strictly ascend */
  b->addr = first ? delta : *addr + delta;
  *addr = b->addr;
  HS__TRY(hs__get(c, &b->size));
  HS__TRY(hs__get32(c, &b->stack));
  return hs__get32(c, &b->epoch);
}

/* Reads every block: counts them when s->blocks is NULL, else stores them.
 * The blocks must match what the header says there are. */
static int hs__blocks_pass(hs_snapshot *s, hs__cur c, size_t *count) {
  size_t n = 0;
  uint64_t addr = 0, bytes = 0;
  for (; c.p < c.end; n++) {
    hs_block b;
    HS__TRY(hs__block_item(&c, &addr, n == 0, &b));
    if (b.stack >= s->stack_count || b.size > UINT64_MAX - bytes)
      return HS_ECORRUPT;
    bytes += b.size;
    if (s->blocks)
      s->blocks[n] = b;
  }
  if (n != s->header.live_blocks || bytes != s->header.live_bytes)
    return HS_ECORRUPT;
  *count = n;
  return 0;
}

static int hs__parse_blocks(hs_snapshot *s, hs__cur c) {
  size_t n;
  HS__TRY(hs__blocks_pass(s, c, &n));
  s->blocks = hs__array(n, sizeof *s->blocks);
  if (!s->blocks)
    return HS_ENOMEM;
  HS__TRY(hs__blocks_pass(s, c, &n));
  s->block_count = n;
  return 0;
}

/* ------------------------------------------------------------------ */
/* ROOT and RCHB: the reachability scan */

static int hs__root_item(hs_snapshot *s, hs__cur *c, hs_root *r, char **arena) {
  uint64_t len;
  uint32_t tid;
  HS__TRY(hs__get32(c, &r->kind));
  HS__TRY(hs__get32(c, &r->module));
  HS__TRY(hs__get32(c, &tid));
  HS__TRY(hs__get(c, &r->start));
  HS__TRY(hs__get(c, &len));
  r->tid = (int32_t)tid;
  if (r->kind < HS_ROOT_GLOBAL || r->kind > HS_ROOT_START ||
      len > UINT64_MAX - r->start ||
      (r->kind == HS_ROOT_GLOBAL ? r->module >= s->module_count
                                 : r->module != 0))
    return HS_ECORRUPT;
  r->end = r->start + len;
  return hs__get_str(c, arena, &r->name);
}

static int hs__parse_roots(hs_snapshot *s, hs__cur c) {
  /* a root takes at least 6 bytes */
  const size_t most = hs__left(&c) / 6;
  s->roots = hs__array(most, sizeof *s->roots);
  s->root_names = malloc(hs__left(&c) + 1);
  if (!s->roots || !s->root_names)
    return HS_ENOMEM;
  char *arena = s->root_names;
  while (c.p < c.end) {
    if (s->root_count == most || s->root_count == UINT32_MAX)
      return HS_ECORRUPT;
    HS__TRY(hs__root_item(s, &c, &s->roots[s->root_count++], &arena));
  }
  return 0;
}

static int hs__reach_item(const hs_snapshot *s, hs__cur *c, hs_reach *r) {
  uint64_t v;
  HS__TRY(hs__get(c, &v));
  memset(r, 0, sizeof *r);
  if (v == 0)
    return 0;
  r->kind = (uint32_t)(v & 3);
  const uint64_t index = v >> 2;
  if ((r->kind == HS_REACH_ROOT && index >= s->root_count) ||
      (r->kind == HS_REACH_BLOCK && index >= s->block_count) ||
      r->kind == HS_REACH_NONE || r->kind > HS_REACH_BLOCK)
    return HS_ECORRUPT;
  r->index = (uint32_t)index;
  HS__TRY(hs__get(c, &r->from));
  return hs__get(c, &r->target);
}

/* A retainer chain must end at a root: a cycle would send a reader
 * following it round forever, and a block the scan did not reach cannot
 * have passed a pointer on (the walk only reads reached blocks), so a
 * chain ending at one holds nothing a reader could name. Linear: each
 * block is settled once. */
static int hs__reach_rooted(const hs_snapshot *s) {
  uint8_t *state = calloc(s->block_count + 1, 1); /* 0 new 1 open 2 ok */
  if (!state)
    return HS_ENOMEM;
  int err = 0;
  for (size_t i = 0; i < s->block_count && !err; i++) {
    size_t b = i;
    while (state[b] == 0 && s->reaches[b].kind == HS_REACH_BLOCK)
      state[b] = 1, b = s->reaches[b].index;
    /* the walk stops at a settled chain, a root, an unreached block, or
     * (a cycle) a block of its own chain */
    if (state[b] == 1 || (b != i && s->reaches[b].kind == HS_REACH_NONE))
      err = HS_ECORRUPT;
    for (size_t j = i; !err && state[j] == 1; j = s->reaches[j].index)
      state[j] = 2;
  }
  free(state);
  return err;
}

static int hs__parse_reach(hs_snapshot *s, hs__cur c) {
  const int scanned = (s->header.flags & HS_SNAP_SCANNED) != 0;
  if (!scanned)
    return c.p == c.end ? 0 : HS_ECORRUPT;
  /* one record of at least a byte per block */
  if (s->block_count > hs__left(&c))
    return HS_ECORRUPT;
  s->reaches = hs__array(s->block_count + 1, sizeof *s->reaches);
  if (!s->reaches)
    return HS_ENOMEM;
  for (size_t i = 0; i < s->block_count; i++)
    HS__TRY(hs__reach_item(s, &c, &s->reaches[i]));
  return c.p == c.end ? hs__reach_rooted(s) : HS_ECORRUPT;
}

/* ------------------------------------------------------------------ */
/* whole snapshots */

/* ------------------------------------------------------------------ */
/* GENS */

/* A life in load generations: loaded in `load`, unloaded when `unload`
 * began (0: loaded), which cannot come first. */
static int hs__life_item(hs__cur *c, uint32_t *life) {
  HS__TRY(hs__get32(c, &life[0]));
  HS__TRY(hs__get32(c, &life[1]));
  return life[1] && life[1] <= life[0] ? HS_ECORRUPT : 0;
}

/* Empty, or one life per module then one generation per stack. Each item
 * takes two bytes or one at least: the section's size bounds the arrays. */
static int hs__parse_gens(hs_snapshot *s, hs__cur c) {
  if (c.p == c.end)
    return 0;
  if (2 * s->module_count + s->stack_count - 1 > hs__left(&c))
    return HS_ECORRUPT;
  s->lives = hs__array(2 * s->module_count + 1, sizeof *s->lives);
  s->stack_gen = hs__array(s->stack_count, sizeof *s->stack_gen);
  if (!s->lives || !s->stack_gen)
    return HS_ENOMEM;
  for (size_t i = 0; i < s->module_count; i++)
    HS__TRY(hs__life_item(&c, &s->lives[2 * i]));
  for (size_t i = 1; i < s->stack_count; i++)
    HS__TRY(hs__get32(&c, &s->stack_gen[i]));
  return c.p == c.end ? 0 : HS_ECORRUPT;
}

/* ------------------------------------------------------------------ */
/* GRPH */

/* One item, checked; with `fill`, its edges go into the arrays (whose
 * edge_first[b] is then the next free slot of block b), else only counted
 * into edge_first[b + 1] and *n_root. */
static int hs__graph_item(hs_snapshot *s, hs__cur *c, int fill, size_t *n_root,
                          uint64_t *last) {
  uint64_t link, x;
  HS__TRY(hs__get(c, &link));
  uint64_t index = link >> 2;
  if ((link & 3) == HS__GRAPH_ROOT) {
    hs_root_edge e;
    HS__TRY(hs__get(c, &e.from));
    HS__TRY(hs__get(c, &x));
    if (index >= s->root_count || x >= s->block_count ||
        e.from >= s->roots[index].end - s->roots[index].start)
      return HS_ECORRUPT;
    e.root = (uint32_t)index;
    e.block = (uint32_t)x;
    if (fill)
      s->root_edges[*n_root] = e;
    ++*n_root;
    return 0;
  }
  index = *last + hs__unzigzag(index);
  if ((link & 3) != HS__GRAPH_BLOCK || index >= s->block_count)
    return HS_ECORRUPT;
  *last = index;
  for (uint64_t prev = index;;) {
    HS__TRY(hs__get(c, &x));
    if (x == 0)
      return 0;
    const uint64_t t = prev + hs__unzigzag(x - 1);
    if (t >= s->block_count || t == index)
      return HS_ECORRUPT;
    if (fill)
      s->edges[s->edge_first[index]++] = (uint32_t)t;
    else if (++s->edge_first[index + 1] == UINT32_MAX)
      return HS_ETOOBIG;
    prev = t;
  }
}

static int hs__graph_pass(hs_snapshot *s, hs__cur c, int fill) {
  size_t n_root = 0;
  uint64_t last = 0;
  while (c.p < c.end)
    HS__TRY(hs__graph_item(s, &c, fill, &n_root, &last));
  s->root_edge_count = n_root;
  return 0;
}

static int hs__cmp_u32(const void *x, const void *y) {
  const uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

static int hs__cmp_root_edge(const void *x, const void *y) {
  const hs_root_edge *a = x, *b = y;
  if (a->root != b->root)
    return a->root < b->root ? -1 : 1;
  return a->from < b->from ? -1 : a->from > b->from;
}

/* Each block's targets sorted and unique (a block may point into another
 * many times: one edge). */
static void hs__graph_tidy(hs_snapshot *s) {
  size_t w = 0;
  for (size_t b = 0; b < s->block_count; b++) {
    uint32_t *const t = s->edges + s->edge_first[b];
    const size_t n = s->edge_first[b + 1] - s->edge_first[b];
    if (n > 1)
      qsort(t, n, sizeof *t, hs__cmp_u32);
    s->edge_first[b] = (uint32_t)w;
    for (size_t i = 0; i < n; i++)
      if (i == 0 || t[i] != t[i - 1])
        s->edges[w++] = t[i];
  }
  s->edge_first[s->block_count] = (uint32_t)w;
  if (s->root_edge_count > 1)
    qsort(s->root_edges, s->root_edge_count, sizeof *s->root_edges,
          hs__cmp_root_edge);
}

/* Counts, then fills: every item takes a byte at least, so the arrays
 * stay within a small factor of the section. */
static int hs__parse_graph(hs_snapshot *s, hs__cur c) {
  const int flagged = (s->header.flags & HS_SNAP_GRAPH) != 0;
  if (!flagged)
    return c.p == c.end ? 0 : HS_ECORRUPT;
  if (!(s->header.flags & HS_SNAP_SCANNED))
    return HS_ECORRUPT;
  s->edge_first = hs__array(s->block_count + 1, sizeof *s->edge_first);
  if (!s->edge_first)
    return HS_ENOMEM;
  memset(s->edge_first, 0, (s->block_count + 1) * sizeof *s->edge_first);
  HS__TRY(hs__graph_pass(s, c, 0));
  for (size_t b = 0; b < s->block_count; b++) {
    if (s->edge_first[b + 1] > UINT32_MAX - 1 - s->edge_first[b])
      return HS_ETOOBIG;
    s->edge_first[b + 1] += s->edge_first[b];
  }
  s->edges = hs__array(s->edge_first[s->block_count] + 1, sizeof *s->edges);
  s->root_edges = hs__array(s->root_edge_count + 1, sizeof *s->root_edges);
  if (!s->edges || !s->root_edges)
    return HS_ENOMEM;
  HS__TRY(hs__graph_pass(s, c, 1));
  /* the fill moved each start to the next block's: one back */
  for (size_t b = s->block_count; b > 0; b--)
    s->edge_first[b] = s->edge_first[b - 1];
  s->edge_first[0] = 0;
  hs__graph_tidy(s);
  return 0;
}

static int hs__parse(hs_snapshot *s, uint8_t *body, size_t len) {
  hs__sections sec;
  HS__TRY(hs__split(body, len, &sec));
  HS__TRY(hs__parse_head(s, sec.head));
  HS__TRY(hs__parse_modules(s, sec.mods));
  HS__TRY(hs__parse_stacks(s, sec.stks));
  HS__TRY(hs__parse_blocks(s, sec.blks));
  HS__TRY(hs__parse_roots(s, sec.root));
  HS__TRY(hs__parse_reach(s, sec.rchb));
  HS__TRY(hs__parse_gens(s, sec.gens));
  return hs__parse_graph(s, sec.grph);
}

/* Reads a snapshot from s: preamble, frame, body. */
static int hs__read(hs__src *src, hs_snapshot **out) {
  uint32_t version;
  HS__TRY(hs__src_preamble(src, &version));
  uint8_t *body;
  size_t body_len;
  HS__TRY(hs__inflate(src, 0, &body, &body_len));
  hs_snapshot *const s = calloc(1, sizeof *s);
  const int err = s ? hs__parse(s, body, body_len) : HS_ENOMEM;
  free(body); /* everything kept was copied out of it */
  if (err) {
    hs_snapshot_free(s);
    return err;
  }
  s->header.version = version;
  *out = s;
  return 0;
}

int hs_snapshot_load(const void *data, size_t len, hs_snapshot **out) {
  if (!out)
    return HS_EINVAL;
  *out = NULL;
  if (!data && len > 0)
    return HS_EINVAL;
  hs__src src = {-1, 1, {data, len, 0}, NULL, len, HS__SIZE_UNKNOWN};
  if (len >= HS__PREAMBLE_SIZE)
    src.size = len - HS__PREAMBLE_SIZE;
  return hs__read(&src, out);
}

/* The size of the frame in fd: what is left of a regular file past the
 * preamble; HS__SIZE_UNKNOWN for anything else (a pipe, a device). */
static uint64_t hs__fd_frame_size(int fd) {
  struct stat st;
  const off_t at = lseek(fd, 0, SEEK_CUR);
  if (at < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size - at < HS__PREAMBLE_SIZE)
    return HS__SIZE_UNKNOWN;
  return (uint64_t)(st.st_size - at) - HS__PREAMBLE_SIZE;
}

/* A source reading fd; hs__src_free() releases it. */
static int hs__src_fd(hs__src *s, int fd) {
  *s = (hs__src){
      fd, 0, {NULL, 0, 0}, malloc(HS__READ_CHUNK), 0, hs__fd_frame_size(fd)};
  s->in.src = s->chunk;
  return s->chunk ? 0 : HS_ENOMEM;
}

int hs_snapshot_open_fd(int fd, hs_snapshot **out) {
  if (!out)
    return HS_EINVAL;
  *out = NULL;
  hs__src src;
  int err = hs__src_fd(&src, fd);
  if (!err)
    err = hs__read(&src, out);
  free(src.chunk);
  return err;
}

/* O_NONBLOCK: opening a FIFO that no process writes to would wait for a
 * writer forever; without one it reads as empty. It is cleared at once,
 * so reads wait for the writers there are. */
int hs_snapshot_open_file(const char *path, int *fd) {
  if (!path || !fd)
    return HS_EINVAL;
  const int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f < 0)
    return -errno;
  const int flags = fcntl(f, F_GETFL);
  if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    const int err = -errno;
    close(f);
    return err;
  }
  *fd = f;
  return 0;
}

int hs_snapshot_open(const char *path, hs_snapshot **out) {
  if (!out)
    return HS_EINVAL;
  *out = NULL;
  int fd;
  HS__TRY(hs_snapshot_open_file(path, &fd));
  const int err = hs_snapshot_open_fd(fd, out);
  close(fd);
  return err;
}

void hs_snapshot_free(hs_snapshot *s) {
  if (!s)
    return;
  free(s->head_strings);
  free(s->argv);
  free(s->modules);
  free(s->module_bytes);
  free(s->by_start);
  free(s->reach);
  free(s->stacks);
  free(s->frames);
  hs_snapshot_drop_blocks(s); /* blocks, reachability records, graph */
  free(s->roots);
  free(s->root_names);
  free(s->lives);
  free(s->stack_gen);
  free(s);
}

/* ------------------------------------------------------------------ */
/* accessors */

const hs_header *hs_snapshot_header(const hs_snapshot *s) {
  return s ? &s->header : NULL;
}

size_t hs_snapshot_module_count(const hs_snapshot *s) {
  return s ? s->module_count : 0;
}

const hs_module *hs_snapshot_module(const hs_snapshot *s, size_t i) {
  return s && i < s->module_count ? &s->modules[i] : NULL;
}

/* In by_start[lo, hi), sorted by start: the module that holds addr with
 * the highest start, or NULL. reach[] stops the walk back as soon as no
 * lower-starting module can extend to addr. */
static const hs_module *hs__find_in(const hs_snapshot *s, size_t lo, size_t hi,
                                    uint64_t addr) {
  size_t a = lo, b = hi;
  while (a < b) { /* a: the first module that starts past addr */
    const size_t mid = a + (b - a) / 2;
    if (s->by_start[mid]->start <= addr)
      a = mid + 1;
    else
      b = mid;
  }
  for (size_t i = a; i > lo && s->reach[i - 1] > addr; i--)
    if (s->by_start[i - 1]->end > addr)
      return s->by_start[i - 1];
  return NULL;
}

/* A loaded module wins over an unloaded one that used the same range. */
const hs_module *hs_snapshot_module_find(const hs_snapshot *s, uint64_t addr) {
  if (!s)
    return NULL;
  const hs_module *const m = hs__find_in(s, 0, s->loaded_count, addr);
  return m ? m : hs__find_in(s, s->loaded_count, s->module_count, addr);
}

int hs_snapshot_has_gens(const hs_snapshot *s) {
  return s && s->lives;
}

void hs_snapshot_module_life(const hs_snapshot *s, size_t i, uint32_t *load,
                             uint32_t *unload) {
  const int ok = s && s->lives && i < s->module_count;
  *load = ok ? s->lives[2 * i] : 0;
  *unload = ok ? s->lives[2 * i + 1] : 0;
}

uint32_t hs_snapshot_stack_gen(const hs_snapshot *s, uint32_t i) {
  return s && s->stack_gen && i < s->stack_count ? s->stack_gen[i] : 0;
}

/* Modules that held the same range in turn never share a generation, so
 * at most one matches. */
const hs_module *hs_snapshot_module_at(const hs_snapshot *s, uint64_t addr,
                                       uint32_t gen) {
  if (!s || !s->lives)
    return hs_snapshot_module_find(s, addr);
  for (size_t i = 0; i < s->module_count; i++) {
    const hs_module *const m = &s->modules[i];
    const uint32_t load = s->lives[2 * i], unload = s->lives[2 * i + 1];
    if (addr >= m->start && addr < m->end && load <= gen &&
        (unload == 0 || gen < unload))
      return m;
  }
  return NULL;
}

size_t hs_snapshot_stack_count(const hs_snapshot *s) {
  return s ? s->stack_count : 0;
}

hs_stack hs_snapshot_stack(const hs_snapshot *s, uint32_t i) {
  if (!s || i >= s->stack_count)
    return (hs_stack){NULL, 0};
  return s->stacks[i];
}

size_t hs_snapshot_block_count(const hs_snapshot *s) {
  return s ? s->block_count : 0;
}

const hs_block *hs_snapshot_blocks(const hs_snapshot *s) {
  return s ? s->blocks : NULL;
}

size_t hs_snapshot_root_count(const hs_snapshot *s) {
  return s ? s->root_count : 0;
}

const hs_root *hs_snapshot_root(const hs_snapshot *s, size_t i) {
  return s && i < s->root_count ? &s->roots[i] : NULL;
}

const hs_reach *hs_snapshot_reach(const hs_snapshot *s) {
  return s ? s->reaches : NULL;
}

int hs_snapshot_has_graph(const hs_snapshot *s) {
  return s && s->edge_first != NULL;
}

size_t hs_snapshot_edges(const hs_snapshot *s, size_t b,
                         const uint32_t **targets) {
  *targets = NULL;
  if (!s || !s->edge_first || b >= s->block_count)
    return 0;
  *targets = s->edges + s->edge_first[b];
  return s->edge_first[b + 1] - s->edge_first[b];
}

const hs_root_edge *hs_snapshot_root_edges(const hs_snapshot *s, size_t *n) {
  *n = s && s->edge_first ? s->root_edge_count : 0;
  return *n ? s->root_edges : NULL;
}

/* ------------------------------------------------------------------ */
/* the header alone, and a snapshot without its blocks */

/* Parses the HEAD record at the start of body into *out, strings NULL. */
static int hs__peek_parse(const uint8_t *body, hs_header *out) {
  hs_snapshot s;
  memset(&s, 0, sizeof s);
  const hs__cur c = {body + HS__RECORD_HEAD_SIZE,
                     body + HS__RECORD_HEAD_SIZE + hs__le32(body + 4)};
  const int err = hs__parse_head(&s, c);
  if (!err) {
    *out = s.header;
    out->exe = out->trigger = out->scan_note = NULL;
    out->argv = NULL;
  }
  free(s.head_strings);
  free(s.argv);
  return err;
}

int hs_snapshot_peek_header_fd(int fd, hs_header *out) {
  if (!out)
    return HS_EINVAL;
  hs__src src;
  int err = hs__src_fd(&src, fd);
  uint32_t version;
  if (!err)
    err = hs__src_preamble(&src, &version);
  uint8_t *body = NULL;
  size_t len;
  if (!err)
    err = hs__inflate(&src, 1, &body, &len);
  if (!err)
    err = hs__peek_parse(body, out);
  if (!err)
    out->version = version;
  free(body);
  free(src.chunk);
  return err;
}

int hs_snapshot_peek_header(const char *path, hs_header *out) {
  if (!out)
    return HS_EINVAL;
  int fd;
  HS__TRY(hs_snapshot_open_file(path, &fd));
  const int err = hs_snapshot_peek_header_fd(fd, out);
  close(fd);
  return err;
}

void hs_snapshot_drop_blocks(hs_snapshot *s) {
  if (!s)
    return;
  free(s->blocks);
  free(s->reaches);
  free(s->edge_first);
  free(s->edges);
  free(s->root_edges);
  s->blocks = NULL;
  s->reaches = NULL;
  s->edge_first = s->edges = NULL;
  s->root_edges = NULL;
  s->root_edge_count = 0;
}
