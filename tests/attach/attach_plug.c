/* attach_plug - the plugin attach_dlpath loads by name: found only
 * through the program's own RUNPATH, DT_RPATH or $ORIGIN. Its block comes
 * from the allocator through its GOT (patched by the dlopen hook). */
#include <stdlib.h>
#include <string.h>

int attach_plug_value(void) {
  char *const p = malloc(16);
  if (!p)
    return -1;
  strcpy(p, "42");
  const int v = atoi(p);
  free(p);
  return v;
}
