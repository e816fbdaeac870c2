/* stress_block - threads blocked in every kind of waiting call while the
 * shim takes snapshots (stress_block.sh: interval snapshots and
 * `heapsnap snap`, neither of which signals an application thread): read
 * (main thread, stdin), epoll_wait, poll, select, sem_wait, accept,
 * waitpid and nanosleep (1.5 s). None may return early or with EINTR.
 * Prints "ready", then, once a line arrives on stdin, one result per call
 * in a fixed order. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EPOLL, POLL, SELECT, SEM, ACCEPT, WAITPID, SLEEP, CALLS };
static const char *const names[CALLS] = {"epoll_wait", "poll",   "select",
                                         "sem_wait",   "accept", "waitpid",
                                         "nanosleep"};
static int efd[3], lfd, port;
static pid_t child;
static sem_t sem;
static long result[CALLS];
static int err[CALLS];

static void *waiter(void *arg) {
  const int call = (int)(long)arg;
  long r = -1;
  struct epoll_event ev = {.events = EPOLLIN};
  struct pollfd p = {efd[POLL], POLLIN, 0};
  fd_set set;
  int status, ep;
  struct timespec ts = {1, 500000000}, rem = {0, 0};
  switch (call) {
  case EPOLL:
    ep = epoll_create1(0);
    epoll_ctl(ep, EPOLL_CTL_ADD, efd[EPOLL], &ev);
    r = epoll_wait(ep, &ev, 1, -1);
    break;
  case POLL:
    r = poll(&p, 1, -1);
    break;
  case SELECT:
    FD_ZERO(&set);
    FD_SET(efd[SELECT], &set);
    r = select(efd[SELECT] + 1, &set, NULL, NULL, NULL);
    break;
  case SEM:
    r = sem_wait(&sem);
    break;
  case ACCEPT:
    r = accept(lfd, NULL, NULL) >= 0;
    break;
  case WAITPID:
    r = waitpid(child, &status, 0) == child && status == 0;
    break;
  case SLEEP:
    r = nanosleep(&ts, &rem);
    r = r == 0 && rem.tv_sec == 0 && rem.tv_nsec == 0 ? 0 : -1;
    break;
  }
  err[call] = r < 0 ? errno : 0;
  result[call] = r;
  return NULL;
}

static void setup(void) {
  for (int i = 0; i < 3; i++)
    efd[i] = eventfd(0, 0);
  sem_init(&sem, 0, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1) ||
      getsockname(lfd, (struct sockaddr *)&a, &len))
    exit(3);
  port = ntohs(a.sin_port);
  child = fork();
  if (child == 0) { /* the waitpid waiter's child: a little later, exit */
    struct timespec ts = {1, 0};
    while (nanosleep(&ts, &ts))
      ;
    _exit(0);
  }
}

static void wake(void) {
  const uint64_t one = 1;
  for (int i = 0; i < 3; i++)
    if (write(efd[i], &one, sizeof one) != sizeof one)
      exit(4);
  sem_post(&sem);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr *)&a, sizeof a))
    exit(5);
}

int main(void) {
  setup();
  pthread_t t[CALLS];
  for (long i = 0; i < CALLS; i++)
    pthread_create(&t[i], NULL, waiter, (void *)i);
  printf("ready\n");
  fflush(stdout);
  char buf[16];
  const ssize_t n = read(0, buf, sizeof buf);
  printf("read %zd%s%s\n", n, n < 0 ? " " : "", n < 0 ? strerror(errno) : "");
  wake();
  int bad = n <= 0;
  for (int i = 0; i < CALLS; i++) {
    pthread_join(t[i], NULL);
    printf("%s %ld%s%s\n", names[i], result[i], err[i] ? " " : "",
           err[i] ? strerror(err[i]) : "");
    bad += result[i] < 0;
  }
  return bad ? 1 : 0;
}
