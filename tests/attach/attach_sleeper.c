/* attach_sleeper - a one-thread program that sleeps: clock_nanosleep for
 * S seconds, then poll with no descriptors for S seconds, each once, with
 * no retry, and says how each ended. An attach or a detach taken in one
 * of them interrupts it; the kernel makes it again as restart_syscall
 * with the time left, which must still be a safe point for the next one.
 *
 * usage: attach_sleeper S
 * stdout: "ready", then "nanosleep ok|eintr" and "poll ok|eintr". */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  const int s = atoi(argv[1]);
  printf("ready\n");
  const struct timespec t = {s, 0};
  const int slept = clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
  printf("nanosleep %s\n", slept == 0 ? "ok" : "eintr");
  const int polled = poll(NULL, 0, s * 1000);
  printf("poll %s\n", polled == 0                    ? "ok"
                      : polled < 0 && errno == EINTR ? "eintr"
                                                     : "?");
  return 0;
}
