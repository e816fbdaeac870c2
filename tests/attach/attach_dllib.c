/* attach_dllib - a module attach_grow loads with dlopen after the attach:
 * its GOT slot for malloc must be rewritten by the dlopen hook, so the
 * blocks it allocates are tracked. */
#include <stdlib.h>

__attribute__((noinline)) void *attach_dl_alloc(size_t n) {
  void *p = malloc(n);
  __asm__ volatile("" : : "r"(p) : "memory"); /* no tail call */
  return p;
}
