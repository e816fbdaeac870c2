/* attach_quiet - a service whose main thread waits in the calls a
 * snapshot signal would cut short (epoll_wait, poll, nanosleep, each with
 * a timeout, none restarted by SA_RESTART) while a worker allocates, until
 * the file STOP exists. It installs no handler for SIGUSR2 until the file
 * TAKE exists; then it installs one with a raw rt_sigaction system call,
 * which no hook of the shim sees (the shim's thread finds it when it next
 * wakes up). Every call that returns early with EINTR is counted.
 *
 * usage: attach_quiet STOP [TAKE]
 * stdout at the end: "eintr N" (0 when nothing interrupted it). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "busy_worker.h"

/* The kernel's struct sigaction (x86-64, as heapsnap attach is): the C
 * library's wrapper is what a hook would see, so the call is made without
 * it. The handler would return through the restorer, as it does through
 * the C library's own __restore_rt (the test never sends the signal after
 * this). */
#if defined(__x86_64__)
struct raw_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};
void quiet_restorer(void);
__asm__(".text\n.globl quiet_restorer\nquiet_restorer:\n"
        "  mov $15, %eax\n  syscall\n");

static void on_usr2(int sig) {
  (void)sig;
}

static int take_raw(void) {
  const struct raw_sigaction sa = {on_usr2, 0x04000000 /* SA_RESTORER */,
                                   quiet_restorer, 0};
  return (int)syscall(SYS_rt_sigaction, SIGUSR2, &sa, NULL, 8);
}
#else
static int take_raw(void) {
  return -1;
}
#endif

static atomic_int g_stop;

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3)
    return 2;
  int taken = argc == 2;
  const int ep = epoll_create1(0);
  if (ep < 0)
    return 2;
  pthread_t t;
  if (pthread_create(&t, NULL, busy_worker, &g_stop))
    return 2;
  long eintr = 0;
  while (access(argv[1], F_OK) != 0) {
    if (!taken && access(argv[2], F_OK) == 0) {
      if (take_raw() != 0)
        return 3;
      taken = 1;
    }
    struct epoll_event ev;
    if (epoll_wait(ep, &ev, 1, 20) < 0 && errno == EINTR)
      eintr++;
    struct pollfd none;
    if (poll(&none, 0, 5) < 0 && errno == EINTR)
      eintr++;
    const struct timespec ms = {0, 5000000};
    if (nanosleep(&ms, NULL) < 0 && errno == EINTR)
      eintr++;
  }
  atomic_store(&g_stop, 1);
  pthread_join(t, NULL);
  printf("eintr %ld\n", eintr);
  return 0;
}
