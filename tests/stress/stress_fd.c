/* stress_fd - a service that closes its end of a pipe while a snapshot's
 * scan runs: the peer must see the end at once, as without the shim (the
 * scan's copy of the process held every descriptor of the service, so
 * the peer waited for the scan to end).
 *
 * Builds a list of NODES blocks (held by a global, so the scan has work),
 * prints "ready" on stdout, then on SIGUSR1 closes stdout and sleeps
 * until killed. stress_fd.py drives it.
 * usage: stress_fd NODES */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct node {
  struct node *next;
  char pad[24];
};
struct node *g_head;

static volatile sig_atomic_t g_close;
static void on_usr1(int sig) {
  (void)sig;
  g_close = 1;
}

int main(int argc, char **argv) {
  const long n = argc == 2 ? atol(argv[1]) : 0;
  if (n <= 0)
    return 2;
  for (long i = 0; i < n; i++) {
    struct node *x = malloc(sizeof *x);
    if (!x)
      return 1;
    x->next = g_head;
    g_head = x;
  }
  signal(SIGUSR1, on_usr1);
  puts("ready");
  fflush(stdout);
  while (!g_close)
    usleep(1000);
  close(1);
  for (;;)
    pause();
}
