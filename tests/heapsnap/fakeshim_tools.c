/* fakeshim_tools.c - a stand-in for libheapsnap.so in the launcher's tests.
 *
 * It tracks nothing. Preloaded with FAKESHIM_MODE unset it does nothing at
 * all, so `heapsnap run` tests can preload it into any program. With
 * FAKESHIM_MODE set it follows the conventions `heapsnap snap` and
 * `heapsnap ps` rely on (docs/environment.md): a status file
 * (lib/common/hs_status.h) naming its signal, thread and folder, and one
 * thread named heapsnap:<HEAPSNAP_SIGNAL> with its own working directory on
 * HEAPSNAP_DIR, which answers each signal:
 *   write  by creating the next free <name>.<pid>.<n>.snap there;
 *   fail   by recording a failed attempt (read-only file system);
 *   exit   by ending the process;
 *   mute   not at all.
 * FAKESHIM_THREAD=other names the thread something else. This tests the
 * launcher's side of the conventions without the real shim; the real
 * shim's end-to-end tests live in tests/e2e and tests/stress.
 * HEAPSNAP_SIGNAL must be a number here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs_status.h"

static int hs__fake_signo;
static const char *hs__fake_mode;
static hs_status *hs__fake_st;
static char hs__fake_path[128];

/* Creates the next free snapshot name in the working directory. */
static unsigned hs__fake_snapshot(unsigned *n) {
  char name[256];
  for (;; ++*n) {
    snprintf(name, sizeof name, "%s.%d.%u.snap", program_invocation_short_name,
             (int)getpid(), *n);
    const int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      close(fd);
      return (*n)++;
    }
    if (errno != EEXIST)
      return 0;
  }
}

static void hs__fake_result(int rc, unsigned n) {
  hs_status *const s = hs__fake_st;
  s->seq++;
  s->attempts++;
  if (rc)
    s->last_error = rc, s->error_at = s->attempts;
  else
    s->written++, s->last_n = n;
  s->seq++;
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
  const char *t = getenv("FAKESHIM_THREAD");
  snprintf(name, sizeof name, "%s:%d", t ? t : "heapsnap", hs__fake_signo);
  prctl(PR_SET_NAME, name, 0, 0, 0);
  hs__fake_st->tid = (int)gettid();
  hs__fake_st->flags |= HS_STATUS_THREAD;
  for (unsigned n = 1;;) {
    int sig;
    if (hs__fake_signo == 0 || strcmp(hs__fake_mode, "mute") == 0)
      pause();
    else if (sigwait(&set, &sig) != 0)
      continue;
    else if (strcmp(hs__fake_mode, "exit") == 0)
      _exit(0);
    else if (strcmp(hs__fake_mode, "fail") == 0)
      hs__fake_result(-EROFS, 0);
    else
      hs__fake_result(0, hs__fake_snapshot(&n));
  }
  return NULL;
}

/* The status file, as the shim makes it (hs_channel.c). */
static hs_status *hs__fake_status(void) {
  char dir[96], start[1024];
  if (hs_status_folder(dir, sizeof dir, "", "/dev/shm", (unsigned)geteuid()))
    return NULL;
  mkdir(dir, 0700);
  snprintf(hs__fake_path, sizeof hs__fake_path, "%s/%d", dir, (int)getpid());
  const int fd = open(hs__fake_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, HS_STATUS_SIZE) != 0)
    return NULL;
  hs_status *s =
      mmap(NULL, HS_STATUS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (s == MAP_FAILED)
    return NULL;
  memset(s, 0, sizeof *s);
  s->size = HS_STATUS_SIZE;
  s->pid = (int)getpid();
  s->ppid = (int)getppid();
  const int sf = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  const ssize_t got = sf >= 0 ? read(sf, start, sizeof start - 1) : -1;
  if (sf >= 0)
    close(sf);
  start[got > 0 ? got : 0] = '\0';
  hs_status_start_of(start, &s->start);
  struct stat ns;
  s->pidns = stat("/proc/self/ns/pid", &ns) == 0 ? (uint64_t)ns.st_ino : 0;
  s->signo = s->signo_conf = hs__fake_signo;
  const char *d = getenv("HEAPSNAP_DIR");
  snprintf(s->dir, sizeof s->dir, "%s", d ? d : "/");
  snprintf(s->name, sizeof s->name, "%s", program_invocation_short_name);
  memcpy(s->magic, HS_STATUS_MAGIC, 8);
  return s;
}

__attribute__((destructor)) static void hs__fake_stop(void) {
  if (hs__fake_st)
    unlink(hs__fake_path);
}

__attribute__((constructor)) static void hs__fake_start(void) {
  hs__fake_mode = getenv("FAKESHIM_MODE");
  if (!hs__fake_mode)
    return;
  const char *sig = getenv("HEAPSNAP_SIGNAL");
  hs__fake_signo = sig ? atoi(sig) : SIGUSR2;
  if (!(hs__fake_st = hs__fake_status()))
    abort();
  pthread_t t;
  if (pthread_create(&t, NULL, hs__fake_thread, NULL) != 0)
    abort();
  pthread_detach(t);
}

/* The shim's API, so that `heapsnap run` takes this file for the shim
 * (an HEAPSNAP_LIB that does not define it is refused); this one takes
 * no snapshot. */
__attribute__((visibility("default"))) int hs_snapshot_now(char *path,
                                                           size_t path_len) {
  if (path && path_len)
    path[0] = '\0';
  return -ENOSYS;
}
