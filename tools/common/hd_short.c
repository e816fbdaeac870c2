/* hd_short.c - names for display, without anything else of heapdiff (a
 * unit test links this file alone): pprof's simplification of demangled
 * C++ names, which names are runtime code, and cutting UTF-8 text to a
 * number of columns with an ellipsis. */
#include <stdio.h>
#include <string.h>

#include "hd_short.h"
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

void hd_cut_left(char *s, size_t cols) {
  size_t n = hd_cols(s);
  if (n <= cols || cols == 0)
    return;
  const char *keep = s; /* to the start of the last cols - 1 characters */
  for (; n > cols - 1; n--) {
    keep++;
    while (((unsigned char)*keep & 0xc0) == 0x80)
      keep++;
  }
  memmove(s + strlen("…"), keep, strlen(keep) + 1);
  memcpy(s, "…", strlen("…"));
}

void hd_cut_middle(char *s, size_t cols) {
  if (hd_cols(s) <= cols)
    return;
  if (cols < 12) {
    hd_cut(s, cols);
    return;
  }
  const size_t keep = cols / 3; /* columns of the end kept */
  char end[4096];
  snprintf(end, sizeof end, "%s", s + strlen(s) - strnlen(s, sizeof end - 8));
  hd_cut_left(end, keep + 1); /* "…" and the end */
  hd_cut(s, cols - keep);     /* the start and "…" */
  strcat(s, end + strlen("…"));
}
