/* heapsnap_snap.c - `heapsnap snap PID`: ask a running process for a snapshot.
 *
 * The shim runs one thread named "heapsnap:<signo>" whose own working
 * directory is the snapshot folder (docs/environment.md). snap finds that
 * thread, makes sure the shim is really mapped (a snapshot signal sent to a
 * process without the shim would most likely kill it), sends the signal to
 * that thread alone with tgkill, and waits for a snapshot file that was not
 * in the folder before. */
#include <dirent.h>
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
#include "hs_parse.h"
#include "hs_snapshot.h"
#include "hs_tool.h"

#define HS__SNAP_POLL_NS 20000000u       /* 20 ms between looks */
#define HS__SNAP_TIMEOUT_NS 30000000000u /* default --timeout: 30 s */
#define HS__SNAP_THREAD "heapsnap:"

const char hs__help_snap[] =
    "usage: heapsnap snap [--timeout S] [--dir D] PID\n"
    "\n"
    "Asks process PID, which runs the heapsnap shim, for a heap snapshot:\n"
    "finds the shim's thread (named heapsnap:<signo>), sends the snapshot\n"
    "signal to that thread alone, waits for the new <name>.PID.<n>.snap\n"
    "file and prints its absolute path. A process without the shim is left\n"
    "alone: nothing is sent.\n"
    "\n"
    "options:\n"
    "  --timeout S   wait at most S seconds (decimals allowed; default 30)\n"
    "  --dir D       look for the snapshot in D instead of the shim's\n"
    "                snapshot folder\n"
    "  -h, --help    this help\n"
    "\n"
    "exit status: 0 the path is printed; 1 no new snapshot appeared in time\n"
    "(or the process exited first); 2 usage error, no such process, no shim\n"
    "in it, its signal trigger off, or no permission.\n";

enum { HS__SNAP_HELP = 1, HS__SNAP_TIMEOUT, HS__SNAP_DIR };

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

/* The process and what the shim in it told us. */
typedef struct hs__snap_target {
  int pid;
  char pid_str[16];
  int tid;            /* the shim's thread */
  int signo;          /* its snapshot signal; 0 = trigger off */
  char dir[PATH_MAX]; /* the snapshot folder, absolute */
} hs__snap_target;

/* A sorted set of file names. */
typedef struct hs__names {
  char **v;
  size_t n, cap;
} hs__names;

static uint64_t hs__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reports a failed look at /proc; a permission error says what helps.
 * @return : HS_EXIT_USAGE. */
static int hs__snap_proc_error(const char *what, int err) {
  if (err == EACCES || err == EPERM)
    hs__tool_error("snap", "%s: %s; run as the process's user or as root", what,
                   strerror(err));
  else
    hs__tool_error("snap", "%s: %s", what, strerror(err));
  return HS_EXIT_USAGE;
}

/* Reads a small /proc file into buf, NUL-terminated.
 * @return : 0 or -errno. */
static int hs__snap_read(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "re");
  if (!f)
    return -errno;
  const size_t n = fread(buf, 1, len - 1, f);
  const int err = ferror(f) ? errno : 0;
  fclose(f);
  buf[n] = '\0';
  return -err;
}

/* Checks that the process exists and that PID is a process, not one of
 * its threads (/proc shows a thread's id too, but tgkill needs the tgid).
 * @return : 0 or HS_EXIT_USAGE after one line. */
static int hs__snap_check_process(const hs__snap_target *t) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", t->pid);
  const int rc = hs__snap_read(path, buf, sizeof buf);
  if (rc == -ENOENT || rc == -ESRCH) {
    hs__tool_error("snap", "no process %d", t->pid);
    return HS_EXIT_USAGE;
  }
  if (rc)
    return hs__snap_proc_error(path, -rc);
  const char *tgid = strstr(buf, "\nTgid:");
  if (tgid && atoi(tgid + 6) != t->pid) {
    hs__tool_error("snap", "%d is a thread of process %d; give the process id",
                   t->pid, atoi(tgid + 6));
    return HS_EXIT_USAGE;
  }
  return 0;
}

/* Reads /proc/PID/task/TID/comm; when it is "heapsnap:<signo>", sets *signo.
 * @return : 1 for the shim's thread, 0 for another, or -errno. */
static int hs__snap_thread_is_shim(int pid, int tid, int *signo) {
  char path[64], comm[32];
  uint64_t sig;
  snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
  const int rc = hs__snap_read(path, comm, sizeof comm);
  if (rc)
    return rc;
  comm[strcspn(comm, "\n")] = '\0';
  const size_t plen = sizeof HS__SNAP_THREAD - 1;
  if (strncmp(comm, HS__SNAP_THREAD, plen) != 0 ||
      hs__parse_u64(comm + plen, 0, 1024, &sig) != 0)
    return 0;
  *signo = (int)sig;
  return 1;
}

/* Finds the shim's thread: the lowest tid named "heapsnap:<signo>".
 * @return : 0 with t->tid and t->signo set, HS_ENOSHIM, or -errno. */
static int hs__snap_find_thread(hs__snap_target *t) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", t->pid);
  DIR *d = opendir(path);
  if (!d)
    return -errno;
  const struct dirent *e;
  int signo = 0;
  t->tid = 0;
  while ((e = readdir(d))) {
    const int tid = atoi(e->d_name);
    if (tid <= 0 || (t->tid && tid > t->tid))
      continue;
    const int rc = hs__snap_thread_is_shim(t->pid, tid, &signo);
    if (rc < 0 && rc != -ENOENT && rc != -ESRCH) { /* gone: skip */
      closedir(d);
      return rc;
    }
    if (rc == 1) {
      t->tid = tid;
      t->signo = signo;
    }
  }
  closedir(d);
  return t->tid ? 0 : HS_ENOSHIM;
}

/* @return : 1 when the mapped file named on a /proc/PID/maps line is
 *           libheapsnap.so (or a versioned libheapsnap.so.N), else 0. */
static int hs__snap_maps_line_is_shim(char *line) {
  char *path = strchr(line, '/');
  if (!path)
    return 0;
  path[strcspn(path, "\n")] = '\0';
  static const char deleted[] = " (deleted)"; /* replaced on disk */
  const size_t len = strlen(path), dlen = sizeof deleted - 1;
  if (len > dlen && strcmp(path + len - dlen, deleted) == 0)
    path[len - dlen] = '\0';
  const char *base = strrchr(path, '/') + 1;
  return strcmp(base, "libheapsnap.so") == 0 ||
         strncmp(base, "libheapsnap.so.", 15) == 0;
}

/* @return : 1 when the process maps libheapsnap.so, 0 if not, or -errno. */
static int hs__snap_maps_shim(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return -errno;
  char *line = NULL;
  size_t cap = 0;
  int found = 0;
  errno = 0;
  while (!found && getline(&line, &cap, f) > 0)
    found = hs__snap_maps_line_is_shim(line);
  const int err = !found && ferror(f) ? errno : 0;
  free(line);
  fclose(f);
  return err ? -err : found;
}

static int hs__snap_refuse(const hs__snap_target *t) {
  hs__tool_error("snap",
                 "process %d does not run the heapsnap shim; start "
                 "it with `heapsnap run` or LD_PRELOAD=libheapsnap.so",
                 t->pid);
  return HS_EXIT_USAGE;
}

/* Finds the shim in the process; refuses, without sending anything, when
 * it is not there or its signal trigger is off.
 * @return : 0 or HS_EXIT_USAGE after one line. */
static int hs__snap_locate(hs__snap_target *t) {
  char what[64];
  int rc = hs__snap_check_process(t);
  if (rc)
    return rc;
  snprintf(what, sizeof what, "/proc/%d/task", t->pid);
  if ((rc = hs__snap_find_thread(t)) == HS_ENOSHIM)
    return hs__snap_refuse(t);
  if (rc)
    return hs__snap_proc_error(what, -rc);
  /* A thread may take any name; the mapped shim is the proof. */
  snprintf(what, sizeof what, "/proc/%d/maps", t->pid);
  if ((rc = hs__snap_maps_shim(t->pid)) == 0)
    return hs__snap_refuse(t);
  if (rc < 0)
    return hs__snap_proc_error(what, -rc);
  if (t->signo == 0) {
    hs__tool_error("snap",
                   "process %d runs the shim with its signal trigger "
                   "off (HEAPSNAP_SIGNAL=0); it cannot be asked for "
                   "a snapshot",
                   t->pid);
    return HS_EXIT_USAGE;
  }
  return 0;
}

/* Sets t->dir: --dir made absolute, else the shim thread's working
 * directory, which the shim keeps on the snapshot folder.
 * @return : 0 or HS_EXIT_USAGE after one line. */
static int hs__snap_folder(hs__snap_target *t, const char *dir) {
  struct stat st;
  if (dir) {
    if (!realpath(dir, t->dir) || stat(t->dir, &st) != 0) {
      hs__tool_error("snap", "--dir: '%s': %s", dir, strerror(errno));
      return HS_EXIT_USAGE;
    }
    if (S_ISDIR(st.st_mode))
      return 0;
    hs__tool_error("snap", "--dir: '%s' is not a directory", dir);
    return HS_EXIT_USAGE;
  }
  char link[64];
  snprintf(link, sizeof link, "/proc/%d/task/%d/cwd", t->pid, t->tid);
  const ssize_t n = readlink(link, t->dir, sizeof t->dir - 1);
  if (n < 0)
    return hs__snap_proc_error(link, errno);
  t->dir[n] = '\0';
  return 0;
}

/* @return : 1 when `name` is "<name>.<pid>.<n>.snap" for this pid. The
 * program's name may itself hold dots, so the match is on the tail. */
static int hs__snap_name_matches(const char *name, const char *pid) {
  static const char ext[] = ".snap";
  const size_t len = strlen(name), plen = strlen(pid), elen = sizeof ext - 1;
  if (len <= elen || strcmp(name + len - elen, ext) != 0)
    return 0;
  size_t d = len - elen;
  while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
    d--;
  if (d == len - elen || d < plen + 2 || name[d - 1] != '.')
    return 0;
  d--; /* the '.' before <n> */
  return memcmp(name + d - plen, pid, plen) == 0 && name[d - plen - 1] == '.';
}

static int hs__names_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hs__names_has(const hs__names *s, const char *name) {
  return s->n && bsearch(&name, s->v, s->n, sizeof *s->v, hs__names_cmp);
}

/* @return : 0 or -ENOMEM. */
static int hs__names_add(hs__names *s, const char *name) {
  if (s->n == s->cap) {
    const size_t cap = s->cap ? 2 * s->cap : 16;
    char **v = realloc(s->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  if (!(s->v[s->n] = strdup(name)))
    return -ENOMEM;
  s->n++;
  return 0;
}

static void hs__names_free(hs__names *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
}

/* Lists the process's snapshots in the folder into `out`: those that are
 * there, or with `before` given, those that were not there before.
 * @return : 0 or -errno. */
static int hs__snap_list(const hs__snap_target *t, const hs__names *before,
                         hs__names *out) {
  DIR *d = opendir(t->dir);
  if (!d)
    return -errno;
  const struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)))
    if (hs__snap_name_matches(e->d_name, t->pid_str) &&
        !(before && hs__names_has(before, e->d_name)))
      rc = hs__names_add(out, e->d_name);
  closedir(d);
  if (out->n > 1) /* v is NULL while empty */
    qsort(out->v, out->n, sizeof *out->v, hs__names_cmp);
  return rc;
}

/* @return : 1 while the shim's thread (and so the process) is alive. */
static int hs__snap_alive(const hs__snap_target *t) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/task/%d", t->pid, t->tid);
  return stat(path, &st) == 0;
}

/* Prints the new snapshot's path. When two appeared (an interval
 * snapshot may land at the same time) the higher <n> is the later one; the
 * names share "<name>.<pid>.", so longer means higher, then strcmp. */
static int hs__snap_print(const hs__snap_target *t, const hs__names *fresh) {
  const char *best = fresh->v[0];
  for (size_t i = 1; i < fresh->n; i++) {
    const size_t a = strlen(fresh->v[i]), b = strlen(best);
    if (a > b || (a == b && strcmp(fresh->v[i], best) > 0))
      best = fresh->v[i];
  }
  const int root = strcmp(t->dir, "/") == 0;
  printf("%s/%s\n", root ? "" : t->dir, best);
  return hs__tool_flush(HS_EXIT_OK);
}

/* Polls the folder until a new snapshot shows up, the process goes away
 * or the time runs out. @return : the exit status. */
static int hs__snap_wait(const hs__snap_target *t, const hs__names *before,
                         const hs__snap_args *a) {
  const uint64_t deadline = hs__now_ns() + a->timeout_ns;
  const struct timespec poll = {0, HS__SNAP_POLL_NS};
  for (;;) {
    /* Alive is checked first: a file written just before the exit counts. */
    const int alive = hs__snap_alive(t);
    hs__names fresh = {0};
    const int rc = hs__snap_list(t, before, &fresh);
    const int status = rc        ? hs__snap_proc_error(t->dir, -rc)
                       : fresh.n ? hs__snap_print(t, &fresh)
                                 : -1;
    hs__names_free(&fresh);
    if (status >= 0)
      return status;
    if (!alive) {
      hs__tool_error("snap", "process %d exited before writing a snapshot",
                     t->pid);
      return HS_EXIT_FAIL;
    }
    if (hs__now_ns() >= deadline) {
      hs__tool_error("snap", "no new snapshot of process %d in %s after %s s",
                     t->pid, t->dir, a->timeout ? a->timeout : "30");
      return HS_EXIT_FAIL;
    }
    nanosleep(&poll, NULL);
  }
}

/* Sends the snapshot signal to the shim's thread only, so no application
 * thread is interrupted. @return : 0 or HS_EXIT_USAGE after one line. */
static int hs__snap_send(const hs__snap_target *t) {
  if (syscall(SYS_tgkill, t->pid, t->tid, t->signo) == 0)
    return 0;
  char what[64];
  snprintf(what, sizeof what, "cannot signal process %d", t->pid);
  return hs__snap_proc_error(what, errno);
}

/* Reads the options and the PID operand into `a`.
 * @return : 0, 1 after printing the help, or HS_EXIT_USAGE. */
static int hs__snap_options(int argc, char **argv, hs__snap_args *a) {
  hs__args it = {"snap", hs__snap_opts, argc, argv, 0};
  const char *v;
  int id;
  while ((id = hs__args_next(&it, &v)) > 0) {
    if (id == HS__SNAP_HELP) {
      fputs(hs__help_snap, stdout);
      return 1;
    }
    if (id == HS__SNAP_DIR)
      a->dir = v;
    else if (hs__parse_seconds(v, &a->timeout_ns) || a->timeout_ns == 0)
      return hs__tool_bad_value("snap", "timeout", "seconds > 0, such as 5", v);
    else
      a->timeout = v;
  }
  if (id < 0)
    return HS_EXIT_USAGE;
  if (it.i >= argc)
    return hs__tool_usage("snap", "missing the process id");
  if (it.i + 1 < argc)
    return hs__tool_usage("snap", "unexpected argument '%s'", argv[it.i + 1]);
  a->pid = argv[it.i];
  return 0;
}

/* Lists what is there, sends, waits. @return : the exit status. */
static int hs__snap_take(const hs__snap_target *t, const hs__snap_args *a) {
  hs__names before = {0};
  int rc = hs__snap_list(t, NULL, &before);
  if (rc)
    rc = hs__snap_proc_error(t->dir, -rc);
  else if ((rc = hs__snap_send(t)) == 0)
    rc = hs__snap_wait(t, &before, a);
  hs__names_free(&before);
  return rc;
}

int hs__cmd_snap(int argc, char **argv) {
  hs__snap_args a = {NULL, HS__SNAP_TIMEOUT_NS, NULL, NULL};
  int rc = hs__snap_options(argc, argv, &a);
  if (rc)
    return rc == 1 ? hs__tool_flush(HS_EXIT_OK) : rc;
  uint64_t pid;
  if (hs__parse_u64(a.pid, 1, INT_MAX, &pid))
    return hs__tool_usage("snap", "PID: expected a process id, got '%s'",
                          a.pid);
  hs__snap_target t = {.pid = (int)pid};
  snprintf(t.pid_str, sizeof t.pid_str, "%d", t.pid);
  if ((rc = hs__snap_locate(&t)) || (rc = hs__snap_folder(&t, a.dir)))
    return rc;
  return hs__snap_take(&t, &a);
}
