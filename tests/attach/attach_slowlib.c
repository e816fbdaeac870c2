/* attach_slowlib - attach_slowdl's module: its constructor holds the
 * loader's lock until $ATTACH_SLOWDL_DIR/go exists, and stops the process
 * when $ATTACH_SLOWDL_DIR/stop does (removing it). It waits on a futex
 * with a timeout between looks: a call attach never takes as a safe
 * point, so the thread attach holds is the main one. */
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__attribute__((constructor)) static void attach_slowlib_hold(void) {
  const char *dir = getenv("ATTACH_SLOWDL_DIR");
  char stop[4096], go[4096];
  snprintf(stop, sizeof stop, "%s/stop", dir ? dir : ".");
  snprintf(go, sizeof go, "%s/go", dir ? dir : ".");
  (void)!write(1, "locked\n", 7);
  static int word;
  const struct timespec tick = {0, 10000000};
  while (access(go, F_OK) != 0) {
    if (unlink(stop) == 0)
      raise(SIGSTOP);
    syscall(SYS_futex, &word, FUTEX_WAIT, 0, &tick, NULL, 0);
  }
}
