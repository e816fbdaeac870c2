/* hs_tasks.c - the process's live threads as /proc/self/task shows them,
 * for the reachability scan: every thread, those started before the shim
 * or inside the C library included, its name, and where its stack pointer
 * was when it sat blocked in a system call.
 *
 * A thread blocked in a system call has its user stack pointer in
 * /proc/self/task/TID/syscall ("NR ARG1..ARG6 SP PC"; "running" when it is
 * not in one). The scan's copy is made between two reads of it: a thread
 * whose line (NR, SP, PC) and whose count of context switches (voluntary
 * and not) are the same in both never ran in between, so it sat there, with
 * that stack pointer, at the copy. Below it (past the 128-byte red zone)
 * its stack holds only dead frames, which are no roots. A thread that ran
 * meanwhile, or runs, is scanned whole.
 *
 * No malloc: the folder is read with getdents64, files with
 * hs__os_read_file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hs_shim.h"

/* /proc/PID/task/TID/FILE (pid 0: this process). */
static ssize_t hs__task_file(int pid, int32_t tid, const char *file, char *buf,
                             size_t len) {
  char path[64];
  if (pid)
    snprintf(path, sizeof path, "/proc/%d/task/%d/%s", pid, (int)tid, file);
  else
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, file);
  return hs__os_read_file(path, buf, len);
}

/* The blocked state: NR, SP and PC from the syscall file, and the context
 * switches from status. sp 0: running, or not known. */
static void hs__task_sample(hs__task *t, uint64_t *sp, uint64_t *pc, long *nr,
                            uint64_t *switches) {
  char buf[512];
  *sp = *pc = *switches = 0;
  *nr = -1;
  if (hs__task_file(0, t->tid, "syscall", buf, sizeof buf) > 0 &&
      buf[0] >= '0' && buf[0] <= '9') {
    unsigned long long a[6], s, p;
    if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", nr, &a[0],
               &a[1], &a[2], &a[3], &a[4], &a[5], &s, &p) == 9)
      *sp = s, *pc = p;
  }
  char st[4096];
  const char *v, *nv;
  if (hs__task_file(0, t->tid, "status", st, sizeof st) > 0 &&
      (v = strstr(st, "\nvoluntary_ctxt_switches:")) &&
      (nv = strstr(st, "\nnonvoluntary_ctxt_switches:"))) {
    unsigned long long a = 0, b = 0;
    sscanf(v, "\nvoluntary_ctxt_switches: %llu", &a);
    sscanf(nv, "\nnonvoluntary_ctxt_switches: %llu", &b);
    *switches = a + b + 1; /* 0 stays "unknown" */
  }
}

size_t hs__tasks_ids(int pid, int32_t *out, size_t max) {
  char path[64];
  if (pid)
    snprintf(path, sizeof path, "/proc/%d/task", pid);
  const int dir =
      open(pid ? path : "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return 0;
  size_t n = 0;
  char buf[4096];
  for (long got;
       n < max && (got = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0;) {
    for (long at = 0; at < got && n < max;) {
      const struct dirent64 *e = (const struct dirent64 *)(buf + at);
      at += e->d_reclen;
      if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
        out[n++] = (int32_t)strtol(e->d_name, NULL, 10);
    }
  }
  close(dir);
  return n;
}

/* Thread tid's blocked signals (its status file's SigBlk): 1 when it
 * blocks sig, 0 when not, -1 when it cannot tell (gone). A thread inside
 * one of the shim's calls that block every signal for a moment reads as
 * blocking: hs__tasks_wait_for must also find a wait for the signal. */
static int hs__task_blocks(int32_t tid, int sig) {
  char st[4096];
  const char *v;
  unsigned long long mask;
  if (hs__task_file(0, tid, "status", st, sizeof st) <= 0 ||
      !(v = strstr(st, "\nSigBlk:")) || sscanf(v, "\nSigBlk: %llx", &mask) != 1)
    return -1;
  return (int)(mask >> (sig - 1) & 1);
}

/* Whether thread tid waits in sigtimedwait (sigwait, sigwaitinfo) with
 * sig in its set: the set is this process's memory, read where the call
 * was given it. */
static int hs__task_waits_for(int32_t tid, int sig) {
  char buf[256];
  long nr;
  unsigned long long set;
  if (hs__task_file(0, tid, "syscall", buf, sizeof buf) <= 0 ||
      sscanf(buf, "%ld %llx", &nr, &set) != 2 || nr != SYS_rt_sigtimedwait ||
      !set || !hs__os_readable((const void *)set))
    return 0;
  return (int)(*(const volatile uint64_t *)set >> (sig - 1) & 1);
}

/* Whether descriptor fd is a signalfd that takes sig (its fdinfo's
 * sigmask). A readlink tells a signalfd apart first, cheaply. */
static int hs__fd_takes(const char *fd, int sig) {
  char path[64], link[64], info[512];
  snprintf(path, sizeof path, "/proc/self/fd/%s", fd);
  const ssize_t n = readlink(path, link, sizeof link - 1);
  if (n <= 0)
    return 0;
  link[n] = '\0';
  if (strcmp(link, "anon_inode:[signalfd]") != 0)
    return 0;
  snprintf(path, sizeof path, "/proc/self/fdinfo/%s", fd);
  const char *m;
  unsigned long long mask;
  return hs__os_read_file(path, info, sizeof info) > 0 &&
         (m = strstr(info, "sigmask:")) &&
         sscanf(m, "sigmask: %llx", &mask) == 1 && (mask >> (sig - 1) & 1);
}

/* Calls each of the numeric entries of folder `dir` with its name. No
 * malloc: getdents64 into a stack buffer. Stops when fn returns 1. */
static int hs__each_number(const char *dir, int (*fn)(const char *, int32_t),
                           int32_t arg) {
  const int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0)
    return 0;
  int hit = 0;
  char buf[4096];
  for (long got;
       !hit && (got = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0;)
    for (long at = 0; !hit && at < got;) {
      const struct dirent64 *e = (const struct dirent64 *)(buf + at);
      at += e->d_reclen;
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
        hit = fn(e->d_name, arg);
    }
  close(d);
  return hit;
}

static int hs__wait_sig; /* the shim's thread alone calls these */
static int hs__thread_waits(const char *name, int32_t except) {
  const int32_t tid = (int32_t)strtol(name, NULL, 10);
  return tid != except && hs__task_waits_for(tid, hs__wait_sig);
}
static int hs__fd_waits(const char *name, int32_t unused) {
  (void)unused;
  return hs__fd_takes(name, hs__wait_sig);
}

static int hs__any_blocker;
static int hs__thread_unblocked(const char *name, int32_t except) {
  const int32_t tid = (int32_t)strtol(name, NULL, 10);
  if (tid == except)
    return 0;
  /* a thread in sigtimedwait has the signals it waits for unblocked
   * while it waits (the kernel's real_blocked keeps its mask) */
  int b = hs__task_blocks(tid, hs__wait_sig);
  if (b == 0 && hs__task_waits_for(tid, hs__wait_sig))
    b = 1;
  hs__any_blocker |= b == 1;
  return b == 0;
}

int hs__tasks_all_block(int sig, int32_t except) {
  if (sig < 1 || sig > 64)
    return 0;
  hs__wait_sig = sig;
  hs__any_blocker = 0;
  return !hs__each_number("/proc/self/task", hs__thread_unblocked, except) &&
         hs__any_blocker;
}

int hs__tasks_wait_for(int sig, int32_t except) {
  hs__wait_sig = sig;
  return hs__each_number("/proc/self/task", hs__thread_waits, except) ||
         hs__each_number("/proc/self/fd", hs__fd_waits, 0);
}

void hs__tasks_name(int pid, int32_t tid, char name[16]) {
  if (hs__task_file(pid, tid, "comm", name, 16) > 0)
    name[strcspn(name, "\n")] = '\0';
}

int hs__tasks_gone(int pid, int32_t tid) {
  char st[512];
  if (hs__task_file(pid, tid, "stat", st, sizeof st) <= 0)
    return 1;
  const char *p = strrchr(st, ')'); /* the name may hold anything */
  return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

size_t hs__tasks_read(hs__task *out, size_t max) {
  static int32_t ids[HS_SCAN_THREADS]; /* under the snapshot lock */
  const size_t n =
      hs__tasks_ids(0, ids, max < HS_SCAN_THREADS ? max : HS_SCAN_THREADS);
  for (size_t i = 0; i < n; i++) {
    hs__task *t = &out[i];
    memset(t, 0, sizeof *t);
    t->tid = ids[i];
    hs__tasks_name(0, t->tid, t->name);
    hs__task_sample(t, &t->sp, &t->pc, &t->nr, &t->switches);
  }
  return n;
}

void hs__tasks_settle(const hs__task *t, size_t n, uint64_t *valid_sp) {
  for (size_t i = 0; i < n; i++) {
    uint64_t sp, pc, sw;
    long nr;
    hs__task now = t[i];
    hs__task_sample(&now, &sp, &pc, &nr, &sw);
    valid_sp[i] = t[i].sp && sp == t[i].sp && pc == t[i].pc && nr == t[i].nr &&
                          sw && sw == t[i].switches
                      ? sp
                      : 0;
  }
}
