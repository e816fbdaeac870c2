/* hd_short.h - names for display, shared by heapdiff and heapsnap dump
 * (hd_short.c): pprof's simplification of demangled C++ names, which code
 * is the runtime's, and cutting UTF-8 text to a number of columns. */
#ifndef HD_SHORT_H
#define HD_SHORT_H

#include <stddef.h>

/*! Writes the display form of demangled `name` into out (always
 * terminated): no return type, no parameters, template arguments as <…>,
 * `std::__cxx11::` as `std::`, `basic_string<char, …>` as `string`,
 * `(anonymous namespace)::` and `[abi:…]`, `[clone …]` dropped. NULL
 * gives "". */
void hd_name_simplify(const char *name, char *out, size_t len);

/*! @return : 1 when the module at `path` is a C or C++ runtime or an
 * allocator (libc, libm, libstdc++, libgcc_s, ld.so, libheapsnap,
 * jemalloc, tcmalloc, libc++). */
int hd_module_is_runtime(const char *path);

/*! @return : 1 when a source frame is standard-library code: a function
 * in std:: or __gnu_cxx::, or one whose file is under a compiler's include
 * directories (.../include/c++/, .../lib/gcc/, .../lib/clang/). */
int hd_function_is_runtime(const char *function, const char *file);

/*! Columns UTF-8 text takes (one per character). */
size_t hd_cols(const char *s);

/*! Cuts s to `cols` columns, its last one an ellipsis (…), when wider;
 * s must have room for 2 more bytes. */
void hd_cut(char *s, size_t cols);

/*! Cuts s to its last `cols` columns, its first one an ellipsis, when
 * wider: for file names, whose end tells them apart. s needs room for 2
 * more bytes. */
void hd_cut_left(char *s, size_t cols);

/*! Cuts s to `cols` columns with an ellipsis in the middle, when wider:
 * for names whose start says what they are and whose end which one
 * (`[TLS vector of exi…thread 29021]`). Under 12 columns, as hd_cut. s
 * needs room for 2 more bytes. */
void hd_cut_middle(char *s, size_t cols);

#endif /* HD_SHORT_H */
