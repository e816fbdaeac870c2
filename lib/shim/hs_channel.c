/* hs_channel.c - the shim's side of the status channel (hs_status.h):
 * the file heapsnap snap and heapsnap ps read to learn the process's
 * snapshot signal, folder, mode, how many snapshots it wrote, and why the
 * last one failed.
 *
 * The file is mapped shared and changed in place under a small lock (never
 * on an allocation path: only at start, at a snapshot, when the snapshot
 * thread starts and when the signal moves), bracketed by an odd/even seq
 * for readers. Without a file (no writable /dev/shm or /tmp) the same
 * updates go to a private page, and nothing else changes. The file is
 * removed at exit, _exit and exec; a child of fork makes its own at its
 * first allocation (hs__trigger_start_pending). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hs_shim.h"
#include "hs_status.h"

static struct {
  pthread_mutex_t lock;
  hs_status *st;    /* the mapped file, or &local */
  int pid;          /* the process the file belongs to; 0: no file */
  int child;        /* this process is a child of fork */
  uint64_t pidns;   /* a child of fork shares its parent's */
  _Atomic int lost; /* an exec failed and its file is still to make */
  char path[128];
  hs_status local;
} hs__ch = {.lock = PTHREAD_MUTEX_INITIALIZER, .st = &hs__ch.local};

static void hs__ch_begin(void) {
  pthread_mutex_lock(&hs__ch.lock);
  __atomic_add_fetch(&hs__ch.st->seq, 1, __ATOMIC_RELEASE);
}

static void hs__ch_end(void) {
  __atomic_add_fetch(&hs__ch.st->seq, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&hs__ch.lock);
}

/* Field 22 of /proc/self/stat, after the command name in parentheses. */
static uint64_t hs__start_ticks(void) {
  char buf[1024];
  if (hs__os_read_file("/proc/self/stat", buf, sizeof buf) <= 0)
    return 0;
  uint64_t ticks = 0;
  return hs_status_start_of(buf, &ticks) ? 0 : ticks;
}

/* The user's own folder: made 0700, refused when it is anything else
 * (another user's, a symlink, open to others). @return : an fd or -1. */
static int hs__ch_folder(const char *base, unsigned uid) {
  char dir[96];
  if (hs_status_folder(dir, sizeof dir, "", base, uid))
    return -1;
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = -1;
  if (hs__ch.child) /* a child of fork finds the folder its parent made */
    fd = open(dir, flags);
  if (fd < 0) {
    (void)mkdir(dir, 0700);
    fd = open(dir, flags);
  }
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == uid &&
      (st.st_mode & 077) == 0)
    return fd;
  if (fd >= 0)
    close(fd);
  return -1;
}

/* Creates (or takes over: a pid reused after a crash) the file and maps
 * it, with the list of the shim's mappings locked by the caller if
 * own_held. @return : the mapping or NULL. */
static hs_status *hs__ch_create(const char *base, int pid, int own_held) {
  const unsigned uid = (unsigned)geteuid();
  const int dir = hs__ch_folder(base, uid);
  if (dir < 0)
    return NULL;
  char name[24];
  snprintf(name, sizeof name, "%d", pid);
  const int fd =
      openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  close(dir);
  struct stat st;
  hs_status *m = NULL;
  if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == uid &&
      ftruncate(fd, HS_STATUS_SIZE) == 0)
    m = own_held ? hs__os_map_shared_locked(fd, HS_STATUS_SIZE)
                 : hs__os_map_shared(fd, HS_STATUS_SIZE);
  if (fd >= 0)
    close(fd);
  if (m)
    snprintf(hs__ch.path, sizeof hs__ch.path, "%s/heapsnap-%u/%d", base, uid,
             pid);
  return m;
}

static void hs__ch_fill(hs_status *s, int pid, int child) {
  memset(s, 0, sizeof *s);
  s->size = HS_STATUS_SIZE;
  s->pid = pid;
  s->ppid = (int32_t)getppid();
  s->start = hs__start_ticks();
  struct stat ns;
  if (!hs__ch.pidns && stat("/proc/self/ns/pid", &ns) == 0)
    hs__ch.pidns = (uint64_t)ns.st_ino;
  s->pidns = hs__ch.pidns;
  s->flags = child ? HS_STATUS_CHILD : 0;
  s->mode = hs__cfg.sample_bytes ? HS_STATUS_SAMPLED : HS_STATUS_FULL;
  s->signo = hs__signal_current();
  s->signo_conf = hs__cfg.signo;
  s->sample_bytes = hs__cfg.sample_bytes;
  s->interval_ns = hs__cfg.interval_ns;
  snprintf(s->name, sizeof s->name, "%s", hs__cfg.name);
  snprintf(s->program, sizeof s->program, "%s", program_invocation_short_name);
  snprintf(s->dir, sizeof s->dir, "%s", hs__cfg.dir);
  memcpy(s->magic, HS_STATUS_MAGIC, 8); /* last: the file is valid now */
}

/* This process's file, or the private page when none can be made. */
void hs__status_open(void) {
  const int pid = (int)getpid(), child = hs__ch.child;
  pthread_mutex_lock(&hs__ch.lock);
  hs_status *m = hs__ch_create("/dev/shm", pid, 0);
  if (!m)
    m = hs__ch_create("/tmp", pid, 0);
  hs__ch.st = m ? m : &hs__ch.local;
  hs__ch.pid = m ? pid : 0;
  const uint32_t seq = hs__ch.st->seq | 1;
  hs__ch.st->seq = seq;
  hs__ch_fill(hs__ch.st, pid, child);
  __atomic_store_n(&hs__ch.st->seq, seq + 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&hs__ch.lock);
}

void hs__status_thread(int tid) {
  hs__ch_begin();
  hs__ch.st->tid = tid;
  hs__ch.st->flags |= HS_STATUS_THREAD;
  hs__ch_end();
}

void hs__status_signal(int sig, int moved) {
  hs__ch_begin();
  hs__ch.st->signo = sig;
  hs__ch.st->flags |= moved ? HS_STATUS_MOVED : 0;
  hs__ch_end();
}

void hs__status_attempt(void) {
  hs__ch_begin();
  hs__ch.st->attempts++;
  hs__ch_end();
}

void hs__status_result(int rc, uint32_t number) {
  hs__ch_begin();
  hs_status *const s = hs__ch.st;
  if (rc == 0) {
    s->written++;
    s->last_n = number;
    s->last_error = 0;
  } else {
    s->last_error = rc;
    s->error_at = s->attempts;
  }
  s->last_ns = hs__clock_ns(CLOCK_REALTIME);
  hs__ch_end();
}

/* The file goes with the process; a vfork child (another pid on the same
 * memory) leaves its parent's alone. Async-signal-safe but for the lock,
 * which it does not take. */
void hs__status_remove(void) {
  if (hs__ch.pid && hs__ch.pid == (int)getpid())
    unlink(hs__ch.path);
}

/* Detach: the file removed and its mapping given back (each attach made
 * a new one). A process that changed its user since (a server's worker
 * dropping root) may not remove it from its old user's folder: its magic
 * is cleared instead, or the process would read as attached for good. */
void hs__status_close(void) {
  pthread_mutex_lock(&hs__ch.lock);
  if (hs__ch.pid && hs__ch.pid == (int)getpid() && unlink(hs__ch.path) != 0 &&
      hs__ch.st != &hs__ch.local)
    memset(hs__ch.st->magic, 0, sizeof hs__ch.st->magic);
  if (hs__ch.st != &hs__ch.local)
    hs__os_unmap_shared(hs__ch.st, HS_STATUS_SIZE);
  hs__ch.st = &hs__ch.local;
  hs__ch.pid = 0;
  pthread_mutex_unlock(&hs__ch.lock);
}

/* Under the channel's lock and the list of the shim's mappings: the file
 * again, what the old mapping says copied in. Best effort: without it the
 * process goes on with the old mapping, and heapsnap snap cannot find it. */
static void hs__ch_remake(void) {
  /* first: an exec that fails meanwhile sets it again, after its unlink */
  atomic_store(&hs__ch.lost, 0);
  hs_status *const old = hs__ch.st;
  const char *const base =
      strncmp(hs__ch.path, "/tmp/", 5) == 0 ? "/tmp" : "/dev/shm";
  hs_status *m = hs__ch_create(base, hs__ch.pid, 1);
  if (m) {
    memcpy(m, old, sizeof *m);
    hs__ch.st = m;
    hs__os_unmap_shared_locked(old, HS_STATUS_SIZE);
  }
}

/* An exec that failed: the process goes on and needs its file again. The
 * exec may have been called from a signal handler (execve is
 * async-signal-safe) that interrupted this very thread inside one of the
 * two locks this needs: the channel's (the program moving the signal) or
 * the list of the shim's mappings (a table growing in an allocation).
 * Waiting for either would wait for good. So, as hs__signal_exec_prepare
 * does, every signal is blocked and the locks are tried, not waited for;
 * when they stay busy the shim's thread is woken to make the file
 * (hs__status_mend). */
void hs__status_restore(void) {
  if (!hs__ch.pid || hs__ch.pid != (int)getpid())
    return;
  atomic_store(&hs__ch.lost, 1);
  sigset_t old;
  hs__os_block_all(&old);
  for (int i = 0; i < 100 && atomic_load(&hs__ch.lost); i++) {
    if (pthread_mutex_trylock(&hs__ch.lock) == 0) {
      if (hs__os_trylock() == 0) {
        if (atomic_load(&hs__ch.lost) && hs__ch.pid == (int)getpid())
          hs__ch_remake(); /* not after a detach closed it meanwhile */
        hs__os_unlock();
      }
      pthread_mutex_unlock(&hs__ch.lock);
    }
    if (atomic_load(&hs__ch.lost))
      sched_yield();
  }
  hs__os_sigmask(SIG_SETMASK, &old, NULL);
  if (atomic_load(&hs__ch.lost))
    hs__trigger_poke();
}

/* The shim's thread, before each wait: a file a failed exec could not
 * make again at once. Its signals are blocked: it takes the locks. */
void hs__status_mend(void) {
  if (!atomic_load_explicit(&hs__ch.lost, memory_order_relaxed))
    return;
  pthread_mutex_lock(&hs__ch.lock);
  hs__os_lock();
  if (atomic_load(&hs__ch.lost) && hs__ch.pid == (int)getpid())
    hs__ch_remake();
  hs__os_unlock();
  pthread_mutex_unlock(&hs__ch.lock);
}

/* In a child of fork: the mapping is the parent's file; the child's own
 * comes at its first allocation. */
void hs__status_fork_child(void) {
  pthread_mutex_init(&hs__ch.lock, NULL);
  if (hs__ch.st != &hs__ch.local)
    hs__os_unmap_shared(hs__ch.st, HS_STATUS_SIZE);
  hs__ch.st = &hs__ch.local;
  hs__ch.pid = 0;
  hs__ch.child = 1;
  atomic_store(&hs__ch.lost, 0);
  hs__ch.path[0] = '\0';
}
