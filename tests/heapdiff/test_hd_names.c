/* test_hd_names - heapdiff's display names (tools/common/hd_short.c) on
 * a table of real demangled names, as g++ and libdw give them: the short
 * form, and whether each is runtime code; and cutting to a width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hd_short.h"

static const struct {
  const char *name, *file, *shortname;
  int runtime;
} cases[] = {
    {"std::__cxx11::basic_string<char, std::char_traits<char>, "
     "std::allocator<char> >::_M_create(unsigned long&, unsigned long)",
     "/usr/include/c++/13/bits/basic_string.tcc", "std::string::_M_create", 1},
    {"void std::vector<char, std::allocator<char> >::_M_realloc_insert<char "
     "const&>(__gnu_cxx::__normal_iterator<char*, std::vector<char, "
     "std::allocator<char> > >, char const&)",
     NULL, "std::vector<…>::_M_realloc_insert<…>", 1},
    {"std::__new_allocator<char>::allocate(unsigned long, void const*)",
     "/usr/include/c++/13/bits/new_allocator.h",
     "std::__new_allocator<…>::allocate", 1},
    {"std::shared_ptr<app::Node> std::make_shared<app::Node>()", NULL,
     "std::make_shared<…>", 1},
    {"std::unordered_map<std::__cxx11::basic_string<char, "
     "std::char_traits<char>, std::allocator<char> >, std::vector<char, "
     "std::allocator<char> >, std::hash<std::__cxx11::basic_string<char, "
     "std::char_traits<char>, std::allocator<char> > > >::operator[](std::"
     "__cxx11::basic_string<char, std::char_traits<char>, "
     "std::allocator<char> >&&)",
     NULL, "std::unordered_map<…>::operator[]", 1},
    {"std::__cxx11::basic_string<char, std::char_traits<char>, "
     "std::allocator<char> > std::operator+<char, std::char_traits<char>, "
     "std::allocator<char> >(char const*, std::__cxx11::basic_string<char, "
     "std::char_traits<char>, std::allocator<char> >&&)",
     NULL, "std::operator+<…>", 1},
    {"__gnu_cxx::new_allocator<int>::allocate(unsigned long, void const*)",
     NULL, "__gnu_cxx::new_allocator<…>::allocate", 1},
    {"app::cache_insert(int)", "/src/svc.cpp", "app::cache_insert", 0},
    {"app::Cache::get(std::__cxx11::basic_string<char, "
     "std::char_traits<char>, std::allocator<char> > const&) const",
     "/src/cache.cpp", "app::Cache::get", 0},
    {"app::run()::{lambda(int, char const*)#1}::operator()(int, char const*) "
     "const",
     "/src/run.cpp", "app::run::{lambda(…)#1}::operator()", 0},
    {"main::{lambda()#2}::operator()() const", "/src/main.cpp",
     "main::{lambda()#2}::operator()", 0},
    {"(anonymous namespace)::make_buffer(unsigned long)", "/src/buf.cpp",
     "make_buffer", 0},
    {"app::(anonymous namespace)::Pool::grow()", "/src/pool.cpp",
     "app::Pool::grow", 0},
    {"app::sort_all(void (*)(int*, unsigned long), int*)", "/src/sort.cpp",
     "app::sort_all", 0},
    {"void (*app::handler_for(int))(int)", "/src/sig.cpp", "app::handler_for",
     0},
    {"app::Buffer::operator<<(int)", "/src/buf.cpp", "app::Buffer::operator<<",
     0},
    {"app::Buffer::operator new(unsigned long)", "/src/buf.cpp",
     "app::Buffer::operator new", 0},
    {"app::Name::str[abi:cxx11]() const", "/src/name.cpp", "app::Name::str", 0},
    {"app::parse(char const*) [clone .cold]", "/src/parse.cpp", "app::parse",
     0},
    {"std::_Function_handler<void (int), app::run()::{lambda(int)#1}>::"
     "_M_invoke(std::_Any_data const&, int&&)",
     "/usr/include/c++/13/bits/std_function.h",
     "std::_Function_handler<…>::_M_invoke", 1},
    {"zmalloc", "/src/zmalloc.c", "zmalloc", 0},
    {"__libc_start_call_main", NULL, "__libc_start_call_main", 0},
    {"inline_helper", "/usr/lib/gcc/x86_64-linux-gnu/13/include/xmmintrin.h",
     "inline_helper", 1},
};

static void test_simplify(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char out[1024];
    hd_name_simplify(cases[i].name, out, sizeof out);
    assert_string_equal(out, cases[i].shortname);
    assert_int_equal(hd_function_is_runtime(cases[i].name, cases[i].file),
                     cases[i].runtime);
  }
}

static void test_simplify_edges(void **state) {
  (void)state;
  char out[16];
  hd_name_simplify(NULL, out, sizeof out);
  assert_string_equal(out, "");
  hd_name_simplify("a_very_long_function_name(int)", out, sizeof out);
  assert_string_equal(out, "a_very_long_fun"); /* cut to the buffer */
  hd_name_simplify("f<<<", out, sizeof out);   /* unbalanced: no crash */
  assert_string_equal(out, "f<…>");
  hd_name_simplify("(", out, sizeof out);
  assert_string_equal(out, "(");
}

static void test_modules(void **state) {
  (void)state;
  assert_true(hd_module_is_runtime("/usr/lib/x86_64-linux-gnu/libc.so.6"));
  assert_true(hd_module_is_runtime("/usr/lib/libstdc++.so.6.0.32"));
  assert_true(hd_module_is_runtime("/lib64/ld-linux-x86-64.so.2"));
  assert_true(hd_module_is_runtime("/opt/lib/libtcmalloc_minimal.so.4"));
  assert_true(hd_module_is_runtime("/usr/lib/heapsnap/libheapsnap.so"));
  assert_false(hd_module_is_runtime("/usr/bin/redis-server"));
  assert_false(hd_module_is_runtime("/usr/lib/libcrypto.so.3"));
  assert_false(hd_module_is_runtime(NULL));
}

static void test_cut(void **state) {
  (void)state;
  char s[32] = "std::vector<…>::vector";
  assert_int_equal(hd_cols(s), 22);
  hd_cut(s, 22);
  assert_string_equal(s, "std::vector<…>::vector");
  hd_cut(s, 13);
  assert_string_equal(s, "std::vector<…");
  hd_cut(s, 12);
  assert_string_equal(s, "std::vector…");
  hd_cut(s, 1);
  assert_string_equal(s, "…");
  hd_cut(s, 0);
  assert_string_equal(s, "");
}

/* File names keep their end, which tells snapshots apart. */
static void test_cut_left(void **state) {
  (void)state;
  char s[64] = "svc_with_a_long_name.4139.12.snap";
  hd_cut_left(s, 33);
  assert_string_equal(s, "svc_with_a_long_name.4139.12.snap");
  hd_cut_left(s, 16);
  assert_string_equal(s, "…me.4139.12.snap");
  assert_int_equal(hd_cols(s), 16);
  hd_cut_left(s, 15); /* the ellipsis is dropped and made again */
  assert_string_equal(s, "…e.4139.12.snap");
  char u[32] = "/tmp/ünï/cöde";
  hd_cut_left(u, 6);
  assert_string_equal(u, "…/cöde");
  hd_cut_left(u, 1);
  assert_string_equal(u, "…");
}

/* Root names keep their start (what kind) and their end (which one). */
static void test_cut_middle(void **state) {
  (void)state;
  char s[64] = "[TLS vector of exited thread 29021]";
  hd_cut_middle(s, 35);
  assert_string_equal(s, "[TLS vector of exited thread 29021]");
  hd_cut_middle(s, 30);
  assert_string_equal(s, "[TLS vector of exit…ead 29021]");
  assert_int_equal(hd_cols(s), 30);
  char t[64] = "[TLS vector of exited thread 29020]";
  hd_cut_middle(t, 30);
  assert_string_not_equal(s, t); /* cut on the right, both end "2902…" */
  char u[64] = "mapping 0x7f10-0x7f20 [anon:jït cöde]";
  hd_cut_middle(u, 18);
  assert_string_equal(u, "mapping 0x7… cöde]");
  assert_int_equal(hd_cols(u), 18);
  hd_cut_middle(u, 11); /* under 12: the start alone */
  assert_string_equal(u, "mapping 0x…");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simplify), cmocka_unit_test(test_simplify_edges),
      cmocka_unit_test(test_modules),  cmocka_unit_test(test_cut),
      cmocka_unit_test(test_cut_left), cmocka_unit_test(test_cut_middle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
