/* heapsnap_attach.c - `heapsnap attach PID` and `heapsnap detach PID`.
 *
 * attach loads libheapsnap-attach.so (found beside the preloaded shim)
 * into a running process: one thread, taken at a safe point with ptrace
 * (heapsnap_inject.c), calls the C library's dlopen and then the library's
 * hs_attach_start, which rewrites the GOT slots of the allocation API in
 * every module (lib/shim/hs_attach.c). detach has a thread call
 * hs_attach_stop, which puts every slot back. The process is refused, in
 * one line, when it cannot take the shim: no such process, another
 * architecture, statically linked, the shim already in it, no ptrace
 * permission. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "heapsnap_cmds.h"
#include "heapsnap_inject.h"
#include "heapsnap_proc.h"
#include "hs_parse.h"
#include "hs_snapshot.h"
#include "hs_tool.h"

#define HS__ATTACH_LIB "libheapsnap-attach.so"
#define HS__RTLD_NOW 2
#define HS__RTLD_DLOPEN 0x80000000 /* __libc_dlopen_mode's caller flag */

const char hs__help_attach[] =
    "usage: heapsnap attach [OPTIONS] PID\n"
    "\n"
    "Loads the heapsnap shim into process PID, which runs already, and\n"
    "tracks its heap from now on: `heapsnap snap PID`, `heapsnap ps` and\n"
    "heapdiff then work as for a program started with `heapsnap run`.\n"
    "Blocks allocated before the attach are not tracked. One thread of the\n"
    "process is held (ptrace) while the shim loads; the time is printed.\n"
    "x86-64 Linux, glibc, dynamically linked programs; needs permission to\n"
    "ptrace the process (its user with kernel.yama.ptrace_scope 0, or\n"
    "CAP_SYS_PTRACE).\n"
    "\n"
    "options:\n"
    "  --dir D         existing folder for the snapshots, as the process\n"
    "                  sees it (default: the current folder)\n"
    "  --interval S    a snapshot every S seconds (decimals allowed;\n"
    "                  default 0 = only when asked)\n"
    "  --sample BYTES  sampling mode, one sample point per BYTES allocated\n"
    "                  on average (like 512K); default every block\n"
    "  --no-scan       no reachability scan in the snapshots\n"
    "  -h, --help      this help\n"
    "\n"
    "exit status: 0 attached; 1 the shim could not be loaded or started\n"
    "(the reason is printed), no thread came to a safe point, or the\n"
    "process exited; 2 usage error, no such process, no ptrace\n"
    "permission, a program of another architecture, statically linked, or\n"
    "already running the shim; 128+N ended by signal N (after letting go\n"
    "of the thread it held).\n";

const char hs__help_detach[] =
    "usage: heapsnap detach PID\n"
    "\n"
    "Stops tracking in process PID, attached with `heapsnap attach`: every\n"
    "rewritten GOT slot gets its old target back, the shim's thread ends,\n"
    "its status file goes. The library stays mapped; `heapsnap attach`\n"
    "works again later.\n"
    "\n"
    "options:\n"
    "  -h, --help      this help\n"
    "\n"
    "exit status: 0 detached; 1 the process exited, is stopped (SIGSTOP\n"
    "or ^Z: continue it first), did not answer, or no thread came to a\n"
    "safe point; 2 usage error, no such process, no ptrace permission,\n"
    "or not attached; 128+N ended by signal N (after letting go of the\n"
    "thread it held).\n";

enum {
  HS__AT_HELP = HS__OPT_HELP,
  HS__AT_DIR,
  HS__AT_INTERVAL,
  HS__AT_SAMPLE,
  HS__AT_NO_SCAN
};

static const hs__opt hs__attach_opts[] = {
    {"help", HS__AT_HELP, 0},         {"dir", HS__AT_DIR, 1},
    {"interval", HS__AT_INTERVAL, 1}, {"sample", HS__AT_SAMPLE, 1},
    {"no-scan", HS__AT_NO_SCAN, 0},   {NULL, 0, 0},
};
static const hs__opt hs__detach_opts[] = {{"help", HS__AT_HELP, 0},
                                          {NULL, 0, 0}};

typedef struct hs__attach_cfg {
  const char *dir;
  uint64_t interval_ns, sample_bytes;
  int scan;
  int pid;
} hs__attach_cfg;

/* The PID operand, a process (not a thread) that exists.
 * @return : 0 or a code after one line. */
static int hs__attach_pid(const char *cmd, hs__args *it, int *pid) {
  if (it->i >= it->argc)
    return hs__tool_usage(cmd, "missing the process id");
  if (it->i + 1 < it->argc)
    return hs__tool_usage(cmd, "unexpected argument '%s'", it->argv[it->i + 1]);
  uint64_t v;
  if (hs__parse_u64(it->argv[it->i], 1, INT_MAX, &v))
    return hs__tool_usage(cmd, "PID: expected a process id, got '%s'",
                          it->argv[it->i]);
  hs__proc p;
  const int rc = hs__proc_get((int)v, &p);
  if (rc == -ENOENT || rc == -ESRCH) {
    hs__tool_error(cmd, "no process %d", (int)v);
    return -ESRCH;
  }
  if (rc) {
    hs__tool_error(cmd, "process %d: /proc/%d/status: %s", (int)v, (int)v,
                   strerror(-rc));
    return rc;
  }
  if (p.tgid != (int)v) {
    hs__tool_error(cmd, "%d is a thread of process %d; give the process id",
                   (int)v, p.tgid);
    return HS_EINVAL;
  }
  if (p.ended) {
    hs__tool_error(cmd,
                   "process %d has exited (its parent has not reaped it yet)",
                   (int)v);
    return HS__TOOL_EFAIL;
  }
  if (p.leader_gone) { /* its memory is read through the main thread */
    hs__tool_error(cmd,
                   "process %d: its main thread has exited (pthread_exit), "
                   "and %s works only while it runs; start the program "
                   "with heapsnap run instead",
                   (int)v, cmd);
    return HS__TOOL_EFAIL;
  }
  *pid = (int)v;
  return 0;
}

static const char *hs__machine_name(unsigned m, int cls) {
  switch (m) {
  case EM_386:
    return "32-bit x86";
  case EM_X86_64:
    return cls == ELFCLASS32 ? "x32" : "x86-64";
  case EM_AARCH64:
    return "arm64";
  case EM_ARM:
    return "32-bit arm";
  default:
    return "non-x86-64";
  }
}

/* An x86-64 program, dynamically linked with glibc.
 * @return : 0 or a code after one line. */
static int hs__attach_kind(const char *cmd, int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  unsigned char e[EI_NIDENT + 4] = {0};
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  const ssize_t n = fd >= 0 ? read(fd, e, sizeof e) : -1;
  const int err = errno;
  if (fd >= 0)
    close(fd);
  if (n < 0 && (err == EACCES || err == EPERM))
    return hs__ptrace_refused(cmd, pid, path, err);
  if (n < (ssize_t)sizeof e) {
    hs__tool_error(cmd, "process %d: cannot read its executable: %s", pid,
                   n < 0 ? strerror(err) : "too short");
    return HS_EINVAL;
  }
  const unsigned machine = e[EI_NIDENT + 2] | (unsigned)e[EI_NIDENT + 3] << 8;
  if (e[EI_CLASS] != ELFCLASS64 || machine != EM_X86_64) {
    hs__tool_error(cmd,
                   "process %d is a %s program; heapsnap attach works on "
                   "x86-64 programs only",
                   pid, hs__machine_name(machine, e[EI_CLASS]));
    return HS_EINVAL;
  }
  if (!hs__proc_maps_module(pid, "ld-linux-x86-64.so.2") ||
      !hs__proc_maps_module(pid, "libc.so.6")) {
    hs__tool_error(cmd,
                   "process %d is statically linked (no ld.so and glibc's "
                   "libc.so.6 mapped): the shim cannot be loaded into it",
                   pid);
    return HS_EINVAL;
  }
  return 0;
}

/* attach: the shim must not be in the process already (preloaded, or
 * attached and not detached). @return : 0 or a code after one line. */
static int hs__attach_free(int pid) {
  const int shim = hs__proc_maps_shim(pid);
  if (shim == HS__SHIM_PRELOADED) {
    hs__tool_error("attach",
                   "process %d already runs the heapsnap shim (preloaded); "
                   "use `heapsnap snap %d`",
                   pid, pid);
    return HS_EINVAL;
  }
  hs__proc p;
  hs_status st;
  if (shim == HS__SHIM_ATTACHED && hs__proc_get(pid, &p) == 0 &&
      hs__proc_status(&p, &st) == 0) {
    hs__tool_error("attach",
                   "process %d is attached already; `heapsnap detach %d` "
                   "first to attach again",
                   pid, pid);
    return HS_EINVAL;
  }
  return shim < 0 ? shim : 0;
}

/* The attach library: beside the preloaded shim (attach), or the file
 * process pid maps (detach, pid > 0). */
static int hs__attach_lib(const char *cmd, int pid, char *out) {
  if (pid > 0) {
    if (hs__proc_module_path(pid, HS__ATTACH_LIB, out, PATH_MAX) == 0)
      return 0;
    hs__tool_error(cmd, "process %d: %s is not mapped", pid, HS__ATTACH_LIB);
    return HS__TOOL_EFAIL;
  }
  char shim[PATH_MAX];
  int rc = hs__shim_path(cmd, shim);
  if (rc)
    return rc;
  *strrchr(shim, '/') = '\0';
  if (snprintf(out, PATH_MAX, "%s/%s", shim, HS__ATTACH_LIB) >= PATH_MAX ||
      access(out, R_OK) != 0) {
    hs__tool_error(cmd, "cannot find %s beside %s/libheapsnap.so",
                   HS__ATTACH_LIB, shim);
    return -ENOENT;
  }
  return 0;
}

static int hs__attach_dir(const char *dir, char *out) {
  struct stat st;
  if (!realpath(dir, out) || stat(out, &st) != 0) {
    const int err = errno;
    hs__tool_error("attach", "--dir: '%s': %s", dir, strerror(err));
    return -err;
  }
  if (!S_ISDIR(st.st_mode) || access(out, W_OK | X_OK) != 0) {
    hs__tool_error("attach", "--dir: '%s' is not a writable folder", dir);
    return HS_EINVAL;
  }
  return 0;
}

/* What the calls need, looked up before a thread is held: the process's
 * dlopen and dlerror (glibc 2.34 and later have dlopen in libc.so.6,
 * older ones __libc_dlopen_mode), and where fn lies in the attach
 * library (its file here; its place in the process once it is loaded). */
typedef struct hs__calls {
  uint64_t dlopen, dlerror, mode;
  uint64_t fn_value, fn_first; /* in the library's file */
} hs__calls;

static int hs__calls_find(const char *cmd, int pid, const char *lib,
                          const char *fn, hs__calls *c) {
  c->mode = HS__RTLD_NOW;
  if (hs__proc_symbol(pid, "libc.so.6", "dlopen", &c->dlopen) != 0) {
    if (hs__proc_symbol(pid, "libc.so.6", "__libc_dlopen_mode", &c->dlopen)) {
      hs__tool_error(cmd, "process %d: its libc.so.6 has no dlopen", pid);
      return HS__TOOL_EFAIL;
    }
    c->mode |= HS__RTLD_DLOPEN;
  }
  if (hs__proc_symbol(pid, "libc.so.6", "dlerror", &c->dlerror) != 0)
    c->dlerror = 0;
  if (hs__file_symbol(lib, fn, &c->fn_value, &c->fn_first) != 0) {
    hs__tool_error(cmd, "%s: no %s in it", lib, fn);
    return HS__TOOL_EFAIL;
  }
  return 0;
}

/* dlopen(lib) in the taken thread. */
static int hs__remote_dlopen(hs__inject *ij, const hs__calls *c,
                             const char *lib) {
  uint64_t args[6] = {0, c->mode, 0, 0, 0, 0}, h = 0;
  int rc = hs__inject_call(ij, c->dlopen, args, lib, &h);
  if (rc || h)
    return rc;
  char why[512] = "";
  uint64_t msg = 0, none[6] = {0};
  if (c->dlerror && hs__inject_call(ij, c->dlerror, none, NULL, &msg) == 0)
    hs__inject_read_str(ij, msg, why, sizeof why);
  hs__tool_error("attach", "process %d could not load the shim: %s", ij->pid,
                 why[0] ? why : "dlopen failed");
  return HS__TOOL_EFAIL;
}

/* Calls the attach library's function (c->fn_*), loaded in the process.
 * @return : 0 with *out its int result. */
static int hs__remote_shim(hs__inject *ij, const hs__calls *c, uint64_t args[6],
                           const char *str, int *out) {
  uint64_t lo, ret = 0;
  if (hs__proc_module_at(ij->pid, HS__ATTACH_LIB, &lo) != 0) {
    hs__tool_error(ij->cmd, "process %d: %s is not mapped", ij->pid,
                   HS__ATTACH_LIB);
    return HS__TOOL_EFAIL;
  }
  const int rc =
      hs__inject_call(ij, lo - c->fn_first + c->fn_value, args, str, &ret);
  *out = (int)(int32_t)ret;
  return rc;
}

static void hs__print_held(const hs__inject *ij) {
  printf("thread %d held %.1f ms, %.1f ms of it running (%s)\n", ij->tid_taken,
         (double)ij->held_ns / 1e6, (double)ij->cpu_ns / 1e6, ij->how);
}

static int hs__attach(const hs__attach_cfg *c, const char *lib,
                      const char *dir) {
  hs__calls calls;
  hs__inject ij;
  int rc = hs__calls_find("attach", c->pid, lib, "hs_attach_start", &calls),
      started = 0;
  if (rc || (rc = hs__inject_open(&ij, "attach", c->pid)))
    return rc;
  const uint64_t main_tp = ij.tid == c->pid ? ij.saved.fs_base : 0;
  uint64_t args[6] = {0, c->interval_ns, c->sample_bytes, c->scan, main_tp, 0};
  if ((rc = hs__remote_dlopen(&ij, &calls, lib)) == 0)
    rc = hs__remote_shim(&ij, &calls, args, dir, &started);
  hs__inject_close(&ij);
  if (rc)
    return rc;
  if (started) {
    hs__tool_error("attach", "the shim did not start in process %d: %s", c->pid,
                   hs_strerror(started));
    return HS__TOOL_EFAIL;
  }
  char when[32];
  const time_t now = time(NULL);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  printf("heapsnap: attached to process %d: tracking since %s, snapshots "
         "in %s; ",
         c->pid, when, dir);
  hs__print_held(&ij);
  return 0;
}

static int hs__attach_cmd(int argc, char **argv) {
  hs__args it = {"attach", hs__attach_opts, argc, argv, 0, hs__help_attach};
  hs__attach_cfg c = {".", 0, 0, 1, 0};
  const char *v;
  int id;
  while ((id = hs__args_next(&it, &v)) > HS__TOOL_DONE) {
    if (id == HS__AT_DIR)
      c.dir = v;
    else if (id == HS__AT_NO_SCAN)
      c.scan = 0;
    else if (id == HS__AT_INTERVAL && hs__parse_seconds(v, &c.interval_ns))
      return hs__tool_bad_value("attach", "interval",
                                "seconds, 0 (off) or from 0.000000001 to "
                                "1000000000, such as 30 or 0.5",
                                v);
    else if (id == HS__AT_SAMPLE &&
             hs__parse_bytes(v, 1ull << 40, &c.sample_bytes))
      return hs__tool_bad_value("attach", "sample",
                                "a mean gap in bytes (like 512K) up to 1T", v);
  }
  if (id != 0)
    return id;
  char lib[PATH_MAX], dir[PATH_MAX];
  int rc;
  if ((rc = hs__attach_pid("attach", &it, &c.pid)) ||
      (rc = hs__attach_kind("attach", c.pid)) ||
      (rc = hs__attach_free(c.pid)) ||
      (rc = hs__attach_lib("attach", 0, lib)) ||
      (rc = hs__attach_dir(c.dir, dir)))
    return rc;
  return hs__attach(&c, lib, dir);
}

int hs__cmd_attach(int argc, char **argv) {
  return hs__tool_exit("attach", hs__attach_cmd(argc, argv));
}

/* detach: the attach library mapped and running (its status file).
 * @return : 0 or a code after one line. */
static int hs__detach_check(int pid) {
  const int shim = hs__proc_maps_shim(pid);
  hs__proc p;
  hs_status st;
  char maps[48];
  snprintf(maps, sizeof maps, "/proc/%d/maps", pid);
  if (shim == -EACCES || shim == -EPERM)
    return hs__ptrace_refused("detach", pid, maps, -shim);
  if (shim == HS__SHIM_PRELOADED) {
    hs__tool_error("detach",
                   "process %d runs the shim preloaded, not attached; only "
                   "an attached process can be detached",
                   pid);
    return HS_EINVAL;
  }
  if (shim != HS__SHIM_ATTACHED || hs__proc_get(pid, &p) != 0 ||
      hs__proc_status(&p, &st) != 0) {
    hs__tool_error("detach", "process %d is not attached", pid);
    return HS_ENOSHIM;
  }
  return 0;
}

/* detach: the process runs. Stopped (SIGSTOP, ^Z), its shim's thread is
 * too, and hs_attach_stop, which waits for that thread to end, would not
 * return until a SIGCONT. @return : 0 or a code after one line. */
static int hs__detach_running(int pid) {
  if (!hs__proc_stopped(pid))
    return 0;
  hs__tool_error("detach",
                 "process %d is stopped (SIGSTOP or ^Z); continue it first "
                 "(kill -CONT %d), then detach",
                 pid, pid);
  return HS__TOOL_EFAIL;
}

static int hs__detach_cmd(int argc, char **argv) {
  hs__args it = {"detach", hs__detach_opts, argc, argv, 0, hs__help_detach};
  const char *v;
  int id, pid = 0, rc, stopped = 0;
  while ((id = hs__args_next(&it, &v)) > HS__TOOL_DONE)
    ;
  if (id != 0)
    return id;
  if ((rc = hs__attach_pid("detach", &it, &pid)) ||
      (rc = hs__detach_check(pid)) || (rc = hs__detach_running(pid)))
    return rc;
  char lib[PATH_MAX];
  hs__calls calls;
  hs__inject ij;
  if ((rc = hs__attach_lib("detach", pid, lib)) ||
      (rc = hs__calls_find("detach", pid, lib, "hs_attach_stop", &calls)) ||
      (rc = hs__inject_open(&ij, "detach", pid)))
    return rc;
  uint64_t args[6] = {0};
  rc = hs__remote_shim(&ij, &calls, args, NULL, &stopped);
  hs__inject_close(&ij);
  if (rc)
    return rc;
  if (stopped) {
    hs__tool_error("detach", "process %d: %s", pid, hs_strerror(stopped));
    return HS__TOOL_EFAIL;
  }
  printf("heapsnap: detached from process %d; ", pid);
  hs__print_held(&ij);
  return 0;
}

int hs__cmd_detach(int argc, char **argv) {
  return hs__tool_exit("detach", hs__detach_cmd(argc, argv));
}
