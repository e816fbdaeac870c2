/* hs_trigger.c - the shim's own thread and what wakes it.
 *
 * The signal handler only posts a semaphore (sem_post is
 * async-signal-safe). The thread waits on it, or until the next interval
 * is due, and takes the snapshot. Every program thread keeps the snapshot
 * signal blocked (hs_signal.c); this thread blocks every signal too, but
 * for the snapshot signal while it waits. So a process-directed signal
 * (`kill -USR2 PID`) reaches this thread alone and interrupts nothing of
 * the program's, and one that comes while a snapshot is being written
 * waits, pending, for the next wait. `heapsnap snap` sends it to this
 * thread alone (tgkill). Its name, heapsnap:<signo>, always names the
 * current signal; its own working directory is the snapshot folder; the
 * status file (hs_channel.c) says both and more. Attached, the program's
 * masks are left alone and the signal is ignored instead (HS_OURS). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hs_shim.h"

#define HS_THREAD_STACK (512 * 1024)

static sem_t hs__sem;
static int hs__have_thread;
static pthread_t hs__thread_id;
volatile int hs__thread_pending;
/* exit() ends every thread wherever it is: a snapshot asked for just
 * before was lost, and one being written left its .tmp file behind. At
 * exit (hs__trigger_stop) the signals already received get their
 * snapshot, a snapshot under way is let finish, and no other is started. */
static _Atomic int hs__snapping, hs__stopping;
static _Atomic unsigned hs__requested, hs__served; /* signals; covered */
/* While the thread waits with the snapshot signal unblocked, waiting is 1;
 * each time it blocks it again, waits is advanced (hs__trigger_retarget). */
static _Atomic int hs__waiting;
static _Atomic unsigned hs__waits;
/* Attach mode: detach ends the thread (hs__trigger_end). */
static _Atomic int hs__quit;

#ifndef HS_ATTACH /* attached, the signal is taken with sigtimedwait */
void hs__trigger_request(void) {
  const int saved = errno;
  atomic_fetch_add(&hs__requested, 1); /* lock-free: async-signal-safe */
  sem_post(&hs__sem);
  errno = saved;
}

static void hs__on_signal(int sig) {
  (void)sig;
  hs__trigger_request();
}
#endif

/* Attached, the program's threads keep their own masks (hs_signal.c), so
 * a handler of the shim's could run in any of them and cut its sleep,
 * poll or epoll_wait short. The signal is ignored instead: a
 * process-directed one (`kill -USR2 PID`) is dropped where it is sent and
 * interrupts nothing, while one sent to this thread alone (`heapsnap
 * snap`, tgkill) stays pending, since the thread blocks it (a blocked
 * signal is never ignored), and sigtimedwait takes it (hs__wait_once). */
#ifdef HS_ATTACH
#define HS_OURS SIG_IGN
#else
#define HS_OURS hs__on_signal
#endif

/* The shim's mask for its disposition. Attached, it tells the shim's
 * SIG_IGN from one the program sets while attached (whose calls are not
 * hooked there): a detach that took the program's for the shim's put
 * back the default, and the program died of a signal it ignored. Two
 * signals no program has reason to hold in an ignored signal's mask;
 * without SIGTERM, which marks an exec's (hs__exec_swapped). */
static void hs__ours_mask(sigset_t *m) {
  sigemptyset(m);
#ifdef HS_ATTACH
  sigaddset(m, SIGSYS);
  sigaddset(m, SIGXFSZ);
#endif
}

int hs__trigger_is_ours(const struct sigaction *q) {
  if ((q->sa_flags & SA_SIGINFO) || q->sa_handler != HS_OURS)
    return 0;
#ifdef HS_ATTACH
  return sigismember(&q->sa_mask, SIGSYS) == 1 &&
         sigismember(&q->sa_mask, SIGXFSZ) == 1 &&
         sigismember(&q->sa_mask, SIGTERM) != 1;
#else
  return 1;
#endif
}

void hs__trigger_install(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = HS_OURS;
  sa.sa_flags = SA_RESTART;
  hs__ours_mask(&sa.sa_mask);
  hs__os_sigaction(sig, &sa, NULL);
}

/* The thread's name says the current signal: heapsnap:<signo>. Named by
 * its creator and by the thread itself when the signal moves, which may
 * be at once (a program that waits for the signal): the creator's name,
 * worked out before the move and written after it, was left stale, and
 * `heapsnap snap` refused the thread. So each looks again after writing;
 * the mover stores the new signal before it renames. */
static void hs__thread_rename(void) {
  for (int sig = -1; sig != hs__signal_current();) {
    sig = hs__signal_current();
    char name[16];
    snprintf(name, sizeof name, "heapsnap:%d", sig);
    pthread_setname_np(hs__thread_id, name);
  }
}

static void hs__thread_setup(void) {
  sigset_t all;
  sigfillset(&all);
  hs__os_sigmask(SIG_SETMASK, &all, NULL);
  /* A private working directory shows the folder in /proc/PID/task/TID/cwd;
   * without it the launcher falls back to --dir. */
  if (unshare(CLONE_FS) == 0 && chdir(hs__cfg.dir) != 0)
    (void)chdir("/");
  hs__status_thread((int)gettid());
}

/* One wait, with the current snapshot signal unblocked. waiting is set
 * before the signal is read: hs__trigger_retarget stores the new signal
 * before it reads waiting, so either this reads the new one or that sees
 * the thread waiting and wakes it. */
#ifdef HS_ATTACH
/* Attached: the signal taken with sigtimedwait (see HS_OURS), counted as
 * the handler would count it. Detach wakes it with the same signal. The
 * signal changes only in this thread (hs__signal_check), between waits.
 * Returns as sem_clockwait would. */
static int hs__wait_once(const struct timespec *due) {
  const int sig = hs__signal_current();
  if (!sig) /* the interval alone */
    return hs__cfg.interval_ns ? sem_clockwait(&hs__sem, CLOCK_MONOTONIC, due)
                               : sem_wait(&hs__sem);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  struct timespec left, *tmo = NULL;
  if (hs__cfg.interval_ns) {
    const uint64_t now = hs__clock_ns(CLOCK_MONOTONIC);
    const uint64_t at =
        (uint64_t)due->tv_sec * 1000000000u + (uint64_t)due->tv_nsec;
    const uint64_t ns = at > now ? at - now : 0;
    left =
        (struct timespec){(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    tmo = &left;
  }
  siginfo_t info;
  atomic_store(&hs__waiting, 1);
  const int rc = hs__os_sigtimedwait(&set, &info, tmo);
  const int err = errno;
  atomic_store(&hs__waiting, 0);
  atomic_fetch_add(&hs__waits, 1);
  if (rc == sig &&
      (info.si_code == SI_TKILL || !hs__signal_give_back(sig, &info))) {
    atomic_fetch_add(&hs__requested, 1);
    return 0;
  }
  errno = rc == sig ? EINTR : err == EAGAIN ? ETIMEDOUT : err;
  return -1;
}
#else
static int hs__wait_once(const struct timespec *due) {
  sigset_t mask;
  sigfillset(&mask);
  atomic_store(&hs__waiting, 1);
  const int sig = hs__signal_current();
  if (sig)
    sigdelset(&mask, sig);
  hs__os_sigmask(SIG_SETMASK, &mask, NULL);
  const int rc = hs__cfg.interval_ns
                     ? sem_clockwait(&hs__sem, CLOCK_MONOTONIC, due)
                     : sem_wait(&hs__sem);
  const int err = errno;
  sigfillset(&mask);
  hs__os_sigmask(SIG_SETMASK, &mask, NULL);
  atomic_store(&hs__waiting, 0);
  atomic_fetch_add(&hs__waits, 1);
  errno = err;
  return rc;
}
#endif

/* Waits for a signal or the next interval; returns the trigger's name. A
 * wake-up with no signal behind it (hs__trigger_retarget, exit) only
 * makes the thread look again. */
static const char *hs__wait(struct timespec *due) {
  for (;;) {
    hs__signal_check();
    hs__status_mend();
    const int rc = hs__wait_once(due);
    if (atomic_load(&hs__quit))
      return NULL;
    if (rc == 0 && atomic_load(&hs__requested) != atomic_load(&hs__served))
      return "signal";
    if (rc != 0 && errno == ETIMEDOUT) {
      const uint64_t next = (uint64_t)due->tv_sec * 1000000000u +
                            (uint64_t)due->tv_nsec + hs__cfg.interval_ns;
      due->tv_sec = (time_t)(next / 1000000000u);
      due->tv_nsec = (long)(next % 1000000000u);
      return "interval";
    }
  }
}

static void *hs__thread_main(void *arg) {
  (void)arg;
  hs__busy = 1; /* for the thread's whole life */
  hs__thread_setup();
  const uint64_t first = hs__clock_ns(CLOCK_MONOTONIC) + hs__cfg.interval_ns;
  struct timespec due = {(time_t)(first / 1000000000u),
                         (long)(first % 1000000000u)};
  for (;;) {
    const char *trigger = hs__wait(&due);
    if (!trigger)
      return NULL; /* detached */
    while (sem_trywait(&hs__sem) == 0)
      ; /* a burst of signals makes one snapshot */
    const unsigned covered = atomic_load(&hs__requested);
    if (covered != atomic_load(&hs__served))
      trigger = "signal"; /* asked for too: --keep leaves it (hs_snap.c) */
    atomic_store(&hs__snapping, 1);
    if (atomic_load(&hs__stopping)) { /* the process is exiting */
      atomic_store(&hs__snapping, 0);
      for (;;)
        pause();
    }
#ifdef HS_ATTACH
    hs__attach_refresh(); /* modules the C library loaded by itself */
#endif
    hs__snapshot_take(trigger, NULL, 0);
    atomic_store(&hs__served, covered);
    atomic_store(&hs__snapping, 0);
  }
  return NULL;
}

/* Preloaded, the semaphore wakes the thread (sem_post is
 * async-signal-safe), which looks at what it was poked for before it
 * waits again. Attached, its wait takes the snapshot signal itself, so
 * it looks at its next wake-up: an interval snapshot, or detach. */
void hs__trigger_poke(void) {
#ifndef HS_ATTACH
  if (hs__have_thread)
    sem_post(&hs__sem);
#endif
}

int hs__trigger_is_self(void) {
  return hs__have_thread && pthread_equal(pthread_self(), hs__thread_id);
}

void hs__trigger_retarget(int sig) {
  (void)sig;
  if (!hs__have_thread)
    return;
  hs__thread_rename();
  if (hs__trigger_is_self())
    return; /* the thread reads the signal before each wait */
  const unsigned waits = atomic_load(&hs__waits);
  if (!atomic_load(&hs__waiting))
    return;
  sem_post(&hs__sem);
  const struct timespec us = {0, 100000};
  for (int i = 0; i < 10000 && atomic_load(&hs__waits) == waits; i++)
    nanosleep(&us, NULL);
}

/* The thread sets snapping before it looks at stopping, and this sets
 * stopping before it looks at snapping: one of the two sees the other.
 * Waits at most 10 s in all: an exit must not hang on a snapshot. Called
 * before the exit snapshot, so that it does not wait behind interval
 * snapshots the thread would go on taking back to back. */
/* A signal sent before exit() may still be pending (the thread was busy
 * with a snapshot, and every other thread blocks it): it is taken here and
 * counted as the handler would, then waited for like the others. */
void hs__trigger_stop(void) {
  const struct timespec ms = {0, 1000000};
  int i = 0;
  if (hs__have_thread && hs__signal_take_pending()) {
    atomic_fetch_add(&hs__requested, 1);
    sem_post(&hs__sem);
  }
  while (hs__have_thread && i++ < 10000 &&
         atomic_load(&hs__served) != atomic_load(&hs__requested))
    nanosleep(&ms, NULL);
  atomic_store(&hs__stopping, 1);
  while (i++ < 10000 && atomic_load(&hs__snapping))
    nanosleep(&ms, NULL);
}

static void hs__thread_create(void) {
  pthread_attr_t attr;
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
#ifndef HS_ATTACH /* attached: detach joins it, then reuses its stack */
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
#endif
  /* Created with every signal blocked, so none lands on it before it has
   * set its own mask. */
  sigset_t all, old;
  sigfillset(&all);
  hs__os_sigmask(SIG_SETMASK, &all, &old);
  if (pthread_create(&hs__thread_id, &attr, hs__thread_main, NULL) == 0) {
    hs__have_thread = 1;
    /* named now, not only once it runs: a scan before that (an API
     * snapshot right after start, a loaded machine) must know it for the
     * shim's and not a thread whose stack it cannot tell */
    hs__thread_rename();
  } else
    hs__say("cannot start the snapshot thread; only API and exit snapshots");
  hs__os_sigmask(SIG_SETMASK, &old, NULL);
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
  const int sig = hs__signal_init(hs__cfg.signo);
  if (sig && sig == hs__cfg.signo) /* a move installed its own */
    hs__trigger_install(sig);
  if (sig || hs__cfg.interval_ns)
    hs__thread_create();
}

/* The child of fork has no shim thread; it gets one at its first tracked
 * allocation (not here: a child that only calls exec never needs one). */
void hs__trigger_fork_child(void) {
  sem_init(&hs__sem, 0, 0);
  atomic_store(&hs__snapping, 0); /* the parent's thread is not here */
  atomic_store(&hs__waiting, 0);
  atomic_store(&hs__served, atomic_load(&hs__requested));
  hs__thread_pending = 1;
  hs__have_thread = 0;
}

/* A child's first allocation: its status file, and its thread when the
 * process has a trigger for one. */
void hs__trigger_start_pending(void) {
  if (!__atomic_exchange_n(&hs__thread_pending, 0, __ATOMIC_ACQ_REL))
    return;
  hs__status_open();
  if (hs__signal_current() || hs__cfg.interval_ns)
    hs__thread_create();
}

#ifdef HS_ATTACH
/* Detach: the thread finishes a snapshot under way and ends; the signal
 * goes back to what the program had. Attaching again starts it anew. */
void hs__trigger_end(void) {
  if (hs__have_thread) {
    atomic_store(&hs__quit, 1);
    sem_post(&hs__sem);
    const int sig = hs__signal_current();
    if (sig) /* in sigtimedwait: its signal wakes it */
      pthread_kill(hs__thread_id, sig);
    pthread_join(hs__thread_id, NULL);
    hs__have_thread = 0;
    atomic_store(&hs__quit, 0);
  }
  hs__signal_release();
  atomic_store(&hs__served, atomic_load(&hs__requested));
  sem_destroy(&hs__sem);
}
#endif
