/* stress_cancel - threads cancelled while inside hs_snapshot_take, which
 * writes a file and syncs it (cancellation points). A thread cancelled
 * there left the snapshot lock held: the program's join of it and every
 * later snapshot hung. Five threads in turn take snapshots in a loop (a
 * pthread_testcancel after each) and are cancelled after 30 to 58 ms;
 * then this thread takes one more.
 * Prints "joined 5, last snapshot 0"; deterministic when the shim is
 * preloaded (the driver checks the snapshot folder holds no .tmp file). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "heapsnap.h"

static void *snapper(void *arg) {
  (void)arg;
  char path[512];
  for (;;) {
    hs_snapshot_take(path, sizeof path);
    pthread_testcancel(); /* the program's own point: cancelled here */
  }
  return NULL;
}

int main(void) {
  static void *keep[2000];
  for (int i = 0; i < 2000; i++)
    keep[i] = malloc(100);
  int joined = 0;
  for (int r = 0; r < 5; r++) {
    pthread_t t;
    void *ret = NULL;
    if (pthread_create(&t, NULL, snapper, NULL))
      return 3;
    usleep(30000 + r * 7000);
    pthread_cancel(t);
    joined += pthread_join(t, &ret) == 0 && ret == PTHREAD_CANCELED;
  }
  char path[512];
  printf("joined %d, last snapshot %d\n", joined,
         hs_snapshot_take(path, sizeof path));
  for (int i = 0; i < 2000; i++)
    free(keep[i]);
  return 0;
}
