/* heapsnap_run.c - `heapsnap run`: start a program with the shim preloaded.
 *
 * The launcher validates the options with the shim's own parsers (so it
 * accepts exactly what the shim accepts), turns them into HEAPSNAP_*
 * variables, puts libheapsnap.so first in LD_PRELOAD and execs the program
 * in its own place: same pid, same parent, and so the program's own exit
 * status. Nothing is left running in between. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heapsnap_cmds.h"
#include "heapsnap_inject.h"
#include "hs_parse.h"
#include "hs_snapshot.h"
#include "hs_tool.h"

#ifndef HS_SHIM_INSTALL_RELPATH
#error "HS_SHIM_INSTALL_RELPATH must be defined by the build"
#endif

/* Ranges the shim accepts (docs/environment.md). */
#define HS__DEPTH_MAX 256
#define HS__KEEP_MAX 1000000000u
#define HS__SAMPLE_MAX (1ull << 40)

const char hs__help_run[] =
    "usage: heapsnap run [OPTIONS] [--] CMD [ARGS...]\n"
    "\n"
    "Runs CMD in place of the launcher (same pid) with libheapsnap.so\n"
    "first in LD_PRELOAD. Each option sets one of the shim's variables; an\n"
    "option not given leaves that variable as the environment has it.\n"
    "The '--' is needed only when CMD starts with '-'.\n"
    "\n"
    "options:\n"
    "  --dir D         HEAPSNAP_DIR: existing writable folder for the\n"
    "                  snapshots (made absolute)\n"
    "  --interval S    HEAPSNAP_INTERVAL: a snapshot every S seconds\n"
    "                  (decimals allowed; 0 = off)\n"
    "  --signal SIG    HEAPSNAP_SIGNAL: the snapshot signal, a name (USR2,\n"
    "                  SIGUSR1, RTMIN+3) or number; 0 or none = off\n"
    "  --at-exit       HEAPSNAP_AT_EXIT=1: a snapshot at normal exit\n"
    "  --keep N        HEAPSNAP_KEEP: keep at most N interval snapshots\n"
    "                  per process (0 = all); ones asked for all stay\n"
    "  --depth N       HEAPSNAP_DEPTH: stack depth limit, 1 to 256 frames\n"
    "  --verbose       HEAPSNAP_VERBOSE=1: one line on stderr per snapshot\n"
    "  --sample BYTES  HEAPSNAP_SAMPLE_BYTES: sampling mode, one sample point\n"
    "                  per BYTES allocated on average (like 512K, 1.5M,\n"
    "                  64KiB; 0 = every block): for production, at the\n"
    "                  price of estimates and no reachability\n"
    "  --no-scan       HEAPSNAP_SCAN=0: no reachability scan in snapshots\n"
    "  --no-graph      HEAPSNAP_GRAPH=0: the scan keeps no heap graph\n"
    "                  (smaller files, no retained sizes)\n"
    "  --scan-registers  HEAPSNAP_SCAN_REGISTERS=1: precise mode, each\n"
    "                  thread stopped briefly (ptrace) for its registers;\n"
    "                  epoll_wait and a few other calls then return EINTR\n"
    "  -h, --help      this help\n"
    "\n"
    "The shim is $HEAPSNAP_LIB when set, else the libheapsnap.so installed\n"
    "beside the launcher.\n"
    "\n"
    "exit status: CMD's own; 127 when CMD cannot be found, 126 when it\n"
    "cannot be executed; 2 for a usage error, a bad value or a missing shim.\n";

enum {
  HS__RUN_HELP = HS__OPT_HELP,
  HS__RUN_DIR,
  HS__RUN_INTERVAL,
  HS__RUN_SIGNAL,
  HS__RUN_AT_EXIT,
  HS__RUN_KEEP,
  HS__RUN_DEPTH,
  HS__RUN_VERBOSE,
  HS__RUN_SAMPLE,
  HS__RUN_NO_SCAN,
  HS__RUN_SCAN_REGISTERS,
  HS__RUN_NO_GRAPH,
  HS__RUN_COUNT
};

static const hs__opt hs__run_opts[] = {
    {"help", HS__RUN_HELP, 0},
    {"dir", HS__RUN_DIR, 1},
    {"interval", HS__RUN_INTERVAL, 1},
    {"signal", HS__RUN_SIGNAL, 1},
    {"at-exit", HS__RUN_AT_EXIT, 0},
    {"keep", HS__RUN_KEEP, 1},
    {"depth", HS__RUN_DEPTH, 1},
    {"verbose", HS__RUN_VERBOSE, 0},
    {"sample", HS__RUN_SAMPLE, 1},
    {"no-scan", HS__RUN_NO_SCAN, 0},
    {"scan-registers", HS__RUN_SCAN_REGISTERS, 0},
    {"no-graph", HS__RUN_NO_GRAPH, 0},
    {NULL, 0, 0},
};

/* The variable each option sets; flags set theirs to "1", except
 * --no-scan and --no-graph ("0"). */
static const char *const hs__run_vars[HS__RUN_COUNT] = {
    [HS__RUN_DIR] = "HEAPSNAP_DIR",
    [HS__RUN_INTERVAL] = "HEAPSNAP_INTERVAL",
    [HS__RUN_SIGNAL] = "HEAPSNAP_SIGNAL",
    [HS__RUN_AT_EXIT] = "HEAPSNAP_AT_EXIT",
    [HS__RUN_KEEP] = "HEAPSNAP_KEEP",
    [HS__RUN_DEPTH] = "HEAPSNAP_DEPTH",
    [HS__RUN_VERBOSE] = "HEAPSNAP_VERBOSE",
    [HS__RUN_SAMPLE] = "HEAPSNAP_SAMPLE_BYTES",
    [HS__RUN_NO_SCAN] = "HEAPSNAP_SCAN",
    [HS__RUN_SCAN_REGISTERS] = "HEAPSNAP_SCAN_REGISTERS",
    [HS__RUN_NO_GRAPH] = "HEAPSNAP_GRAPH",
};

/* What the options asked for, by option id; NULL leaves the variable as
 * the environment has it. Values are passed on as given once checked: the
 * shim parses them with the same functions. */
typedef struct hs__run_cfg {
  const char *val[HS__RUN_COUNT];
} hs__run_cfg;

/* Checks one option value with the parser the shim uses.
 * @return : 0, or HS_EINVAL after one line naming the option. */
static int hs__run_check(int id, const char *v) {
  uint64_t u;
  int sig;
  switch (id) {
  case HS__RUN_INTERVAL:
    if (hs__parse_seconds(v, &u))
      return hs__tool_bad_value("run", "interval",
                                "seconds, 0 (off) or from 0.000000001 to "
                                "1000000000, such as 30 or 0.5",
                                v);
    return 0;
  case HS__RUN_SIGNAL:
    if (hs__parse_signal(v, &sig))
      return hs__tool_bad_value(
          "run", "signal",
          "a signal name (USR2, SIGUSR1, RTMIN+3), a number, 0 or none "
          "(not KILL, STOP or a fault signal)",
          v);
    return 0;
  case HS__RUN_KEEP:
    if (hs__parse_u64(v, 0, HS__KEEP_MAX, &u))
      return hs__tool_bad_value(
          "run", "keep",
          "a whole number of files from 0 to 1000000000 (0 keeps all)", v);
    return 0;
  case HS__RUN_DEPTH:
    if (hs__parse_u64(v, 1, HS__DEPTH_MAX, &u))
      return hs__tool_bad_value("run", "depth",
                                "a whole number of frames from 1 to 256", v);
    return 0;
  case HS__RUN_SAMPLE:
    if (hs__parse_bytes(v, HS__SAMPLE_MAX, &u))
      return hs__tool_bad_value(
          "run", "sample",
          "a mean gap in bytes (like 524288 or 512K) up to 1T, 0 for off", v);
    return 0;
  default:
    return 0;
  }
}

/* A file made and removed in dir: root passes access(2) anywhere, also
 * where no file can be made (sysfs, a read-only mount). 0, or -1 with
 * errno set. */
static int hs__run_dir_probe(const char *dir) {
  char path[PATH_MAX + 32];
  if (snprintf(path, sizeof path, "%s/.heapsnap-probe.XXXXXX", dir) >=
      (int)sizeof path)
    return errno = ENAMETOOLONG, -1;
  const int fd = mkstemp(path); /* closed at once */
  if (fd < 0)
    return -1;
  close(fd);
  unlink(path);
  return 0;
}

/* Resolves --dir to an absolute path in `out` (PATH_MAX bytes) and checks
 * that the shim will be able to create files there.
 * @return : 0 or -errno after one line. */
static int hs__run_dir(const char *dir, char *out) {
  struct stat st;
  if (!realpath(dir, out) || stat(out, &st) != 0) {
    const int err = errno;
    hs__tool_error("run", "--dir: '%s': %s", dir, strerror(err));
    return -err;
  }
  if (!S_ISDIR(st.st_mode)) {
    hs__tool_error("run", "--dir: '%s' is not a directory", dir);
    return -ENOTDIR;
  }
  if (access(out, W_OK | X_OK) != 0 || hs__run_dir_probe(out) != 0) {
    const int err = errno;
    hs__tool_error("run",
                   "--dir: '%s' is not writable (creating a file there: %s)",
                   dir, strerror(err));
    return -err;
  }
  return 0;
}

/* Resolves `path` into `out` (PATH_MAX bytes).
 * @return : 0 when it is a regular file, else -errno or HS_EINVAL. */
static int hs__run_lib_at(const char *path, char *out) {
  struct stat st;
  if (!realpath(path, out) || stat(out, &st) != 0)
    return -errno;
  return S_ISREG(st.st_mode) ? 0 : HS_EINVAL;
}

/* 1 when path starts as an ELF file does: ld.so would only warn that it
 * "cannot be preloaded" and run the program untracked. */
static int hs__run_lib_elf(const char *path) {
  unsigned char m[4];
  FILE *f = fopen(path, "rbe");
  const int yes = f && fread(m, 1, 4, f) == 4 && !memcmp(m, "\177ELF", 4);
  if (f)
    fclose(f);
  return yes;
}

/* Finds the shim from $HEAPSNAP_LIB.
 * @return : 0 with the absolute path in `out`, or a code after one line. */
static int hs__run_lib_env(const char *cmd, const char *env, char *out) {
  int rc = hs__run_lib_at(env, out);
  uint64_t at, first;
  if (rc == 0 && !hs__run_lib_elf(out))
    rc = HS_EMAGIC;
  /* another ELF file (a program, another library) would be preloaded,
   * or refused by ld.so with a line of its own, and the program run
   * untracked: the shim defines its API */
  const int shim =
      rc || hs__file_symbol(out, "hs_snapshot_now", &at, &first) == 0;
  /* libheapsnap-attach.so defines it too, but preloaded it is never set
   * up: the program crashed at its first allocation */
  const int attach =
      !rc && shim && hs__file_symbol(out, "hs_attach_start", &at, &first) == 0;
  if (rc == 0 && shim && !attach)
    return 0;
  hs__tool_error(cmd, "HEAPSNAP_LIB=%s: %s", env,
                 attach  ? "the library heapsnap attach loads, not the shim to "
                           "preload: name libheapsnap.so (beside it)"
                 : !shim ? "not the heapsnap shim (it does not "
                           "define hs_snapshot_now)"
                 : rc == HS_EINVAL ? "not a regular file"
                 : rc == HS_EMAGIC ? "not a shared library (no ELF header)"
                                   : strerror(-rc));
  return rc == HS_EMAGIC || !shim || attach ? HS_EINVAL : rc;
}

/* Looks for the shim beside the launcher: the build tree puts it in
 * <bin>/../lib, an installation in <bin>/../lib/heapsnap or wherever the
 * build's libdir says, relative to the bindir. Prints nothing.
 * @return : 0 with the absolute path in `out`; -ENOENT with the paths
 * tried in `looked`, or -errno of /proc/self/exe with `looked` "". */
static int hs__run_lib_look(char *out, char *looked, size_t len) {
  char exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  looked[0] = '\0';
  if (n <= 0)
    return -errno;
  exe[n] = '\0';
  *strrchr(exe, '/') = '\0'; /* the kernel gives an absolute path */
  static const char *const rel[] = {"../lib/libheapsnap.so",
                                    "../lib/heapsnap/libheapsnap.so",
                                    HS_SHIM_INSTALL_RELPATH};
  size_t at = 0;
  for (size_t i = 0; i < 3; i++) {
    if (i == 2 && strcmp(rel[2], rel[1]) == 0)
      break; /* libdir is plain "lib" */
    char path[PATH_MAX];
    const int w = snprintf(path, sizeof path, "%s/%s", exe, rel[i]);
    if (w > 0 && (size_t)w < sizeof path && hs__run_lib_at(path, out) == 0)
      return 0;
    at += (size_t)snprintf(looked + at, len - at, "%s%s", i ? ", " : "", path);
  }
  return -ENOENT;
}

/* The shim beside the launcher (hs__run_lib_look).
 * @return : 0 with the absolute path in `out`, or -ENOENT after one line. */
static int hs__run_lib_beside(const char *cmd, char *out) {
  char looked[3 * PATH_MAX + 8];
  const int rc = hs__run_lib_look(out, looked, sizeof looked);
  if (rc == 0)
    return 0;
  if (!looked[0])
    hs__tool_error(cmd,
                   "cannot find libheapsnap.so: /proc/self/exe: %s; "
                   "set HEAPSNAP_LIB to its path",
                   strerror(-rc));
  else
    hs__tool_error(cmd,
                   "cannot find libheapsnap.so; looked for %s; set "
                   "HEAPSNAP_LIB to its path",
                   looked);
  return -ENOENT;
}

int hs__shim_path(const char *cmd, char *out) {
  const char *env = getenv("HEAPSNAP_LIB");
  return env && *env ? hs__run_lib_env(cmd, env, out)
                     : hs__run_lib_beside(cmd, out);
}

int hs__shim_guess(char *out) {
  const char *env = getenv("HEAPSNAP_LIB");
  char looked[3 * PATH_MAX + 8];
  if (env && *env)
    return hs__run_lib_at(env, out) == 0 && hs__run_lib_elf(out) ? 0 : -ENOENT;
  return hs__run_lib_look(out, looked, sizeof looked);
}

/* ld.so splits LD_PRELOAD at spaces and colons, so a path holding one
 * would load something else. @return : 0 or HS_EINVAL after one line. */
static int hs__run_lib_check(const char *lib) {
  if (!strpbrk(lib, " :"))
    return 0;
  hs__tool_error("run",
                 "the shim's path '%s' has a space or colon, which "
                 "LD_PRELOAD cannot carry; set HEAPSNAP_LIB to "
                 "another path",
                 lib);
  return HS_EINVAL;
}

/* The shim goes first, so its malloc is the one every later object binds
 * to; the caller's entries stay as they were, after a colon.
 * @return : 0 or -errno. */
static int hs__run_preload(const char *lib) {
  const char *old = getenv("LD_PRELOAD");
  if (!old || !*old)
    return setenv("LD_PRELOAD", lib, 1) ? -errno : 0;
  const size_t len = strlen(lib) + 1 + strlen(old) + 1;
  char *joined = malloc(len);
  if (!joined)
    return -ENOMEM;
  snprintf(joined, len, "%s:%s", lib, old);
  const int rc = setenv("LD_PRELOAD", joined, 1) ? -errno : 0;
  free(joined);
  return rc;
}

/* Sets the variables; `dir` is --dir made absolute.
 * @return : 0, or -errno when the environment is out of room. */
static int hs__run_export(const hs__run_cfg *cfg, const char *dir) {
  for (int id = 0; id < HS__RUN_COUNT; id++) {
    const char *v = id == HS__RUN_DIR ? dir : cfg->val[id];
    if (hs__run_vars[id] && cfg->val[id] && setenv(hs__run_vars[id], v, 1))
      return -errno;
  }
  return 0;
}

/* Reads the options into cfg.
 * @return : 0 with a->i at CMD, HS__TOOL_DONE after printing the help, or
 *           HS_EINVAL after one line. */
static int hs__run_options(hs__args *a, hs__run_cfg *cfg) {
  const char *v;
  int id;
  while ((id = hs__args_next(a, &v)) > HS__TOOL_DONE) {
    const int rc = hs__run_check(id, v);
    if (rc)
      return rc;
    cfg->val[id] = v                                                 ? v
                   : id == HS__RUN_NO_SCAN || id == HS__RUN_NO_GRAPH ? "0"
                                                                     : "1";
  }
  return id;
}

/* Shells answer 127 for a program they cannot find and 126 for one they
 * found but cannot execute; scripts around the launcher rely on the same.
 * @return : that exit status (the one status not made by hs__tool_exit:
 *           it is the program's, as a shell would give it). */
static int hs__run_exec(char **cmd) {
  execvp(cmd[0], cmd);
  const int err = errno;
  hs__tool_error(NULL, "cannot run %s: %s", cmd[0], strerror(err));
  switch (err) {
  case EACCES:
  case EPERM:
  case ENOEXEC:
  case ETXTBSY:
    return 126;
  default:
    return 127;
  }
}

/* Everything before the exec: options, folder, shim, environment.
 * @return : 0 with a->i at CMD, or a code for hs__tool_exit(). */
static int hs__run_prepare(hs__args *a) {
  hs__run_cfg cfg = {0};
  int rc = hs__run_options(a, &cfg);
  if (rc)
    return rc;
  if (a->i >= a->argc)
    return hs__tool_usage("run", "missing the program to run");
  char dir[PATH_MAX] = "", lib[PATH_MAX];
  const char *want_dir = cfg.val[HS__RUN_DIR];
  if (want_dir && (rc = hs__run_dir(want_dir, dir)))
    return rc;
  if ((rc = hs__shim_path("run", lib)) || (rc = hs__run_lib_check(lib)))
    return rc;
  if ((rc = hs__run_preload(lib)) || (rc = hs__run_export(&cfg, dir)))
    hs__tool_error("run", "cannot set the environment: %s", strerror(-rc));
  return rc;
}

int hs__cmd_run(int argc, char **argv) {
  hs__args a = {"run", hs__run_opts, argc, argv, 0, hs__help_run};
  const int rc = hs__run_prepare(&a);
  if (rc)
    return hs__tool_exit("run", rc);
  return hs__run_exec(argv + a.i);
}
