/* e2e_idle - a plain program for the trigger and robustness tests.
 *   e2e_idle sleep MS     allocate a little, sleep MS milliseconds, exit 0
 *   e2e_idle leader MS    a thread sleeps MS milliseconds and exits the
 *                         process (exit 0); the main thread calls
 *                         pthread_exit at once
 *   e2e_idle exit         allocate, exit(0) normally
 *   e2e_idle _exit        allocate, _exit(0): no exit snapshot
 *   e2e_idle abort        allocate, abort(): no exit snapshot, no hang
 *   e2e_idle echo         print a fixed text (output must not change)
 *   e2e_idle exec         allocate, then exec itself with "exit"
 *   e2e_idle snap         take one API snapshot, print its path
 *   e2e_idle fork MS      fork a child that sleeps MS milliseconds without
 *                         allocating; print "child PID"; wait for it
 *   e2e_idle raise        raise(SIGUSR2), then pthread_kill(pthread_self(),
 *                         SIGUSR2): after each, wait up to 10 s for one
 *                         more snapshot in $HEAPSNAP_DIR, and print
 *                         "raise N" and "pthread_kill N" (the files
 *                         there); then _exit(0)
 *   e2e_idle raise_exit   raise(SIGUSR2), then exit(0) at once
 *   e2e_idle reenter N    N API snapshots while another thread signals
 *                         this one; its handler asks for a snapshot too;
 *                         print "main OK handler OK BUSY OTHER"
 * $E2E_SITES: see write_sites(). */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/wait.h>
#include <time.h>

#include "e2e_sites.h"

extern char **environ;

static void *held[5];

static void sleep_ms(long ms);

/* The process's last thread once the main one has called pthread_exit. */
static void *leader_gone(void *ms) {
  sleep_ms(*(long *)ms);
  exit(0);
}

__attribute__((noinline)) void site_idle(void) {
  for (int i = 0; i < 5; i++)
    held[i] = malloc(777);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

/* $E2E_SITES names a file for the site line of this very process (its
 * addresses differ from run to run). */
static void write_sites(void) {
  const char *path = getenv("E2E_SITES");
  FILE *f = path ? fopen(path, "w") : NULL;
  if (f) {
    E2E_SITE(f, site_idle, 5, 5 * 777);
    fclose(f);
  }
}

/* reenter: the handler runs inside the main thread's own snapshot most of
 * the time, where the shim holds its snapshot lock: it must answer
 * HS_EBUSY at once, not wait on that lock (which would never come free). */
static atomic_int re_ok, re_busy, re_other, re_done, re_in_call;
static pid_t re_tid;

/* Asks only while the main thread is in its call, and once it got a
 * snapshot (the signal came before the shim was entered) no more in that
 * call: a snapshot per signal would leave the main thread no time. */
static void re_handler(int sig) {
  if (!atomic_load(&re_in_call))
    return;
  const int rc = hs_snapshot_take(NULL, 0);
  if (rc == 0)
    atomic_store(&re_in_call, 0);
  atomic_fetch_add(rc == 0 ? &re_ok : rc == HS_EBUSY ? &re_busy : &re_other, 1);
}

static void *re_signaller(void *arg) {
  const struct timespec gap = {0, 300000};
  while (!atomic_load(&re_done)) {
    syscall(SYS_tgkill, getpid(), re_tid, SIGUSR1);
    nanosleep(&gap, NULL);
  }
  return arg;
}

static int reenter(int n) {
  struct sigaction sa = {.sa_handler = re_handler};
  sigaction(SIGUSR1, &sa, NULL);
  re_tid = (pid_t)syscall(SYS_gettid);
  pthread_t t;
  if (pthread_create(&t, NULL, re_signaller, NULL))
    return 5;
  int ok = 0;
  for (int i = 0; i < n; i++) {
    atomic_store(&re_in_call, 1);
    ok += hs_snapshot_take(NULL, 0) == 0;
    atomic_store(&re_in_call, 0);
  }
  atomic_store(&re_done, 1);
  pthread_join(t, NULL);
  printf("%d %d %d %d\n", ok, atomic_load(&re_ok), atomic_load(&re_busy),
         atomic_load(&re_other));
  return 0;
}

/* The snapshots in dir, once there are `want` or 10 s have passed. */
static int snaps_in(const char *dir, int want) {
  int n = 0;
  for (int tries = 0; tries < 1000; tries++) {
    n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
      const size_t len = strlen(e->d_name);
      n += len > 5 && !strcmp(e->d_name + len - 5, ".snap");
    }
    if (d)
      closedir(d);
    if (n >= want)
      break;
    sleep_ms(10);
  }
  return n;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "echo";
  site_idle();
  write_sites();
  if (!strcmp(mode, "sleep")) {
    sleep_ms(argc > 2 ? atol(argv[2]) : 1000);
  } else if (!strcmp(mode, "leader")) {
    static long ms;
    ms = argc > 2 ? atol(argv[2]) : 1000;
    pthread_t t;
    if (pthread_create(&t, NULL, leader_gone, &ms))
      return 3;
    pthread_exit(NULL);
  } else if (!strcmp(mode, "exit")) {
    exit(0);
  } else if (!strcmp(mode, "_exit")) {
    _exit(0);
  } else if (!strcmp(mode, "raise_exit")) {
    raise(SIGUSR2);
    exit(0);
  } else if (!strcmp(mode, "raise")) {
    const char *dir = getenv("HEAPSNAP_DIR");
    raise(SIGUSR2);
    printf("raise %d\n", snaps_in(dir ? dir : ".", 1));
    pthread_kill(pthread_self(), SIGUSR2);
    printf("pthread_kill %d\n", snaps_in(dir ? dir : ".", 2));
    fflush(stdout);
    _exit(0);
  } else if (!strcmp(mode, "abort")) {
    signal(SIGABRT, SIG_DFL);
    abort();
  } else if (!strcmp(mode, "echo")) {
    for (int i = 0; i < 3; i++)
      printf("line %d: %s\n", i, "the quick brown fox");
  } else if (!strcmp(mode, "exec")) { /* execl, execle, execlp, then exit */
    execl("/proc/self/exe", argv[0], "execle", (char *)NULL);
    return 3;
  } else if (!strcmp(mode, "execle")) {
    execle("/proc/self/exe", argv[0], "execlp", (char *)NULL, environ);
    return 3;
  } else if (!strcmp(mode, "execlp")) {
    execlp("/proc/self/exe", argv[0], "exit", (char *)NULL);
    return 3;
  } else if (!strcmp(mode, "fork")) {
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
      sleep_ms(argc > 2 ? atol(argv[2]) : 1000);
      _exit(0);
    }
    printf("child %d\n", (int)pid);
    fflush(stdout);
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 4;
  } else if (!strcmp(mode, "reenter")) {
    return reenter(argc > 2 ? atoi(argv[2]) : 20);
  } else if (!strcmp(mode, "snap")) {
    char path[4096];
    const int rc = heapsnap_snapshot(path, sizeof path);
    printf("%s\n", rc ? "failed" : path);
    return rc ? 1 : 0;
  } else {
    fprintf(stderr, "e2e_idle: unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
