/* stack_paint.h - how deep into its stack a thread's calls write: the
 * thread runs on a stack of the program's own, painted with a pattern
 * below the measuring frame before each call; the deepest byte changed
 * after it is how far the call went. For tests comparing a program run
 * bare and under the shim (stress_stack, attach_dlpath). Header-only:
 * each program includes it once. */
#ifndef STACK_PAINT_H
#define STACK_PAINT_H

#include <pthread.h>
#include <string.h>

#define SP_PAINT 0xa5
#define SP_SIZE (1u << 20)
static unsigned char sp_stack[SP_SIZE] __attribute__((aligned(4096)));

/* Paints from the stack's bottom to below this frame, and below top. */
static __attribute__((noinline)) void sp_paint(unsigned char *top) {
  unsigned char *const here = __builtin_frame_address(0);
  unsigned char *const end = here - 256 < top ? here - 256 : top;
  memset(sp_stack, SP_PAINT, (size_t)(end - sp_stack));
  __asm__ volatile("" ::: "memory");
}

/* Bytes below top written since the paint, to 64. */
static long sp_deepest(const unsigned char *top) {
  const unsigned char *p = sp_stack;
  while (p < top && *p == SP_PAINT)
    p++;
  return (long)((top - p) / 64 * 64);
}

/* Runs fn on a thread on sp_stack and waits for it: 0, or -1. */
static int sp_run(void *(*fn)(void *)) {
  pthread_attr_t a;
  pthread_t t;
  if (pthread_attr_init(&a) ||
      pthread_attr_setstack(&a, sp_stack, sizeof sp_stack) ||
      pthread_create(&t, &a, fn, NULL) || pthread_join(t, NULL))
    return -1;
  return 0;
}

#endif
