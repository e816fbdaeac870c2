/* fakeshim_tools.c - a stand-in for libheapsnap.so in the launcher's tests.
 *
 * It tracks nothing. Preloaded with FAKESHIM_MODE unset it does nothing at
 * all, so `heapsnap run` tests can preload it into any program. With
 * FAKESHIM_MODE=write it follows the conventions `heapsnap snap` relies on
 * (docs/environment.md): one thread named heapsnap:<HEAPSNAP_SIGNAL>, with
 * its own working directory on HEAPSNAP_DIR, which answers each signal by
 * creating the next free <name>.<pid>.<n>.snap there; with
 * FAKESHIM_MODE=exit it answers by ending the process instead. This tests the
 * launcher's side of the conventions without the real shim; the real
 * shim's end-to-end test lives in tests/e2e. HEAPSNAP_SIGNAL must be a
 * number here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int hs__fake_signo;
static int hs__fake_exit; /* FAKESHIM_MODE=exit */

/* Creates the next free snapshot name in the working directory. */
static void hs__fake_snapshot(unsigned *n) {
  char name[256];
  for (;; ++*n) {
    snprintf(name, sizeof name, "%s.%d.%u.snap", program_invocation_short_name,
             (int)getpid(), *n);
    const int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      close(fd);
      ++*n;
      return;
    }
    if (errno != EEXIST)
      return;
  }
}

static void *hs__fake_thread(void *arg) {
  (void)arg;
  sigset_t set;
  sigemptyset(&set);
  if (hs__fake_signo > 0)
    sigaddset(&set, hs__fake_signo);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  const char *dir = getenv("HEAPSNAP_DIR");
  if (unshare(CLONE_FS) != 0 || (dir && chdir(dir) != 0))
    abort();
  /* Named last: the launcher looks for the thread only once it is ready. */
  char name[16];
  snprintf(name, sizeof name, "heapsnap:%d", hs__fake_signo);
  prctl(PR_SET_NAME, name, 0, 0, 0);
  for (unsigned n = 1;;) {
    int sig;
    if (hs__fake_signo == 0)
      pause();
    else if (sigwait(&set, &sig) == 0 && hs__fake_exit)
      _exit(0);
    else
      hs__fake_snapshot(&n);
  }
  return NULL;
}

__attribute__((constructor)) static void hs__fake_start(void) {
  const char *mode = getenv("FAKESHIM_MODE");
  if (!mode)
    return;
  hs__fake_exit = strcmp(mode, "exit") == 0;
  const char *sig = getenv("HEAPSNAP_SIGNAL");
  hs__fake_signo = sig ? atoi(sig) : SIGUSR2;
  pthread_t t;
  if (pthread_create(&t, NULL, hs__fake_thread, NULL) != 0)
    abort();
  pthread_detach(t);
}
