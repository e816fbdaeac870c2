/* attach_quiet - a service whose main thread waits in the calls a
 * snapshot signal would cut short (epoll_wait, poll, nanosleep, each with
 * a timeout, none restarted by SA_RESTART) while a worker allocates, until
 * the file STOP exists. It installs no handler for SIGUSR2. Every call
 * that returns early with EINTR is counted.
 *
 * usage: attach_quiet STOP
 * stdout at the end: "eintr N" (0 when nothing interrupted it). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_stop;

static void *worker(void *arg) {
  (void)arg;
  void *keep[64] = {0};
  for (unsigned i = 0; !atomic_load(&g_stop); i++) {
    free(keep[i % 64]);
    keep[i % 64] = malloc(32 + i % 512);
    if (i % 1024 == 0) {
      const struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  for (int i = 0; i < 64; i++)
    free(keep[i]);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  const int ep = epoll_create1(0);
  if (ep < 0)
    return 2;
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL))
    return 2;
  long eintr = 0;
  while (access(argv[1], F_OK) != 0) {
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
