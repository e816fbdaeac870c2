/* e2e_dl - blocks allocated by a library that is dlclose'd before the
 * snapshot: the module stays in the snapshot's module table, flagged
 * unloaded, so the blocks' stacks can still be named. */
#include <dlfcn.h>

#include "e2e_sites.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: e2e_dl LIBRARY\n");
    return 2;
  }
  void *h = dlopen(argv[1], RTLD_NOW);
  if (!h) {
    fprintf(stderr, "e2e_dl: %s\n", dlerror());
    return 1;
  }
  void (*alloc)(void) = (void (*)(void))dlsym(h, "e2e_dllib_alloc");
  alloc();
  dlclose(h);
  char path[4096], sites[4200];
  if (heapsnap_snapshot(path, sizeof path))
    return 1;
  snprintf(sites, sizeof sites, "%s.sites", path);
  FILE *f = fopen(sites, "w");
  fprintf(f, "unloaded e2e_dllib\nmodsite e2e_dllib 4 %d\n", 4 * 888);
  fclose(f);
  return 0;
}
