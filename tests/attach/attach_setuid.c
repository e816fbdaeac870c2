/* attach_setuid - a service started as root that drops to user nobody
 * (65534) once the file DROP exists, as a server's worker does, and
 * allocates until the file STOP exists.
 *
 * usage: attach_setuid DROP STOP
 * stdout: "ready", "dropped" once it runs as nobody, "done" at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  int dropped = 0;
  const struct timespec tick = {0, 20 * 1000 * 1000};
  while (access(argv[2], F_OK) != 0) {
    if (!dropped && access(argv[1], F_OK) == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0)
        return 3;
      dropped = 1;
      printf("dropped\n");
    }
    free(malloc(64));
    nanosleep(&tick, NULL);
  }
  printf("done\n");
  return 0;
}
