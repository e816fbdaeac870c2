/* hd_names.c - naming sites for people: which frames are runtime code, the
 * frame a site is named by (its origin), names shortened for display as
 * pprof shortens them, --alloc-fn patterns, and text cut to a width.
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

/* --- simplification ---------------------------------------------------- */

typedef struct hd_buf {
  char *p;
  size_t len, n;
} hd_buf;

static void hd_put(hd_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n && b->n + 1 < b->len; i++)
    b->p[b->n++] = s[i];
  b->p[b->n] = '\0';
}

/* Index just past the bracket closing the one at s[i] ('<', '(', '{' or
 * '['), counting the others inside; the string's end if unbalanced. */
static size_t hd_close(const char *s, size_t i) {
  int depth = 0;
  for (; s[i]; i++) {
    if (s[i] == '<' || s[i] == '(' || s[i] == '{' || s[i] == '[')
      depth++;
    else if ((s[i] == '>' || s[i] == ')' || s[i] == '}' || s[i] == ']') &&
             --depth == 0)
      return i + 1;
  }
  return i;
}

/* "operator<<", "operator()", "operator new[]", "operator bool": the
 * operator's name from s (which starts with "operator"), copied; @return :
 * its length in s. */
static size_t hd_operator(hd_buf *b, const char *s) {
  static const char *const ops[] = {"<<=", ">>=", "<=>", "->*", "<<", ">>",
                                    "<=",  ">=",  "==",  "!=",  "&&", "||",
                                    "++",  "--",  "+=",  "-=",  "*=", "/=",
                                    "%=",  "&=",  "|=",  "^=",  "->", "[]",
                                    "()",  "<",   ">",   "=",   "!",  "+",
                                    "-",   "*",   "/",   "%",   "^",  "&",
                                    "|",   "~",   ",",   NULL};
  size_t i = 8;
  if (s[i] == ' ') { /* new, delete, a conversion: up to the parameters */
    while (s[i] && s[i] != '(')
      i++;
  } else {
    for (size_t k = 0; ops[k]; k++)
      if (!strncmp(s + i, ops[k], strlen(ops[k]))) {
        i += strlen(ops[k]);
        break;
      }
  }
  hd_put(b, s, i);
  return i;
}

static const char *const hd_string_long[] = {
    "std::__cxx11::basic_string<char, std::char_traits<char>, "
    "std::allocator<char> >",
    "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
    NULL};

/* One name, return type and parameters dropped, templates <…>. */
static void hd_simplify_into(hd_buf *b, const char *s) {
  size_t i = 0;
  while (s[i]) {
    int matched = 0;
    for (size_t k = 0; hd_string_long[k] && !matched; k++) {
      const size_t n = strlen(hd_string_long[k]);
      if (!strncmp(s + i, hd_string_long[k], n))
        hd_put(b, "std::string", 11), i += n, matched = 1;
    }
    if (matched)
      continue;
    if (!strncmp(s + i, "std::__cxx11::", 14) ||
        !strncmp(s + i, "std::__1::", 10)) {
      hd_put(b, "std::", 5);
      i += s[i + 5] == '_' && s[i + 7] == 'c' ? 14 : 10;
    } else if (!strncmp(s + i, "(anonymous namespace)::", 23)) {
      i += 23;
    } else if (!strncmp(s + i, "operator", 8) &&
               (i == 0 || strchr(" :", s[i - 1]))) {
      i += hd_operator(b, s + i);
    } else if (s[i] == '<') {
      hd_put(b, "<…>", strlen("<…>"));
      i = hd_close(s, i);
    } else if (s[i] == '{') { /* {lambda(int)#1}: parameters dropped */
      const size_t end = hd_close(s, i);
      const char *paren = memchr(s + i, '(', end - i);
      if (paren) {
        hd_put(b, s + i, (size_t)(paren - (s + i)));
        const size_t after = hd_close(s, (size_t)(paren - s));
        hd_put(b, after - (size_t)(paren - s) > 2 ? "(…)" : "()",
               after - (size_t)(paren - s) > 2 ? strlen("(…)") : 2);
        hd_put(b, s + after, end - after);
      } else {
        hd_put(b, s + i, end - i);
      }
      i = end;
    } else if (s[i] == '(' && s[i + 1] == '*') { /* returns a function
                                                    pointer: (*name(..))(..) */
      b->n = 0, b->p[0] = '\0';
      i += 2;
    } else if (s[i] == '(') { /* the parameters; a local entity goes on */
      i = hd_close(s, i);
      const char *colons = strstr(s + i, "::");
      if (!colons)
        return;
      i = (size_t)(colons - s);
    } else if (s[i] == '[') { /* [abi:cxx11], [clone .cold] */
      i = hd_close(s, i);
    } else if (s[i] == ' ') { /* what came before was the return type */
      b->n = 0, b->p[0] = '\0';
      i++;
    } else {
      hd_put(b, s + i, 1);
      i++;
    }
  }
}

void hd_name_simplify(const char *name, char *out, size_t len) {
  if (!len)
    return;
  hd_buf b = {out, len, 0};
  out[0] = '\0';
  if (name)
    hd_simplify_into(&b, name);
  if (!b.n && name) /* nothing recognisable: keep it */
    snprintf(out, len, "%s", name);
}

/* --- runtime code ------------------------------------------------------ */

int hd_module_is_runtime(const char *path) {
  static const char *const prefixes[] = {
      "libc.so",      "libc-",          "libm.so",        "libpthread.so",
      "libstdc++.so", "libgcc_s.so",    "ld-linux",       "ld.so",
      "ld64.so",      "libheapsnap.so", "libjemalloc.so", "libtcmalloc",
      "libc++.so",    "libc++abi.so",   "libsupc++",      NULL};
  if (!path)
    return 0;
  const char *base = hs__tool_basename(path);
  for (size_t i = 0; prefixes[i]; i++)
    if (!strncmp(base, prefixes[i], strlen(prefixes[i])))
      return 1;
  return 0;
}

int hd_function_is_runtime(const char *function, const char *file) {
  static const char *const dirs[] = {"/include/c++/", "/lib/gcc/",
                                     "/lib/clang/", NULL};
  for (size_t i = 0; file && dirs[i]; i++)
    if (strstr(file, dirs[i]))
      return 1;
  if (!function)
    return 0;
  char name[1024];
  hd_name_simplify(function, name, sizeof name);
  return !strncmp(name, "std::", 5) || !strncmp(name, "__gnu_cxx::", 11) ||
         !strncmp(name, "__cxxabiv1::", 12);
}

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

/* --- width --------------------------------------------------------------- */

size_t hd_cols(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

void hd_cut(char *s, size_t cols) {
  if (hd_cols(s) <= cols)
    return;
  if (cols == 0) {
    s[0] = '\0';
    return;
  }
  size_t n = 0, i = 0;
  for (; s[i]; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80 && ++n == cols)
      break;
  /* s[i] starts the cols-th character: the ellipsis takes its place */
  strcpy(s + i, "…");
}

void hd_fit(char *name, char *tail, uint32_t width, size_t col) {
  if (!width)
    return;
  const size_t avail = width > col ? width - col : 1;
  const size_t nt = hd_cols(tail);
  if (hd_cols(name) + nt <= avail)
    return;
  if (avail >= nt + 12) {
    hd_cut(name, avail - nt);
    return;
  }
  hd_cut(name, avail);
  hd_cut(tail, avail - hd_cols(name));
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
