/* attach_dlpath - a program that loads its plugins the way many services
 * do: "libhs_plug.so" by name, found only in $ORIGIN/plug, through its
 * own DT_RUNPATH (attach_dlpath_runpath) or DT_RPATH (attach_dlpath_rpath);
 * and "$ORIGIN/plug/libhs_plug2.so". It waits (nanosleep) until the file
 * GO exists, so heapsnap can attach first, then loads both from a thread
 * of its own and says what each gave, and how deep into the thread's
 * stack the two dlopen calls went: a thread with a small stack must not
 * overflow because the dlopen hook is in the way.
 *
 * usage: attach_dlpath GO
 * stdout: "by name: 42" and "by $ORIGIN: 42", or dlerror()'s words, then
 * "stack: N" (bytes below the loading function's frame that were
 * written, to 64 bytes). */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "stack_paint.h"

static void load(const char *what, const char *name) {
  void *const h = dlopen(name, RTLD_NOW);
  int (*value)(void) = h ? (int (*)(void))dlsym(h, "attach_plug_value") : NULL;
  if (value)
    printf("%s: %d\n", what, value());
  else
    printf("%s: %s\n", what, dlerror());
}

static __attribute__((noinline)) void *loader(void *arg) {
  (void)arg;
  unsigned char *const top = __builtin_frame_address(0);
  sp_paint(top - 1024);
  load("by name", "libhs_plug.so");
  load("by $ORIGIN", "$ORIGIN/plug/libhs_plug2.so");
  printf("stack: %ld\n", sp_deepest(top));
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  const struct timespec ms = {0, 5000000};
  while (access(argv[1], F_OK) != 0)
    nanosleep(&ms, NULL);
  return sp_run(loader) ? 1 : 0;
}
