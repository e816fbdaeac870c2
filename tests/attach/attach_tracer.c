/* attach_tracer - another tracer (as a debugger or strace would be):
 * seizes process PID without stopping it, says "tracing", and holds it
 * until the file STOP exists; its exit lets the process go.
 *
 * usage: attach_tracer PID STOP */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  if (ptrace(PTRACE_SEIZE, atoi(argv[1]), 0, 0) != 0) {
    perror("attach_tracer: PTRACE_SEIZE");
    return 1;
  }
  printf("tracing\n");
  fflush(stdout);
  const struct timespec tick = {0, 20 * 1000 * 1000};
  while (access(argv[2], F_OK) != 0)
    nanosleep(&tick, NULL);
  return 0;
}
