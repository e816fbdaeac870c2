/* hd.h - heapdiff's model, shared by its parts.
 *
 * heapdiff reads two or more snapshots of one program, names every stack
 * by its frames' (module, offset) so the same code matches across
 * processes and load addresses, strips the allocator's own frames to get
 * sites, sums each site's live blocks and bytes per snapshot, and reports
 * the sites that grew (hd_report.c: text, JSON, folded stacks). */
#ifndef HD_H
#define HD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hd_map.h"
#include "hd_symbols.h"
#include "hs_snapshot.h"

#define HD_NO_MODULE UINT32_MAX

/* What a module is to site building: the allocator's own code is not a
 * site. */
enum { HD_KIND_CODE, HD_KIND_SHIM, HD_KIND_LIBC, HD_KIND_JEMALLOC };

enum { HD_GROUP_STACK, HD_GROUP_FUNCTION, HD_GROUP_LINE };
enum { HD_OUT_TEXT, HD_OUT_JSON, HD_OUT_FOLDED, HD_OUT_PPROF };

typedef struct hd_options {
  size_t top;              /* sites shown; 0 = all */
  int top_given;           /* --top was given (JSON lists all otherwise) */
  int all;                 /* --all */
  int output;              /* HD_OUT_* */
  int group_by;            /* HD_GROUP_* */
  uint32_t stack_depth;    /* source frames per site in the text report */
  int all_frames;          /* --all-frames: from the innermost, runtime too */
  uint32_t width;          /* text report columns; 0: --wide, no limit */
  uint32_t retainers;      /* retainer paths shown per site */
  int force;               /* compare snapshots of different programs */
  int color;               /* escape sequences in the text report */
  int have_gate;           /* --fail-over given */
  uint64_t fail_over;      /* bytes */
  int lost_only;           /* --lost: list the sites with lost blocks */
  int have_lost_gate;      /* --fail-over-lost given */
  uint64_t fail_over_lost; /* bytes */
  const char *pprof;       /* --pprof FILE */
  const char *html;        /* --html FILE: write the page there */
  const char **alloc_fns;  /* --alloc-fn names */
  size_t n_alloc_fns;
  hd_sym_options sym;
} hd_options;

/* A frame: a code address named by module and offset, so it matches in
 * every snapshot whatever the load address. */
typedef struct hd_frame_key {
  uint32_t module;  /* symbolizer handle, or HD_NO_MODULE */
  uint64_t offset;  /* return address - bias (raw address without module) */
  uint64_t address; /* as first seen, for the JSON */
} hd_frame_key;

typedef struct hd_snap {
  const char *path;
  hs_snapshot *snap;
  const hs_header *h;
  uint32_t *module_handle; /* per module of the snapshot */
  uint32_t *stack_site;    /* per stack of the snapshot: its site */
  int graph;               /* it came with its heap graph (GRPH) */
  int repeat;              /* holds the same blocks as the snapshot before it */
  double est_blocks, est_bytes; /* live totals, weighted when sampled */
} hd_snap;

typedef struct hd_site {
  uint32_t *frames; /* frame ids, innermost first, allocator frames gone */
  uint32_t depth;
  double *blocks, *bytes; /* per snapshot (estimates when sampled) */
  double new_blocks, new_bytes;
  double delta_blocks, delta_bytes;
  const char *trend;
  double unreachable_blocks, unreachable_bytes; /* in the last snapshot */
  double new_unreachable_blocks, new_unreachable_bytes; /* of those, new */
  struct hd_path *paths; /* retainer paths, most blocks first (hd_reach.c) */
  size_t n_paths, cap_paths;
  double *retained;      /* per snapshot: retained bytes (hd_retain.c), */
                         /* NAN for a snapshot without its heap graph */
  double delta_retained; /* last - first; NAN unless both have graphs */
} hd_site;

/* A root as retained sizes see it, the same in every snapshot: one global
 * symbol (a segment's words without symbols: the segment), one thread's
 * stack, registers or not-yet-started argument, one mapping. */
typedef struct hd_root {
  uint32_t kind;               /* HS_ROOT_* */
  uint32_t module;             /* a global's symbolizer handle */
  const char *symbol;          /* a global's data symbol, or NULL */
  uint64_t offset;             /* a global: its symbol's (segment's) offset */
  int32_t tid;                 /* threads, registers, thread arguments */
  char *name;                  /* thread or mapping name */
  uint64_t start, end;         /* the range, as first seen */
  double *bytes, *blocks;      /* per snapshot: retained; NAN without a graph */
  double delta_bytes;          /* last - first; NAN unless both have graphs */
  uint32_t rs_first, rs_count; /* its hd_rsite entries, most growth first */
} hd_root;

/* The bytes of one site's blocks that one root dominates, in the first
 * and the last snapshot: what the root retains, by site. */
typedef struct hd_rsite {
  uint32_t root, site;
  double first, last;
} hd_rsite;

/* One hop of a retainer path, from a named root towards the site's
 * blocks: a root (hop 0), then blocks of other sites. */
typedef struct hd_pnode {
  uint32_t parent;  /* previous hop, or UINT32_MAX for the root hop */
  uint32_t is_root; /* 1: `what` is a root index of the last snapshot */
  uint32_t what;    /* root index, or the site of the retaining block */
  uint32_t count;   /* consecutive blocks of that site, collapsed: most */
  uint64_t from;    /* a pointer into this hop's block: its offset in the */
  uint64_t target;  /* previous hop, and how far into this block it points */
  uint64_t where;   /* root hops in a module: the global's offset */
} hd_pnode;

/* The blocks of one site that share one retainer path. */
typedef struct hd_path {
  uint32_t node; /* the last hop: the block (or root) pointing at them */
  double blocks, bytes;
  uint64_t from, target; /* a pointer from that hop into one of them */
} hd_path;

typedef struct hd_diff {
  const hd_options *opt;
  hd_snap *snaps;
  size_t n_snaps;
  int sampled; /* any snapshot is sampled */
  hd_symbolizer *sym;
  const char **module_paths; /* per symbolizer handle */
  uint8_t *module_kind;      /* per handle: HD_KIND_* */
  size_t n_modules;
  hd_frame_key *frames;
  size_t n_frames, cap_frames;
  hd_site *sites;
  size_t n_sites, cap_sites;
  struct hd_map *frame_index, *site_index, *name_index; /* hd_map.c */
  int8_t *frame_alloc; /* per frame: 1 allocator, 0 not, -1 not known yet */
  uint32_t *order;     /* the listed sites: growing ones, most growth
                          first; or hd_check.c's (one snapshot, --lost) */
  size_t n_order;
  int scanned;      /* the last snapshot has a reachability scan */
  hd_pnode *pnodes; /* retainer path hops (hd_reach.c) */
  size_t n_pnodes, cap_pnodes;
  struct hd_map *pnode_index;
  size_t n_growing;
  size_t n_live_sites; /* sites with blocks in some snapshot */
  double total_growth; /* sum of the growing sites' delta_bytes */
  /* hd_check.c, over all sites of the last snapshot: */
  double total_lost_blocks, total_lost_bytes;   /* unreachable */
  double total_new_bytes, total_new_lost_bytes; /* new, and new unreachable */
  double total_new_lost_blocks;
  size_t n_new_sites;               /* sites with new blocks */
  size_t n_lost_sites;              /* sites with lost blocks */
  double total_bytes, total_blocks; /* live, all sites */
  /* hd_retain.c: retained sizes, from the snapshots with a heap graph */
  int retained_any, retained_last; /* some snapshot has one; the last */
  hd_root *roots;
  size_t n_roots, cap_roots;
  uint32_t *root_order; /* most retained growth first */
  hd_rsite *rsites;
  size_t n_rsites, cap_rsites;
  struct hd_map *root_index, *rsite_index;
  uint32_t *page; /* hd_html.c: the page's sites, most bytes first, */
  size_t n_page;  /* then the n_page_other it sums into "other" */
  size_t n_page_other;
} hd_diff;

/* hd_load.c */
int hd_load(hd_diff *d, char **paths, size_t n);
void hd_diff_free(hd_diff *d);

/* hd_sites.c */
/*! Snapshot k, just opened: its stacks named as sites, its blocks summed
 * per site (the earlier snapshots done already). */
int hd_sites_snapshot(hd_diff *d, size_t k);
/*! After every snapshot: trends, the order of the growing sites. */
int hd_sites_build(hd_diff *d);
/*! Where trends end: the last snapshot that is no repeat (hd_snap.repeat)
 * and not an exit snapshot after running ones (hd_trend_exit). */
size_t hd_trend_end(const hd_diff *d);
/*! The exit snapshot that trends leave out (taken after atexit handlers
 * and static destructors, after snapshots of the same process taken while
 * it ran), or 0. */
size_t hd_trend_exit(const hd_diff *d);
/*! Whether two snapshots are of one process (pid and start time): epochs,
 * repeats and rates compare within one only. */
int hd_same_process(const hs_header *a, const hs_header *b);
/*! Whether block b of snapshot k was allocated after the first snapshot
 * was taken (every block is, when they are different processes). */
int hd_block_is_new(const hd_diff *d, size_t k, const hs_block *b);
/*! The source frames of frame id `fid` (inlined ones first). */
size_t hd_frame_symbols(hd_diff *d, uint32_t fid, const hd_frame **out);
/*! Module path of a frame, or NULL. */
const char *hd_frame_module(const hd_diff *d, uint32_t fid);

/* hd_reach.c: unreachable blocks and retainer paths, from the last
 * snapshot's scan. */
int hd_reach_build(hd_diff *d);
void hd_reach_free(hd_diff *d);
/*! The hops of path node `node`, root first, into out (at most max).
 * @return : the number of hops. */
size_t hd_path_hops(const hd_diff *d, uint32_t node, uint32_t *out, size_t max);

/* A root of the last snapshot, with what names a global: its module and
 * the data symbol holding the word. */
typedef struct hd_root_desc {
  const hs_root *root;
  const hs_module *module; /* a global's module; NULL for other roots */
  uint64_t offset;         /* a global: the word's offset in its module */
  const char *symbol;      /* a global: the data symbol holding it, or NULL */
  uint64_t symbol_offset;  /* the word's offset into it; 0 without one */
} hd_root_desc;

/*! Describes root `index` of the last snapshot for the pointer at offset
 * `from` in it, into *out; strings are owned by the snapshot and the
 * symbolizer. */
void hd_root_describe(const hd_diff *d, uint32_t index, uint64_t from,
                      hd_root_desc *out);
/*! The same, for root `index` of snapshot k. */
void hd_root_describe_in(const hd_diff *d, size_t k, uint32_t index,
                         uint64_t from, hd_root_desc *out);

/*! For a root hop whose pointer is at `from` in the root: "global
 * g_sessions (server)", "stack of thread 42 (worker)", "mapping
 * 0x7f..-0x7f.. [anon]"; written into buf. */
void hd_root_name(hd_diff *d, const hd_pnode *n, uint64_t from, char *buf,
                  size_t len);
/*! A register root's register at offset `from` ("r15", "xmm0"). */
const char *hd_register_name(const hs_root *r, uint64_t from, char *buf,
                             size_t len);

/* hd_retain.c: retained sizes from each snapshot's dominator tree. */
/*! Snapshot k, after hd_sites_snapshot (before its blocks are dropped):
 * from its heap graph, if any, every site's and root's retained bytes and
 * blocks in it. @return : 0 or HS_ENOMEM. */
int hd_retain_snapshot(hd_diff *d, size_t k);
/*! After every snapshot: the growth, the roots' order, each root's
 * breakdown by site. @return : 0 or HS_ENOMEM. */
int hd_retain_build(hd_diff *d);
void hd_retain_free(hd_diff *d);
/*! "global g_sessions (server)", "stack of thread 42 (worker)", as
 * retainer paths name roots; into buf. */
void hd_root_label(const hd_diff *d, const hd_root *r, char *buf, size_t len);

/* hd_check.c: the leak check (one snapshot, --lost, --fail-over-lost). */
/*! Whether the report lists sites by what they hold (one snapshot, or
 * --lost) rather than by growth. */
int hd_list_mode(const hd_diff *d);
/*! In list mode, puts every site live in the last snapshot in d->order,
 * so the reachability pass works out their retainers. @return : 0 or
 * HS_ENOMEM. */
int hd_check_list(hd_diff *d);
/*! After hd_reach_build: the totals over all sites; in list mode the
 * order (most bytes first, or with --lost the sites with lost blocks,
 * most lost bytes first). @return : 0, or HS_EINVAL after one line when
 * --fail-over-lost is given and the last snapshot has no scan. */
int hd_check_finish(hd_diff *d);
/*! Whether the last snapshot's lost blocks are over --fail-over-lost. */
int hd_check_lost_over(const hd_diff *d);
/*! Whether there is a growth rate to show: one process, time between
 * the first snapshot and the last. */
int hd_has_rate(const hd_diff *d);

/* hd_out.c: heapdiff's output files. */
/*! gzip (zlib, `level`) of n bytes into a malloc'ed *out of *len bytes.
 * @return : 0, or HS_ENOMEM (and *out NULL). */
int hd_gzip(const void *in, size_t n, int level, uint8_t **out, size_t *len);
/*! Writes `path` whole or not at all: put(out, ctx) writes the content to
 * a temporary file beside it (0 or -errno), which gets the mode a new file
 * gets and is renamed over `path`; the signals that would end the process
 * meanwhile (hd_out.c's hd_end_sigs) remove it first. An existing file this
 * user may not write is refused, not replaced. On failure, one line "PATH:
 * cannot write the WHAT: why", or one naming the folder where no temporary file
 * can be made. @return : 0, or HS__TOOL_EFAIL. */
int hd_save(const char *path, const char *what, int (*put)(FILE *, void *),
            void *ctx);
/*! The descriptor of this process that path names (/dev/stdout 1,
 * /dev/stderr 2, /dev/fd/N, /proc/self/fd/N), written into as it is; or
 * -1 for any other path. */
int hd_out_fd(const char *path);

/* hd_report.c */
void hd_report_text(hd_diff *d, FILE *out);
void hd_report_json(hd_diff *d, FILE *out);
void hd_report_folded(hd_diff *d, FILE *out);
/*! s as a JSON string (null for NULL). */
void hd_json_str(FILE *out, const char *s);
/*! "modules_without_symbols": [...] for the modules of the first `shown`
 * listed sites' frames that have no symbols here. */
void hd_json_unsymbolized(hd_diff *d, FILE *out, size_t shown);

/* hd_html.c: the page (--html FILE, docs/html.md). */
/*! In place of hd_reach_build with --html: picks the page's sites (every
 * live one, up to 100,000) and works out the retainer paths of those and
 * of the listed ones. @return : 0 or HS_ENOMEM. */
int hd_html_reach(hd_diff *d);
/*! Writes the page to `path` (a temporary file renamed into place) and
 * one line naming it on `say`. @return : 0, or a code after one line. */
int hd_report_html(hd_diff *d, const char *path, FILE *say);

/* hd_pprof.c */
/*! Writes d as a gzipped pprof profile (profile.proto) to d->opt->pprof,
 * through a temporary file in the same folder, and prints one line naming
 * it. @return : 0, or HS__TOOL_EFAIL (or HS_ENOMEM) after one line. */
int hd_report_pprof(hd_diff *d, FILE *out);

#endif /* HD_H */
