/* heapsnap_inject.c - a function call inside another process (ptrace,
 * x86-64): see heapsnap_inject.h for the safe point and what is kept. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "heapsnap_inject.h"
#include "heapsnap_proc.h"
#include "hs_tool.h"

#define HS__WAIT_NS 5000000000ull /* for a safe point, at most */
#define HS__CALL_NS                                                            \
  30000000000ull /* for a call: dlopen on a loaded machine                     \
                  */
#define HS__THREADS_MAX 4096

static uint64_t hs__mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- the process's modules --------------------------------------------- */

typedef struct hs__mapping {
  uint64_t lo, hi, off; /* the module's first mapping (file offset 0) */
  uint64_t end;         /* the end of its last mapping */
  char path[4096];
} hs__mapping;

/* Finds the module whose file name is base. @return : 0, -ENOENT, -errno */
static int hs__find_module(int pid, const char *base, hs__mapping *m) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/maps", pid);
  FILE *f = fopen(p, "re");
  if (!f)
    return -errno;
  char line[4352];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long long lo, hi, off;
    int path_at = 0;
    if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &lo, &hi, &off,
               &path_at) < 3 ||
        !path_at || line[path_at] != '/')
      continue;
    char *path = line + path_at;
    path[strcspn(path, "\n")] = '\0';
    if (strcmp(hs__tool_basename(path), base) != 0)
      continue;
    if (!found || strcmp(path, m->path) != 0) {
      if (found)
        continue; /* another file of that name: the first one counts */
      snprintf(m->path, sizeof m->path, "%s", path);
      m->lo = lo, m->hi = hi, m->off = off;
      found = 1;
    }
    m->end = hi;
  }
  fclose(f);
  return found && m->off == 0 ? 0 : -ENOENT;
}

int hs__proc_maps_module(int pid, const char *base) {
  hs__mapping m;
  return hs__find_module(pid, base, &m) == 0;
}

/* The symbol's value and the file's first PT_LOAD address, by libelf. */
static int hs__elf_symbol(int fd, const char *sym, uint64_t *value,
                          uint64_t *first_load) {
  elf_version(EV_CURRENT);
  Elf *e = elf_begin(fd, ELF_C_READ, NULL);
  if (!e)
    return -ENOEXEC;
  int rc = -ENOENT;
  size_t nph = 0;
  elf_getphdrnum(e, &nph);
  *first_load = UINT64_MAX;
  for (size_t i = 0; i < nph; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD &&
        ph.p_vaddr < *first_load)
      *first_load = ph.p_vaddr & ~(uint64_t)0xfff;
  }
  for (Elf_Scn *s = NULL; rc && (s = elf_nextscn(e, s));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
      continue;
    Elf_Data *d = elf_getdata(s, NULL);
    for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
      GElf_Sym st;
      const char *n = gelf_getsym(d, (int)i, &st)
                          ? elf_strptr(e, sh.sh_link, st.st_name)
                          : NULL;
      if (n && st.st_shndx != SHN_UNDEF && strcmp(n, sym) == 0) {
        *value = st.st_value;
        rc = 0;
        break;
      }
    }
  }
  elf_end(e);
  return *first_load == UINT64_MAX ? -ENOEXEC : rc;
}

int hs__file_symbol(const char *path, const char *sym, uint64_t *value,
                    uint64_t *first_load) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  const int rc = hs__elf_symbol(fd, sym, value, first_load);
  close(fd);
  return rc;
}

int hs__proc_module_path(int pid, const char *base, char *out, size_t len) {
  hs__mapping m;
  const int rc = hs__find_module(pid, base, &m);
  if (rc == 0 &&
      (size_t)snprintf(out, len, "/proc/%d/root%s", pid, m.path) >= len)
    return -ENAMETOOLONG;
  return rc;
}

int hs__proc_module_at(int pid, const char *base, uint64_t *lo) {
  hs__mapping m;
  const int rc = hs__find_module(pid, base, &m);
  if (rc == 0)
    *lo = m.lo;
  return rc;
}

int hs__proc_symbol(int pid, const char *base, const char *sym,
                    uint64_t *addr) {
  hs__mapping m;
  int rc = hs__find_module(pid, base, &m);
  if (rc)
    return rc;
  char path[4200];
  snprintf(path, sizeof path, "/proc/%d/root%s", pid, m.path);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  uint64_t value = 0, first = 0;
  rc = hs__elf_symbol(fd, sym, &value, &first);
  close(fd);
  if (rc == 0)
    *addr = m.lo - first + value;
  return rc;
}

/* --- threads ------------------------------------------------------------ */

/* The shim's own thread (named heapsnap:<signo>, hs_trigger.c): never a
 * safe point. Detach would run on the thread it ends, and it waits in
 * rt_sigtimedwait, a waiting call. */
static int hs__shim_thread(int pid, const char *tid) {
  char p[320], comm[32] = "";
  snprintf(p, sizeof p, "/proc/%d/task/%s/comm", pid, tid);
  FILE *f = fopen(p, "re");
  if (!f)
    return 0;
  const int is =
      fgets(comm, sizeof comm, f) && strncmp(comm, "heapsnap:", 9) == 0;
  fclose(f);
  return is;
}

/* The ids of pid's threads, from /proc/PID/task, but for the shim's. */
static size_t hs__proc_task_ids(int pid, int32_t *out, size_t max) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/task", pid);
  DIR *d = opendir(p);
  size_t n = 0;
  for (struct dirent *e; d && n < max && (e = readdir(d));)
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
        !hs__shim_thread(pid, e->d_name))
      out[n++] = (int32_t)atoi(e->d_name);
  if (d)
    closedir(d);
  return n;
}

/* Waits for tid's next stop. @return : 0 with *status, -ESRCH when it
 * exited, -ETIMEDOUT. */
static int hs__wait_stop(int tid, int *status, uint64_t deadline) {
  for (;;) {
    const int r = waitpid(tid, status, __WALL | WNOHANG);
    if (r == tid)
      return WIFSTOPPED(*status) ? 0 : -ESRCH;
    if (r < 0 && errno != EINTR)
      return -ESRCH;
    if (hs__mono_ns() > deadline)
      return -ETIMEDOUT;
    const struct timespec us = {0, 100000};
    nanosleep(&us, NULL);
  }
}

static int hs__is_event_stop(int status) {
  return (status >> 16) == PTRACE_EVENT_STOP;
}

static void hs__keep_sig(hs__inject *ij, int sig) {
  for (int i = 0; i < ij->n_sigs; i++)
    if (ij->sigs[i] == sig && sig < SIGRTMIN)
      return; /* a standard signal is pending once */
  if (ij->n_sigs < HS__INJECT_SIGS)
    ij->sigs[ij->n_sigs++] = sig;
}

/* Interrupts tid (seized) and waits for the interrupt's stop; a signal
 * that comes first is delivered (keep == NULL) or kept for later. */
static int hs__interrupt(int tid, hs__inject *keep, int *status) {
  if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
    return -errno;
  const uint64_t deadline = hs__mono_ns() + HS__WAIT_NS;
  for (;;) {
    const int rc = hs__wait_stop(tid, status, deadline);
    if (rc || hs__is_event_stop(*status) ||
        (WSTOPSIG(*status) == SIGTRAP && (*status >> 8) == SIGTRAP))
      return rc;
    const int sig = WSTOPSIG(*status);
    if (keep) {
      hs__keep_sig(keep, sig);
      ptrace(PTRACE_CONT, tid, 0, 0);
    } else {
      ptrace(PTRACE_CONT, tid, 0, sig);
    }
  }
}

/* The n bytes of pid's code just before pc into buf. @return : 1 when
 * read. */
static int hs__code_before(int pid, uint64_t pc, void *buf, size_t n) {
  struct iovec local = {buf, n}, remote = {(void *)(pc - n), n};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)n;
}

/* 1 when the instruction just before pc is a system call. */
static int hs__after_syscall(int pid, uint64_t pc) {
  uint16_t insn = 0;
  return hs__code_before(pid, pc, &insn, sizeof insn) && insn == 0x050f;
}

/* A thread the interrupt took out of a call that reports EINTR whatever
 * the handler flags say (epoll_wait, poll...): the call is made again
 * when the thread goes on, so the program never sees our stop. */
static int hs__restart_eintr(int pid, struct user_regs_struct *r) {
  if ((int64_t)r->rax != -EINTR || (int64_t)r->orig_rax < 0)
    return 0;
  if (!hs__after_syscall(pid, r->rip))
    return 0;
  r->rax = r->orig_rax;
  r->rip -= 2;
  return 1;
}

/* --- the safe point: a thread waiting in a system call ------------------ */

static int hs__waiting_call(long nr) {
  static const long calls[] = {
      SYS_read,         SYS_poll,
      SYS_select,       SYS_nanosleep,
      SYS_pause,        SYS_accept,
      SYS_recvfrom,     SYS_recvmsg,
      SYS_wait4,        SYS_rt_sigsuspend,
      SYS_epoll_wait,   SYS_epoll_pwait,
      SYS_pselect6,     SYS_ppoll,
      SYS_accept4,      SYS_clock_nanosleep,
      SYS_waitid,       SYS_rt_sigtimedwait,
      SYS_msgrcv,       SYS_semtimedop,
#ifdef SYS_epoll_pwait2
      SYS_epoll_pwait2,
#endif
  };
  for (size_t i = 0; i < sizeof calls / sizeof *calls; i++)
    if (calls[i] == nr)
      return 1;
  return 0;
}

/* A call the kernel restarts with its time left after a stop (nanosleep,
 * clock_nanosleep, poll: one an earlier attach or detach interrupted, or
 * a SIGSTOP) waits as restart_syscall, which /proc and orig_rax show in
 * its place. The call it restarts is the number the instruction before
 * the system call loads into eax (glibc's wrappers: mov $N, %eax), read
 * from the process at pc, the address after the system call. -1 for a
 * call made any other way: not known, so not a safe point. */
static long hs__call_at(int pid, long nr, uint64_t pc) {
  if (nr != SYS_restart_syscall)
    return nr;
  uint8_t insn[7];
  if (!hs__code_before(pid, pc, insn, sizeof insn) || insn[0] != 0xb8 ||
      insn[5] != 0x0f || insn[6] != 0x05)
    return -1;
  int32_t was;
  memcpy(&was, insn + 1, sizeof was);
  return was;
}

/* Reads /proc/PID/task/TID/NAME into buf, '\0'-terminated.
 * @return : the bytes read, or -1. */
static ssize_t hs__task_file(int pid, int tid, const char *name, char *buf,
                             size_t len) {
  char p[96];
  snprintf(p, sizeof p, "/proc/%d/task/%d/%s", pid, tid, name);
  const int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  const ssize_t n = read(fd, buf, len - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

/* /proc/PID/task/TID/syscall: "NR args... SP PC" while blocked. */
static int hs__task_waits(int pid, int tid, const hs__mapping *ld) {
  char buf[256];
  if (hs__task_file(pid, tid, "syscall", buf, sizeof buf) <= 0)
    return 0;
  char *end;
  const long nr = strtol(buf, &end, 10);
  const char *last = strrchr(buf, ' ');
  const uint64_t pc = last ? strtoull(last + 1, NULL, 16) : 0;
  if (end == buf || !pc || !hs__waiting_call(hs__call_at(pid, nr, pc)))
    return 0;
  return !(pc >= ld->lo && pc < ld->end);
}

int hs__ptrace_refused(const char *cmd, int pid, const char *what, int err) {
  hs__proc p;
  const int tracer = hs__proc_get(pid, &p) == 0 ? p.tracer : 0;
  if (tracer && tracer != getpid()) {
    char name[64] = "?";
    hs__proc_comm(tracer, tracer, name, sizeof name);
    hs__tool_error(cmd,
                   "process %d is traced by process %d (%s): a debugger or "
                   "strace; detach it first",
                   pid, tracer, name);
    return -EPERM;
  }
  char scope[64] = "no Yama here";
  FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
  if (f) {
    char v[16] = "?";
    if (fgets(v, sizeof v, f))
      v[strcspn(v, "\n")] = '\0';
    snprintf(scope, sizeof scope, "it is %s", v);
    fclose(f);
  }
  hs__tool_error(cmd,
                 "process %d: ptrace not permitted (%s: %s); it needs "
                 "CAP_SYS_PTRACE (root), or the process's own user with "
                 "kernel.yama.ptrace_scope 0 (%s), and no other tracer",
                 pid, what, strerror(err), scope);
  return -EPERM;
}

/* 1 when thread tid is gone or ending (its state Z or X): the kernel
 * refuses to trace such a thread with EPERM too, which must not read as
 * "not permitted" in a process whose threads come and go. */
static int hs__task_ending(int pid, int tid) {
  char buf[512];
  if (hs__task_file(pid, tid, "stat", buf, sizeof buf) <= 0)
    return 1;
  const char *const r = strrchr(buf, ')');
  return !r || r[1] != ' ' || r[2] == 'Z' || r[2] == 'X';
}

/* @return : 0, -ESRCH for a thread gone or ending, -EPERM after one line,
 *           or another code. */
static int hs__seize(hs__inject *ij, int tid) {
  if (ptrace(PTRACE_SEIZE, tid, 0, 0) == 0)
    return 0;
  const int err = errno;
  if ((err == EPERM || err == EACCES) && hs__task_ending(ij->pid, tid))
    return -ESRCH;
  if (err == EPERM || err == EACCES)
    return hs__ptrace_refused(ij->cmd, ij->pid, "PTRACE_SEIZE", err);
  return -err;
}

/* Takes a thread blocked in a waiting call, if one still is once stopped. */
static int hs__take_waiting(hs__inject *ij, const hs__mapping *ld) {
  int32_t tids[HS__THREADS_MAX];
  const size_t n = hs__proc_task_ids(ij->pid, tids, HS__THREADS_MAX);
  for (size_t i = 0; i < n; i++) {
    if (!hs__task_waits(ij->pid, tids[i], ld))
      continue;
    int rc = hs__seize(ij, tids[i]), status;
    if (rc == -ESRCH) /* it ended meanwhile */
      continue;
    if (rc)
      return rc;
    const uint64_t t0 = hs__mono_ns();
    if (hs__interrupt(tids[i], ij, &status) != 0 ||
        ptrace(PTRACE_GETREGS, tids[i], 0, &ij->saved) != 0) {
      ptrace(PTRACE_DETACH, tids[i], 0, 0);
      continue;
    }
    if (hs__waiting_call(
            hs__call_at(ij->pid, (long)ij->saved.orig_rax, ij->saved.rip)) &&
        !(ij->saved.rip >= ld->lo && ij->saved.rip < ld->end)) {
      if (hs__after_syscall(ij->pid, ij->saved.rip)) {
        ij->tid = tids[i];
        ij->taken_ns = t0;
        if (ij->n_sigs == 0)
          hs__restart_eintr(ij->pid, &ij->saved);
        ij->how = "waiting in a system call";
        return 0;
      }
    }
    /* it went on and stopped elsewhere: let it go as it was */
    if (ij->n_sigs == 0 && hs__restart_eintr(ij->pid, &ij->saved))
      ptrace(PTRACE_SETREGS, tids[i], 0, &ij->saved);
    for (int k = 0; k < ij->n_sigs; k++)
      syscall(SYS_tgkill, ij->pid, tids[i], ij->sigs[k]);
    ij->n_sigs = 0;
    ptrace(PTRACE_DETACH, tids[i], 0, 0);
  }
  return -EAGAIN;
}

/* --- the safe point: a thread running the program's own code ------------ */

/* The code where a thread may be inside the allocator or the loader, or
 * hold their locks: the C library, ld.so, the shim, and every module that
 * defines malloc itself (jemalloc, tcmalloc, a program with its own
 * allocator). A thread stopped anywhere else that runs code (the
 * program's, an interpreter's, JIT code, libstdc++'s) is outside them. */
typedef struct hs__unsafe {
  uint64_t lo[256], hi[256];
  size_t n;
} hs__unsafe;

static int hs__defines_malloc(int pid, const char *path) {
  char p[4200];
  snprintf(p, sizeof p, "/proc/%d/root%s", pid, path);
  const int fd = open(p, O_RDONLY | O_CLOEXEC);
  uint64_t v, first;
  const int rc = fd >= 0 ? hs__elf_symbol(fd, "malloc", &v, &first) : -1;
  if (fd >= 0)
    close(fd);
  return rc == 0;
}

static void hs__unsafe_add(hs__unsafe *u, uint64_t lo, uint64_t hi) {
  if (u->n < 256)
    u->lo[u->n] = lo, u->hi[u->n++] = hi;
}

static void hs__unsafe_read(int pid, hs__unsafe *u) {
  u->n = 0;
  static const char *const named[] = {"libc.so.6", "ld-linux-x86-64.so.2",
                                      "libheapsnap-attach.so"};
  char p[64], line[4352], last[4096] = "";
  int last_unsafe = 0;
  snprintf(p, sizeof p, "/proc/%d/maps", pid);
  FILE *f = fopen(p, "re");
  while (f && fgets(line, sizeof line, f)) {
    unsigned long long lo, hi;
    char perms[8];
    int at = 0;
    if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &lo, &hi, perms, &at) <
            3 ||
        perms[2] != 'x' || !at || line[at] != '/')
      continue;
    char *path = line + at;
    path[strcspn(path, "\n")] = '\0';
    if (strcmp(path, last) != 0) {
      snprintf(last, sizeof last, "%s", path);
      last_unsafe = hs__defines_malloc(pid, path);
      for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        last_unsafe |= strcmp(hs__tool_basename(path), named[i]) == 0;
    }
    if (last_unsafe)
      hs__unsafe_add(u, lo, hi);
  }
  if (f)
    fclose(f);
}

static int hs__pc_safe(const hs__unsafe *u, uint64_t pc) {
  for (size_t i = 0; i < u->n; i++)
    if (pc >= u->lo[i] && pc < u->hi[i])
      return 0;
  return pc != 0;
}

/* One look at thread tid (seized): stopped, and kept when its pc is safe;
 * else let go, its interrupted call restarted, the signals met on the way
 * given back.
 * @return : 1 taken, 0 not, -ESRCH gone. */
static int hs__sample(hs__inject *ij, int tid, const hs__unsafe *u) {
  int status;
  const uint64_t t0 = hs__mono_ns();
  const int rc = hs__interrupt(tid, ij, &status);
  if (rc)
    return rc == -ESRCH ? -ESRCH : 0;
  struct user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
    return 0;
  if (hs__pc_safe(u, r.rip)) {
    ij->tid = tid;
    ij->saved = r;
    ij->taken_ns = t0;
    ij->how = "running the program's code";
    if (ij->n_sigs == 0)
      hs__restart_eintr(ij->pid, &ij->saved);
    return 1;
  }
  if (ij->n_sigs == 0 && hs__restart_eintr(ij->pid, &r))
    ptrace(PTRACE_SETREGS, tid, 0, &r);
  const int sig = ij->n_sigs ? ij->sigs[0] : 0;
  ptrace(PTRACE_DETACH, tid, 0, sig);
  for (int k = 1; k < ij->n_sigs; k++)
    syscall(SYS_tgkill, ij->pid, tid, ij->sigs[k]);
  ij->n_sigs = 0;
  return 0;
}

/* Each thread in turn: seized, stopped for a look (a few microseconds),
 * kept when it is in safe code, else let go at once. Only one thread is
 * traced at a time. @return : 0 taken, -EAGAIN none, or a code. */
static int hs__take_running(hs__inject *ij, const hs__unsafe *u) {
  static int32_t tids[HS__THREADS_MAX];
  const size_t n = hs__proc_task_ids(ij->pid, tids, HS__THREADS_MAX);
  if (n == 0)
    return -ESRCH;
  for (size_t i = 0; i < n; i++) {
    const int rc = hs__seize(ij, tids[i]);
    if (rc == -EPERM)
      return rc;
    if (rc == 0 && hs__sample(ij, tids[i], u) == 1)
      return 0;
  }
  return -EAGAIN;
}

/* A thread waiting in a system call, else one running safe code; looked
 * for again and again (a service between two epoll_wait calls, threads
 * all in the allocator for a moment) until the deadline. */
static int hs__take(hs__inject *ij) {
  hs__mapping ld;
  if (hs__find_module(ij->pid, "ld-linux-x86-64.so.2", &ld) != 0)
    memset(&ld, 0, sizeof ld);
  static hs__unsafe u;
  hs__unsafe_read(ij->pid, &u);
  const uint64_t deadline = hs__mono_ns() + HS__WAIT_NS;
  int rc = -ETIMEDOUT;
  while (hs__mono_ns() < deadline) {
    if ((rc = hs__take_waiting(ij, &ld)) != -EAGAIN ||
        (rc = hs__take_running(ij, &u)) != -EAGAIN)
      return rc;
    const struct timespec us = {0, 500000};
    nanosleep(&us, NULL);
    rc = -ETIMEDOUT;
  }
  return rc;
}

/* Thread tid's time on a CPU so far, from /proc/PID/task/TID/schedstat:
 * the held thread's work, which a loaded machine stretches in wall time. */
static uint64_t hs__cpu_ns(int pid, int tid) {
  char buf[96];
  if (hs__task_file(pid, tid, "schedstat", buf, sizeof buf) <= 0)
    return 0;
  return strtoull(buf, NULL, 10);
}

/* Every signal that would end this tool waits while a thread is held;
 * the faults stay, as they must. */
static void hs__mask_tool(hs__inject *ij) {
  sigset_t all;
  sigfillset(&all);
  const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
  for (size_t i = 0; i < sizeof faults / sizeof *faults; i++)
    sigdelset(&all, faults[i]);
  ij->masked = sigprocmask(SIG_BLOCK, &all, &ij->tool_mask) == 0;
}

/* Whether sig, let through, ends this tool: its default action is to
 * end the process (not to stop, continue or be ignored), and it is not
 * ignored here. */
static int hs__ends_tool(int sig) {
  struct sigaction a;
  if (sig == SIGCHLD || sig == SIGWINCH || sig == SIGURG || sig == SIGCONT ||
      sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU ||
      sigaction(sig, NULL, &a) != 0)
    return 0;
  return (a.sa_flags & SA_SIGINFO) || a.sa_handler == SIG_DFL;
}

/* The signals that waited: one line, then they do what they do. */
static void hs__unmask_tool(hs__inject *ij, int let_go) {
  if (!ij->masked)
    return;
  sigset_t pending;
  if (let_go && sigpending(&pending) == 0)
    for (int sig = 1; sig < NSIG; sig++)
      if (sigismember(&pending, sig) == 1 &&
          sigismember(&ij->tool_mask, sig) == 0 && hs__ends_tool(sig)) {
        hs__tool_error(ij->cmd,
                       "%s: process %d was let go as it was first (its "
                       "thread's call could not be cut short)",
                       strsignal(sig), ij->pid);
        break;
      }
  ij->masked = 0;
  sigprocmask(SIG_SETMASK, &ij->tool_mask, NULL);
}

/* The vector and x87 registers, as the calls will change them. */
static void hs__fpu_save(hs__inject *ij) {
  const size_t room = 64 * 1024; /* the largest XSAVE area is 11 KiB */
  ij->fpu = calloc(1, room);
  if (!ij->fpu)
    return;
  struct iovec v = {ij->fpu, room};
  if (ptrace(PTRACE_GETREGSET, ij->tid, (void *)NT_X86_XSTATE, &v) == 0) {
    ij->fpu_kind = 1;
    ij->fpu_len = v.iov_len;
  } else if (ptrace(PTRACE_GETFPREGS, ij->tid, 0, ij->fpu) == 0) {
    ij->fpu_kind = 2;
  }
}

static void hs__fpu_restore(hs__inject *ij) {
  if (ij->fpu_kind == 1) {
    struct iovec v = {ij->fpu, ij->fpu_len};
    ptrace(PTRACE_SETREGSET, ij->tid, (void *)NT_X86_XSTATE, &v);
  } else if (ij->fpu_kind == 2) {
    ptrace(PTRACE_SETFPREGS, ij->tid, 0, ij->fpu);
  }
  free(ij->fpu);
  ij->fpu = NULL;
  ij->fpu_kind = 0;
}

int hs__inject_open(hs__inject *ij, const char *cmd, int pid) {
  memset(ij, 0, sizeof *ij);
  ij->cmd = cmd;
  ij->pid = pid;
  ij->mem = -1;
  hs__mask_tool(ij);
  int rc = hs__take(ij);
  if (rc)
    hs__unmask_tool(ij, 0);
  if (rc == -EPERM)
    return rc;
  if (rc == -ESRCH) {
    hs__tool_error(cmd, "process %d exited", pid);
    return HS__TOOL_EFAIL;
  }
  if (rc) {
    hs__tool_error(cmd,
                   "process %d: no thread came to a safe point in %llu s (none "
                   "waits in a system call or runs code outside the C "
                   "library, ld.so and the allocator)",
                   pid, HS__WAIT_NS / 1000000000ull);
    return HS__TOOL_EFAIL;
  }
  hs__fpu_save(ij);
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/mem", pid);
  ij->mem = open(p, O_RDWR | O_CLOEXEC);
  ij->cpu_at_take = hs__cpu_ns(pid, ij->tid);
  return 0;
}

/* --- the call ------------------------------------------------------------ */

static int hs__write(const hs__inject *ij, uint64_t at, const void *p,
                     size_t len) {
  return pwrite(ij->mem, p, len, (off_t)at) == (ssize_t)len ? 0 : -EIO;
}

void hs__inject_read_str(const hs__inject *ij, uint64_t addr, char *buf,
                         size_t len) {
  const ssize_t n = addr ? pread(ij->mem, buf, len - 1, (off_t)addr) : 0;
  buf[n > 0 ? n : 0] = '\0';
  buf[strnlen(buf, len - 1)] = '\0';
}

/* Says the call is late, once, and again each time the process is
 * stopped or continued since the last line (looked at every HS__CALL_NS):
 * a stopped process's threads, which the call may wait for, go on only
 * after a SIGCONT. *said: -1 nothing said yet, else stopped when said. */
static void hs__call_late(const hs__inject *ij, uint64_t since, int *said) {
  const int stopped = hs__proc_stopped(ij->pid);
  if (stopped == *said)
    return;
  *said = stopped;
  const unsigned long long s = (hs__mono_ns() - since) / 1000000000ull;
  char why[128] = "";
  if (stopped)
    snprintf(why, sizeof why,
             ", and the process is stopped (SIGSTOP or ^Z): it goes on "
             "when the process continues (kill -CONT %d)",
             ij->pid);
  hs__tool_error(ij->cmd,
                 "process %d: the call has not returned in %llu s%s; "
                 "waiting for it (cut short, the process would crash; "
                 "Ctrl-C waits for it too, kill -9 crashes the process)",
                 ij->pid, s, why);
}

/* Runs the thread until the call returns to address 0 (a SIGSEGV stop
 * there); signals meanwhile are kept. A call that takes long (dlopen
 * behind another thread's loader lock) is waited for all the same, after
 * a line (hs__call_late): let go in the middle of it, the thread would
 * return to address 0 and the process die. */
static int hs__run_call(hs__inject *ij, uint64_t *ret) {
  const uint64_t start = hs__mono_ns();
  uint64_t deadline = start + HS__CALL_NS;
  int said = -1;
  ptrace(PTRACE_CONT, ij->tid, 0, 0);
  for (;;) {
    int status;
    const int rc = hs__wait_stop(ij->tid, &status, deadline);
    if (rc == -ETIMEDOUT) {
      hs__call_late(ij, start, &said);
      deadline = hs__mono_ns() + HS__CALL_NS;
      continue;
    }
    if (rc)
      return rc;
    struct user_regs_struct r;
    if (!hs__is_event_stop(status) && WSTOPSIG(status) == SIGSEGV &&
        ptrace(PTRACE_GETREGS, ij->tid, 0, &r) == 0 && r.rip == 0) {
      *ret = r.rax;
      return 0;
    }
    if (!hs__is_event_stop(status)) {
      if (WSTOPSIG(status) == SIGSEGV || WSTOPSIG(status) == SIGBUS)
        return -EFAULT;
      hs__keep_sig(ij, WSTOPSIG(status));
    }
    ptrace(PTRACE_CONT, ij->tid, 0, 0);
  }
}

int hs__inject_call(hs__inject *ij, uint64_t fn, uint64_t args[6],
                    const char *str, uint64_t *ret) {
  struct user_regs_struct r = ij->saved;
  uint64_t sp = (r.rsp - 4096) & ~(uint64_t)15; /* past the red zone */
  if (str) {
    const size_t len = strlen(str) + 1;
    sp = (sp - len) & ~(uint64_t)15;
    if (hs__write(ij, sp, str, len))
      return -EIO;
    args[0] = sp;
  }
  sp -= 8; /* at a call's entry, rsp + 8 is 16-aligned */
  const uint64_t zero = 0;
  if (hs__write(ij, sp, &zero, 8))
    return -EIO;
  r.rsp = sp;
  r.rip = fn;
  r.rdi = args[0], r.rsi = args[1], r.rdx = args[2];
  r.rcx = args[3], r.r8 = args[4], r.r9 = args[5];
  r.rax = 0;
  r.orig_rax = (uint64_t)-1; /* no system call to restart under it */
  if (ptrace(PTRACE_SETREGS, ij->tid, 0, &r) != 0)
    return -errno;
  const int rc = hs__run_call(ij, ret);
  if (rc == -ESRCH)
    hs__tool_error(ij->cmd, "process %d exited during the call", ij->pid);
  else if (rc)
    hs__tool_error(ij->cmd, "process %d: the call faulted", ij->pid);
  return rc ? HS__TOOL_EFAIL : 0;
}

void hs__inject_close(hs__inject *ij) {
  if (ij->tid <= 0)
    return;
  ptrace(PTRACE_SETREGS, ij->tid, 0, &ij->saved);
  hs__fpu_restore(ij);
  const int first = ij->n_sigs ? ij->sigs[0] : 0;
  ptrace(PTRACE_DETACH, ij->tid, 0, first);
  ij->held_ns = hs__mono_ns() - ij->taken_ns;
  const uint64_t cpu = hs__cpu_ns(ij->pid, ij->tid);
  ij->cpu_ns = cpu > ij->cpu_at_take ? cpu - ij->cpu_at_take : 0;
  ij->tid_taken = ij->tid;
  for (int i = 1; i < ij->n_sigs; i++)
    syscall(SYS_tgkill, ij->pid, ij->tid, ij->sigs[i]);
  if (ij->mem >= 0)
    close(ij->mem);
  ij->mem = -1;
  ij->tid = 0;
  hs__unmask_tool(ij, 1);
}
