/* exec_signal - a service that starts programs on request, so that a test
 * can read which disposition of SIGUSR2 (the shim's signal) each one
 * starts with: the program's own, whatever the shim set for itself.
 *
 * usage: exec_signal report FILE      writes "ign HEX cgt HEX view V" to
 *                                      FILE: SigIgn and SigCgt of
 *                                      /proc/self/status, and what
 *                                      sigaction says of SIGUSR2 (ign,
 *                                      dfl or hnd: a preloaded shim
 *                                      answers with the program's view)
 *        exec_signal serve DIR [ignore]
 *          a worker allocates while the main thread looks in DIR every
 *          10 ms for a request file, removes it and does it; with
 *          "ignore", the program sets SIGUSR2 to SIG_IGN first; it sets
 *          SIGINT to SIG_IGN in any case. Requests:
 *            spawn   posix_spawn "report DIR/r-spawn", waited for
 *            spawn-attr  the same into DIR/r-spawn-attr, with attributes
 *                    that reset SIGINT (which the service ignores) to
 *                    the default in the child (POSIX_SPAWN_SETSIGDEF)
 *            vfork   vfork, then execv "report DIR/r-vfork" in the child
 *            execl   fork, then execl "report DIR/r-execl" in the child
 *            fail    execv of a path that does not exist; then writes
 *                    "errno N ign HEX cgt HEX" (its own) to DIR/r-fail
 *            handle  installs a handler for SIGUSR2 (sigaction), then
 *                    writes its report to DIR/r-handle
 *            exec    execv "report DIR/r-exec": the service becomes it
 *            stop    the service ends, exit status 0
 *        exec_signal toggle
 *          two threads exec a path that does not exist, over and over,
 *          while the main thread sets SIGUSR2 to SIG_IGN and SIG_DFL 200
 *          times (last SIG_DFL); then prints the line a report writes
 * Reports are written to a temporary name and renamed. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "busy_worker.h"

extern char **environ;
static const char *self;
static atomic_int g_stop;

/* SigIgn and SigCgt of this process and the view of SIGUSR2, as "ign HEX
 * cgt HEX view V". */
static void dispositions(char *out, size_t size) {
  char line[256], ign[32] = "?", cgt[32] = "?";
  FILE *f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f)) {
    sscanf(line, "SigIgn: %31s", ign);
    sscanf(line, "SigCgt: %31s", cgt);
  }
  if (f)
    fclose(f);
  struct sigaction q;
  const char *view = "?";
  if (sigaction(SIGUSR2, NULL, &q) == 0)
    view = q.sa_handler == SIG_IGN   ? "ign"
           : q.sa_handler == SIG_DFL ? "dfl"
                                     : "hnd";
  snprintf(out, size, "ign %s cgt %s view %s", ign, cgt, view);
}

static int write_file(const char *path, const char *text) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0)
    return 1;
  return rename(tmp, path) != 0;
}

static int report(const char *path) {
  char d[160];
  dispositions(d, sizeof d);
  return write_file(path, d);
}

static void reap(pid_t pid) {
  int st;
  while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
}

/* Takes DIR/name if it is there. */
static int take(const char *dir, const char *name) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return unlink(path) == 0;
}

/* posix_spawn of "report out", with attributes resetting SIGINT or not. */
static void spawn_report(const char *out, int attrs) {
  char *const argv[] = {(char *)self, "report", (char *)out, NULL};
  posix_spawnattr_t a;
  sigset_t dflt;
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGINT);
  if (attrs && (posix_spawnattr_init(&a) != 0 ||
                posix_spawnattr_setsigdefault(&a, &dflt) != 0 ||
                posix_spawnattr_setflags(&a, POSIX_SPAWN_SETSIGDEF) != 0))
    return;
  pid_t pid = -1;
  if (posix_spawn(&pid, self, NULL, attrs ? &a : NULL, argv, environ) == 0)
    reap(pid);
  if (attrs)
    posix_spawnattr_destroy(&a);
}

static void on_usr2(int sig) {
  (void)sig;
}

static void serve_one(const char *dir) {
  char out[4200];
  if (take(dir, "spawn")) {
    snprintf(out, sizeof out, "%s/r-spawn", dir);
    spawn_report(out, 0);
  }
  if (take(dir, "spawn-attr")) {
    snprintf(out, sizeof out, "%s/r-spawn-attr", dir);
    spawn_report(out, 1);
  }
  if (take(dir, "vfork")) {
    snprintf(out, sizeof out, "%s/r-vfork", dir);
    char *const argv[] = {(char *)self, "report", out, NULL};
    const pid_t pid = vfork();
    if (pid == 0) {
      execv(self, argv);
      _exit(127);
    }
    reap(pid);
  }
  if (take(dir, "execl")) {
    snprintf(out, sizeof out, "%s/r-execl", dir);
    const pid_t pid = fork();
    if (pid == 0) {
      execl(self, self, "report", out, (char *)NULL);
      _exit(127);
    }
    reap(pid);
  }
  if (take(dir, "fail")) {
    char *const argv[] = {"none", NULL};
    execv("/nonexistent/heapsnap-exec-signal", argv);
    char text[200], d[160];
    const int err = errno;
    dispositions(d, sizeof d);
    snprintf(text, sizeof text, "errno %d %s", err, d);
    snprintf(out, sizeof out, "%s/r-fail", dir);
    write_file(out, text);
  }
  if (take(dir, "handle")) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    snprintf(out, sizeof out, "%s/r-handle", dir);
    report(out);
  }
  if (take(dir, "exec")) {
    snprintf(out, sizeof out, "%s/r-exec", dir);
    char *const argv[] = {(char *)self, "report", out, NULL};
    atomic_store(&g_stop, 1);
    execv(self, argv);
    _exit(127);
  }
  if (take(dir, "stop"))
    atomic_store(&g_stop, 1);
}

static int serve(const char *dir, int ignore) {
  signal(SIGINT, SIG_IGN);
  if (ignore)
    signal(SIGUSR2, SIG_IGN);
  pthread_t t;
  if (pthread_create(&t, NULL, busy_worker, &g_stop) != 0)
    return 2;
  while (!atomic_load(&g_stop)) {
    serve_one(dir);
    const struct timespec ms = {0, 10000000};
    nanosleep(&ms, NULL);
  }
  pthread_join(t, NULL);
  return 0;
}

static void *exec_failing(void *arg) {
  (void)arg;
  char *const argv[] = {"none", NULL};
  while (!atomic_load(&g_stop))
    execv("/nonexistent/heapsnap-exec-signal", argv);
  return NULL;
}

static int toggle(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, exec_failing, NULL) != 0)
      return 2;
  for (int k = 0; k < 200; k++) {
    const struct timespec us = {0, 500000};
    signal(SIGUSR2, SIG_IGN);
    nanosleep(&us, NULL);
    signal(SIGUSR2, SIG_DFL);
    nanosleep(&us, NULL);
  }
  atomic_store(&g_stop, 1);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  char d[160];
  dispositions(d, sizeof d);
  printf("%s\n", d);
  return 0;
}

int main(int argc, char **argv) {
  self = argv[0];
  if (argc == 3 && strcmp(argv[1], "report") == 0)
    return report(argv[2]);
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "serve") == 0)
    return serve(argv[2], argc == 4 && strcmp(argv[3], "ignore") == 0);
  if (argc == 2 && strcmp(argv[1], "toggle") == 0)
    return toggle();
  fprintf(stderr,
          "usage: exec_signal report FILE | serve DIR [ignore] | toggle\n");
  return 2;
}
