/* symbols_target.c - test input for hd_symbols: known functions, a chain
 * of always_inline functions and data symbols, built into a shared
 * library that test_symbols dlopens and symbolizes. The "@mark" comments
 * are found by tests/symbols/CMakeLists.txt, which passes their line
 * numbers to the test: keep each on the line it names. */
#include <stddef.h>

volatile int symt_counter;

/* Data symbols for hd_symbolize_data. */
int symt_table[32];
static char symt_static_buf[48];

/* Called from the innermost inlined function; its return address is the
 * address the test symbolizes, like a stack frame the shim captured. */
__attribute__((noinline)) void *symt_leaf(int x) {
  symt_counter += x;
  return __builtin_return_address(0);
}

static inline __attribute__((always_inline)) void *symt_inner(int x) {
  void *r = symt_leaf(x * 3); /* @mark inner_call */
  symt_counter++;
  return r;
}

static inline __attribute__((always_inline)) void *symt_middle(int x) {
  void *r = symt_inner(x + 1); /* @mark middle_call */
  symt_counter--;
  return r;
}

/* Returns the return address of symt_leaf inside symt_middle and
 * symt_inner, both inlined here. */
void *symt_outer(int x) {
  void *r = symt_middle(x); /* @mark outer_call */
  symt_counter ^= 1;
  return r;
}

/* A function symbol without a size, as hand-written assembly often has:
 * it reaches to the next symbol. */
__asm__(".text\n"
        ".globl symt_asm_nosize\n"
        ".type symt_asm_nosize, STT_FUNC\n"
        "symt_asm_nosize:\n"
        "  nop\n"
        "  nop\n"
        "  ret\n");

/* Keeps symt_static_buf alive and referenced. */
char *symt_static_ptr(size_t i) {
  return &symt_static_buf[i % sizeof symt_static_buf];
}
