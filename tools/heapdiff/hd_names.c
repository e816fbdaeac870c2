/* hd_names.c - naming sites for people: the frame a site is named by (its
 * origin), --alloc-fn patterns, a frame's text fitted to the report's
 * width (the names themselves are shortened in hd_short.c).
 *
 * A site's source frames are walked innermost first, inlined ones
 * included, without the inlined frames of allocation functions at its
 * innermost end (an --alloc-fn wrapper inlined into its caller: the
 * caller stays). The origin is the first of them that is not runtime
 * code; with none, the innermost. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hd.h"
#include "hd_names.h"
#include "hs_tool.h"

/* --- --alloc-fn ---------------------------------------------------------- */

/* A pattern matches the demangled name, its short form, or (without
 * wildcards, as before patterns) the name followed by its parameters. */
static int hd_pattern_matches(const char *pat, const char *fn,
                              const char *shortfn) {
  const size_t n = strlen(pat);
  if (!fnmatch(pat, fn, 0) || !fnmatch(pat, shortfn, 0))
    return 1;
  return strncmp(fn, pat, n) == 0 && fn[n] == '(';
}

int hd_name_alloc_fn(const hd_options *o, const char *fn) {
  if (!fn || !o->n_alloc_fns)
    return -1;
  char shortfn[1024];
  hd_name_simplify(fn, shortfn, sizeof shortfn);
  for (size_t i = 0; i < o->n_alloc_fns; i++)
    if (hd_pattern_matches(o->alloc_fns[i], fn, shortfn))
      return (int)i;
  return -1;
}

/* Whether any frame of any stack is named by pattern `pat`. */
static int hd_pattern_used(hd_diff *d, const char *pat) {
  for (uint32_t fid = 0; fid < d->n_frames; fid++) {
    const hd_frame *f;
    const size_t n = hd_frame_symbols(d, fid, &f);
    for (size_t j = 0; j < n; j++) {
      char shortfn[1024];
      if (!f[j].function)
        continue;
      hd_name_simplify(f[j].function, shortfn, sizeof shortfn);
      if (hd_pattern_matches(pat, f[j].function, shortfn))
        return 1;
    }
  }
  return 0;
}

void hd_alloc_fns_check(hd_diff *d) {
  for (size_t i = 0; i < d->opt->n_alloc_fns; i++)
    if (!hd_pattern_used(d, d->opt->alloc_fns[i])) {
      const char *p = d->opt->alloc_fns[i];
      char safe[256];
      size_t k = 0;
      for (; p[k] && k + 1 < sizeof safe; k++)
        safe[k] = (unsigned char)p[k] < 0x20 ? '?' : p[k];
      safe[k] = '\0';
      hs__tool_note("note: --alloc-fn '%s' matches no function in the "
                    "snapshots",
                    safe);
    }
}

/* --- a site's frames ----------------------------------------------------- */

void hd_walk_start(hd_walk *w, hd_diff *d, const hd_site *s) {
  memset(w, 0, sizeof *w);
  w->d = d, w->s = s;
  if (!s->depth)
    return;
  w->n = hd_frame_symbols(d, s->frames[0], &w->f);
  /* inlined allocation functions at the innermost end are not the site */
  while (w->j + 1 < w->n && w->f[w->j].inlined &&
         hd_name_alloc_fn(d->opt, w->f[w->j].function) >= 0)
    w->j++;
}

int hd_walk_next(hd_walk *w, uint32_t *fid, const hd_frame **f) {
  while (w->i < w->s->depth && w->j == w->n) {
    if (++w->i < w->s->depth)
      w->n = hd_frame_symbols(w->d, w->s->frames[w->i], &w->f), w->j = 0;
  }
  if (w->i >= w->s->depth)
    return 0;
  *fid = w->s->frames[w->i];
  *f = &w->f[w->j++];
  return 1;
}

uint32_t hd_site_origin(hd_diff *d, const hd_site *s, uint32_t *fid_out,
                        const hd_frame **f_out) {
  hd_walk w;
  uint32_t fid, index = 0;
  const hd_frame *f;
  hd_walk_start(&w, d, s);
  while (hd_walk_next(&w, &fid, &f)) {
    const uint32_t m = d->frames[fid].module;
    const int runtime =
        (m != HD_NO_MODULE && hd_module_is_runtime(d->module_paths[m])) ||
        hd_function_is_runtime(f->function, f->file);
    if (index == 0 || !runtime) {
      *fid_out = fid, *f_out = f;
      if (!runtime)
        return index;
    }
    index++;
  }
  return 0; /* no user frame: the innermost names it */
}

void hd_fit(char *name, char *tail, uint32_t width, size_t col) {
  if (!width)
    return;
  const size_t avail = width > col ? width - col : 0;
  const size_t nt = hd_cols(tail);
  if (hd_cols(name) + nt <= avail)
    return;
  /* A name cut shorter than 12 columns names nothing any more: it keeps
   * them, and the line is longer than the width, as when the numbers'
   * columns are wider than it. */
  hd_cut(name, avail > nt + 12 ? avail - nt : 12);
  const size_t room = avail > hd_cols(name) ? avail - hd_cols(name) : 0;
  if (room < 3) /* "  …" at least, or "…" would seem the name's */
    tail[0] = '\0';
  else
    hd_cut(tail, room);
}

void hd_frame_text(hd_diff *d, uint32_t fid, const hd_frame *f, char *name,
                   size_t nlen, char *tail, size_t tlen) {
  const char *mod = hd_frame_module(d, fid);
  tail[0] = '\0';
  if (!f->function) {
    snprintf(name, nlen, "%s+%#" PRIx64, hs__tool_basename(mod),
             d->frames[fid].offset);
  } else {
    hd_name_simplify(f->function, name, nlen - 2);
    if (f->file)
      snprintf(tail, tlen - 2, "  %s:%u", hs__tool_basename(f->file), f->line);
    else
      snprintf(tail, tlen - 2, "  (%s)", hs__tool_basename(mod));
  }
  if (f->inlined) {
    const size_t n = strlen(tail);
    snprintf(tail + n, tlen - 2 - n, "  (inlined)");
  }
}

uint32_t hd_width_default(void) {
  const char *c = getenv("COLUMNS");
  char *end;
  if (c && *c) {
    const unsigned long v = strtoul(c, &end, 10);
    if (!*end && v >= 20 && v <= 100000)
      return (uint32_t)v;
  }
  struct winsize ws;
  if (isatty(1) && !ioctl(1, TIOCGWINSZ, &ws) && ws.ws_col >= 20)
    return ws.ws_col;
  return 100;
}
