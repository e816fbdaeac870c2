/* attach_sigwait - a service that takes SIGUSR2 through a signalfd: the
 * signal blocked in every thread and left at its default, one thread
 * reading the signalfd and counting, the main thread allocating, until
 * the file STOP exists. With "others", the common server's way instead:
 * every signal but the faults blocked in every thread, and one thread in
 * sigwait for SIGINT and SIGTERM only (SIGUSR2 is not the program's).
 * With "all", the classic daemon's: every signal blocked in every
 * thread, one thread in sigwait for all of them, counting SIGUSR2.
 * With "late", SIGUSR2 blocked in every thread, and the thread in sigwait
 * for it (and SIGINT, SIGTERM) made only once the file STOP.go exists,
 * so it comes after an attach's thread in the process's list.
 *
 * usage: attach_sigwait STOP [others|all|late]
 * stdout: "ready", then "got N" at each SIGUSR2 read; with "late",
 * "waiting TID" when its thread starts. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static int sfd;

static void *reader(void *arg) {
  (void)arg;
  for (long got = 0;;) {
    struct pollfd p = {sfd, POLLIN, 0};
    struct signalfd_siginfo si;
    if (poll(&p, 1, -1) == 1 && read(sfd, &si, sizeof si) == sizeof si)
      printf("got %ld\n", ++got);
  }
  return NULL;
}

/* sigwait for the set at arg: each SIGUSR2 counted; SIGINT or SIGTERM
 * ends the program. */
static void *set_waiter(void *arg) {
  const sigset_t *w = arg;
  printf("waiting %d\n", (int)gettid());
  for (long got = 0;;) {
    int sig;
    if (sigwait(w, &sig) != 0)
      continue;
    if (sig == SIGUSR2)
      printf("got %ld\n", ++got);
    else if (sig == SIGINT || sig == SIGTERM)
      exit(0);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  static sigset_t s, w;
  pthread_t t;
  const int late = argc == 3 && strcmp(argv[2], "late") == 0;
  char go[4096];
  snprintf(go, sizeof go, "%s.go", argv[1]);
  if (late) {
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2), sigaddset(&s, SIGINT), sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    w = s;
  } else if (argc == 3) {
    const int all = strcmp(argv[2], "all") == 0;
    sigfillset(&s);
    if (!all) {
      sigdelset(&s, SIGSEGV), sigdelset(&s, SIGBUS);
      sigdelset(&s, SIGFPE), sigdelset(&s, SIGILL);
    }
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    sigemptyset(&w);
    if (all)
      sigfillset(&w);
    sigaddset(&w, SIGINT), sigaddset(&w, SIGTERM);
    if (pthread_create(&t, NULL, set_waiter, &w) != 0)
      return 3;
  } else {
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    sfd = signalfd(-1, &s, SFD_CLOEXEC);
    if (sfd < 0 || pthread_create(&t, NULL, reader, NULL) != 0)
      return 3;
  }
  printf("ready\n");
  const struct timespec tick = {0, 20 * 1000 * 1000};
  for (int started = !late; access(argv[1], F_OK) != 0;) {
    if (!started && access(go, F_OK) == 0) {
      if (pthread_create(&t, NULL, set_waiter, &w) != 0)
        return 3;
      started = 1;
    }
    free(malloc(64));
    nanosleep(&tick, NULL);
  }
  return 0;
}
