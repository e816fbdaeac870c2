/* stress_owner - a program that takes SIGUSR2, the shim's default snapshot
 * signal, for itself, in one of six ways (argv[1]):
 *   early      a handler installed by a library's constructor, before the
 *              shim started (stress_ownerlib, linked: its constructor runs
 *              first; it acts when STRESS_OWNER_EARLY=1)
 *   sigaction  a handler installed by main with sigaction
 *   signal     a handler installed by main with signal()
 *   worker     a handler installed by main after a worker thread started;
 *              main then blocks SIGUSR2, so only that older thread can take
 *              it (the shim had blocked it there, and must give it back)
 *   sigwait    SIGUSR2 blocked everywhere, a thread takes it with sigwait
 *   signalfd   SIGUSR2 blocked everywhere, read from a signalfd
 * Two threads allocate all the time. Each SIGUSR2 the program gets is a
 * line "usr2 N" on stdout; "quit" on stdin ends the program. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int note_fd[2];
static volatile int working = 1;
static const char *mode;

static void on_usr2(int sig) {
  (void)sig;
  const int saved = errno;
  if (write(note_fd[1], "x", 1) != 1)
    _exit(9);
  errno = saved;
}

int stress_ownerlib_installed(void);

/* stress_ownerlib's handler calls this. */
void stress_owner_got(void) {
  on_usr2(SIGUSR2);
}

__attribute__((noinline)) void site_work(unsigned seed) {
  void *ring[32] = {0};
  for (unsigned i = 0; working; i++) {
    seed = seed * 1103515245u + 12345u;
    free(ring[i % 32]);
    ring[i % 32] = malloc(16 + (seed >> 16) % 4096);
    if (i % 1024 == 0)
      usleep(1000);
  }
  for (int i = 0; i < 32; i++)
    free(ring[i]);
}

static void *worker(void *arg) {
  site_work((unsigned)(long)arg);
  return NULL;
}

static void *waiter(void *arg) {
  sigset_t *set = arg;
  for (int sig; sigwait(set, &sig) == 0;)
    on_usr2(sig);
  return NULL;
}

static void *fd_reader(void *arg) {
  const int fd = *(int *)arg;
  struct signalfd_siginfo si;
  while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
    on_usr2((int)si.ssi_signo);
  return NULL;
}

static void take_usr2(pthread_t *extra) {
  static sigset_t usr2;
  static int sfd;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  if (strcmp(mode, "early") == 0 && !stress_ownerlib_installed()) {
    fprintf(stderr, "early: set STRESS_OWNER_EARLY=1\n");
    exit(2);
  } else if (strcmp(mode, "sigaction") == 0 || strcmp(mode, "worker") == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    if (strcmp(mode, "worker") == 0)
      pthread_sigmask(SIG_BLOCK, &usr2, NULL);
  } else if (strcmp(mode, "signal") == 0) {
    signal(SIGUSR2, on_usr2);
  } else if (strcmp(mode, "sigwait") == 0) {
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    pthread_create(extra, NULL, waiter, &usr2);
  } else if (strcmp(mode, "signalfd") == 0) {
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    sfd = signalfd(-1, &usr2, SFD_CLOEXEC);
    pthread_create(extra, NULL, fd_reader, &sfd);
  }
}

int main(int argc, char **argv) {
  mode = argc > 1 ? argv[1] : "";
  if (pipe(note_fd))
    return 3;
  pthread_t t[2], extra;
  if (strcmp(mode, "worker") == 0) { /* the worker first, then the handler */
    pthread_create(&t[0], NULL, worker, (void *)0);
    usleep(100000);
  }
  take_usr2(&extra);
  for (long i = strcmp(mode, "worker") == 0; i < 2; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  printf("ready\n");
  fflush(stdout);
  int seen = 0;
  char line[64];
  for (;;) {
    struct pollfd p[2] = {{note_fd[0], POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return 4;
    }
    char c;
    if ((p[0].revents & POLLIN) && read(note_fd[0], &c, 1) == 1) {
      printf("usr2 %d\n", ++seen);
      fflush(stdout);
    }
    if ((p[1].revents & (POLLIN | POLLHUP)) &&
        (!fgets(line, sizeof line, stdin) || strcmp(line, "quit\n") == 0))
      break;
  }
  working = 0;
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("%s: %d SIGUSR2 received\n", mode, seen);
  return 0;
}
