/* real_prefork - a small multi-threaded prefork server, the patient of
 * real_prefork.sh.
 *
 * usage: real_prefork WORKERS
 * The master listens on 127.0.0.1 (a port the kernel picks), starts a
 * thread that churns the heap, and forks WORKERS workers while it does.
 * Each worker runs two threads that accept connections on the shared
 * socket. A request is one line:
 *   leak K    the worker allocates K sessions of SESSION_SIZE bytes
 *             (worker_leak), keeps them on the global list g_sessions and
 *             replies "ok K pid PID total T", T counting its sessions
 * The master prints "ready PORT" once every worker runs, and on SIGTERM
 * stops the workers, prints "stopped N workers" and exits 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SESSION_SIZE 1000
#define HANDLERS 2
#define WORKERS_MAX 16

typedef struct session {
  struct session *next;
  char data[SESSION_SIZE - sizeof(struct session *)];
} session;

session *g_sessions; /* the worker's leak: never trimmed */
static long g_total;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int g_churning = 1;

static void die(const char *what) {
  fprintf(stderr, "real_prefork: %s: %s\n", what, strerror(errno));
  exit(1);
}

__attribute__((noinline)) session *worker_leak(long k) {
  session *s = malloc(sizeof *s);
  if (!s)
    die("malloc");
  memset(s->data, (int)k, sizeof s->data);
  return s;
}

static long worker_add(long k) {
  pthread_mutex_lock(&g_lock);
  for (long i = 0; i < k; i++) {
    session *s = worker_leak(i);
    s->next = g_sessions;
    g_sessions = s;
  }
  const long total = g_total += k;
  pthread_mutex_unlock(&g_lock);
  return total;
}

static void worker_serve(int fd) {
  char line[64];
  ssize_t n, got = 0;
  while (got < (ssize_t)sizeof line - 1 &&
         (n = read(fd, line + got, sizeof line - 1 - got)) > 0) {
    got += n;
    if (memchr(line, '\n', (size_t)got))
      break;
  }
  line[got > 0 ? got : 0] = '\0';
  long k = 0;
  char reply[96];
  int len;
  if (sscanf(line, "leak %ld", &k) == 1 && k >= 0 && k <= 100000)
    len = snprintf(reply, sizeof reply, "ok %ld pid %d total %ld\n", k,
                   (int)getpid(), worker_add(k));
  else
    len = snprintf(reply, sizeof reply, "error\n");
  if (write(fd, reply, (size_t)len) != len)
    fprintf(stderr, "real_prefork: short reply\n");
}

static void *worker_handler(void *arg) {
  const int lfd = (int)(long)arg;
  for (;;) {
    const int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      die("accept");
    }
    worker_serve(fd);
    close(fd);
  }
  return NULL;
}

static void worker_main(int lfd) {
  pthread_t t[HANDLERS];
  for (long i = 0; i < HANDLERS; i++)
    if (pthread_create(&t[i], NULL, worker_handler, (void *)(long)lfd))
      die("pthread_create");
  for (int i = 0; i < HANDLERS; i++)
    pthread_join(t[i], NULL);
  exit(0);
}

/* The master's other thread: allocates and frees all the time, so the
 * workers are forked while another thread is inside malloc. */
__attribute__((noinline)) void master_churn(void) {
  void *ring[64] = {0};
  for (unsigned i = 0; g_churning; i++) {
    free(ring[i % 64]);
    ring[i % 64] = malloc(16 + (i * 37) % 2000);
  }
  for (int i = 0; i < 64; i++)
    free(ring[i]);
}

static void *master_thread(void *arg) {
  master_churn();
  return NULL;
}

static int listen_loopback(int *port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 128) ||
      getsockname(fd, (struct sockaddr *)&a, &len))
    die("listen on 127.0.0.1");
  *port = ntohs(a.sin_port);
  return fd;
}

int main(int argc, char **argv) {
  const int workers = argc == 2 ? atoi(argv[1]) : 0;
  if (workers < 1 || workers > WORKERS_MAX) {
    fprintf(stderr, "usage: real_prefork WORKERS (1 to %d)\n", WORKERS_MAX);
    return 2;
  }
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, NULL); /* for sigwait, in every thread */
  int port;
  const int lfd = listen_loopback(&port);
  pthread_t churn;
  if (pthread_create(&churn, NULL, master_thread, NULL))
    die("pthread_create");
  pid_t pid[WORKERS_MAX];
  for (int i = 0; i < workers; i++) {
    pid[i] = fork();
    if (pid[i] < 0)
      die("fork");
    if (pid[i] == 0) {
      pthread_sigmask(SIG_UNBLOCK, &term, NULL);
      worker_main(lfd);
    }
  }
  printf("ready %d\n", port);
  fflush(stdout);
  int sig;
  sigwait(&term, &sig);
  g_churning = 0;
  pthread_join(churn, NULL);
  int stopped = 0;
  for (int i = 0; i < workers; i++) {
    int status;
    kill(pid[i], SIGTERM);
    if (waitpid(pid[i], &status, 0) == pid[i] && WIFSIGNALED(status) &&
        WTERMSIG(status) == SIGTERM)
      stopped++;
  }
  printf("stopped %d workers\n", stopped);
  return stopped == workers ? 0 : 1;
}
