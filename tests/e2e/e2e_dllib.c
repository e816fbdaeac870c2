/* e2e_dllib - a library the dlopen test loads, allocates through, and
 * unloads before the snapshot. */
#include <stdlib.h>

void *e2e_dllib_blocks[4];

__attribute__((noinline)) void e2e_dllib_alloc(void) {
  for (int i = 0; i < 4; i++)
    e2e_dllib_blocks[i] = malloc(888);
}
