/* attach_ignore - a service that starts with SIGUSR2 at its default and,
 * once the file IGN exists, ignores it (signal(SIGUSR2, SIG_IGN), as a
 * daemon might on reconfiguring), allocating as it goes, until the file
 * STOP exists.
 *
 * usage: attach_ignore IGN STOP
 * stdout: "ready", "ignored" once it ignores the signal, "done" at the
 * end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  int ignoring = 0;
  const struct timespec tick = {0, 20 * 1000 * 1000};
  while (access(argv[2], F_OK) != 0) {
    if (!ignoring && access(argv[1], F_OK) == 0) {
      signal(SIGUSR2, SIG_IGN);
      ignoring = 1;
      printf("ignored\n");
    }
    free(malloc(64));
    nanosleep(&tick, NULL);
  }
  printf("done\n");
  return 0;
}
