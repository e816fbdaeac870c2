/* hs_trigger.c - the shim's own thread and what wakes it.
 *
 * The signal handler only posts a semaphore (sem_post is
 * async-signal-safe). The thread waits on it, or until the next interval
 * is due, and takes the snapshot. It blocks every signal but the snapshot
 * signal, so the program's own signals still reach the program's threads,
 * and `heapsnap snap` can send the snapshot signal to it alone (tgkill),
 * interrupting no application thread. Its name, heapsnap:<signo>, and its
 * own working directory, the snapshot folder, are how the launcher finds
 * it (docs/environment.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hs_shim.h"

#define HS_THREAD_STACK (512 * 1024)

static sem_t hs__sem;
static int hs__have_thread;
volatile int hs__thread_pending;
/* exit() ends every thread wherever it is: a snapshot asked for just
 * before was lost, and one being written left its .tmp file behind. At
 * exit (hs__trigger_fini) the signals already received get their snapshot,
 * a snapshot under way is let finish, and no other is started. */
static _Atomic int hs__snapping, hs__stopping;
static _Atomic unsigned hs__requested, hs__served; /* signals; covered */

static void hs__on_signal(int sig) {
  const int saved = errno;
  atomic_fetch_add(&hs__requested, 1); /* lock-free: async-signal-safe */
  sem_post(&hs__sem);
  errno = saved;
}

static void hs__thread_setup(void) {
  sigset_t set;
  sigfillset(&set);
  if (hs__cfg.signo)
    sigdelset(&set, hs__cfg.signo);
  pthread_sigmask(SIG_SETMASK, &set, NULL);
  char name[16];
  snprintf(name, sizeof name, "heapsnap:%d", hs__cfg.signo);
  prctl(PR_SET_NAME, name, 0, 0, 0);
  /* A private working directory shows the folder in /proc/PID/task/TID/cwd;
   * without it the launcher falls back to --dir. */
  if (unshare(CLONE_FS) == 0 && chdir(hs__cfg.dir) != 0)
    (void)chdir("/");
}

/* Waits for a signal or the next interval; returns the trigger's name. */
static const char *hs__wait(struct timespec *due) {
  for (;;) {
    const int rc = hs__cfg.interval_ns
                       ? sem_clockwait(&hs__sem, CLOCK_MONOTONIC, due)
                       : sem_wait(&hs__sem);
    if (rc == 0)
      return "signal";
    if (errno == ETIMEDOUT) {
      const uint64_t next = (uint64_t)due->tv_sec * 1000000000u +
                            (uint64_t)due->tv_nsec + hs__cfg.interval_ns;
      due->tv_sec = (time_t)(next / 1000000000u);
      due->tv_nsec = (long)(next % 1000000000u);
      return "interval";
    }
  }
}

static void *hs__thread_main(void *arg) {
  hs__busy = 1; /* for the thread's whole life */
  hs__thread_setup();
  const uint64_t first = hs__clock_ns(CLOCK_MONOTONIC) + hs__cfg.interval_ns;
  struct timespec due = {(time_t)(first / 1000000000u),
                         (long)(first % 1000000000u)};
  for (;;) {
    const char *trigger = hs__wait(&due);
    while (sem_trywait(&hs__sem) == 0)
      ; /* a burst of signals makes one snapshot */
    const unsigned covered = atomic_load(&hs__requested);
    atomic_store(&hs__snapping, 1);
    if (atomic_load(&hs__stopping)) { /* the process is exiting */
      atomic_store(&hs__snapping, 0);
      for (;;)
        pause();
    }
    hs__snapshot_take(trigger, NULL, 0);
    atomic_store(&hs__served, covered);
    atomic_store(&hs__snapping, 0);
  }
  return NULL;
}

/* The thread sets snapping before it looks at stopping, and this sets
 * stopping before it looks at snapping: one of the two sees the other.
 * Waits at most 10 s in all: an exit must not hang on a snapshot. Called
 * before the exit snapshot, so that it does not wait behind interval
 * snapshots the thread would go on taking back to back. */
void hs__trigger_stop(void) {
  const struct timespec ms = {0, 1000000};
  int i = 0;
  while (hs__have_thread && i++ < 10000 &&
         atomic_load(&hs__served) != atomic_load(&hs__requested))
    nanosleep(&ms, NULL);
  atomic_store(&hs__stopping, 1);
  while (i++ < 10000 && atomic_load(&hs__snapping))
    nanosleep(&ms, NULL);
}

static void hs__thread_create(void) {
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  /* Its stack comes from hs__os_alloc, so the reachability scan knows it
   * for the shim's own and does not take the block addresses it handles
   * while writing for pointers of the program's. */
  static void *stack;
  if (!stack)
    stack = hs__os_alloc(HS_THREAD_STACK);
  if (stack)
    pthread_attr_setstack(&attr, stack, HS_THREAD_STACK);
  else
    pthread_attr_setstacksize(&attr, HS_THREAD_STACK);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* Created with every signal blocked, so none lands on it before it has
   * set its own mask. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  if (pthread_create(&t, &attr, hs__thread_main, NULL) == 0)
    hs__have_thread = 1;
  else
    hs__say("cannot start the snapshot thread; only API and exit snapshots");
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
}

static void hs__check_dir(void) {
  struct stat st;
  if (stat(hs__cfg.dir, &st) != 0 || !S_ISDIR(st.st_mode))
    hs__say("HEAPSNAP_DIR=%s is not a directory; snapshots will fail until "
            "it is one",
            hs__cfg.dir);
}

void hs__trigger_start(void) {
  sem_init(&hs__sem, 0, 0);
  hs__check_dir();
  if (hs__cfg.signo) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = hs__on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(hs__cfg.signo, &sa, NULL);
  }
  if (hs__cfg.signo || hs__cfg.interval_ns)
    hs__thread_create();
}

/* The child of fork has no shim thread; it gets one at its first tracked
 * allocation (not here: a child that only calls exec never needs one). */
void hs__trigger_fork_child(void) {
  sem_init(&hs__sem, 0, 0);
  atomic_store(&hs__snapping, 0); /* the parent's thread is not here */
  atomic_store(&hs__served, atomic_load(&hs__requested));
  hs__thread_pending = hs__have_thread;
  hs__have_thread = 0;
}

void hs__trigger_start_pending(void) {
  if (__atomic_exchange_n(&hs__thread_pending, 0, __ATOMIC_ACQ_REL))
    hs__thread_create();
}
