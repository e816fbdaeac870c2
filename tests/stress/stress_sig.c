/* stress_sig - a program with its own SIGUSR2 handler, run under the shim
 * with HEAPSNAP_SIGNAL=USR1 (stress_sig.sh). Four threads allocate all the
 * time. The handler counts and writes a byte to a pipe; the main thread
 * polls the pipe and stdin and prints "usr2 N" for each SIGUSR2 it got,
 * and on a line "quit" the total. poll's EINTR (from any signal) is
 * retried, as a program must. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pipe_fd[2];
static volatile sig_atomic_t got;
static volatile int working = 1;

static void on_usr2(int sig) {
  const int saved = errno;
  got++;
  if (write(pipe_fd[1], "x", 1) != 1)
    _exit(9);
  errno = saved;
}

__attribute__((noinline)) void site_work(unsigned seed) {
  void *ring[32] = {0};
  for (unsigned i = 0; working; i++) {
    seed = seed * 1103515245u + 12345u;
    free(ring[i % 32]);
    ring[i % 32] = malloc(16 + (seed >> 16) % 4096);
  }
  for (int i = 0; i < 32; i++)
    free(ring[i]);
}

static void *worker(void *arg) {
  site_work((unsigned)(long)arg);
  return NULL;
}

int main(void) {
  if (pipe(pipe_fd))
    return 3;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, NULL);
  pthread_t t[4];
  for (long i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  printf("ready\n");
  fflush(stdout);
  int seen = 0;
  char line[64];
  for (;;) {
    struct pollfd p[2] = {{pipe_fd[0], POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return 4;
    }
    if (p[0].revents & POLLIN) {
      char c;
      if (read(pipe_fd[0], &c, 1) == 1)
        printf("usr2 %d\n", ++seen), fflush(stdout);
    }
    if (p[1].revents & (POLLIN | POLLHUP)) {
      if (!fgets(line, sizeof line, stdin) || strncmp(line, "quit", 4) == 0)
        break;
    }
  }
  working = 0;
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  printf("handler ran %d times\n", (int)got);
  return 0;
}
