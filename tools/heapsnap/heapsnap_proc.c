/* heapsnap_proc.c - a process as the launcher sees it (heapsnap_proc.h). */
#include "heapsnap_proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hs_parse.h"
#include "hs_tool.h"

/* Reads a small /proc file into buf, NUL-terminated. @return : bytes or
 * -errno. */
static long hs__proc_read(int pid, const char *file, char *buf, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  FILE *f = fopen(path, "re");
  if (!f)
    return -errno;
  const size_t n = fread(buf, 1, len - 1, f);
  const int err = ferror(f) ? errno : 0;
  fclose(f);
  buf[n] = '\0';
  return err ? -err : (long)n;
}

/* The last number on the line of /proc/PID/status that starts with key. */
static int hs__proc_field(const char *status, const char *key, int nth,
                          long *out) {
  const char *line = strstr(status, key);
  if (!line)
    return -ENOENT;
  const char *p = line + strlen(key);
  const char *end = strchr(p, '\n');
  long v = 0;
  int found = 0;
  for (int i = 0; p && (!end || p < end); i++) {
    char *next;
    const long x = strtol(p, &next, 10);
    if (next == p)
      break;
    if (nth < 0 || i == nth)
      v = x, found = 1;
    p = next;
  }
  if (!found)
    return -ENOENT;
  *out = v;
  return 0;
}

int hs__proc_comm(int pid, int tid, char *out, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
  FILE *f = fopen(path, "re");
  if (!f)
    return 0;
  const int got = fgets(out, (int)len, f) != NULL;
  fclose(f);
  if (got)
    out[strcspn(out, "\n")] = '\0';
  return got;
}

/* The state letter of /proc/PID/status text (R, S, T, t, Z...), or 0. */
static char hs__proc_state(const char *status) {
  const char *s = strstr(status, "\nState:");
  if (!s)
    return 0;
  s += strlen("\nState:");
  return s[strspn(s, " \t")];
}

/* 1 when /proc/PID/status text says its thread has ended: a zombie (Z),
 * or dying (X). */
static int hs__proc_zombie(const char *status) {
  const char state = hs__proc_state(status);
  return state == 'Z' || state == 'X';
}

/* A thread of process pid other than the main one, or pid itself when it
 * has none: the files of a main thread that called pthread_exit (its
 * maps, root, cmdline, namespaces) read empty or fail, another thread's
 * do not. */
static int hs__proc_other_thread(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  const struct dirent *e;
  int tid = pid;
  while (d && tid == pid && (e = readdir(d)))
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && atoi(e->d_name) != pid)
      tid = atoi(e->d_name);
  if (d)
    closedir(d);
  return tid;
}

/* /proc/PID/file, or the same of a live thread when the main one has
 * exited. */
static void hs__proc_path(const hs__proc *p, const char *file, char *out,
                          size_t len) {
  if (p->live != p->pid)
    snprintf(out, len, "/proc/%d/task/%d/%s", p->pid, p->live, file);
  else
    snprintf(out, len, "/proc/%d/%s", p->pid, file);
}

int hs__proc_get(int pid, hs__proc *p) {
  char buf[4096];
  long n = hs__proc_read(pid, "status", buf, sizeof buf);
  if (n < 0)
    return (int)n;
  long tgid, ppid, euid, nspid;
  if (hs__proc_field(buf, "\nTgid:", 0, &tgid) ||
      hs__proc_field(buf, "\nPPid:", 0, &ppid) ||
      hs__proc_field(buf, "\nUid:", 1, &euid))
    return -EINVAL;
  long tracer;
  if (hs__proc_field(buf, "\nTracerPid:", 0, &tracer))
    tracer = 0;
  if (hs__proc_field(buf, "\nNSpid:", -1, &nspid))
    nspid = pid; /* a kernel before 4.1 */
  long threads;
  if (hs__proc_field(buf, "\nThreads:", 0, &threads))
    threads = 1;
  memset(p, 0, sizeof *p);
  /* a main thread that called pthread_exit stays a zombie while the
   * others run on: the process lives */
  p->ended = hs__proc_zombie(buf) && threads <= 1;
  p->leader_gone = hs__proc_zombie(buf) && threads > 1;
  p->tracer = (int)tracer;
  p->pid = pid;
  p->tgid = (int)tgid;
  p->ppid = (int)ppid;
  p->euid = (unsigned)euid;
  p->nspid = (int)nspid;
  if ((n = hs__proc_read(pid, "stat", buf, sizeof buf)) < 0)
    return (int)n;
  if (hs_status_start_of(buf, &p->start))
    return -EINVAL;
  p->live = p->leader_gone ? hs__proc_other_thread(pid) : pid;
  char path[96];
  struct stat ns;
  hs__proc_path(p, "ns/pid", path, sizeof path);
  p->pidns = stat(path, &ns) == 0 ? (uint64_t)ns.st_ino : 0;
  return 0;
}

/* What the mapped file named on a maps line is: HS__SHIM_PRELOADED for
 * libheapsnap.so, HS__SHIM_ATTACHED for libheapsnap-attach.so, else 0. */
static int hs__maps_line_is_shim(char *line) {
  char *path = strchr(line, '/');
  if (!path)
    return 0;
  path[strcspn(path, "\n")] = '\0';
  static const char deleted[] = " (deleted)"; /* replaced on disk */
  const size_t len = strlen(path), dlen = sizeof deleted - 1;
  if (len > dlen && strcmp(path + len - dlen, deleted) == 0)
    path[len - dlen] = '\0';
  const char *base = hs__tool_basename(path);
  if (strcmp(base, "libheapsnap-attach.so") == 0)
    return HS__SHIM_ATTACHED;
  return strcmp(base, "libheapsnap.so") == 0 ||
                 strncmp(base, "libheapsnap.so.", 15) == 0
             ? HS__SHIM_PRELOADED
             : 0;
}

/* The address space's maps: the process's, or when its main thread has
 * exited (its maps read empty) another thread's. */
static FILE *hs__proc_maps_open(int pid) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  FILE *f = fopen(path, "re");
  const int c = f ? getc(f) : EOF;
  if (c != EOF)
    ungetc(c, f);
  const int other = f && c == EOF ? hs__proc_other_thread(pid) : pid;
  if (other == pid) {
    if (f)
      rewind(f);
    return f;
  }
  fclose(f);
  snprintf(path, sizeof path, "/proc/%d/task/%d/maps", pid, other);
  return fopen(path, "re");
}

int hs__proc_maps_shim(int pid) {
  FILE *f = hs__proc_maps_open(pid);
  if (!f)
    return -errno;
  char *line = NULL;
  size_t cap = 0;
  int found = 0;
  errno = 0;
  while (!found && getline(&line, &cap, f) > 0)
    found = hs__maps_line_is_shim(line);
  const int err = !found && ferror(f) ? errno : 0;
  free(line);
  fclose(f);
  return err ? -err : found;
}

/* The file at root + base, if it is this process's. */
static int hs__proc_status_at(const hs__proc *p, const char *root,
                              const char *base, hs_status *st) {
  char dir[128], path[160];
  if (hs_status_folder(dir, sizeof dir, root, base, p->euid))
    return -ENAMETOOLONG;
  snprintf(path, sizeof path, "%s/%d", dir, p->nspid);
  const int rc = hs_status_read(path, st);
  if (rc)
    return rc;
  return st->pid == p->nspid && st->start == p->start ? 0 : -ENOENT;
}

/* The file in another user's folder: a process that changed its user
 * after its shim started (a server's worker that drops root). */
static int hs__proc_status_any(const hs__proc *p, const char *root,
                               const char *base, hs_status *st) {
  char dir[128];
  snprintf(dir, sizeof dir, "%s%s", root, base);
  DIR *d = opendir(dir);
  if (!d)
    return -errno;
  int rc = -ENOENT;
  const struct dirent *e;
  unsigned uid;
  while (rc && (e = readdir(d)))
    if (sscanf(e->d_name, "heapsnap-%u", &uid) == 1 && uid != p->euid) {
      hs__proc other = *p;
      other.euid = uid;
      rc = hs__proc_status_at(&other, root, base, st);
    }
  closedir(d);
  return rc;
}

int hs__proc_status(const hs__proc *p, hs_status *st) {
  static const char *const bases[] = {"/dev/shm", "/tmp"};
  char root[96];
  hs__proc_path(p, "root", root, sizeof root);
  const char *r = root;
  hs_status probe;
  /* No right to its root (another user's process): look at ours. */
  if (hs__proc_status_at(p, r, bases[0], &probe) == -EACCES)
    r = "";
  int rc = -ENOENT;
  for (int i = 0; i < 2 && rc; i++)
    rc = hs__proc_status_at(p, r, bases[i], st);
  for (int i = 0; i < 2 && rc && rc != -EACCES && rc != -EPERM; i++)
    rc = hs__proc_status_any(p, r, bases[i], st);
  return rc < 0 && rc != -EACCES && rc != -EPERM ? -ENOENT : rc;
}

int hs__proc_stopped(int pid) {
  char path[64], file[48], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  const struct dirent *e;
  int stopped = 0;
  /* Every thread: the one attach or detach holds runs (traced, 't' or
   * running) while the others of a stopped process are 'T'. */
  while (d && !stopped && (e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9')
      continue;
    snprintf(file, sizeof file, "task/%.16s/status", e->d_name);
    stopped = hs__proc_read(pid, file, buf, sizeof buf) > 0 &&
              hs__proc_state(buf) == 'T';
  }
  if (d)
    closedir(d);
  return stopped;
}

void hs__proc_cmdline(int pid, char *buf, size_t len) {
  long n = hs__proc_read(pid, "cmdline", buf, len);
  const int other = n == 0 ? hs__proc_other_thread(pid) : pid;
  if (other != pid) { /* the main thread has exited: its cmdline is empty */
    char file[48];
    snprintf(file, sizeof file, "task/%d/cmdline", other);
    n = hs__proc_read(pid, file, buf, len);
  }
  if (n <= 0) {
    buf[0] = '\0';
    return;
  }
  for (long i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
    else if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
      buf[i] = '?';
  long end = n;
  while (end > 0 && buf[end - 1] == ' ')
    end--;
  buf[end] = '\0';
}

void hs__proc_signal_name(int signo, char *buf, size_t len) {
  if (signo <= 0)
    snprintf(buf, len, "none");
  else
    hs__signal_name(signo, buf, (unsigned)len);
}
