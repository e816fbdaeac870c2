/* hd_sites.c - from raw stacks to sites, and their numbers per snapshot.
 *
 * A frame is (module, offset): the same code in two processes, or after a
 * library moved, is one frame. A site is a stack without its leading
 * allocator frames (the shim, the C library, jemalloc, operator new and
 * any --alloc-fn), so its first frame is the code that asked for memory;
 * --group-by function|line merges sites by the frame each is named by, its
 * origin (hd_names.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hd.h"
#include "hd_names.h"

/* Allocation functions whose callers are the real sites. */
static const char *const hd_alloc_names[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "strdup", "strndup",
    "__strdup", "__strndup", "mallocx", "rallocx", "xallocx", "je_malloc",
    "je_calloc", "je_realloc", "je_mallocx", "je_rallocx", "je_xallocx",
    "je_posix_memalign", "je_aligned_alloc", "je_memalign", "je_valloc",
    /* CPython's memory API */
    "PyMem_Malloc", "PyMem_Calloc", "PyMem_Realloc", "PyMem_RawMalloc",
    "PyMem_RawCalloc", "PyMem_RawRealloc", "_PyMem_RawMalloc",
    "_PyMem_RawCalloc", "_PyMem_RawRealloc", "PyObject_Malloc",
    "PyObject_Calloc", "PyObject_Realloc", "_PyObject_Malloc",
    "_PyObject_Calloc", "_PyObject_Realloc", "pymalloc_alloc",
    "pymalloc_realloc", "_PyMem_DebugRawAlloc", "_PyMem_DebugRawMalloc",
    "_PyMem_DebugRawCalloc", "_PyMem_DebugRawRealloc", "_PyMem_DebugMalloc",
    "_PyMem_DebugCalloc", "_PyMem_DebugRealloc", NULL};

/* --- frames ---------------------------------------------------------- */

static int hd_frame_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_frame_key *a = &((const hd_diff *)ctx)->frames[id], *b = key;
  return a->module == b->module && a->offset == b->offset;
}

static int hd_frame_intern(hd_diff *d, const hd_frame_key *k, uint32_t *out) {
  const uint64_t h = hd_hash(hd_hash(0, &k->module, 4), &k->offset, 8);
  uint32_t id = hd_map_find(d->frame_index, h, hd_frame_eq, d, k);
  if (id != UINT32_MAX) {
    *out = id;
    return 0;
  }
  size_t cap = d->cap_frames;
  if (hd_grow(&d->frames, &d->cap_frames, d->n_frames, sizeof *d->frames,
              1024) ||
      hd_grow(&d->frame_alloc, &cap, d->n_frames, 1, 1024))
    return HS_ENOMEM;
  id = (uint32_t)d->n_frames++;
  d->frames[id] = *k;
  d->frame_alloc[id] = -1;
  *out = id;
  return hd_map_put(d->frame_index, h, id);
}

/* Two unloaded modules that are not the same file. */
static int hd_other_file(const hs_module *a, const hs_module *b) {
  return strcmp(a->path, b->path) != 0 || a->build_id_len != b->build_id_len ||
         memcmp(a->build_id, b->build_id, a->build_id_len) != 0;
}

/* The module that held addr when the stack was recorded. A snapshot with
 * load generations (GENS) says so exactly. Without them, a loaded module
 * wins over unloaded ones that used the same addresses before, and when
 * two different unloaded files held the address the snapshot cannot say
 * whose code a stack went through: the frame stays unnamed (-1) rather
 * than take the wrong one's names. Modules are few: a scan is fine, once
 * per distinct address per stack. */
static int hd_module_of(const hd_snap *s, uint64_t addr, uint32_t gen,
                        const hs_module **m) {
  if (hs_snapshot_has_gens(s->snap)) {
    *m = hs_snapshot_module_at(s->snap, addr - 1, gen);
    return *m ? (int)(*m - hs_snapshot_module(s->snap, 0)) : -1;
  }
  int found = -1, ambiguous = 0;
  *m = NULL;
  for (size_t i = 0; i < hs_snapshot_module_count(s->snap); i++) {
    const hs_module *c = hs_snapshot_module(s->snap, i);
    if (addr < c->start || addr >= c->end)
      continue;
    if (!(c->flags & HS_MODULE_UNLOADED)) {
      *m = c;
      return (int)i;
    }
    if (found < 0)
      found = (int)i, *m = c;
    else if (hd_other_file(*m, c))
      ambiguous = 1;
  }
  if (ambiguous)
    *m = NULL;
  return ambiguous ? -1 : found;
}

static int hd_frame_of(hd_diff *d, const hd_snap *s, uint64_t addr,
                       uint32_t gen, uint32_t *fid) {
  const hs_module *m;
  const int i = hd_module_of(s, addr, gen, &m);
  hd_frame_key k = {HD_NO_MODULE, addr, addr};
  if (i >= 0) {
    k.module = s->module_handle[i];
    k.offset = addr - m->bias;
  }
  return hd_frame_intern(d, &k, fid);
}

size_t hd_frame_symbols(hd_diff *d, uint32_t fid, const hd_frame **out) {
  static const hd_frame unknown = {NULL, NULL, 0, 0, NULL};
  const hd_frame_key *k = &d->frames[fid];
  if (k->module == HD_NO_MODULE) {
    *out = &unknown;
    return 1;
  }
  /* a return address: the call is the byte before it */
  return hd_symbolize(d->sym, k->module, k->offset ? k->offset - 1 : 0, out);
}

const char *hd_frame_module(const hd_diff *d, uint32_t fid) {
  const uint32_t m = d->frames[fid].module;
  return m == HD_NO_MODULE ? NULL : d->module_paths[m];
}

static int hd_name_is_alloc(const hd_diff *d, const char *fn) {
  if (!fn)
    return 0;
  if (strncmp(fn, "operator new", 12) == 0)
    return 1;
  for (size_t i = 0; hd_alloc_names[i]; i++)
    if (strcmp(fn, hd_alloc_names[i]) == 0)
      return 1;
  return hd_name_alloc_fn(d->opt, fn) >= 0;
}

/* An address is the allocator's when its module is, or when the function
 * it belongs to (the last source frame) is an allocation function. Inlined
 * ones do not make it so: the function they were inlined into stays, and
 * the site's frames start after them (hd_walk_start). */
static int hd_frame_is_alloc(hd_diff *d, uint32_t fid) {
  if (d->frame_alloc[fid] >= 0)
    return d->frame_alloc[fid];
  const uint32_t m = d->frames[fid].module;
  int alloc = m != HD_NO_MODULE && d->module_kind[m] != HD_KIND_CODE;
  if (!alloc) {
    const hd_frame *f;
    const size_t n = hd_frame_symbols(d, fid, &f);
    alloc = hd_name_is_alloc(d, f[n - 1].function);
  }
  d->frame_alloc[fid] = (int8_t)alloc;
  return alloc;
}

/* --- sites ----------------------------------------------------------- */

typedef struct hd_site_key {
  const uint32_t *frames;
  uint32_t depth;
  const char *name; /* group by function or line: the first frame's name */
} hd_site_key;

static const char *hd_site_name(const hd_diff *d, const hd_site *s);

static int hd_site_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_diff *d = ctx;
  const hd_site *s = &d->sites[id];
  const hd_site_key *k = key;
  if (k->name)
    return strcmp(hd_site_name(d, s), k->name) == 0;
  /* an empty stack's frames may be NULL, which memcmp may not get */
  return s->depth == k->depth &&
         (!k->depth ||
          memcmp(s->frames, k->frames, k->depth * sizeof *k->frames) == 0);
}

static int hd_site_new(hd_diff *d, const hd_site_key *k, uint32_t *out) {
  if (hd_grow(&d->sites, &d->cap_sites, d->n_sites, sizeof *d->sites, 256))
    return HS_ENOMEM;
  hd_site *s = &d->sites[d->n_sites];
  memset(s, 0, sizeof *s);
  s->frames = malloc((k->depth + 1) * sizeof *s->frames);
  s->blocks = calloc(d->n_snaps, sizeof *s->blocks);
  s->bytes = calloc(d->n_snaps, sizeof *s->bytes);
  s->retained = malloc(d->n_snaps * sizeof *s->retained);
  if (!s->frames || !s->blocks || !s->bytes || !s->retained) {
    free(s->frames), free(s->blocks), free(s->bytes), free(s->retained);
    return HS_ENOMEM;
  }
  for (size_t i = 0; i < d->n_snaps; i++) /* hd_retain.c fills them */
    s->retained[i] = NAN;
  if (k->depth) /* frames may be NULL for an empty stack */
    memcpy(s->frames, k->frames, k->depth * sizeof *k->frames);
  s->depth = k->depth;
  *out = (uint32_t)d->n_sites++;
  return 0;
}

/* The grouping name of a site: "function" or "function file:line" of the
 * frame it is named by (its origin); a frame without symbols is named
 * module+offset. */
static const char *hd_site_name(const hd_diff *d, const hd_site *s) {
  static char buf[4096];
  hd_diff *dd = (hd_diff *)d;
  const hd_frame *f = NULL;
  uint32_t fid = 0;
  if (!s->depth)
    return "(no stack)";
  hd_site_origin(dd, s, &fid, &f);
  const hd_frame_key *k = &d->frames[fid];
  if (!f || !f->function)
    snprintf(buf, sizeof buf, "%s+%#llx",
             hd_frame_module(d, fid) ? hd_frame_module(d, fid) : "?",
             (unsigned long long)k->offset);
  else if (d->opt->group_by == HD_GROUP_LINE)
    snprintf(buf, sizeof buf, "%s %s:%u", f->function, f->file ? f->file : "?",
             f->line);
  else
    snprintf(buf, sizeof buf, "%s", f->function);
  return buf;
}

static int hd_site_of(hd_diff *d, const uint32_t *frames, uint32_t depth,
                      uint32_t *out) {
  uint32_t skip = 0;
  while (skip < depth && hd_frame_is_alloc(d, frames[skip]))
    skip++;
  if (skip == depth) /* all allocator: keep it whole rather than empty */
    skip = 0;
  hd_site_key k = {frames + skip, depth - skip, NULL};
  uint64_t h;
  char name[4096];
  if (d->opt->group_by != HD_GROUP_STACK && k.depth) {
    hd_site tmp = {.frames = (uint32_t *)k.frames, .depth = k.depth};
    snprintf(name, sizeof name, "%s", hd_site_name(d, &tmp));
    k.name = name;
    h = hd_hash(0, name, strlen(name));
  } else {
    h = hd_hash(0, k.frames, k.depth * sizeof *k.frames);
  }
  *out = hd_map_find(d->site_index, h, hd_site_eq, d, &k);
  if (*out != UINT32_MAX)
    return 0;
  const int rc = hd_site_new(d, &k, out);
  return rc ? rc : hd_map_put(d->site_index, h, *out);
}

/* The shim's own frames under the program's: the start routine it runs
 * each thread through (hs__thread_start) is no part of the program, and
 * was shown in the stack of every block a thread allocated. The first
 * frame stays (the allocator's, passed over as such). */
static int hd_frame_is_shim(const hd_diff *d, uint32_t fid) {
  const uint32_t m = d->frames[fid].module;
  return m != HD_NO_MODULE && d->module_kind[m] == HD_KIND_SHIM;
}

static int hd_map_stacks(hd_diff *d, hd_snap *s) {
  const size_t n = hs_snapshot_stack_count(s->snap);
  s->stack_site = malloc((n + 1) * sizeof *s->stack_site);
  uint32_t *frames = NULL, cap = 0;
  int rc = s->stack_site ? 0 : HS_ENOMEM;
  for (size_t i = 0; !rc && i < n; i++) {
    const hs_stack st = hs_snapshot_stack(s->snap, (uint32_t)i);
    if (st.depth > cap) {
      uint32_t *f = realloc(frames, st.depth * sizeof *f);
      if (!f) {
        rc = HS_ENOMEM;
        break;
      }
      frames = f, cap = st.depth;
    }
    const uint32_t gen = hs_snapshot_stack_gen(s->snap, (uint32_t)i);
    uint32_t depth = 0;
    for (uint32_t j = 0; !rc && j < st.depth; j++)
      if (!(rc = hd_frame_of(d, s, st.frames[j], gen, &frames[depth])))
        depth += depth == 0 || !hd_frame_is_shim(d, frames[depth]);
    if (!rc)
      rc = hd_site_of(d, frames, depth, &s->stack_site[i]);
  }
  free(frames);
  return rc;
}

/* --- numbers --------------------------------------------------------- */

/* A sampled block of size s stands for 1/p blocks, p = 1 - exp(-s/R). */
static double hd_weight(const hs_header *h, uint64_t size) {
  if (!(h->flags & HS_SNAP_SAMPLED) || !h->sample_bytes)
    return 1.0;
  const double p = -expm1(-(double)size / (double)h->sample_bytes);
  return p > 0 ? 1.0 / p : 1.0;
}

int hd_block_is_new(const hd_diff *d, size_t k, const hs_block *b) {
  const hs_header *h = d->snaps[k].h, *first = d->snaps[0].h;
  /* epochs compare within one process only */
  return !hd_same_process(h, first) || b->epoch > first->epoch;
}

/* Snapshot k holds the very blocks of snapshot k-1 when both are of one
 * process, none of its blocks was allocated after k-1 was taken, and it
 * has as many: then none was freed either. An --at-exit snapshot taken
 * while the program was idle after its last interval snapshot is one.
 * Not told of sampled snapshots (their blocks are a sample: others may
 * have come and gone), nor past the epochs' limit (a block allocated
 * after k-1 then carries k-1's epoch). */
static int hd_is_repeat(const hd_diff *d, size_t k, uint32_t newest) {
  const hs_header *h = d->snaps[k].h, *prev = k ? d->snaps[k - 1].h : NULL;
  return prev && hd_same_process(h, prev) &&
         !((h->flags | prev->flags) & HS_SNAP_SAMPLED) &&
         prev->epoch < HS_BLOCK_EPOCH_MAX && newest <= prev->epoch &&
         h->live_blocks == prev->live_blocks &&
         h->live_bytes == prev->live_bytes;
}

static void hd_count(hd_diff *d, size_t k) {
  hd_snap *s = &d->snaps[k];
  const int last = k + 1 == d->n_snaps;
  const hs_block *b = hs_snapshot_blocks(s->snap);
  const size_t nstacks = hs_snapshot_stack_count(s->snap);
  uint32_t newest = 0;
  for (size_t i = 0; i < hs_snapshot_block_count(s->snap); i++) {
    const double w = hd_weight(s->h, b[i].size);
    newest = b[i].epoch > newest ? b[i].epoch : newest;
    s->est_blocks += w;
    s->est_bytes += w * (double)b[i].size;
    if (b[i].stack >= nstacks)
      continue;
    hd_site *site = &d->sites[s->stack_site[b[i].stack]];
    site->blocks[k] += w;
    site->bytes[k] += w * (double)b[i].size;
    if (last && d->n_snaps > 1 && hd_block_is_new(d, k, &b[i])) {
      site->new_blocks += w;
      site->new_bytes += w * (double)b[i].size;
    }
  }
  s->repeat = hd_is_repeat(d, k, newest);
}

static size_t hd_skip_repeats(const hd_diff *d, size_t m) {
  while (m > 0 && d->snaps[m].repeat)
    m--;
  return m;
}

static int hd_at_exit(const hd_snap *s) {
  return strcmp(s->h->trigger, "exit") == 0;
}

/* The last snapshot (repeats aside) when it was taken at exit, after
 * snapshots of the same process taken while it ran: 0 when there is none.
 * The exit snapshot comes after atexit handlers and static destructors,
 * which free what global containers held: a steady leak that ends level
 * there would read bounded, a torn-down cache shrinking. */
size_t hd_trend_exit(const hd_diff *d) {
  const size_t m = hd_skip_repeats(d, d->n_snaps - 1);
  const hd_snap *s = &d->snaps[m];
  if (m < 2 || !hd_at_exit(s))
    return 0;
  for (const hd_snap *r = s - 2; r < s; r++) /* two running ones before */
    if (hd_at_exit(r) || !hd_same_process(r->h, s->h))
      return 0;
  return m;
}

/* Where trends end: the last snapshot that is no repeat of the one before
 * it (an idle program's --at-exit snapshot after its last interval one
 * holds the same blocks), and not the exit snapshot of hd_trend_exit. */
size_t hd_trend_end(const hd_diff *d) {
  const size_t m = hd_skip_repeats(d, d->n_snaps - 1);
  return hd_trend_exit(d) ? hd_skip_repeats(d, m - 1) : m;
}

/* By bytes (docs/heapdiff.md, "Trend"), up to the snapshot where trends
 * end (hd_trend_end, m): new, gone; growing when snapshot m is a new high
 * (above every earlier one), shrinking when it is below the first,
 * bounded otherwise (not above the earlier high, not below the first).
 * Containers grow in steps (a rehash, a vector doubling), so a site that
 * never shrank and just reached a new high is growing however flat it was
 * before. Two snapshots: the sign. One snapshot: no trend, "-". */
static const char *hd_trend(const hd_diff *d, const hd_site *s, size_t m) {
  const size_t n = d->n_snaps;
  if (n == 1)
    return "-";
  if (m == 0) /* every later snapshot repeats the first */
    return n == 2 ? "unchanged" : "bounded";
  /* new also when it came after the end (at exit): none there either */
  if (s->bytes[0] == 0 && (s->bytes[m] > 0 || s->bytes[n - 1] > 0))
    return "new";
  if (s->bytes[0] > 0 && s->bytes[m] == 0)
    return "gone";
  double high = s->bytes[0];
  for (size_t i = 1; i < m; i++)
    high = s->bytes[i] > high ? s->bytes[i] : high;
  if (s->bytes[m] > high)
    return "growing";
  if (s->bytes[m] < s->bytes[0])
    return "shrinking";
  return m == 1 ? "unchanged" : "bounded";
}

static int hd_cmp_growth(const void *x, const void *y, void *ctx) {
  const hd_diff *d = ctx;
  const hd_site *a = &d->sites[*(const uint32_t *)x];
  const hd_site *b = &d->sites[*(const uint32_t *)y];
  if (a->delta_bytes != b->delta_bytes)
    return a->delta_bytes > b->delta_bytes ? -1 : 1;
  if (a->delta_blocks != b->delta_blocks)
    return a->delta_blocks > b->delta_blocks ? -1 : 1;
  return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

/* Grew: more bytes, or as many bytes in more blocks (malloc(0) leaks, each
 * block of 0 bytes, are leaks all the same). */
static int hd_grew(const hd_site *s) {
  return s->delta_bytes > 0 || (s->delta_bytes == 0 && s->delta_blocks > 0);
}

static int hd_order(hd_diff *d) {
  d->order = malloc((d->n_sites + 1) * sizeof *d->order);
  if (!d->order)
    return HS_ENOMEM;
  const size_t end = hd_trend_end(d);
  for (uint32_t i = 0; i < d->n_sites; i++) {
    hd_site *s = &d->sites[i];
    s->delta_blocks = s->blocks[d->n_snaps - 1] - s->blocks[0];
    s->delta_bytes = s->bytes[d->n_snaps - 1] - s->bytes[0];
    s->trend = hd_trend(d, s, end);
    for (size_t k = 0; k < d->n_snaps; k++)
      if (s->blocks[k] > 0) {
        d->n_live_sites++;
        break;
      }
    if (hd_grew(s)) {
      d->order[d->n_growing++] = i;
      d->total_growth += s->delta_bytes;
    }
  }
  qsort_r(d->order, d->n_growing, sizeof *d->order, hd_cmp_growth, d);
  d->n_order = d->n_growing;
  return 0;
}

int hd_sites_snapshot(hd_diff *d, size_t k) {
  if (!d->frame_index)
    d->frame_index = hd_map_create();
  if (!d->site_index)
    d->site_index = hd_map_create();
  if (!d->frame_index || !d->site_index)
    return HS_ENOMEM;
  const int rc = hd_map_stacks(d, &d->snaps[k]);
  if (!rc)
    hd_count(d, k);
  return rc;
}

int hd_sites_build(hd_diff *d) {
  hd_alloc_fns_check(d);
  return hd_order(d);
}
