/* heapsnap_snap.c - `heapsnap snap PID`: ask a running process for a snapshot.
 *
 * The shim in the process keeps a status file (lib/common/hs_status.h)
 * that says which signal asks it for a snapshot now (the program may have
 * taken the configured one for itself), which thread takes it, its
 * snapshot folder, and how every attempt ended. snap makes sure the shim
 * is really mapped (a signal sent to a process without it would most
 * likely kill it), reads the file, checks that the thread it names is the
 * shim's and carries that signal in its name, sends the signal to that
 * thread alone with tgkill, and follows the file until the attempt ends:
 * the new file's path, or the reason it could not be written. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "heapsnap_cmds.h"
#include "heapsnap_proc.h"
#include "hs_parse.h"
#include "hs_snapshot.h"
#include "hs_tool.h"

#define HS__SNAP_POLL_NS 20000000u       /* 20 ms between looks */
#define HS__SNAP_TIMEOUT_NS 30000000000u /* default --timeout: 30 s */

const char hs__help_snap[] =
    "usage: heapsnap snap [--timeout S] [--dir D] PID\n"
    "\n"
    "Asks process PID, which runs the heapsnap shim, for a heap snapshot:\n"
    "reads the shim's status file to learn its snapshot signal and thread,\n"
    "sends that signal to that thread alone, waits for the attempt to end\n"
    "and prints the new file's absolute path, or why it could not be\n"
    "written. A process without the shim is left alone: nothing is sent.\n"
    "\n"
    "options:\n"
    "  --timeout S   wait at most S seconds (decimals allowed; default 30)\n"
    "  --dir D       the snapshot folder as seen from here, when the\n"
    "                process sees it under another path (a container)\n"
    "  -h, --help    this help\n"
    "\n"
    "exit status: 0 the path is printed; 1 the snapshot could not be\n"
    "written (the reason is printed), the process exited first, its shim\n"
    "has not started yet, the process is stopped (SIGSTOP or ^Z: the\n"
    "signal is sent, the snapshot comes when it continues), or the time\n"
    "ran out; 2 usage error, no such process, no shim in it, its signal\n"
    "trigger off, or no permission.\n";

enum { HS__SNAP_HELP = HS__OPT_HELP, HS__SNAP_TIMEOUT, HS__SNAP_DIR };

static const hs__opt hs__snap_opts[] = {
    {"help", HS__SNAP_HELP, 0},
    {"timeout", HS__SNAP_TIMEOUT, 1},
    {"dir", HS__SNAP_DIR, 1},
    {NULL, 0, 0},
};

typedef struct hs__snap_args {
  const char *timeout; /* as given, for messages; NULL = default */
  uint64_t timeout_ns;
  const char *dir; /* --dir or NULL */
  const char *pid; /* the operand */
} hs__snap_args;

/* The process and what its shim says of itself. */
typedef struct hs__snap_target {
  hs__proc proc;
  hs_status st;
  char dir[PATH_MAX]; /* where to look for the file: --dir or st.dir */
} hs__snap_target;

static uint64_t hs__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reports a failed look at /proc; a permission error says what helps.
 * @return : -err (HS_EINVAL should err not be an errno). */
static int hs__snap_proc_error(int pid, const char *what, int err) {
  if ((err == EACCES || err == EPERM) && geteuid() == 0)
    hs__tool_error("snap",
                   "process %d: %s: %s; as root this needs the "
                   "CAP_SYS_PTRACE capability, which this session lacks "
                   "(a container's default set), or the process's user",
                   pid, what, strerror(err));
  else if (err == EACCES || err == EPERM)
    hs__tool_error("snap",
                   "process %d: %s: %s; run as the process's user or as "
                   "root",
                   pid, what, strerror(err));
  else
    hs__tool_error("snap", "process %d: %s: %s", pid, what, strerror(err));
  return err > 0 ? -err : HS_EINVAL;
}

/* The advice names the shim by its path: ld.so preloads nothing by a
 * bare name ("cannot be preloaded"). */
static int hs__snap_refuse(int pid) {
  char shim[PATH_MAX];
  if (hs__shim_guess(shim) || strpbrk(shim, " :"))
    snprintf(shim, sizeof shim, "/path/to/libheapsnap.so");
  hs__tool_error("snap",
                 "process %d does not run the heapsnap shim; start "
                 "it with `heapsnap run` or LD_PRELOAD=%s",
                 pid, shim);
  return HS_ENOSHIM;
}

/* The process exists, is a process (not one of its threads: tgkill needs
 * the tgid), and maps the shim. @return : 0 or a code after one line. */
static int hs__snap_process(hs__snap_target *t, int pid) {
  int rc = hs__proc_get(pid, &t->proc);
  if (rc == -ENOENT || rc == -ESRCH) {
    hs__tool_error("snap", "no process %d", pid);
    return -ESRCH;
  }
  char what[48];
  snprintf(what, sizeof what, "/proc/%d/status", pid);
  if (rc)
    return hs__snap_proc_error(pid, what, -rc);
  if (t->proc.tgid != pid) {
    hs__tool_error("snap", "%d is a thread of process %d; give the process id",
                   pid, t->proc.tgid);
    return HS_EINVAL;
  }
  if (t->proc.ended) { /* its maps are gone: it would read as no shim */
    hs__tool_error("snap",
                   "process %d has exited (its parent has not reaped it yet)",
                   pid);
    return HS__TOOL_EFAIL;
  }
  /* A process may name a thread anything; the mapped shim is the proof. */
  if ((rc = hs__proc_maps_shim(pid)) == 0)
    return hs__snap_refuse(pid);
  snprintf(what, sizeof what, "/proc/%d/maps", pid);
  return rc < 0 ? hs__snap_proc_error(pid, what, -rc) : 0;
}

/* The shim is mapped but has no status: a child of fork before its first
 * allocation, or a shim that could not start.
 * @return : a code after one line. */
static int hs__snap_no_status(const hs__snap_target *t, int err) {
  const int pid = t->proc.pid;
  if (err != ENOENT)
    return hs__snap_proc_error(pid, "its heapsnap status file", err);
  hs__proc parent;
  hs_status pst;
  if (hs__proc_get(t->proc.ppid, &parent) == 0 &&
      hs__proc_status(&parent, &pst) == 0) {
    hs__tool_error("snap",
                   "process %d is a child of process %d, whose shim it "
                   "inherited; the shim starts in a child of fork at its "
                   "first allocation, which has not come yet: try again "
                   "once it has allocated",
                   pid, t->proc.ppid);
    return HS__TOOL_EFAIL;
  }
  if (hs__proc_maps_shim(pid) == HS__SHIM_ATTACHED) {
    hs__tool_error("snap",
                   "process %d was detached (the attach library stays "
                   "loaded, inactive): 'heapsnap attach %d' tracks it again",
                   pid, pid);
    return HS_ENOSHIM;
  }
  /* A daemon's child after daemon() has pid 1 for parent: the check above
   * cannot tell it from a shim that never started. */
  hs__tool_error("snap",
                 "process %d maps the heapsnap shim, but the shim has no "
                 "status file for it (in /dev/shm/heapsnap-%u or "
                 "/tmp/heapsnap-%u as the process sees them): a process "
                 "forked from one the shim ran in (a daemon after its fork) "
                 "makes it at its first allocation, which may not have come "
                 "yet; else the shim did not start (its stderr says why) or "
                 "is older than this heapsnap",
                 pid, t->proc.euid, t->proc.euid);
  return HS_ENOSHIM;
}

/* 1 when /proc/PID/task/TID/comm is "heapsnap:<signo>". */
static int hs__snap_thread_named(const hs__snap_target *t) {
  char comm[32], want[32];
  snprintf(want, sizeof want, "heapsnap:%d", (int)t->st.signo);
  return hs__proc_comm(t->proc.pid, (int)t->st.tid, comm, sizeof comm) &&
         strcmp(comm, want) == 0;
}

/* The status names no thread: the shim's has not run yet. Attached to a
 * stopped process, it waits for the SIGCONT (a thread made during a group
 * stop stops at once). @return : a code after one line. */
static int hs__snap_no_thread(const hs__snap_target *t, const char *sig) {
  const int pid = t->proc.pid;
  if (hs__proc_stopped(pid)) {
    hs__tool_error("snap",
                   "process %d is stopped (SIGSTOP or ^Z), and the shim's "
                   "thread has not started in it: continue it (kill -CONT "
                   "%d), then snap again",
                   pid, pid);
    return HS__TOOL_EFAIL;
  }
  hs__tool_error("snap",
                 "process %d: the shim's thread, which takes %s, has not "
                 "started; not sending a signal that something else may "
                 "handle",
                 pid, sig);
  return HS_EINVAL;
}

/* What the status says: a signal to send, and a thread that takes it
 * under that name. Refuses, sending nothing, when it cannot be sure no
 * handler but the shim's would run. @return : 0 or a code after one line. */
static int hs__snap_trigger(hs__snap_target *t) {
  const int pid = t->proc.pid;
  int rc = hs__proc_status(&t->proc, &t->st);
  if (rc)
    return hs__snap_no_status(t, -rc);
  if (t->st.signo <= 0) {
    if (t->st.flags & HS_STATUS_MOVED)
      hs__tool_error("snap",
                     "process %d took the shim's snapshot signal for itself "
                     "and no real-time signal was free to take its place; "
                     "it takes snapshots on its interval, its API calls "
                     "and at exit only",
                     pid);
    else
      hs__tool_error("snap",
                     "process %d runs the shim with its signal trigger "
                     "off (HEAPSNAP_SIGNAL=0); it cannot be asked for "
                     "a snapshot: its snapshots come on its interval, "
                     "from its API calls and at exit, or restart it "
                     "with a signal (heapsnap run --signal USR2)",
                     pid);
    return HS_EINVAL;
  }
  char sig[16];
  hs__proc_signal_name(t->st.signo, sig, sizeof sig);
  if (!(t->st.flags & HS_STATUS_THREAD))
    return hs__snap_no_thread(t, sig);
  if (!hs__snap_thread_named(t)) {
    hs__tool_error("snap",
                   "process %d: the shim's thread %d, which takes %s, is "
                   "not there under the name heapsnap:%d; not sending a "
                   "signal that something else may handle",
                   pid, (int)t->st.tid, sig, (int)t->st.signo);
    return HS_EINVAL;
  }
  return 0;
}

/* Sets t->dir: --dir made absolute, else the shim's folder.
 * @return : 0 or a code after one line. */
static int hs__snap_folder(hs__snap_target *t, const char *dir) {
  struct stat st;
  if (!dir) {
    snprintf(t->dir, sizeof t->dir, "%s", t->st.dir);
    return 0;
  }
  if (!realpath(dir, t->dir) || stat(t->dir, &st) != 0) {
    const int err = errno;
    hs__tool_error("snap", "--dir: '%s': %s", dir, strerror(err));
    return -err;
  }
  if (S_ISDIR(st.st_mode))
    return 0;
  hs__tool_error("snap", "--dir: '%s' is not a directory", dir);
  return -ENOTDIR;
}

/* @return : 1 while the shim's thread (and so the process) is alive. */
static int hs__snap_alive(const hs__snap_target *t) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/task/%d", t->proc.pid, (int)t->st.tid);
  return stat(path, &st) == 0;
}

/* The attempt wrote a file: its path as seen from here.
 * @return : 0, or HS__TOOL_EFAIL after one line. */
static int hs__snap_print(const hs__snap_target *t, const hs_status *now,
                          const hs__snap_args *a) {
  char path[PATH_MAX + 128];
  struct stat st;
  const int root = strcmp(t->dir, "/") == 0;
  snprintf(path, sizeof path, "%s/%s.%d.%llu.snap", root ? "" : t->dir,
           now->name, (int)now->pid, (unsigned long long)now->last_n);
  if (a->dir && stat(path, &st) != 0) {
    hs__tool_error("snap",
                   "process %d wrote %s.%d.%llu.snap in %s, which is "
                   "not in %s",
                   t->proc.pid, now->name, (int)now->pid,
                   (unsigned long long)now->last_n, now->dir, t->dir);
    return HS__TOOL_EFAIL;
  }
  printf("%s\n", path);
  return 0;
}

/* The signal is sent, and stays pending while the process is stopped:
 * the shim's thread takes it, and writes the file, after a SIGCONT. Not
 * waited for: nothing can come before.
 * @return : HS__TOOL_EFAIL after one line. */
static int hs__snap_stopped(const hs__snap_target *t) {
  hs__tool_error("snap",
                 "process %d is stopped (SIGSTOP or ^Z): its snapshot comes "
                 "when it continues (kill -CONT %d)",
                 t->proc.pid, t->proc.pid);
  return HS__TOOL_EFAIL;
}

/* Follows the status file until an attempt made after `before` ends, the
 * process goes away or the time runs out.
 * @return : 0, or HS__TOOL_EFAIL after one line. */
static int hs__snap_wait(const hs__snap_target *t, const hs_status *before,
                         const hs__snap_args *a) {
  const uint64_t deadline = hs__now_ns() + a->timeout_ns;
  const struct timespec poll = {0, HS__SNAP_POLL_NS};
  for (;;) {
    /* Alive is checked first: a file written just before the exit counts. */
    const int alive = hs__snap_alive(t);
    hs_status now;
    if (hs__proc_status(&t->proc, &now) == 0) {
      if (now.written > before->written)
        return hs__snap_print(t, &now, a);
      if (now.error_at > before->attempts && now.last_error) {
        hs__tool_error("snap",
                       "process %d could not write its snapshot in "
                       "%s: %s",
                       t->proc.pid, now.dir, hs_strerror(now.last_error));
        return HS__TOOL_EFAIL;
      }
    }
    if (!alive) {
      hs__tool_error("snap", "process %d exited before writing a snapshot",
                     t->proc.pid);
      return HS__TOOL_EFAIL;
    }
    if (hs__now_ns() >= deadline) {
      if (hs__proc_stopped(t->proc.pid)) /* stopped since it was sent */
        return hs__snap_stopped(t);
      hs__tool_error("snap", "no new snapshot of process %d in %s after %s s",
                     t->proc.pid, t->dir, a->timeout ? a->timeout : "30");
      return HS__TOOL_EFAIL;
    }
    nanosleep(&poll, NULL);
  }
}

/* Sends the snapshot signal to the shim's thread only, so no application
 * thread is interrupted. @return : 0 or -errno after one line. */
static int hs__snap_send(const hs__snap_target *t) {
  if (syscall(SYS_tgkill, t->proc.pid, (int)t->st.tid, (int)t->st.signo) == 0)
    return 0;
  return hs__snap_proc_error(t->proc.pid, "cannot signal it", errno);
}

/* Reads the options and the PID operand into `a`.
 * @return : 0, HS__TOOL_DONE after printing the help, or HS_EINVAL. */
static int hs__snap_options(int argc, char **argv, hs__snap_args *a) {
  hs__args it = {"snap", hs__snap_opts, argc, argv, 0, hs__help_snap};
  const char *v;
  int id;
  while ((id = hs__args_next(&it, &v)) > HS__TOOL_DONE) {
    if (id == HS__SNAP_DIR)
      a->dir = v;
    else if (hs__parse_seconds(v, &a->timeout_ns) || a->timeout_ns == 0)
      return hs__tool_bad_value(
          "snap", "timeout", "seconds above 0, up to 1000000000, such as 5", v);
    else
      a->timeout = v;
  }
  if (id != 0)
    return id; /* HS__TOOL_DONE or an error */
  if (it.i >= argc)
    return hs__tool_usage("snap", "missing the process id");
  if (it.i + 1 < argc)
    return hs__tool_usage("snap", "unexpected argument '%s'", argv[it.i + 1]);
  a->pid = argv[it.i];
  return 0;
}

static int hs__snap(int argc, char **argv) {
  hs__snap_args a = {NULL, HS__SNAP_TIMEOUT_NS, NULL, NULL};
  int rc = hs__snap_options(argc, argv, &a);
  if (rc)
    return rc;
  uint64_t pid;
  if (hs__parse_u64(a.pid, 1, INT_MAX, &pid))
    return hs__tool_usage("snap", "PID: expected a process id, got '%s'",
                          a.pid);
  static hs__snap_target t;
  if ((rc = hs__snap_process(&t, (int)pid)) || (rc = hs__snap_trigger(&t)) ||
      (rc = hs__snap_folder(&t, a.dir)) || (rc = hs__snap_send(&t)))
    return rc;
  if (hs__proc_stopped(t.proc.pid))
    return hs__snap_stopped(&t);
  return hs__snap_wait(&t, &t.st, &a);
}

int hs__cmd_snap(int argc, char **argv) {
  return hs__tool_exit("snap", hs__snap(argc, argv));
}
