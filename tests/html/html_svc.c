/* html_svc - a service with known growth for the heapdiff --html browser
 * test (html_page.sh). Takes three API snapshots; between them:
 *   grow_kept   +10, then +20 blocks of 64 B, each held through the
 *               bucket array make_table allocated (512 B) at the start,
 *               which the global g_table points at: 0 -> 640 -> 1920 B,
 *               retainer path g_table -> make_table
 *   grow_lost   +4, then +2 blocks of 100 B whose pointers are dropped:
 *               0 -> 400 -> 600 B, all of it lost in the last snapshot
 *   shrink_old  40 blocks of 32 B made before the first snapshot, 10 freed
 *               in each interval: 1280 -> 960 -> 640 B
 * So from the first snapshot to the last: +2520 B grew, 600 B of it lost
 * and 1920 B held; from the second to the last +1480 B (200 B lost).
 * Pointers to the lost blocks are dropped in functions whose frames are
 * scrubbed afterwards, so no stale copy on the stack keeps them.
 * Prints the snapshot paths, once all are taken (stdout's buffer is
 * allocated after the last). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapsnap.h"

#define NOINLINE __attribute__((noinline))

void **g_table;
static void *g_old[40];
static int n_kept, n_old = 40;

NOINLINE void **make_table(void) {
  return calloc(64, sizeof(void *));
}
NOINLINE void *grow_kept(void) {
  return calloc(1, 64);
}
NOINLINE void *grow_lost(void) {
  return calloc(1, 100);
}
NOINLINE void *shrink_old(void) {
  return calloc(1, 32);
}

NOINLINE static void scrub(void) {
  volatile char area[64 * 1024];
  memset((char *)area, 0, sizeof area);
}

NOINLINE static void lose(int n) {
  for (int i = 0; i < n; i++) {
    volatile char *p = grow_lost();
    p[0] = 1;
  }
}

NOINLINE static void phase(int kept, int lost) {
  for (int i = 0; i < kept; i++)
    g_table[n_kept++] = grow_kept();
  lose(lost);
  for (int i = 0; i < 10; i++)
    free(g_old[--n_old]), g_old[n_old] = NULL;
  scrub();
}

int main(void) {
  char paths[3][4096];
  g_table = make_table();
  for (int i = 0; i < 40; i++)
    g_old[i] = shrink_old();
  for (int k = 0; k < 3; k++) {
    if (k)
      phase(k == 1 ? 10 : 20, k == 1 ? 4 : 2);
    const int rc = hs_snapshot_take(paths[k], sizeof paths[k]);
    if (rc) {
      fprintf(stderr, "html_svc: hs_snapshot_take failed: %d\n", rc);
      return 1;
    }
  }
  for (int k = 0; k < 3; k++)
    printf("%s\n", paths[k]);
  return 0;
}
