/* hd_names.h - naming sites for people (hd_names.c): runtime code, a
 * site's origin, short names, --alloc-fn patterns, cutting to a width. */
#ifndef HD_NAMES_H
#define HD_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "hd.h"
#include "hd_short.h"

/*! @return : the index of the first --alloc-fn pattern matching demangled
 * name fn (fnmatch, against the full or the short name; a pattern without
 * wildcards also matches the name with its parameters), or -1. */
int hd_name_alloc_fn(const hd_options *o, const char *fn);

/*! One note on stderr for each --alloc-fn pattern no frame matches. */
void hd_alloc_fns_check(hd_diff *d);

/* A walk over a site's source frames, innermost first, inlined ones
 * included, without inlined allocation functions at the innermost end. */
typedef struct hd_walk {
  hd_diff *d;
  const hd_site *s;
  uint32_t i;        /* address frame */
  size_t j, n;       /* source frame in it, and how many it has */
  const hd_frame *f; /* its source frames */
} hd_walk;

void hd_walk_start(hd_walk *w, hd_diff *d, const hd_site *s);
/*! The next source frame and its frame id. @return : 0 at the end. */
int hd_walk_next(hd_walk *w, uint32_t *fid, const hd_frame **f);

/*! The frame a site is named by: the first source frame (in walk order)
 * that is not runtime code, or the innermost when all are. Sets *fid and
 * *f to it (untouched for an empty stack).
 * @return : its index in the walk (JSON `origin`). */
uint32_t hd_site_origin(hd_diff *d, const hd_site *s, uint32_t *fid,
                        const hd_frame **f);

/*! Fits a frame's name and the tail after it (its file) into the columns
 * from `col` to `width` (0: no limit): the name is cut first, down to 12
 * columns and never shorter, then the tail (to nothing when less than 3
 * columns are left). Both need room for 2 more bytes. */
void hd_fit(char *name, char *tail, uint32_t width, size_t col);

/*! A source frame's text: its short name (module+0xOFFSET without one)
 * into name, and "  file:line" or "  (module)", then "  (inlined)", into
 * tail; both cut to fit their buffers with room for hd_cut. */
void hd_frame_text(hd_diff *d, uint32_t fid, const hd_frame *f, char *name,
                   size_t nlen, char *tail, size_t tlen);

/*! The report's width: COLUMNS when a number of 20 or more, else the
 * terminal's on stdout, else 100. */
uint32_t hd_width_default(void);

#endif /* HD_NAMES_H */
