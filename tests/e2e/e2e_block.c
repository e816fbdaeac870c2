/* e2e_block - a program blocked in read(2) and in epoll_wait(2) while
 * snapshots are taken: neither call may be interrupted. Prints "ready"
 * when blocked; the driver takes snapshots, then writes a line to stdin.
 * With "read-only" no epoll thread is started (for process-directed
 * signals, which the kernel may deliver to any thread). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "e2e_sites.h"

static int efd, epfd;
static int epoll_result = -2, epoll_errno;
static void *held[12];

__attribute__((noinline)) void site_held(void) {
  for (int i = 0; i < 12; i++)
    held[i] = malloc(4321);
}

static void *waiter(void *arg) {
  struct epoll_event ev;
  epoll_result = epoll_wait(epfd, &ev, 1, -1);
  epoll_errno = errno;
  return NULL;
}

int main(int argc, char **argv) {
  const int with_epoll = !(argc > 1 && strcmp(argv[1], "read-only") == 0);
  site_held();
  if (argc > 2) { /* where the driver wants the expectations */
    FILE *f = fopen(argv[2], "w");
    E2E_SITE(f, site_held, 12, 12 * 4321);
    fclose(f);
  }
  pthread_t t;
  if (with_epoll) {
    efd = eventfd(0, 0);
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev);
    pthread_create(&t, NULL, waiter, NULL);
  }
  printf("ready\n");
  fflush(stdout);
  char buf[16];
  const ssize_t n = read(0, buf, sizeof buf);
  const int read_errno = errno;
  if (with_epoll) {
    const uint64_t one = 1;
    if (write(efd, &one, sizeof one) != sizeof one)
      return 3;
    pthread_join(t, NULL);
  }
  printf("read %zd%s\n", n, n < 0 ? strerror(read_errno) : "");
  if (with_epoll)
    printf("epoll %d%s\n", epoll_result,
           epoll_result < 0 ? strerror(epoll_errno) : "");
  return n > 0 && (!with_epoll || epoll_result == 1) ? 0 : 1;
}
