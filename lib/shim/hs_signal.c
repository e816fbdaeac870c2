/* hs_signal.c - the snapshot signal, without changing the program.
 *
 * `kill -USR2 PID` is process-directed: the kernel hands it to any thread
 * that does not block it, and a handler run in a program's thread cuts its
 * sleep, poll or epoll_wait short. So the shim keeps its signal blocked in
 * every thread of the program and lets its own thread take it alone
 * (hs_trigger.c). The program never sees the difference:
 * - Each thread remembers which of the shim's signals the program asked
 *   blocked (its "view"); the mask calls (pthread_sigmask, sigprocmask)
 *   keep the shim's signal blocked whatever the program asks and report
 *   the program's view back; the calls that swap the mask for their
 *   duration (sigsuspend, ppoll, pselect, epoll_pwait, epoll_pwait2) get it
 *   added; the exec and spawn family (hs_exec.c) lets the new image start
 *   with the mask the program set.
 * - A signal the program takes for itself (a handler through sigaction or
 *   signal, one installed before the shim started, or the signal waited
 *   for with sigwait, sigwaitinfo, sigtimedwait or signalfd) is given back
 *   whole: the program's handler is installed, the shim's own thread stops
 *   accepting the signal before that, each thread unblocks it where the
 *   program's view says so (the calling thread at once, new threads at
 *   birth, the others at their next pass through the shim), and the
 *   snapshots move to a free real-time signal, said once on stderr.
 * - SIG_DFL and SIG_IGN set by the program on the shim's signal are kept
 *   as the program's view and reported back; the shim keeps the signal.
 * What escapes: raw syscalls (rt_sigprocmask, rt_sigaction: the shim's
 * thread notices a replaced handler at its next wake-up), setcontext with
 * a mask the program built by hand, and the obsolete sigset/sigsetmask. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hs_parse.h"
#include "hs_shim.h"

#define HS_BIT(sig) (1ull << ((sig)-1))
#define HS_SIG_OK(sig) ((sig) >= 1 && (sig) <= 64)

/* The C library's functions, resolved at start (hs__signal_init). */
static struct {
  int (*sigaction)(int, const struct sigaction *, struct sigaction *);
  int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
  int (*sigprocmask)(int, const sigset_t *, sigset_t *);
  sighandler_t (*signal)(int, sighandler_t);
  sighandler_t (*bsd_signal)(int, sighandler_t);
  sighandler_t (*sysv_signal)(int, sighandler_t);
  int (*sigsuspend)(const sigset_t *);
  int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
               const sigset_t *);
  int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                 const sigset_t *);
  int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
  int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
                      const sigset_t *);
  int (*sigwait)(const sigset_t *, int *);
  int (*sigwaitinfo)(const sigset_t *, siginfo_t *);
  int (*sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
  int (*signalfd)(int, const sigset_t *, int);
  int (*sigaltstack)(const stack_t *, stack_t *);
  int (*raise)(int);
  int (*pthread_kill)(pthread_t, int);
} hs__rs;

_Atomic int hs__sig_cur;             /* the shim's signal now; 0: none */
_Atomic uint32_t hs__sig_gen = 1;    /* advanced when hs__sig_cur changes */
static _Atomic uint64_t hs__claimed; /* signals the program took or set */
static struct sigaction hs__app_act; /* the program's view of hs__sig_cur */
static pthread_mutex_t hs__sig_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int hs__sig_ready;

/* Per thread: the shim's signals the program asked blocked, those the
 * shim blocks here against the program's view, and the hs__sig_gen the
 * mask follows. */
__thread uint64_t hs__sig_view;
__thread uint64_t hs__sig_forced;
__thread uint32_t hs__sig_seen;

#define HS_REAL(name)                                                          \
  hs__rs.name = (__typeof__(hs__rs.name))hs__os_symbol_next(#name)

static void hs__signal_resolve(void) {
  if (hs__rs.pthread_sigmask)
    return;
  HS_REAL(sigaction);
  HS_REAL(sigaltstack);
  HS_REAL(sigprocmask);
  HS_REAL(signal);
  HS_REAL(bsd_signal);
  HS_REAL(sysv_signal);
  HS_REAL(sigsuspend);
  HS_REAL(ppoll);
  HS_REAL(pselect);
  HS_REAL(epoll_pwait);
  HS_REAL(epoll_pwait2);
  HS_REAL(sigwait);
  HS_REAL(sigwaitinfo);
  HS_REAL(sigtimedwait);
  HS_REAL(signalfd);
  HS_REAL(raise);
  HS_REAL(pthread_kill);
  HS_REAL(pthread_sigmask); /* last: the test above */
}

int hs__os_sigaction(int sig, const struct sigaction *act,
                     struct sigaction *old) {
  hs__signal_resolve();
  return hs__rs.sigaction(sig, act, old);
}

/* The C library's, not the shim's (which would take the signal for the
 * program's). */
int hs__os_sigtimedwait(const sigset_t *set, siginfo_t *info,
                        const struct timespec *tmo) {
  hs__signal_resolve();
  return hs__rs.sigtimedwait(set, info, tmo);
}

/* glibc's pthread_sigmask, which never blocks its own SIGCANCEL and
 * SIGSETXID (setuid in a program with threads waits for every thread to
 * take SIGSETXID). */
int hs__os_sigmask(int how, const sigset_t *set, sigset_t *old) {
  hs__signal_resolve();
  return hs__rs.pthread_sigmask(how, set, old);
}

void hs__os_block_all(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  hs__os_sigmask(SIG_BLOCK, &all, old);
}

/* --- each thread's mask ------------------------------------------------- */

/* Makes this thread's mask follow hs__sig_gen: the shim's current signal
 * blocked, signals the shim gave back unblocked where it had blocked them
 * against the program's view. */
void hs__signal_fix_slow(void) {
  const uint32_t gen = atomic_load(&hs__sig_gen);
#ifdef HS_ATTACH
  /* Attached, the mask calls are the C library's: a signal blocked here
   * would show in the program's own masks. Its threads are left as they
   * are; `heapsnap snap` signals the shim's thread alone. */
  hs__sig_seen = gen;
  return;
#endif
  const int cur = atomic_load(&hs__sig_cur);
  sigset_t unblock, block;
  sigemptyset(&unblock);
  sigemptyset(&block);
  uint64_t forced = hs__sig_forced;
  for (int s = 1; s <= 64; s++)
    if ((forced & HS_BIT(s)) && s != cur) {
      sigaddset(&unblock, s);
      forced &= ~HS_BIT(s);
    }
  if (cur && !((hs__sig_view | forced) & HS_BIT(cur))) {
    sigaddset(&block, cur);
    forced |= HS_BIT(cur);
  }
  if (!sigisemptyset(&unblock))
    hs__os_sigmask(SIG_UNBLOCK, &unblock, NULL);
  if (!sigisemptyset(&block))
    hs__os_sigmask(SIG_BLOCK, &block, NULL);
  hs__sig_forced = forced;
  hs__sig_seen = gen;
}

uint64_t hs__signal_forced(void) {
  return hs__sig_forced;
}

uint64_t hs__signal_view(void) {
  return hs__sig_view;
}

/* A thread the shim starts for the program takes its creator's state. */
void hs__signal_inherit(uint64_t view, uint64_t forced) {
  hs__sig_view = view;
  hs__sig_forced = forced;
  hs__sig_seen = 0;
  hs__signal_fix();
}

/* The shim's own mask changes (libunwind's lock: every signal blocked,
 * then the old mask back) go to the kernel as asked, but for the two
 * signals glibc keeps for itself (SIGCANCEL and SIGSETXID, 32 and 33),
 * which stay as they are. Through glibc, which takes those two out of any
 * mask it is given, the restore unblocked 32 in a thread that had it
 * blocked: glibc's SIGEV_THREAD timer thread, which waits for it with
 * sigwaitinfo, and then died of the timer's next expiry. */
static int hs__mask_own(int (*real)(int, const sigset_t *, sigset_t *), int how,
                        const sigset_t *set, sigset_t *old) {
  const uint64_t glibc = 3ull << (32 - 1); /* bits of signals 32 and 33 */
  uint64_t want = 0, cur = 0, was = 0;
  if (set) {
    memcpy(&want, set, sizeof want);
    if (how == SIG_SETMASK &&
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, sizeof cur))
      return real(how, set, old);
    want = (want & ~glibc) | (how == SIG_SETMASK ? cur & glibc : 0);
  }
  if (syscall(SYS_rt_sigprocmask, how, set ? &want : NULL, old ? &was : NULL,
              sizeof want))
    return real(how, set, old); /* a bad how or address: its error */
  if (old) {
    sigemptyset(old);
    memcpy(old, &was, sizeof was);
  }
  return 0;
}

/* pthread_sigmask and sigprocmask: the program's request applied to its
 * view, the shim's signal kept blocked, the view reported in old. The
 * shim's own calls (libunwind's, which nest) are hs__mask_own's. */
static int hs__mask(int (*real)(int, const sigset_t *, sigset_t *), int how,
                    const sigset_t *set, sigset_t *old) {
  if (hs__busy)
    return hs__mask_own(real, how, set, old);
  hs__signal_fix();
  const int cur = atomic_load(&hs__sig_cur);
  if (!cur)
    return real(how, set, old);
  const uint64_t b = HS_BIT(cur), was = hs__sig_view;
  uint64_t view = was, forced = hs__sig_forced;
  sigset_t copy;
  if (set) {
    copy = *set;
    const int in = sigismember(set, cur) == 1;
    if (how == SIG_SETMASK) {
      sigaddset(&copy, cur);
      if (in)
        view |= b, forced &= ~b;
      else
        view &= ~b, forced |= b;
    } else if (how == SIG_BLOCK && in) {
      view |= b, forced &= ~b;
    } else if (how == SIG_UNBLOCK && in) {
      view &= ~b, forced |= b;
      sigdelset(&copy, cur); /* stays blocked: the shim's */
    }
    set = &copy;
  }
  const int rc = real(how, set, old);
  if (rc == 0 && set &&
      (how == SIG_BLOCK || how == SIG_UNBLOCK || how == SIG_SETMASK)) {
    hs__sig_view = view;
    hs__sig_forced = forced;
  }
  if (rc == 0 && old) {
    if (was & b)
      sigaddset(old, cur);
    else
      sigdelset(old, cur);
  }
  return rc;
}

HS_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  hs__signal_resolve();
  return hs__mask(hs__rs.pthread_sigmask, how, set, old);
}

HS_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  hs__signal_resolve();
  return hs__mask(hs__rs.sigprocmask, how, set, old);
}

/* A mask a call installs for its duration, with the shim's signal added.
 * @return : mask, or copy holding it. */
static const sigset_t *hs__with_ours(const sigset_t *mask, sigset_t *copy) {
  hs__signal_fix();
  const int cur = atomic_load(&hs__sig_cur);
  if (!mask || !cur)
    return mask;
  *copy = *mask;
  sigaddset(copy, cur);
  return copy;
}

HS_EXPORT int sigsuspend(const sigset_t *mask) {
  hs__signal_resolve();
  sigset_t copy;
  return hs__rs.sigsuspend(hs__with_ours(mask, &copy));
}

HS_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                    const sigset_t *mask) {
  hs__signal_resolve();
  sigset_t copy;
  return hs__rs.ppoll(fds, n, tmo, hs__with_ours(mask, &copy));
}

HS_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e,
                      const struct timespec *tmo, const sigset_t *mask) {
  hs__signal_resolve();
  sigset_t copy;
  return hs__rs.pselect(n, r, w, e, tmo, hs__with_ours(mask, &copy));
}

HS_EXPORT int epoll_pwait(int fd, struct epoll_event *ev, int max, int tmo,
                          const sigset_t *mask) {
  hs__signal_resolve();
  sigset_t copy;
  return hs__rs.epoll_pwait(fd, ev, max, tmo, hs__with_ours(mask, &copy));
}

HS_EXPORT int epoll_pwait2(int fd, struct epoll_event *ev, int max,
                           const struct timespec *tmo, const sigset_t *mask) {
  hs__signal_resolve();
  if (!hs__rs.epoll_pwait2) {
    errno = ENOSYS;
    return -1;
  }
  sigset_t copy;
  return hs__rs.epoll_pwait2(fd, ev, max, tmo, hs__with_ours(mask, &copy));
}

/* --- giving a signal back ----------------------------------------------- */

static int hs__is_handler(sighandler_t h) {
  return h != SIG_DFL && h != SIG_IGN && h != SIG_ERR;
}

/* A real-time signal no one uses: the program has not touched it and its
 * disposition is the default. From SIGRTMIN+5 up, past those libraries
 * commonly take first. */
static int hs__sig_pick(int avoid) {
  const uint64_t claimed = atomic_load(&hs__claimed);
  for (int s = SIGRTMIN + 5; s <= SIGRTMAX; s++) {
    struct sigaction q;
    if (s == avoid || (claimed & HS_BIT(s)) || hs__os_sigaction(s, NULL, &q))
      continue;
    if (!(q.sa_flags & SA_SIGINFO) && q.sa_handler == SIG_DFL)
      return s;
  }
  return 0;
}

/* Under hs__sig_lock: the program took `old` (it "handles" or "waits for"
 * it); snapshots move to another signal, and the shim's thread stops
 * accepting `old` before this returns, so the program's handler can be
 * installed and never runs on the shim's thread. */
static void hs__sig_move(int old, const char *verb) {
  const int next = hs__sig_pick(old);
  if (next)
    hs__trigger_install(next);
  atomic_store(&hs__sig_cur, next);
  atomic_fetch_add(&hs__sig_gen, 1);
  hs__trigger_retarget(next);
  hs__status_signal(next, 1);
  char was[16], now[16];
  hs__signal_name(old, was, sizeof was);
  hs__signal_name(next, now, sizeof now);
  if (next)
    hs__say("%s %s %s itself; snapshots now on %s: use heapsnap snap %d",
            hs__cfg.name, verb, was, now, (int)getpid());
  else
    hs__say("%s %s %s itself, and no real-time signal is free: snapshots "
            "now come only from the interval, the API or exit",
            hs__cfg.name, verb, was);
  memset(&hs__app_act, 0, sizeof hs__app_act);
  hs__app_act.sa_handler = SIG_DFL;
}

/* hs__sig_lock for a program's call, taken with its signals blocked: a
 * handler that ran in this thread while it held the lock and called
 * signal or sigaction (SysV code re-arms its handler so, while the
 * program sets SIGPIPE around each write) waited on it for good. The
 * faults a bad argument may raise stay deliverable, as without the shim. */
static void hs__sig_lock_take(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGILL);
  sigdelset(&all, SIGFPE);
  hs__os_sigmask(SIG_BLOCK, &all, old);
  pthread_mutex_lock(&hs__sig_lock);
}

/* Lets go of the lock and puts the mask back, then makes this thread's
 * mask follow a move made meanwhile (hs__sig_move), which a mask put
 * back after it would undo. */
static void hs__sig_lock_give(const sigset_t *old) {
  pthread_mutex_unlock(&hs__sig_lock);
  hs__os_sigmask(SIG_SETMASK, old, NULL);
  if (!hs__trigger_is_self()) /* the shim's thread sets its own mask */
    hs__signal_fix();
}

static void hs__claim(int sig) {
  if (HS_SIG_OK(sig))
    atomic_fetch_or(&hs__claimed, HS_BIT(sig));
}

/* sigwait and its kin, signalfd: the program consumes every signal in set
 * itself. */
static void hs__claim_set(const sigset_t *set) {
  if (!set || !atomic_load(&hs__sig_ready))
    return;
  sigset_t old;
  hs__sig_lock_take(&old);
  for (int s = 1; s <= 64; s++)
    if (sigismember(set, s) == 1)
      hs__claim(s);
  const int cur = atomic_load(&hs__sig_cur);
  if (cur && sigismember(set, cur) == 1)
    hs__sig_move(cur, "waits for");
  hs__sig_lock_give(&old);
}

HS_EXPORT int sigaction(int sig, const struct sigaction *act,
                        struct sigaction *old) {
  hs__signal_resolve();
  if (!HS_SIG_OK(sig) || !atomic_load(&hs__sig_ready))
    return hs__rs.sigaction(sig, act, old);
  sigset_t mask;
  hs__sig_lock_take(&mask);
  int rc = 0;
  if (sig != atomic_load(&hs__sig_cur)) {
    if (act)
      hs__claim(sig);
    rc = hs__rs.sigaction(sig, act, old);
  } else {
    const struct sigaction was = hs__app_act;
    if (act && hs__is_handler(act->sa_handler)) {
      hs__claim(sig);
      hs__sig_move(sig, "handles");
      rc = hs__rs.sigaction(sig, act, NULL);
    } else if (act) {
      hs__app_act = *act; /* SIG_DFL or SIG_IGN: the program's view */
    }
    if (old && rc == 0)
      *old = was;
  }
  const int err = errno;
  hs__sig_lock_give(&mask);
  errno = err;
  return rc;
}

/* signal, bsd_signal, sysv_signal: glibc runs them through its own
 * sigaction, out of the interposer's sight. */
static sighandler_t hs__signal_call(sighandler_t (*real)(int, sighandler_t),
                                    int sig, sighandler_t h, int flags) {
  if (!real) {
    errno = ENOSYS;
    return SIG_ERR;
  }
  if (!HS_SIG_OK(sig) || !atomic_load(&hs__sig_ready))
    return real(sig, h);
  sigset_t mask;
  hs__sig_lock_take(&mask);
  sighandler_t rc;
  if (sig != atomic_load(&hs__sig_cur)) {
    hs__claim(sig);
    rc = real(sig, h);
  } else {
    rc = hs__app_act.sa_handler;
    if (hs__is_handler(h)) {
      hs__claim(sig);
      hs__sig_move(sig, "handles");
      if (real(sig, h) == SIG_ERR)
        rc = SIG_ERR;
    } else if (h == SIG_DFL || h == SIG_IGN) {
      memset(&hs__app_act, 0, sizeof hs__app_act);
      hs__app_act.sa_handler = h;
      hs__app_act.sa_flags = flags;
    } else {
      errno = EINVAL;
      rc = SIG_ERR;
    }
  }
  const int err = errno;
  hs__sig_lock_give(&mask);
  errno = err;
  return rc;
}

HS_EXPORT sighandler_t signal(int sig, sighandler_t h) {
  hs__signal_resolve();
  return hs__signal_call(hs__rs.signal, sig, h, SA_RESTART);
}

HS_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h) {
  hs__signal_resolve();
  return hs__signal_call(hs__rs.bsd_signal, sig, h, SA_RESTART);
}

HS_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h) {
  hs__signal_resolve();
  return hs__signal_call(hs__rs.sysv_signal, sig, h, SA_RESETHAND | SA_NODEFER);
}

#ifndef HS_ATTACH
/* raise() and pthread_kill() of the shim's signal: sent to a thread of the
 * program, which keeps it blocked, it waited there until exit (after
 * _exit, for good), and the snapshot came late or never. The snapshot
 * is asked for as the shim's handler asks (the thread takes it, or takes
 * it when it starts; exit waits for it), and nothing is sent. Only while
 * the signal is the shim's and its handler is in place: the program's
 * own signal (a handler of its own moved the shim's away) is sent as
 * asked. */
static int hs__send_to_shim(int sig) {
  struct sigaction q;
  if (!sig || sig != atomic_load(&hs__sig_cur) ||
      hs__os_sigaction(sig, NULL, &q) != 0 || !hs__trigger_is_ours(&q))
    return 0;
  hs__trigger_request();
  return 1;
}

HS_EXPORT int raise(int sig) {
  if (hs__send_to_shim(sig))
    return 0;
  hs__signal_resolve();
  return hs__rs.raise(sig);
}

HS_EXPORT int pthread_kill(pthread_t t, int sig) {
  if (hs__send_to_shim(sig))
    return 0;
  hs__signal_resolve();
  return hs__rs.pthread_kill(t, sig);
}
#endif

/* The thread's alternate stack, kept for hs__stack_room: where a handler
 * has less room than libunwind's check of a new stack takes. Not known
 * during the call: a handler that comes then asks the kernel. */
HS_EXPORT int sigaltstack(const stack_t *ss, stack_t *old) {
  hs__signal_resolve();
  if (!ss)
    return hs__rs.sigaltstack(ss, old);
  const stack_t want = *ss;
  hs__alt_stack_set(NULL);
  const int rc = hs__rs.sigaltstack(&want, old);
  if (rc == 0)
    hs__alt_stack_set(&want);
  return rc;
}

HS_EXPORT int sigwait(const sigset_t *set, int *sig) {
  hs__signal_resolve();
  hs__claim_set(set);
  return hs__rs.sigwait(set, sig);
}

HS_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
  hs__signal_resolve();
  hs__claim_set(set);
  return hs__rs.sigwaitinfo(set, info);
}

HS_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
                           const struct timespec *tmo) {
  hs__signal_resolve();
  hs__claim_set(set);
  return hs__rs.sigtimedwait(set, info, tmo);
}

HS_EXPORT int signalfd(int fd, const sigset_t *mask, int flags) {
  hs__signal_resolve();
  hs__claim_set(mask);
  return hs__rs.signalfd(fd, mask, flags);
}

static int hs__exec_swapped(const struct sigaction *q);
static int hs__is_ignored(const struct sigaction *a);

#ifdef HS_ATTACH
/* Attached, the program's sigwait and signalfd are not hooked. A program
 * that takes the signal so keeps it blocked in every thread, and then a
 * process-directed one is not dropped: it waits for whichever thread
 * dequeues it first, the program's or the shim's (whose sigtimedwait
 * took it from the program). So when every thread but the shim's blocks
 * the configured signal and the program waits for it (a thread in
 * sigtimedwait for it, or a signalfd that takes it), it is the
 * program's: the shim gives the program its disposition back and moves,
 * once (a signal moved to is not looked at: a program that waits for
 * every signal would have it move through them all). 0 when it moved. */
static int hs__waited_for(int cur) {
  const int32_t self = (int32_t)gettid();
  if (cur != hs__cfg.signo || !hs__tasks_all_block(cur, self) ||
      !hs__tasks_wait_for(cur, self) ||
      pthread_mutex_trylock(&hs__sig_lock) != 0)
    return 1;
  struct sigaction q; /* again under the lock: the program's may be there */
  const int moved = cur == atomic_load(&hs__sig_cur) &&
                    hs__os_sigaction(cur, NULL, &q) == 0 &&
                    hs__trigger_is_ours(&q);
  if (moved) {
    hs__os_sigaction(cur, &hs__app_act, NULL); /* the program's, back */
    hs__claim(cur);
    hs__sig_move(cur, "waits for");
  }
  pthread_mutex_unlock(&hs__sig_lock);
  return !moved;
}

/* A wait the program began after the shim's thread last looked: the
 * kernel may offer the program's signal to the shim's sigtimedwait
 * first. The thread looks again at once, for up to 20 ms (the program's
 * waiting thread may be back in user space for a moment: woken by the
 * same signal, it found none and waits again), and a signal that turns
 * out to be the program's goes back to the process, from its sender (the
 * kernel lets a process queue itself only a negative si_code: a kill's
 * SI_USER becomes SI_QUEUE), after the move, so that the shim's thread
 * no longer takes it. */
int hs__signal_give_back(int sig, const siginfo_t *info) {
  for (int i = 0; hs__waited_for(sig); i++) {
    if (i == 20)
      return 0;
    const struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  siginfo_t q = *info;
  if (q.si_code >= 0)
    q.si_code = SI_QUEUE;
  syscall(SYS_rt_sigqueueinfo, getpid(), sig, &q);
  return 1;
}
#endif

/* The shim's thread, at each wake-up: a disposition put in place of the
 * shim's behind its back is the program's: a raw rt_sigaction, or,
 * attached, any call (the program's calls are not hooked there), also
 * one that ignores the signal or sets its default, which the shim's own
 * SIG_IGN is told from by its mask (hs__trigger_is_ours). What an exec in
 * progress put there (hs__signal_exec_prepare) is not. */
void hs__signal_check(void) {
  const int cur = atomic_load(&hs__sig_cur);
  struct sigaction q;
  if (!cur || hs__os_sigaction(cur, NULL, &q) != 0)
    return;
#ifdef HS_ATTACH
  if (hs__trigger_is_ours(&q) && hs__waited_for(cur))
    return;
#endif
  if (hs__trigger_is_ours(&q) || pthread_mutex_trylock(&hs__sig_lock) != 0)
    return;
  /* again under the lock, which an exec's change takes too */
  if (cur == atomic_load(&hs__sig_cur) &&
      hs__os_sigaction(cur, NULL, &q) == 0 && !hs__trigger_is_ours(&q) &&
      !hs__exec_swapped(&q)) {
    hs__claim(cur);
    hs__sig_move(cur, (q.sa_flags & SA_SIGINFO) ? "handles"
                      : hs__is_ignored(&q)      ? "ignores"
                      : q.sa_handler == SIG_DFL ? "resets"
                                                : "handles");
  }
  pthread_mutex_unlock(&hs__sig_lock);
}

/* At start, in the thread that runs the constructors (the main thread):
 * the configured signal, unless a handler is already installed for it
 * (the program's, or a library's that started first). */
int hs__signal_init(int configured) {
  hs__signal_resolve();
  sigset_t now;
  hs__os_sigmask(SIG_BLOCK, NULL, &now);
  struct sigaction q;
  memset(&q, 0, sizeof q);
  if (configured)
    hs__os_sigaction(configured, NULL, &q);
  const int taken =
      configured && ((q.sa_flags & SA_SIGINFO) || hs__is_handler(q.sa_handler));
  if (configured && sigismember(&now, configured) == 1)
    hs__sig_view = HS_BIT(configured);
  hs__app_act = q;
  atomic_store(&hs__sig_cur, configured);
  atomic_store(&hs__sig_ready, 1);
  if (taken) {
    pthread_mutex_lock(&hs__sig_lock);
    hs__claim(configured);
    hs__sig_move(configured, "handles");
    pthread_mutex_unlock(&hs__sig_lock);
  }
  hs__signal_fix();
  if (!taken)
    hs__status_signal(configured, 0);
  return atomic_load(&hs__sig_cur);
}

/* At exit, in a thread that blocks the shim's signal: 1 when one was
 * pending (for the process or this thread), now taken. */
int hs__signal_take_pending(void) {
  const int cur = atomic_load(&hs__sig_cur);
  sigset_t set;
  sigemptyset(&set);
  if (!cur || !hs__rs.sigtimedwait)
    return 0;
  sigaddset(&set, cur);
  const struct timespec now = {0, 0};
  return hs__rs.sigtimedwait(&set, NULL, &now) == cur;
}

int hs__signal_current(void) {
  return atomic_load(&hs__sig_cur);
}

/* fork: the child is the forking thread alone; its lock may have been
 * held by another thread, and another thread's exec may have left its
 * disposition of the shim's signal (hs__signal_exec_prepare) in place. */
void hs__signal_fork_child(void) {
  pthread_mutex_init(&hs__sig_lock, NULL);
  const int cur = atomic_load(&hs__sig_cur);
  struct sigaction q;
  if (cur && hs__os_sigaction(cur, NULL, &q) == 0 && hs__exec_swapped(&q))
    hs__trigger_install(cur);
}

/* --- exec and spawn ---------------------------------------------------- */

/* Caught by the shim for the length of an exec (hs__signal_exec_prepare):
 * the signal is dropped, as it is attached. */
static void hs__exec_drop(int sig) {
  (void)sig;
}

/* SIG_IGN, with SA_SIGINFO or not: the kernel reads the handler's value
 * alone. */
static int hs__is_ignored(const struct sigaction *a) {
  return a->sa_handler == SIG_IGN;
}

/* What hs__signal_exec_prepare sets carries every signal in its mask, a
 * mark nothing else sets on the shim's signal (an exec clears it, with
 * the mask, in the new image), so that the shim's thread, a failed exec,
 * a detach and a fork child tell it from the program's own. */
static int hs__exec_swapped(const struct sigaction *q) {
  return (q->sa_handler == hs__exec_drop || hs__is_ignored(q)) &&
         sigismember(&q->sa_mask, SIGTERM) == 1 &&
         sigismember(&q->sa_mask, SIGHUP) == 1;
}

/* hs__sig_lock for an exec's change: every signal blocked first (a
 * program's handler that runs meanwhile and calls sigaction would wait
 * on the lock for good), tried rather than waited for (a signal handler
 * may have interrupted this thread inside the lock), a few times: 0 when
 * taken, the mask to put back in *old. */
static int hs__exec_lock(sigset_t *old) {
  hs__os_block_all(old);
  for (int i = 0; i < 100; i++) {
    if (pthread_mutex_trylock(&hs__sig_lock) == 0)
      return 0;
    sched_yield();
  }
  hs__os_sigmask(SIG_SETMASK, old, NULL);
  return -1;
}

static void hs__exec_unlock(const sigset_t *old) {
  pthread_mutex_unlock(&hs__sig_lock);
  hs__os_sigmask(SIG_SETMASK, old, NULL);
}

/* An exec keeps an ignored signal ignored and resets a caught one to its
 * default. The shim's signal is caught where the program left it default
 * or ignored it (preloaded), and ignored where the program left it
 * default (attached, hs_trigger.c), so the new image would start with the
 * shim's choice, not the program's. Just before the exec, the shim's own
 * disposition (only: never one the program put there) is set so that it
 * passes the program's on: ignored, or caught by hs__exec_drop (the new
 * image then starts with the default; a signal that comes meanwhile is
 * dropped rather than let kill the process). Under hs__sig_lock, so that
 * a detach, a move or the shim's thread's check never interleaves with
 * it, and never held across the exec (a child of vfork shares the lock's
 * memory). Best effort: skipped when the lock stays busy (another thread
 * changing the signal at that moment). Returns the signal changed, or 0. */
int hs__signal_exec_prepare(void) {
  sigset_t old;
  if (!atomic_load(&hs__sig_cur) || hs__exec_lock(&old))
    return 0;
  const int cur = atomic_load(&hs__sig_cur);
  struct sigaction q, sa;
  int changed = 0;
  if (cur && hs__os_sigaction(cur, NULL, &q) == 0 && hs__trigger_is_ours(&q) &&
      hs__is_ignored(&hs__app_act) != hs__is_ignored(&q)) {
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = hs__is_ignored(&hs__app_act) ? SIG_IGN : hs__exec_drop;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask); /* the mark: hs__exec_swapped */
    changed = hs__os_sigaction(cur, &sa, NULL) == 0 ? cur : 0;
  }
  hs__exec_unlock(&old);
  return changed;
}

/* The exec failed: the shim's disposition back, if sig is still its
 * signal and nothing replaced the exec's (a detach puts the program's
 * back; a program's handler makes the signal the program's). */
void hs__signal_exec_back(int sig) {
  sigset_t old;
  if (!sig)
    return;
  hs__os_block_all(&old);
  pthread_mutex_lock(&hs__sig_lock); /* taken by prepare: not this thread's */
  struct sigaction q;
  if (atomic_load(&hs__sig_cur) == sig &&
      hs__os_sigaction(sig, NULL, &q) == 0 && hs__exec_swapped(&q))
    hs__trigger_install(sig); /* the shim's disposition */
  hs__exec_unlock(&old);
}

/* posix_spawn: the C library's child resets caught signals to the default
 * itself, and those in the attributes' POSIX_SPAWN_SETSIGDEF set; an
 * ignored one it passes on. The signal to add to that set (attached, the
 * program leaving it default), or 0. Where the program ignores the
 * signal (preloaded) the child gets the default: nothing in the
 * attributes makes it ignore a signal, and ignoring it in the whole
 * process for the call would drop the snapshots asked for meanwhile. */
int hs__signal_spawn_default(void) {
  const int cur = atomic_load(&hs__sig_cur);
  struct sigaction q;
  if (!cur || hs__os_sigaction(cur, NULL, &q) != 0 || !hs__is_ignored(&q) ||
      hs__is_ignored(&hs__app_act))
    return 0;
  return cur;
}

#ifdef HS_ATTACH
/* Attached, the program's mask calls stay the C library's, but the
 * shim's own (libunwind's lock, whose calls go through its GOT, patched
 * to these) keep signals 32 and 33 as they are: hs__mask_own. */
int hs__attach_sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  hs__signal_resolve();
  return hs__busy ? hs__mask_own(hs__rs.sigprocmask, how, set, old)
                  : hs__rs.sigprocmask(how, set, old);
}

int hs__attach_pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  hs__signal_resolve();
  return hs__busy ? hs__mask_own(hs__rs.pthread_sigmask, how, set, old)
                  : hs__rs.pthread_sigmask(how, set, old);
}

/* Detach: the program's disposition of the shim's signal, back in place
 * of the shim's handler (left alone when something replaced that; the
 * handler of an exec in progress is the shim's too). */
void hs__signal_release(void) {
  pthread_mutex_lock(&hs__sig_lock); /* no exec changes it meanwhile */
  const int cur = atomic_load(&hs__sig_cur);
  struct sigaction q;
  if (cur && hs__os_sigaction(cur, NULL, &q) == 0 &&
      (hs__trigger_is_ours(&q) || hs__exec_swapped(&q)))
    hs__os_sigaction(cur, &hs__app_act, NULL);
  atomic_store(&hs__sig_cur, 0);
  pthread_mutex_unlock(&hs__sig_lock);
  atomic_store(&hs__claimed, 0);
  atomic_store(&hs__sig_ready, 0);
  hs__sig_view = 0;
}
#endif
