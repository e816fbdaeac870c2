/* test_symbols.c - hd_symbols against a library built for it
 * (symbols_target.c, symbols_target_cxx.cpp) and copies of it made at build
 * time: stripped (debug info by build id), debuglinked, without a build id,
 * without any symbols.
 * The code address is a real return address: the library is dlopened and
 * symt_outer() returns the address its inlined callees call from. Lines
 * come from "@mark" comments (CMakeLists.txt), symbol addresses and build
 * ids from libelf; nothing is hard-coded. */
#define _GNU_SOURCE /* dlinfo */
#include <dlfcn.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hd_symbols.h"
#include "symbols_util.h"

/* The module offset of symt_leaf's call instruction (return address - 1)
 * inside symt_outer, and the library's build id. */
static uint64_t g_call_off;
static uint8_t g_id[SYMTEST_MAX_ID];
static size_t g_id_len;

static int setup_group(void **state) {
  int len = symtest_build_id(SYMT_LIB, g_id, sizeof g_id);
  if (len < 8)
    return -1;
  g_id_len = (size_t)len;
  void *lib = dlopen(SYMT_LIB, RTLD_NOW | RTLD_LOCAL);
  struct link_map *lm = NULL;
  if (lib == NULL || dlinfo(lib, RTLD_DI_LINKMAP, &lm) != 0)
    return -1;
  void *(*outer)(int) = (void *(*)(int))dlsym(lib, "symt_outer");
  if (outer == NULL)
    return -1;
  g_call_off = (uint64_t)(uintptr_t)outer(5) - lm->l_addr - 1;
  /* The library stays loaded: nothing depends on unloading it. */
  return 0;
}

static hd_symbolizer *new_symbolizer(const char *sysroot, const char *dir) {
  const char *dirs[1] = {dir};
  hd_sym_options opt = {sysroot, dirs, dir != NULL};
  hd_symbolizer *s = NULL;
  assert_int_equal(hd_symbolizer_create(&opt, &s), 0);
  assert_non_null(s);
  return s;
}

static uint32_t add(hd_symbolizer *s, const char *path, const uint8_t *id,
                    size_t id_len) {
  symtest_module m;
  symtest_module_init(&m, path, id, id_len);
  uint32_t h = UINT32_MAX;
  assert_int_equal(hd_symbolizer_add_module(s, &m.mod, &h), 0);
  return h;
}

static void expect_status(hd_symbolizer *s, uint32_t h, int status,
                          const char *why) {
  const char *got = "unset";
  assert_int_equal(hd_symbolizer_module_status(s, h, &got), status);
  if (why == NULL)
    assert_null(got);
  else
    assert_string_equal(got, why);
}

static void expect_frame(const hd_frame *f, const char *function,
                         const char *file, uint32_t line, uint32_t inlined) {
  assert_string_equal(f->function, function);
  if (file == NULL)
    assert_null(f->file);
  else
    assert_string_equal(f->file, file);
  assert_int_equal(f->line, line);
  assert_int_equal(f->inlined, inlined);
}

static void expect_unknown(hd_symbolizer *s, uint32_t h, uint64_t off) {
  const hd_frame *f = NULL;
  assert_int_equal(hd_symbolize(s, h, off, &f), 1);
  assert_null(f[0].function);
  assert_null(f[0].file);
  assert_int_equal(f[0].line, 0);
  assert_int_equal(f[0].inlined, 0);
}

/* The return address inside two inlined functions: callee first. */
static void expect_inline_chain(hd_symbolizer *s, uint32_t h) {
  const hd_frame *f = NULL;
  assert_int_equal(hd_symbolize(s, h, g_call_off, &f), 3);
  expect_frame(&f[0], "symt_inner", SYMT_SRC_C, SYMT_LINE_INNER_CALL, 1);
  expect_frame(&f[1], "symt_middle", SYMT_SRC_C, SYMT_LINE_MIDDLE_CALL, 1);
  expect_frame(&f[2], "symt_outer", SYMT_SRC_C, SYMT_LINE_OUTER_CALL, 0);
}

static uint64_t sym(const char *path, const char *name) {
  uint64_t value = 0;
  uint64_t size = 0;
  assert_int_equal(symtest_symbol(path, name, &value, &size), 0);
  assert_true(value > 0);
  return value;
}

static void expect_data(hd_symbolizer *s, uint32_t h, uint64_t off,
                        const char *name, uint64_t in) {
  uint64_t got = UINT64_MAX;
  const char *n = hd_symbolize_data(s, h, off, &got);
  if (name == NULL) {
    assert_null(n);
    return;
  }
  assert_non_null(n);
  assert_string_equal(n, name);
  assert_int_equal(got, in);
}

static void test_inline_chain(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_LIB, g_id, g_id_len);
  expect_status(s, h, HD_MOD_OK, NULL);
  expect_inline_chain(s, h);
  hd_symbolizer_free(s);
}

/* At -O0, the entry address is on the signature's line. */
static void test_cxx_name(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_LIB, g_id, g_id_len);
  const uint64_t grow = sym(SYMT_LIB, "_ZN2ns6Widget4growEi");
  const hd_frame *f = NULL;
  assert_int_equal(hd_symbolize(s, h, grow, &f), 1);
  expect_frame(&f[0], "ns::Widget::grow(int)", SYMT_SRC_CXX,
               SYMT_LINE_GROW_LINE, 0);
  assert_int_equal(hd_symbolize(s, h, grow + 4, &f), 1);
  assert_string_equal(f[0].function, "ns::Widget::grow(int)");
  hd_symbolizer_free(s);
}

/* A function symbol without a size names the code after it. */
static void test_unsized_symbol(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_LIB, g_id, g_id_len);
  const hd_frame *f = NULL;
  const uint64_t fn = sym(SYMT_LIB, "symt_asm_nosize");
  assert_int_equal(hd_symbolize(s, h, fn + 1, &f), 1);
  assert_string_equal(f[0].function, "symt_asm_nosize");
  assert_int_equal(f[0].inlined, 0);
  hd_symbolizer_free(s);
}

static void test_data_symbols(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_LIB, g_id, g_id_len);
  const uint64_t table = sym(SYMT_LIB, "symt_table");
  expect_data(s, h, table, "symt_table", 0);
  expect_data(s, h, table + 40, "symt_table", 40);
  expect_data(s, h, table + 32 * sizeof(int) - 1, "symt_table", 127);
  const uint64_t buf = sym(SYMT_LIB, "symt_static_buf");
  expect_data(s, h, buf + 5, "symt_static_buf", 5);
  const uint64_t reg = sym(SYMT_LIB, "_ZN2ns8registryE");
  expect_data(s, h, reg + 8, "ns::registry", 8);
  /* Code is not data; nothing lies beyond the module. */
  expect_data(s, h, sym(SYMT_LIB, "symt_outer"), NULL, 0);
  expect_data(s, h, UINT64_MAX, NULL, 0);
  /* A second lookup is served from the cache: the same string. */
  const char *a = hd_symbolize_data(s, h, table + 40, NULL);
  assert_ptr_equal(a, hd_symbolize_data(s, h, table + 40, NULL));
  hd_symbolizer_free(s);
}

/* strip --strip-all copy; its debug info only under <tmp>/.build-id. */
static void test_debug_by_build_id(void **state) {
  char *tmp = symtest_tmpdir();
  assert_non_null(tmp);
  assert_int_equal(symtest_link_build_id(tmp, g_id, g_id_len, SYMT_DEBUG), 0);
  hd_symbolizer *s = new_symbolizer(NULL, tmp);
  const uint32_t h = add(s, SYMT_STRIPPED, g_id, g_id_len);
  expect_status(s, h, HD_MOD_OK, NULL);
  expect_inline_chain(s, h);
  /* Static symbols come from the debug file's .symtab. */
  expect_data(s, h, sym(SYMT_LIB, "symt_static_buf") + 1, "symt_static_buf", 1);
  hd_symbolizer_free(s);
  symtest_rmtree(tmp);
}

/* strip --strip-debug copy with a .gnu_debuglink to a file beside it. */
static void test_debug_by_debuglink(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_LINKED, g_id, g_id_len);
  expect_status(s, h, HD_MOD_OK, NULL);
  expect_inline_chain(s, h);
  hd_symbolizer_free(s);
}

/* Without debug info, names from .dynsym: exported ones only. */
static void test_no_debug_info(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_STRIPPED, g_id, g_id_len);
  expect_status(s, h, HD_MOD_OK, NULL);
  const hd_frame *f = NULL;
  assert_int_equal(hd_symbolize(s, h, g_call_off, &f), 1);
  expect_frame(&f[0], "symt_outer", NULL, 0, 0);
  const uint64_t table = sym(SYMT_LIB, "symt_table");
  expect_data(s, h, table + 4, "symt_table", 4);
  expect_data(s, h, sym(SYMT_LIB, "symt_static_buf"), NULL, 0);
  hd_symbolizer_free(s);
}

/* An ELF file with neither symbol table nor debug info. */
static void test_no_symbols(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_NOSYMS, g_id, g_id_len);
  expect_status(s, h, HD_MOD_NOSYMS, "no symbols and no debug info");
  expect_unknown(s, h, g_call_off);
  expect_data(s, h, sym(SYMT_LIB, "symt_table"), NULL, 0);
  hd_symbolizer_free(s);
}

/* Writes id in hex to buf (2 * SYMTEST_MAX_ID + 1 bytes). @return : buf */
static const char *hex(char *buf, const uint8_t *id, size_t len) {
  for (size_t i = 0; i < len; i++)
    snprintf(buf + 2 * i, 3, "%02x", id[i]);
  buf[2 * len] = '\0';
  return buf;
}

static void test_build_id_mismatch(void **state) {
  uint8_t other[SYMTEST_MAX_ID];
  memcpy(other, g_id, g_id_len);
  other[g_id_len - 1] ^= 0x5a;
  char a[2 * SYMTEST_MAX_ID + 1];
  char b[2 * SYMTEST_MAX_ID + 1];
  char why[512];
  snprintf(why, sizeof why, "build id differs: file has %s, snapshot %s",
           hex(a, g_id, g_id_len), hex(b, other, g_id_len));
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_LIB, other, g_id_len);
  expect_status(s, h, HD_MOD_MISMATCH, why);
  expect_unknown(s, h, g_call_off);
  expect_data(s, h, sym(SYMT_LIB, "symt_table"), NULL, 0);
  hd_symbolizer_free(s);
}

/* A file without a build id note: a mismatch when the snapshot recorded
 * one; symbolized when it recorded none, as with a zero-length id. */
static void test_build_id_absent(void **state) {
  char a[2 * SYMTEST_MAX_ID + 1];
  char why[512];
  snprintf(why, sizeof why, "build id differs: file has none, snapshot %s",
           hex(a, g_id, g_id_len));
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t bad = add(s, SYMT_NOID, g_id, g_id_len);
  expect_status(s, bad, HD_MOD_MISMATCH, why);
  expect_unknown(s, bad, g_call_off);
  const uint32_t noid = add(s, SYMT_NOID, NULL, 0);
  expect_status(s, noid, HD_MOD_OK, NULL);
  expect_inline_chain(s, noid);
  const uint32_t zero = add(s, SYMT_LIB, g_id, 0);
  expect_status(s, zero, HD_MOD_OK, NULL);
  expect_inline_chain(s, zero);
  hd_symbolizer_free(s);
}

static void test_missing_file(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, "/nonexistent-heapsnap/libnope.so", g_id, 20);
  expect_status(s, h, HD_MOD_MISSING,
                "/nonexistent-heapsnap/libnope.so: No such file or directory");
  expect_unknown(s, h, 0x1234);
  assert_null(hd_symbolize_data(s, h, 0x1234, NULL));
  hd_symbolizer_free(s);
}

static void test_no_file(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t vdso = add(s, "linux-vdso.so.1", g_id, g_id_len);
  expect_status(s, vdso, HD_MOD_NOFILE, "no file (kernel-provided)");
  expect_unknown(s, vdso, 0x100);
  const uint32_t empty = add(s, "", NULL, 0);
  expect_status(s, empty, HD_MOD_NOFILE, "no path recorded");
  expect_unknown(s, empty, 0x100);
  assert_int_not_equal(vdso, empty);
  hd_symbolizer_free(s);
}

/* Folders, device nodes, FIFOs (opening one must not block), text files,
 * offsets beyond the module, unknown handles: each an unknown frame, never
 * a crash or a hang. */
static void test_odd_input(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  expect_status(s, add(s, "/", NULL, 0), HD_MOD_MISSING,
                "/: not a regular file");
  expect_status(s, add(s, "/dev/null", NULL, 0), HD_MOD_MISSING,
                "/dev/null: not a regular file");
  char *tmp = symtest_tmpdir();
  assert_non_null(tmp);
  char fifo[4096];
  char why[4200];
  snprintf(fifo, sizeof fifo, "%s/fifo", tmp);
  snprintf(why, sizeof why, "%s: not a regular file", fifo);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  expect_status(s, add(s, fifo, NULL, 0), HD_MOD_MISSING, why);
  symtest_rmtree(tmp);
  expect_status(s, add(s, SYMT_SRC_C, NULL, 0), HD_MOD_NOSYMS,
                "not an ELF file");
  const uint32_t text = add(s, SYMT_SRC_C, g_id, g_id_len);
  expect_status(s, text, HD_MOD_MISMATCH, "not an ELF file");
  expect_unknown(s, text, 10);
  const uint32_t h = add(s, SYMT_LIB, g_id, g_id_len);
  expect_unknown(s, h, UINT64_MAX);
  expect_unknown(s, h, UINT64_C(1) << 40);
  expect_unknown(s, 12345, g_call_off);
  expect_status(s, 12345, HD_MOD_MISSING, "no such module handle");
  assert_null(hd_symbolize_data(s, 12345, 0, NULL));
  expect_unknown(NULL, 0, g_call_off);
  assert_int_equal(hd_symbolize(s, h, g_call_off, NULL), 3);
  assert_null(hd_symbolize_data(NULL, 0, 0, NULL));
  hd_symbolizer_free(s);
  hd_symbolizer_free(NULL);
}

/* Copies the first n bytes of from to the new file to. */
static void copy_head(const char *from, const char *to, size_t n) {
  FILE *in = fopen(from, "rb");
  FILE *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  char buf[4096];
  size_t got = 0;
  while (n > 0 && (got = fread(buf, 1, n < sizeof buf ? n : sizeof buf, in)))
    n -= fwrite(buf, 1, got, out);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

/* Truncated copies: no symbols to be had, unknown frames, no crash (the
 * test runs under ASan too). */
static void test_truncated_files(void **state) {
  static const size_t sizes[] = {0, 16, 64, 700, 4096, 9000};
  char *tmp = symtest_tmpdir();
  assert_non_null(tmp);
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cut%zu.so", tmp, sizes[i]);
    copy_head(SYMT_LIB, path, sizes[i]);
    const uint32_t h = add(s, path, NULL, 0);
    expect_unknown(s, h, g_call_off);
    assert_null(hd_symbolize_data(s, h, sym(SYMT_LIB, "symt_table"), NULL));
    assert_int_equal(hd_symbolizer_module_status(s, h, NULL), HD_MOD_NOSYMS);
  }
  hd_symbolizer_free(s);
  symtest_rmtree(tmp);
}

/* One handle per (path, build id), whatever the load address. */
static void test_module_handles(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  symtest_module a;
  symtest_module_init(&a, SYMT_LIB, g_id, g_id_len);
  symtest_module b = a;
  b.mod.build_id = b.id;
  b.mod.start += 0x200000;
  b.mod.bias += 0x200000;
  uint32_t ha = 0;
  uint32_t hb = 1;
  assert_int_equal(hd_symbolizer_add_module(s, &a.mod, &ha), 0);
  assert_int_equal(hd_symbolizer_add_module(s, &b.mod, &hb), 0);
  assert_int_equal(ha, hb);
  b.id[0] ^= 1;
  assert_int_equal(hd_symbolizer_add_module(s, &b.mod, &hb), 0);
  assert_int_not_equal(ha, hb);
  assert_int_not_equal(add(s, SYMT_LINKED, g_id, g_id_len), ha);
  assert_int_equal(hd_symbolizer_add_module(s, NULL, &hb), HS_EINVAL);
  assert_int_equal(hd_symbolizer_add_module(s, &a.mod, NULL), HS_EINVAL);
  hd_symbolizer_free(s);
}

/* Repeated lookups return the very same frames. */
static void test_cache(void **state) {
  hd_symbolizer *s = new_symbolizer(NULL, NULL);
  const uint32_t h = add(s, SYMT_LIB, g_id, g_id_len);
  const hd_frame *first = NULL;
  const hd_frame *again = NULL;
  const size_t n = hd_symbolize(s, h, g_call_off, &first);
  for (uint64_t off = 0; off < 4096; off++)
    hd_symbolize(s, h, off, &again);
  assert_int_equal(hd_symbolize(s, h, g_call_off, &again), n);
  assert_ptr_equal(first, again);
  expect_inline_chain(s, h);
  hd_symbolizer_free(s);
}

/* Module paths under --sysroot, debug info in its /usr/lib/debug. */
static void test_sysroot(void **state) {
  char *root = symtest_tmpdir();
  assert_non_null(root);
  char path[4096];
  snprintf(path, sizeof path, "%s/usr/lib", root);
  assert_int_equal(symtest_mkdirs(path), 0);
  snprintf(path, sizeof path, "%s/usr/lib/libsymt.so", root);
  assert_int_equal(symlink(SYMT_STRIPPED, path), 0);
  snprintf(path, sizeof path, "%s/usr/lib/debug", root);
  assert_int_equal(symtest_link_build_id(path, g_id, g_id_len, SYMT_DEBUG), 0);
  snprintf(path, sizeof path, "%s//", root);
  hd_symbolizer *s = new_symbolizer(path, NULL);
  const uint32_t h = add(s, "/usr/lib/libsymt.so", g_id, g_id_len);
  expect_status(s, h, HD_MOD_OK, NULL);
  expect_inline_chain(s, h);
  hd_symbolizer_free(s);
  s = new_symbolizer(NULL, NULL);
  assert_int_equal(hd_symbolizer_module_status(
                       s, add(s, "/usr/lib/libsymt.so", NULL, 0), NULL),
                   HD_MOD_MISSING);
  hd_symbolizer_free(s);
  symtest_rmtree(root);
}

static void test_create_options(void **state) {
  hd_symbolizer *s = NULL;
  assert_int_equal(hd_symbolizer_create(NULL, &s), 0);
  hd_symbolizer_free(s);
  const char *colon[1] = {"/tmp/a:b"};
  hd_sym_options opt = {NULL, colon, 1};
  assert_int_equal(hd_symbolizer_create(&opt, &s), HS_EINVAL);
  assert_null(s);
  opt.debug_dirs = NULL;
  assert_int_equal(hd_symbolizer_create(&opt, &s), HS_EINVAL);
  const char *rel[2] = {"relative/dir", "/abs/dir"};
  opt = (hd_sym_options){"/", rel, 2};
  assert_int_equal(hd_symbolizer_create(&opt, &s), 0);
  hd_symbolizer_free(s);
  assert_int_equal(hd_symbolizer_create(NULL, NULL), HS_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inline_chain),
      cmocka_unit_test(test_cxx_name),
      cmocka_unit_test(test_unsized_symbol),
      cmocka_unit_test(test_data_symbols),
      cmocka_unit_test(test_debug_by_build_id),
      cmocka_unit_test(test_debug_by_debuglink),
      cmocka_unit_test(test_no_debug_info),
      cmocka_unit_test(test_no_symbols),
      cmocka_unit_test(test_build_id_mismatch),
      cmocka_unit_test(test_build_id_absent),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_no_file),
      cmocka_unit_test(test_odd_input),
      cmocka_unit_test(test_truncated_files),
      cmocka_unit_test(test_module_handles),
      cmocka_unit_test(test_cache),
      cmocka_unit_test(test_sysroot),
      cmocka_unit_test(test_create_options),
  };
  return cmocka_run_group_tests(tests, setup_group, NULL);
}
