/* hd_pprof.c - heapdiff --pprof: the snapshots as a gzipped pprof profile
 * (third_party/pprof/profile.proto), the format go tool pprof, Pyroscope
 * and Parca read.
 *
 * One sample per site (group by stack: pprof merges by itself), or with a
 * scanned last snapshot one per reachability class of it, labelled
 * reachability=lost|held. Values: in-use objects and bytes of the last
 * snapshot, and with two or more snapshots the new ones (allocated after
 * the first snapshot), estimates when sampled, as the sites hold them.
 *
 * The tables are built in growable arrays of protobuf-c structs, keyed by
 * hd_map indexes; pointers into them are set only once everything is in
 * (hd_pp_link), since growing moves them. Ids are index + 1, in order, as
 * Parca requires; string 0 is "". The packed message is gzipped in memory
 * (zlib) and written to a temporary file beside FILE, then renamed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hd.h"
#include "hd_names.h"
#include "hs_tool.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile hd_pb_profile;
typedef Perftools__Profiles__ValueType hd_pb_type;
typedef Perftools__Profiles__Sample hd_pb_sample;
typedef Perftools__Profiles__Label hd_pb_label;
typedef Perftools__Profiles__Mapping hd_pb_mapping;
typedef Perftools__Profiles__Location hd_pb_location;
typedef Perftools__Profiles__Line hd_pb_line;
typedef Perftools__Profiles__Function hd_pb_function;

#define HD_PP_MAX_TYPES 4

/* A location's key: a frame, less the inlined allocation functions at
 * the innermost end when it is a site's first frame (hd_walk_start). */
typedef struct hd_pp_lockey {
  uint32_t fid, skip;
} hd_pp_lockey;

typedef struct hd_pp {
  hd_diff *d;
  const char **str; /* the string table; owned[] holds the ones made here */
  size_t n_str, cap_str;
  char **owned;
  size_t n_owned, cap_owned;
  hd_pb_function *fn;
  size_t n_fn, cap_fn;
  hd_pb_location *loc;
  hd_pp_lockey *lockey;
  size_t n_loc, cap_loc;
  size_t *loc_line; /* per location: its first line in line[] */
  hd_pb_line *line;
  hd_pb_line **line_ptrs; /* what the locations point into, at the end */
  size_t n_line, cap_line;
  hd_pb_mapping *map;
  size_t n_map, cap_map;
  uint64_t *map_of;         /* per module handle (+1: no module): id, 0 none */
  const hs_module **mod_of; /* per module handle: hd_pp_module's answer */
  int *map_symbolized;      /* per mapping: -1 unknown, 0 a bare location */
  hd_pb_sample *sample;     /* with values and location ids in one array each */
  size_t n_sample, cap_sample;
  int64_t *value;
  size_t n_value, cap_value;
  uint64_t *locid;
  size_t n_locid, cap_locid;
  size_t *sample_loc; /* per sample: its first entry in locid[] */
  size_t n_types;
  hd_pb_label label[2]; /* reachability=lost, reachability=held */
  hd_pb_label *label_ptr[2];
  struct hd_map *str_index, *fn_index, *loc_index;
  uint64_t unknown_lo, unknown_hi; /* addresses of frames without module */
} hd_pp;

/* --- strings ------------------------------------------------------------- */

static int hd_pp_str_eq(const void *ctx, uint32_t id, const void *key) {
  return strcmp(((const hd_pp *)ctx)->str[id], key) == 0;
}

/* The string's index in the table, added on first use; NULL is "".
 * @return : the index, or -1 out of memory. */
static int64_t hd_pp_str(hd_pp *pp, const char *s) {
  if (!s)
    s = "";
  const uint64_t h = hd_hash(0, s, strlen(s));
  uint32_t id = hd_map_find(pp->str_index, h, hd_pp_str_eq, pp, s);
  if (id != UINT32_MAX)
    return id;
  if (hd_grow(&pp->str, &pp->cap_str, pp->n_str, sizeof *pp->str, 256))
    return -1;
  id = (uint32_t)pp->n_str;
  pp->str[pp->n_str++] = s;
  return hd_map_put(pp->str_index, h, id) ? -1 : (int64_t)id;
}

/* A string made here (printf-style), kept until hd_pp_free. */
static int64_t hd_pp_strf(hd_pp *pp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int64_t hd_pp_strf(hd_pp *pp, const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  const int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0 ||
      hd_grow(&pp->owned, &pp->cap_owned, pp->n_owned, sizeof *pp->owned, 16)) {
    free(n < 0 ? NULL : s);
    return -1;
  }
  pp->owned[pp->n_owned++] = s;
  return hd_pp_str(pp, s);
}

/* --- mappings ------------------------------------------------------------ */

/* The module record of handle h in the latest snapshot that has it: its
 * addresses are the ones the locations use. */
static const hs_module *hd_pp_module(const hd_diff *d, uint32_t h) {
  for (size_t k = d->n_snaps; k-- > 0;)
    for (size_t j = 0; j < hs_snapshot_module_count(d->snaps[k].snap); j++)
      if (d->snaps[k].module_handle[j] == h)
        return hs_snapshot_module(d->snaps[k].snap, j);
  return NULL;
}

static int64_t hd_pp_build_id(hd_pp *pp, const hs_module *m) {
  char hex[2 * 64 + 1] = "";
  for (uint32_t i = 0; i < m->build_id_len && i < 64; i++)
    snprintf(hex + 2 * i, 3, "%02x", m->build_id[i]);
  return hd_pp_strf(pp, "%s", hex);
}

/* A Mapping for module handle h (n_modules: the frames of no module, one
 * "[unknown]" mapping over their addresses). @return : 0 or HS_ENOMEM. */
static int hd_pp_add_mapping(hd_pp *pp, uint32_t h) {
  if (hd_grow(&pp->map, &pp->cap_map, pp->n_map, sizeof *pp->map, 16))
    return HS_ENOMEM;
  hd_pb_mapping *mp = &pp->map[pp->n_map];
  *mp = (hd_pb_mapping)PERFTOOLS__PROFILES__MAPPING__INIT;
  mp->id = ++pp->n_map;
  pp->map_of[h] = mp->id;
  const hs_module *m = h < pp->d->n_modules ? pp->mod_of[h] : NULL;
  if (!m) {
    mp->memory_start = pp->unknown_lo;
    mp->memory_limit = pp->unknown_hi;
    mp->filename = hd_pp_str(pp, "[unknown]");
    return mp->filename < 0 ? HS_ENOMEM : 0;
  }
  /* The whole module: the lowest PT_LOAD segment, where start is, begins
   * at file offset 0 in the files ld and lld write. */
  mp->memory_start = m->start;
  mp->memory_limit = m->end;
  mp->file_offset = 0;
  mp->filename = hd_pp_str(pp, m->path[0] ? m->path : "[vdso]");
  mp->build_id = hd_pp_build_id(pp, m);
  return mp->filename < 0 || mp->build_id < 0 ? HS_ENOMEM : 0;
}

/* Which handles the sites' frames use, the addresses of the frames
 * without a module, and then the mappings: the main module first (pprof
 * takes mapping 0 for the program), then the others in handle order. */
static int hd_pp_mappings(hd_pp *pp) {
  hd_diff *d = pp->d;
  uint8_t *used = calloc(d->n_modules + 1, 1);
  if (!used)
    return HS_ENOMEM;
  pp->unknown_lo = UINT64_MAX;
  for (size_t i = 0; i < d->n_frames; i++) {
    const hd_frame_key *k = &d->frames[i];
    used[k->module == HD_NO_MODULE ? d->n_modules : k->module] = 1;
    if (k->module == HD_NO_MODULE) {
      pp->unknown_lo =
          k->address < pp->unknown_lo ? k->address : pp->unknown_lo;
      pp->unknown_hi =
          k->address >= pp->unknown_hi ? k->address + 1 : pp->unknown_hi;
    }
  }
  int rc = 0;
  for (uint32_t h = 0; h < d->n_modules; h++)
    pp->mod_of[h] = hd_pp_module(d, h);
  for (uint32_t h = 0; !rc && h < d->n_modules; h++) {
    const hs_module *m = pp->mod_of[h];
    if (m && (m->flags & HS_MODULE_MAIN) && !pp->map_of[h])
      rc = hd_pp_add_mapping(pp, h);
  }
  for (uint32_t h = 0; !rc && h <= d->n_modules; h++)
    if (used[h] && !pp->map_of[h])
      rc = hd_pp_add_mapping(pp, h);
  free(used);
  pp->map_symbolized = rc ? NULL : malloc((pp->n_map + 1) * sizeof(int));
  for (size_t i = 0; pp->map_symbolized && i < pp->n_map; i++)
    pp->map_symbolized[i] = -1;
  return rc ? rc : pp->map_symbolized ? 0 : HS_ENOMEM;
}

/* --- functions and locations -------------------------------------------- */

static int hd_pp_fn_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_pb_function *a = &((const hd_pp *)ctx)->fn[id], *b = key;
  return a->name == b->name && a->system_name == b->system_name &&
         a->filename == b->filename;
}

/* The Function for a source frame (one per name, system name and file).
 * @return : its id, or 0 out of memory. */
static uint64_t hd_pp_function(hd_pp *pp, const hd_frame *f) {
  hd_pb_function k = PERFTOOLS__PROFILES__FUNCTION__INIT;
  k.name = hd_pp_str(pp, f->function);
  k.system_name = hd_pp_str(pp, f->system_name ? f->system_name : f->function);
  k.filename = hd_pp_str(pp, f->file);
  if (k.name < 0 || k.system_name < 0 || k.filename < 0)
    return 0;
  uint64_t h = hd_hash(0, &k.name, sizeof k.name);
  h = hd_hash(hd_hash(h, &k.system_name, 8), &k.filename, 8);
  const uint32_t id = hd_map_find(pp->fn_index, h, hd_pp_fn_eq, pp, &k);
  if (id != UINT32_MAX)
    return id + 1;
  if (hd_grow(&pp->fn, &pp->cap_fn, pp->n_fn, sizeof *pp->fn, 256) ||
      hd_map_put(pp->fn_index, h, (uint32_t)pp->n_fn))
    return 0;
  k.id = pp->n_fn + 1;
  pp->fn[pp->n_fn++] = k;
  return k.id;
}

/* The Lines of a location: its source frames from `skip`, innermost
 * first (inlined ones, then the function they are in), those with a
 * name. @return : 0 or HS_ENOMEM. */
static int hd_pp_lines(hd_pp *pp, hd_pb_location *loc, const hd_pp_lockey *k) {
  const hd_frame *f;
  const size_t n = hd_frame_symbols(pp->d, k->fid, &f);
  for (size_t j = k->skip; j < n; j++) {
    if (!f[j].function)
      continue;
    const uint64_t fid = hd_pp_function(pp, &f[j]);
    if (!fid ||
        hd_grow(&pp->line, &pp->cap_line, pp->n_line, sizeof *pp->line, 256))
      return HS_ENOMEM;
    hd_pb_line *l = &pp->line[pp->n_line++];
    *l = (hd_pb_line)PERFTOOLS__PROFILES__LINE__INIT;
    l->function_id = fid;
    l->line = f[j].line;
    loc->n_line++;
  }
  return 0;
}

static int hd_pp_loc_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_pp_lockey *a = &((const hd_pp *)ctx)->lockey[id], *b = key;
  return a->fid == b->fid && a->skip == b->skip;
}

/* The address of a frame's call instruction (a return address less one),
 * where its lines are, in the module's addresses of its Mapping. */
static uint64_t hd_pp_address(const hd_pp *pp, uint32_t fid) {
  const hd_frame_key *k = &pp->d->frames[fid];
  if (k->module == HD_NO_MODULE)
    return k->address ? k->address - 1 : 0;
  const hs_module *m = pp->mod_of[k->module];
  return m->bias + (k->offset ? k->offset - 1 : 0);
}

static int hd_pp_loc_grow(hd_pp *pp) {
  size_t c1 = pp->cap_loc, c2 = pp->cap_loc;
  if (hd_grow(&pp->loc, &pp->cap_loc, pp->n_loc, sizeof *pp->loc, 256) ||
      hd_grow(&pp->lockey, &c1, pp->n_loc, sizeof *pp->lockey, 256) ||
      hd_grow(&pp->loc_line, &c2, pp->n_loc, sizeof *pp->loc_line, 256))
    return HS_ENOMEM;
  return 0;
}

/* @return : the id of the Location for k, made on first use; 0 out of
 * memory. */
static uint64_t hd_pp_location(hd_pp *pp, const hd_pp_lockey *k) {
  const uint64_t h = hd_hash(0, k, sizeof *k);
  const uint32_t id = hd_map_find(pp->loc_index, h, hd_pp_loc_eq, pp, k);
  if (id != UINT32_MAX)
    return id + 1;
  if (hd_pp_loc_grow(pp) || hd_map_put(pp->loc_index, h, (uint32_t)pp->n_loc))
    return 0;
  hd_pb_location *loc = &pp->loc[pp->n_loc];
  *loc = (hd_pb_location)PERFTOOLS__PROFILES__LOCATION__INIT;
  pp->lockey[pp->n_loc] = *k;
  pp->loc_line[pp->n_loc] = pp->n_line;
  loc->id = ++pp->n_loc;
  const uint32_t mod = pp->d->frames[k->fid].module;
  loc->mapping_id = pp->map_of[mod == HD_NO_MODULE ? pp->d->n_modules : mod];
  loc->address = hd_pp_address(pp, k->fid);
  if (hd_pp_lines(pp, loc, k))
    return 0;
  /* a mapping has functions (and so on) when all its locations do */
  int *sym = &pp->map_symbolized[loc->mapping_id - 1];
  *sym = (*sym != 0) && loc->n_line > 0;
  return loc->id;
}

/* --- samples ------------------------------------------------------------- */

/* The site's locations, innermost first, into locid[]. */
static int hd_pp_stack(hd_pp *pp, const hd_site *s) {
  hd_walk w;
  hd_walk_start(&w, pp->d, s);
  for (uint32_t i = 0; i < s->depth; i++) {
    const hd_pp_lockey k = {s->frames[i], i == 0 ? (uint32_t)w.j : 0};
    const uint64_t id = hd_pp_location(pp, &k);
    if (!id || hd_grow(&pp->locid, &pp->cap_locid, pp->n_locid,
                       sizeof *pp->locid, 1024))
      return HS_ENOMEM;
    pp->locid[pp->n_locid++] = id;
  }
  return 0;
}

/* One sample of site s: `v` holds its values (n_types), `label` its
 * reachability label or NULL. */
static int hd_pp_sample(hd_pp *pp, const hd_site *s, const double *v,
                        hd_pb_label **label) {
  size_t c = pp->cap_sample;
  if (hd_grow(&pp->sample, &pp->cap_sample, pp->n_sample, sizeof *pp->sample,
              256) ||
      hd_grow(&pp->sample_loc, &c, pp->n_sample, sizeof *pp->sample_loc, 256))
    return HS_ENOMEM;
  hd_pb_sample *smp = &pp->sample[pp->n_sample];
  *smp = (hd_pb_sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
  pp->sample_loc[pp->n_sample++] = pp->n_locid;
  const int rc = hd_pp_stack(pp, s);
  smp->n_location_id = pp->n_locid - pp->sample_loc[pp->n_sample - 1];
  smp->n_value = pp->n_types;
  for (size_t i = 0; !rc && i < pp->n_types; i++) {
    if (hd_grow(&pp->value, &pp->cap_value, pp->n_value, sizeof *pp->value,
                1024))
      return HS_ENOMEM;
    /* rounded as the JSON prints them (%.0f: to nearest, ties to even) */
    pp->value[pp->n_value++] = (int64_t)llrint(v[i]);
  }
  smp->n_label = label ? 1 : 0;
  smp->label = label;
  return rc;
}

/* The site's samples: all its blocks of the last snapshot, or those
 * lost and those held, each with its in-use and new values. */
static int hd_pp_site(hd_pp *pp, const hd_site *s) {
  const size_t last = pp->d->n_snaps - 1;
  if (s->blocks[last] <= 0)
    return 0;
  const double all[HD_PP_MAX_TYPES] = {s->blocks[last], s->bytes[last],
                                       s->new_blocks, s->new_bytes};
  if (!pp->d->scanned)
    return hd_pp_sample(pp, s, all, NULL);
  const double lost[HD_PP_MAX_TYPES] = {
      s->unreachable_blocks, s->unreachable_bytes, s->new_unreachable_blocks,
      s->new_unreachable_bytes};
  double held[HD_PP_MAX_TYPES];
  for (size_t i = 0; i < HD_PP_MAX_TYPES; i++)
    held[i] = all[i] - lost[i];
  int rc = 0;
  if (lost[0] > 0)
    rc = hd_pp_sample(pp, s, lost, &pp->label_ptr[0]);
  if (!rc && held[0] > 0)
    rc = hd_pp_sample(pp, s, held, &pp->label_ptr[1]);
  return rc;
}

/* --- the profile --------------------------------------------------------- */

static int hd_pp_types(hd_pp *pp, hd_pb_type *types, hd_pb_type **ptrs) {
  static const char *const names[HD_PP_MAX_TYPES][2] = {
      {"inuse_objects", "count"},
      {"inuse_space", "bytes"},
      {"new_objects", "count"},
      {"new_space", "bytes"}};
  /* All four with one snapshot too (new: 0, as in the JSON): pprof's
   * -diff_base refuses two profiles whose types differ in number. */
  pp->n_types = HD_PP_MAX_TYPES;
  for (size_t i = 0; i < pp->n_types; i++) {
    types[i] = (hd_pb_type)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    types[i].type = hd_pp_str(pp, names[i][0]);
    types[i].unit = hd_pp_str(pp, names[i][1]);
    ptrs[i] = &types[i];
    if (types[i].type < 0 || types[i].unit < 0)
      return HS_ENOMEM;
  }
  return 0;
}

static int hd_pp_labels(hd_pp *pp) {
  for (int i = 0; i < 2; i++) {
    pp->label[i] = (hd_pb_label)PERFTOOLS__PROFILES__LABEL__INIT;
    pp->label[i].key = hd_pp_str(pp, "reachability");
    pp->label[i].str = hd_pp_str(pp, i ? "held" : "lost");
    pp->label_ptr[i] = &pp->label[i];
    if (pp->label[i].key < 0 || pp->label[i].str < 0)
      return HS_ENOMEM;
  }
  return 0;
}

/* The comments: what made it, the program, its pid(s), each snapshot. */
static int hd_pp_comments(hd_pp *pp, hd_pb_profile *p) {
  const hd_diff *d = pp->d;
  p->comment = calloc(d->n_snaps + 3, sizeof *p->comment);
  if (!p->comment)
    return HS_ENOMEM;
  p->comment[p->n_comment++] = hd_pp_strf(pp, "heapdiff %s", HS_VERSION);
  p->comment[p->n_comment++] =
      hd_pp_strf(pp, "program: %s", d->snaps[0].h->exe);
  char pids[256] = "";
  for (size_t k = 0, n = 0; k < d->n_snaps && n + 16 < sizeof pids; k++)
    if (!k || d->snaps[k].h->pid != d->snaps[k - 1].h->pid)
      n += (size_t)snprintf(pids + n, sizeof pids - n, "%s%d", k ? " " : "",
                            d->snaps[k].h->pid);
  p->comment[p->n_comment++] = hd_pp_strf(pp, "pid: %s", pids);
  for (size_t k = 0; k < d->n_snaps; k++)
    p->comment[p->n_comment++] =
        hd_pp_strf(pp, "snapshot: %s", d->snaps[k].path);
  for (size_t i = 0; i < p->n_comment; i++)
    if (p->comment[i] < 0)
      return HS_ENOMEM;
  return 0;
}

/* The header fields: times, sampling period, default type. */
static int hd_pp_header(hd_pp *pp, hd_pb_profile *p, hd_pb_type *period) {
  const hd_diff *d = pp->d;
  const hs_header *first = d->snaps[0].h, *last = d->snaps[d->n_snaps - 1].h;
  p->time_nanos = (int64_t)last->time_ns;
  p->duration_nanos = (int64_t)(last->time_ns - first->time_ns);
  *period = (hd_pb_type)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
  period->type = hd_pp_str(pp, "space");
  period->unit = hd_pp_str(pp, "bytes");
  p->period_type = period;
  /* full tracking: every byte is seen */
  p->period = (last->flags & HS_SNAP_SAMPLED) && last->sample_bytes
                  ? (int64_t)last->sample_bytes
                  : 1;
  p->default_sample_type =
      hd_pp_str(pp, d->n_snaps > 1 ? "new_space" : "inuse_space");
  return period->type < 0 || period->unit < 0 || p->default_sample_type < 0
             ? HS_ENOMEM
             : hd_pp_comments(pp, p);
}

/* Pointer arrays over the growable tables, now that they are complete. */
static void **hd_pp_ptrs(void *base, size_t n, size_t size) {
  void **v = malloc((n + 1) * sizeof *v);
  for (size_t i = 0; v && i < n; i++)
    v[i] = (char *)base + i * size;
  return v;
}

static int hd_pp_link(hd_pp *pp, hd_pb_profile *p) {
  for (size_t i = 0; i < pp->n_map; i++) {
    const int sym = pp->map_symbolized[i] > 0;
    pp->map[i].has_functions = pp->map[i].has_filenames = sym;
    pp->map[i].has_line_numbers = pp->map[i].has_inline_frames = sym;
  }
  hd_pb_line **lines =
      (hd_pb_line **)hd_pp_ptrs(pp->line, pp->n_line, sizeof *pp->line);
  pp->line_ptrs = lines;
  p->location =
      (hd_pb_location **)hd_pp_ptrs(pp->loc, pp->n_loc, sizeof *pp->loc);
  p->function = (hd_pb_function **)hd_pp_ptrs(pp->fn, pp->n_fn, sizeof *pp->fn);
  p->mapping =
      (hd_pb_mapping **)hd_pp_ptrs(pp->map, pp->n_map, sizeof *pp->map);
  p->sample =
      (hd_pb_sample **)hd_pp_ptrs(pp->sample, pp->n_sample, sizeof *pp->sample);
  if (!lines || !p->location || !p->function || !p->mapping || !p->sample)
    return HS_ENOMEM;
  for (size_t i = 0; i < pp->n_loc; i++)
    pp->loc[i].line = lines + pp->loc_line[i];
  for (size_t i = 0; i < pp->n_sample; i++) {
    pp->sample[i].location_id = pp->locid + pp->sample_loc[i];
    pp->sample[i].value = pp->value + i * pp->n_types;
  }
  p->n_location = pp->n_loc, p->n_function = pp->n_fn;
  p->n_mapping = pp->n_map, p->n_sample = pp->n_sample;
  p->string_table = (char **)pp->str, p->n_string_table = pp->n_str;
  return 0;
}

/* --- gzip and the file --------------------------------------------------- */

/* The packed profile for hd_save. */
typedef struct hd_pp_bytes {
  const uint8_t *p;
  size_t n;
} hd_pp_bytes;

static int hd_pp_put(FILE *out, void *ctx) {
  const hd_pp_bytes *b = ctx;
  return fwrite(b->p, 1, b->n, out) == b->n ? 0 : -EIO;
}

static int hd_pp_pack_save(const hd_pb_profile *p, const char *path) {
  const size_t n = perftools__profiles__profile__get_packed_size(p);
  uint8_t *buf = malloc(n + 1), *gz = NULL;
  size_t gzlen = 0;
  int rc = buf ? 0 : HS_ENOMEM;
  if (!rc) {
    perftools__profiles__profile__pack(p, buf);
    rc = hd_gzip(buf, n, Z_DEFAULT_COMPRESSION, &gz, &gzlen);
  }
  free(buf);
  if (!rc)
    rc = hd_save(path, "profile", hd_pp_put, &(hd_pp_bytes){gz, gzlen});
  free(gz);
  return rc;
}

static void hd_pp_free(hd_pp *pp, hd_pb_profile *p) {
  free(pp->line_ptrs);
  free(p->location), free(p->function), free(p->mapping), free(p->sample);
  free(p->comment);
  for (size_t i = 0; i < pp->n_owned; i++)
    free(pp->owned[i]);
  free(pp->owned), free(pp->str), free(pp->fn), free(pp->loc);
  free(pp->lockey), free(pp->loc_line), free(pp->line), free(pp->map);
  free(pp->map_of), free(pp->mod_of), free(pp->map_symbolized);
  free(pp->sample);
  free(pp->value), free(pp->locid), free(pp->sample_loc);
  hd_map_free(pp->str_index), hd_map_free(pp->fn_index);
  hd_map_free(pp->loc_index);
}

static int hd_pp_build(hd_pp *pp, hd_pb_profile *p, hd_pb_type *types,
                       hd_pb_type **type_ptrs, hd_pb_type *period) {
  int rc = hd_pp_str(pp, "") == 0 ? 0 : HS_ENOMEM; /* string 0: "" */
  if (!rc)
    rc = hd_pp_types(pp, types, type_ptrs);
  p->sample_type = type_ptrs, p->n_sample_type = pp->n_types;
  if (!rc)
    rc = hd_pp_labels(pp);
  if (!rc)
    rc = hd_pp_mappings(pp);
  for (size_t i = 0; !rc && i < pp->d->n_sites; i++)
    rc = hd_pp_site(pp, &pp->d->sites[i]);
  if (!rc)
    rc = hd_pp_header(pp, p, period);
  return rc ? rc : hd_pp_link(pp, p);
}

int hd_report_pprof(hd_diff *d, FILE *out) {
  hd_pp pp = {.d = d};
  hd_pb_profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
  hd_pb_type types[HD_PP_MAX_TYPES], *type_ptrs[HD_PP_MAX_TYPES], period;
  pp.str_index = hd_map_create();
  pp.fn_index = hd_map_create();
  pp.loc_index = hd_map_create();
  pp.map_of = calloc(d->n_modules + 1, sizeof *pp.map_of);
  pp.mod_of = calloc(d->n_modules + 1, sizeof *pp.mod_of);
  int rc = pp.str_index && pp.fn_index && pp.loc_index && pp.map_of && pp.mod_of
               ? hd_pp_build(&pp, &p, types, type_ptrs, &period)
               : HS_ENOMEM;
  if (!rc)
    rc = hd_pp_pack_save(&p, d->opt->pprof);
  if (!rc) {
    hs__tool_put_safe(out, d->opt->pprof); /* one line, whatever it holds */
    fprintf(out,
            ": pprof profile of %zu snapshot%s: %zu samples, %zu "
            "locations, %zu functions, %zu mappings\n",
            d->n_snaps, d->n_snaps > 1 ? "s" : "", pp.n_sample, pp.n_loc,
            pp.n_fn, pp.n_map);
  }
  hd_pp_free(&pp, &p);
  return rc;
}
