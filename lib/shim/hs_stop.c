/* hs_stop.c - precise mode (HEAPSNAP_SCAN_REGISTERS=1): every thread but
 * the one taking the snapshot stopped while the scan's copy is made, and
 * its registers saved for the scan (docs/reachability.md).
 *
 * A pointer a thread holds only in a register is in no memory the clone
 * copies. LeakSanitizer stops the threads with ptrace, and so does this.
 * A process may not trace its own threads, so a helper does it: a clone
 * of the process (raw clone, no exit signal, as the scan's child) started
 * before the table locks are taken, so that copying its page tables is not
 * part of the pause. A child may trace its parent's threads under Yama's
 * default scope. With the locks held the helper seizes each thread listed
 * in /proc/PID/task (listing again until no new one appears), interrupts
 * it, waits for it to stop, and saves its registers and stack pointer in
 * the shared stop area. The snapshot's thread then copies the table and
 * clones the scan's child with every other thread stopped, and lets the
 * helper go, which detaches them all and exits.
 *
 * Why it is opt-in: a ptrace stop wakes a thread that sleeps in the
 * kernel. Most calls resume as if nothing happened (no handler runs), but
 * a few return EINTR all the same (epoll_wait, sigtimedwait, semop:
 * signal(7)). The default scan stops nothing.
 *
 * A thread that cannot be stopped (a debugger traces it; ptrace is
 * forbidden by kernel.yama.ptrace_scope, seccomp, or an undumpable
 * process) or does not stop within 200 ms keeps its registers unseen, its
 * stack scanned as in the default mode; the snapshot's note says so. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hs_scan.h"

#if defined(__x86_64__)
#define HS_REGS_SP offsetof(struct user_regs_struct, rsp)
#elif defined(__aarch64__)
#define HS_REGS_SP offsetof(struct user_regs_struct, sp)
#endif

enum {
  HS_STOP_IDLE,    /* the helper waits for the locks to be taken */
  HS_STOP_GO,      /* it stops the threads */
  HS_STOP_DONE,    /* stopped, or given up on: the regs say which */
  HS_STOP_RELEASE, /* let them go, and exit */
};

#define HS_STOP_WAIT_NS (200 * 1000000ull)   /* for the threads to stop */
#define HS_STOP_IDLE_NS (10 * 1000000000ull) /* the helper's patience */

/* Shared futexes: the helper is another process. */
static void hs__futex_wake(_Atomic uint32_t *w) {
  syscall(SYS_futex, w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* Waits while *w is val, ns at most; returns what it is then. */
static uint32_t hs__stop_await(_Atomic uint32_t *w, uint32_t val, uint64_t ns) {
  const uint64_t end = hs__clock_ns(CLOCK_MONOTONIC) + ns;
  uint32_t v;
  while ((v = atomic_load(w)) == val) {
    const uint64_t now = hs__clock_ns(CLOCK_MONOTONIC);
    if (now >= end)
      break;
    const struct timespec ts = {(time_t)((end - now) / 1000000000u),
                                (long)((end - now) % 1000000000u)};
    syscall(SYS_futex, w, FUTEX_WAIT, val, &ts, NULL, 0);
  }
  return v;
}

/* --- in the helper ------------------------------------------------------ */

/* The helper's own bookkeeping, per slot of the stop area. */
static struct {
  uint8_t seized, settled; /* traced by us; stopped or gone */
  uint8_t failed;          /* could not be seized */
  int32_t sig;             /* a signal its stop held back */
} hs__mine[HS_SCAN_THREADS];

static long hs__stop_slot(const hs__stop *st, int32_t tid) {
  for (uint32_t i = 0; i < st->n; i++)
    if (st->regs[i].tid == tid)
      return (long)i;
  return -1;
}

static void hs__stop_failed(hs__stop *st, int32_t tid, int err) {
  if (!st->fail_tid) {
    st->fail_tid = tid;
    st->fail_errno = err;
  }
}

/* Seizes and interrupts the threads not seen before; returns how many. */
static uint32_t hs__stop_seize(hs__stop *st, int32_t *ids) {
  const size_t n = hs__tasks_ids(st->pid, ids, HS_SCAN_THREADS);
  uint32_t added = 0;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] == st->self_tid || hs__stop_slot(st, ids[i]) >= 0)
      continue;
    if (st->n == HS_SCAN_THREADS) {
      hs__stop_failed(st, ids[i], ENOSPC);
      st->missed++;
      continue;
    }
    const uint32_t s = st->n++;
    st->regs[s].tid = ids[i];
    added++;
    if (ptrace(PTRACE_SEIZE, ids[i], NULL, NULL) != 0) {
      /* ESRCH: it exited. A zombie (a main thread that called
       * pthread_exit) cannot be seized, and has no registers to scan. */
      const int err = errno;
      if (err != ESRCH && !hs__tasks_gone(st->pid, ids[i])) {
        hs__stop_failed(st, ids[i], err);
        hs__mine[s].failed = 1;
      }
      hs__mine[s].settled = 1;
      continue;
    }
    hs__mine[s].seized = 1;
    if (ptrace(PTRACE_INTERRUPT, ids[i], NULL, NULL) != 0)
      hs__mine[s].settled = errno == ESRCH; /* exited; else wait for it */
  }
  return added;
}

/* A stopped thread's registers: the general regset, then the vector one. */
static void hs__stop_read(hs__thread_regs *g) {
  struct iovec io = {g->words, HS_REGS_BYTES};
  if (ptrace(PTRACE_GETREGSET, g->tid, (void *)NT_PRSTATUS, &io) != 0)
    return;
  size_t len = io.iov_len & ~(size_t)7;
  struct iovec fp = {(char *)g->words + len, HS_REGS_BYTES - len};
  if (ptrace(PTRACE_GETREGSET, g->tid, (void *)NT_PRFPREG, &fp) == 0)
    len += fp.iov_len & ~(size_t)7;
  g->len = (uint32_t)len;
#ifdef HS_REGS_SP
  memcpy(&g->sp, (const char *)g->words + HS_REGS_SP, 8);
#endif
  g->stopped = 1;
}

static void hs__stop_report(hs__stop *st, pid_t tid, int status) {
  const long s = hs__stop_slot(st, tid);
  if (s < 0 || hs__mine[s].settled)
    return;
  hs__mine[s].settled = 1;
  if (!WIFSTOPPED(status)) { /* it exited */
    hs__mine[s].seized = 0;
    return;
  }
  /* Not our interrupt but a signal on its way: given back at detach. */
  if (status >> 16 != PTRACE_EVENT_STOP)
    hs__mine[s].sig = WSTOPSIG(status);
  hs__stop_read(&st->regs[s]);
}

/* Waits for every seized thread to stop or exit, until `end`. */
static void hs__stop_collect(hs__stop *st, uint64_t end) {
  const struct timespec nap = {0, 20000};
  for (;;) {
    uint32_t pending = 0;
    for (uint32_t i = 0; i < st->n; i++)
      pending += !hs__mine[i].settled;
    if (!pending || hs__clock_ns(CLOCK_MONOTONIC) >= end)
      return;
    int status;
    const pid_t t = waitpid(-1, &status, __WALL | WNOHANG);
    if (t > 0)
      hs__stop_report(st, t, status);
    else if (t == 0 || errno == EINTR)
      nanosleep(&nap, NULL);
    else
      return;
  }
}

/* The helper's whole life; it never returns into the program's code. */
static void hs__stop_helper(hs__stop *st) {
  hs__os_close_all_but(-1); /* none of the service's open here */
  sigset_t all;
  sigfillset(&all);
  hs__os_sigmask(SIG_SETMASK, &all, NULL);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* its tracees are let go then */
  if (getppid() != st->pid ||
      hs__stop_await(&st->state, HS_STOP_IDLE, HS_STOP_IDLE_NS) != HS_STOP_GO)
    syscall(SYS_exit_group, 0);
  static int32_t ids[HS_SCAN_THREADS];
  const uint64_t end = hs__clock_ns(CLOCK_MONOTONIC) + HS_STOP_WAIT_NS;
  /* Until a listing finds no new thread: one not yet stopped may start
   * another. */
  for (int pass = 0; pass < 16; pass++) {
    const uint32_t added = hs__stop_seize(st, ids);
    hs__stop_collect(st, end);
    if (!added)
      break;
  }
  for (uint32_t i = 0; i < st->n; i++)
    if (hs__mine[i].seized && !st->regs[i].stopped) {
      st->missed++;
      hs__stop_failed(st, st->regs[i].tid,
                      hs__mine[i].settled ? EIO : ETIMEDOUT);
    } else {
      st->missed += hs__mine[i].failed;
    }
  uint32_t go = HS_STOP_GO;
  if (atomic_compare_exchange_strong(&st->state, &go, HS_STOP_DONE)) {
    hs__futex_wake(&st->state);
    hs__stop_await(&st->state, HS_STOP_DONE, HS_STOP_IDLE_NS);
  }
  for (uint32_t i = 0; i < st->n; i++)
    if (hs__mine[i].seized && st->regs[i].stopped)
      ptrace(PTRACE_DETACH, st->regs[i].tid, NULL,
             (void *)(long)hs__mine[i].sig);
  /* Any still seized (not stopped in time) are let go by the kernel as
   * this process ends. */
  syscall(SYS_exit_group, 0);
}

/* --- in the snapshot's thread ------------------------------------------ */

void hs__stop_prepare(hs__scan *sc) {
  sc->stop = NULL;
  sc->stop_helper = 0;
  sc->stop_done = sc->stopped_all = 0;
  sc->stop_note[0] = '\0';
  if (!hs__cfg.scan_registers)
    return;
#ifndef HS_REGS_SP
  snprintf(sc->stop_note, sizeof sc->stop_note,
           "registers not scanned: not supported on this machine");
  return;
#endif
  hs__stop *st = hs__os_map(sizeof *st, 1);
  if (!st) {
    snprintf(sc->stop_note, sizeof sc->stop_note,
             "registers not scanned: no memory to stop the threads");
    return;
  }
  st->pid = sc->pid;
  st->self_tid = sc->self_tid;
  const long pid = syscall(SYS_clone, 0, NULL, NULL, NULL, 0);
  if (pid == 0)
    hs__stop_helper(st);
  if (pid < 0) {
    snprintf(sc->stop_note, sizeof sc->stop_note,
             "registers not scanned: cannot start the process that stops "
             "the threads (%s)",
             strerror(errno));
    hs__os_unmap(st, sizeof *st);
    return;
  }
  sc->stop = st;
  sc->stop_helper = (int)pid;
}

void hs__stop_world(hs__scan *sc) {
  if (!sc->stop)
    return;
  atomic_store(&sc->stop->state, HS_STOP_GO);
  hs__futex_wake(&sc->stop->state);
  /* The helper gives up on a thread after 200 ms; this, on the helper. */
  const uint32_t v =
      hs__stop_await(&sc->stop->state, HS_STOP_GO, 5 * HS_STOP_WAIT_NS);
  sc->stop_done = v == HS_STOP_DONE;
  sc->stopped_all = sc->stop_done && !sc->stop->missed;
}

void hs__stop_release(hs__scan *sc) {
  if (!sc->stop)
    return;
  atomic_store(&sc->stop->state, HS_STOP_RELEASE);
  hs__futex_wake(&sc->stop->state);
}

static const char *hs__stop_why(int err) {
  switch (err) {
  case ETIMEDOUT:
    return "it did not stop within 200 ms";
  case EPERM:
    return "ptrace not permitted (a debugger attached, "
           "kernel.yama.ptrace_scope, seccomp)";
  case ENOSPC:
    return "too many threads";
  default:
    return strerror(err);
  }
}

void hs__stop_finish(hs__scan *sc) {
  if (!sc->stop_helper)
    return;
  int status;
  while (waitpid(sc->stop_helper, &status, __WALL) < 0 && errno == EINTR)
    ;
  sc->stop_helper = 0;
  const hs__stop *st = sc->stop;
  if (!sc->stop_done) {
    snprintf(sc->stop_note, sizeof sc->stop_note,
             "registers not scanned: the threads were not stopped in time");
  } else if (st->missed) {
    char name[16] = "";
    hs__tasks_name(0, st->fail_tid, name);
    snprintf(sc->stop_note, sizeof sc->stop_note,
             "registers of %u of %u threads not scanned: thread %d (%s): %s",
             st->missed, st->n, (int)st->fail_tid, name[0] ? name : "?",
             hs__stop_why(st->fail_errno));
  }
}

void hs__stop_free(hs__scan *sc) {
  if (!sc->stop)
    return;
  if (sc->stop_helper) { /* not past hs__stop_finish: a retry, a failure */
    hs__stop_release(sc);
    int status;
    while (waitpid(sc->stop_helper, &status, __WALL) < 0 && errno == EINTR)
      ;
    sc->stop_helper = 0;
  }
  hs__os_unmap(sc->stop, sizeof *sc->stop);
  sc->stop = NULL;
}
