/* stress_intr - blocking calls that a snapshot signal must not cut short.
 *
 * usage: stress_intr run     the calls, in the main thread and in a
 *                            worker at once; prints "ready" first, then
 *                            one line per call and thread, then "done"
 *        stress_intr mask    prints whether SIGUSR2 is blocked in this
 *                            process (a child checks what it inherited)
 *
 * Each call waits 1 s: sleep, nanosleep, poll, epoll_wait, select,
 * sigsuspend (woken by the program's own SIGUSR1 after 1 s), read on a
 * pipe (written after 1 s) and pthread_cond_timedwait. A line gives the
 * call's return value and errno, and "EARLY" when it returned before 95%
 * of its second: with a burst of `kill -USR2` going on, the lines must be
 * those of a run without the shim and without signals.
 * Then children started with fork+execvp, system, popen and posix_spawn
 * run "stress_intr mask": SIGUSR2 must be unblocked in each, as the
 * program has it; and blocked in one started while the program blocks it
 * itself. The main thread also prints what pthread_sigmask says of it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALLS 8
#define LINE 96

extern char **environ;
static const char *self;
static volatile sig_atomic_t usr1;

typedef struct result {
  char line[CALLS][LINE];
} result;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_usr1(int sig) {
  (void)sig;
  usr1++;
}

/* Sends SIGUSR1 to a thread, or writes to a pipe, after 1 s. */
typedef struct waker {
  pthread_t target;
  int fd;
} waker;

static void *wake_later(void *arg) {
  const waker *w = arg;
  const struct timespec s = {1, 0};
  while (nanosleep(&s, NULL) && errno == EINTR)
    ; /* this helper's own wait may restart: it is not under test */
  if (w->fd >= 0)
    (void)!write(w->fd, "x", 1);
  else
    pthread_kill(w->target, SIGUSR1);
  return NULL;
}

static void note(result *r, int i, const char *who, const char *call, long ret,
                 int err, double t0) {
  const int early = now() - t0 < 0.95;
  snprintf(r->line[i], LINE, "%s %s: ret %ld errno %d%s", who, call, ret,
           ret < 0 || (ret > 0 && err) ? err : 0, early ? " EARLY" : "");
}

static void calls(result *r, const char *who) {
  double t0 = now();
  long ret = sleep(1);
  note(r, 0, who, "sleep", ret, errno, t0);
  struct timespec one = {1, 0};
  t0 = now();
  ret = nanosleep(&one, NULL);
  note(r, 1, who, "nanosleep", ret, errno, t0);
  t0 = now();
  ret = poll(NULL, 0, 1000);
  note(r, 2, who, "poll", ret, errno, t0);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev;
  t0 = now();
  ret = epoll_wait(ep, &ev, 1, 1000);
  note(r, 3, who, "epoll_wait", ret, errno, t0);
  close(ep);
  struct timeval tv = {1, 0};
  t0 = now();
  ret = select(0, NULL, NULL, NULL, &tv);
  note(r, 4, who, "select", ret, errno, t0);

  waker w = {pthread_self(), -1};
  pthread_t t;
  sigset_t open;
  pthread_sigmask(SIG_BLOCK, NULL, &open);
  sigdelset(&open, SIGUSR1);
  pthread_create(&t, NULL, wake_later, &w);
  t0 = now();
  ret = sigsuspend(&open);
  note(r, 5, who, "sigsuspend", ret, errno, t0);
  pthread_join(t, NULL);

  int p[2];
  char c;
  if (pipe(p))
    exit(3);
  w.fd = p[1];
  pthread_create(&t, NULL, wake_later, &w);
  t0 = now();
  ret = read(p[0], &c, 1);
  note(r, 6, who, "read", ret, errno, t0);
  pthread_join(t, NULL);
  close(p[0]);
  close(p[1]);

  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
  struct timespec due;
  clock_gettime(CLOCK_REALTIME, &due);
  due.tv_sec += 1;
  pthread_mutex_lock(&m);
  t0 = now();
  ret = pthread_cond_timedwait(&cv, &m, &due);
  note(r, 7, who, "pthread_cond_timedwait", ret, ret, t0);
  pthread_mutex_unlock(&m);
}

static void *worker(void *arg) {
  calls(arg, "worker");
  return NULL;
}

static int mask(void) {
  sigset_t now_blocked;
  sigprocmask(SIG_BLOCK, NULL, &now_blocked);
  printf("usr2 blocked: %s\n",
         sigismember(&now_blocked, SIGUSR2) ? "yes" : "no");
  return 0;
}

static void reap(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
}

static void children(const char *how) {
  char *const argv[] = {(char *)self, "mask", NULL};
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "%s mask", self);
  printf("%s: ", how);
  fflush(stdout);
  if (strcmp(how, "execvp") == 0) {
    const pid_t pid = fork();
    if (pid == 0) {
      execvp(self, argv);
      _exit(127);
    }
    reap(pid);
  } else if (strcmp(how, "system") == 0) {
    if (system(cmd) != 0)
      puts("system failed");
  } else if (strcmp(how, "popen") == 0) {
    FILE *f = popen(cmd, "r");
    char line[64] = "popen failed\n";
    if (!f || !fgets(line, sizeof line, f))
      strcpy(line, "popen failed\n");
    fputs(line, stdout);
    if (f)
      pclose(f);
  } else {
    pid_t pid;
    if (posix_spawn(&pid, self, NULL, NULL, argv, environ) == 0)
      reap(pid);
    else
      puts("posix_spawn failed");
  }
  fflush(stdout);
}

static int run(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t u1;
  sigemptyset(&u1);
  sigaddset(&u1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &u1, NULL); /* only sigsuspend lets it in */
  puts("ready");
  fflush(stdout);
  result main_r, worker_r;
  pthread_t t;
  pthread_create(&t, NULL, worker, &worker_r);
  calls(&main_r, "main");
  pthread_join(t, NULL);
  for (int i = 0; i < CALLS; i++)
    puts(main_r.line[i]);
  for (int i = 0; i < CALLS; i++)
    puts(worker_r.line[i]);
  sigset_t seen;
  pthread_sigmask(SIG_BLOCK, NULL, &seen);
  printf("main, as pthread_sigmask says: usr2 %s\n",
         sigismember(&seen, SIGUSR2) ? "blocked" : "unblocked");
  children("execvp");
  children("system");
  children("popen");
  children("posix_spawn");
  sigset_t u2;
  sigemptyset(&u2);
  sigaddset(&u2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &u2, NULL);
  children("posix_spawn, usr2 blocked by the program");
  pthread_sigmask(SIG_UNBLOCK, &u2, NULL);
  puts("done");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  self = argv[0];
  if (argc == 2 && strcmp(argv[1], "mask") == 0)
    return mask();
  if (argc == 2 && strcmp(argv[1], "run") == 0)
    return run();
  fprintf(stderr, "usage: stress_intr run|mask\n");
  return 2;
}
