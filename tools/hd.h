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
enum { HD_OUT_TEXT, HD_OUT_JSON, HD_OUT_FOLDED };

typedef struct hd_options {
  size_t top;             /* sites shown; 0 = all */
  int top_given;          /* --top was given (JSON lists all otherwise) */
  int all;                /* --all */
  int output;             /* HD_OUT_* */
  int group_by;           /* HD_GROUP_* */
  uint32_t stack_depth;   /* source frames per site in the text report */
  int force;              /* compare snapshots of different programs */
  int color;              /* escape sequences in the text report */
  int have_gate;          /* --fail-over given */
  uint64_t fail_over;     /* bytes */
  const char **alloc_fns; /* --alloc-fn names */
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
} hd_snap;

typedef struct hd_site {
  uint32_t *frames; /* frame ids, innermost first, allocator frames gone */
  uint32_t depth;
  double *blocks, *bytes; /* per snapshot (estimates when sampled) */
  double new_blocks, new_bytes;
  double delta_blocks, delta_bytes;
  const char *trend;
} hd_site;

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
  uint32_t *order;     /* growing sites, most growth first */
  size_t n_growing;
  size_t n_live_sites; /* sites with blocks in some snapshot */
  double total_growth; /* sum of the growing sites' delta_bytes */
} hd_diff;

/* hd_load.c */
int hd_load(hd_diff *d, char **paths, size_t n);
void hd_diff_free(hd_diff *d);

/* hd_sites.c */
int hd_sites_build(hd_diff *d);
/*! The source frames of frame id `fid` (inlined ones first). */
size_t hd_frame_symbols(hd_diff *d, uint32_t fid, const hd_frame **out);
/*! Module path of a frame, or NULL. */
const char *hd_frame_module(const hd_diff *d, uint32_t fid);

/* hd_report.c */
void hd_report_text(hd_diff *d, FILE *out);
void hd_report_json(hd_diff *d, FILE *out);
void hd_report_folded(hd_diff *d, FILE *out);

#endif /* HD_H */
