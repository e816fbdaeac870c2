/* heapsnap_ps.c - `heapsnap ps`: the processes that run the shim.
 *
 * Every process in /proc that maps libheapsnap.so and that this user may
 * look at, one line each, with what its status file says (mode, folder,
 * snapshots written, signal). A pre-forking server's workers show up with
 * their parent's pid, so a user finds the worker to snapshot. Status files
 * left by processes that no longer exist (killed, crashed) are removed on
 * the way. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heapsnap_cmds.h"
#include "hd_map.h"
#include "heapsnap_proc.h"
#include "hs_tool.h"

const char hs__help_ps[] =
    "usage: heapsnap ps [--json]\n"
    "\n"
    "Lists the processes that run the heapsnap shim (those this user may\n"
    "look at; all of them as root), one line each: pid, parent pid, mode\n"
    "(full or sampled), snapshots written so far, the signal that asks for\n"
    "a snapshot, the snapshot folder and the command line. A child of fork\n"
    "whose shim has not started yet (it starts at the child's first\n"
    "allocation) shows its parent's settings, 0 snapshots and \"not\n"
    "started\" for its signal.\n"
    "\n"
    "options:\n"
    "  --json        an array of objects with the fields pid, ppid, mode,\n"
    "                dir, snapshots, command, signal, started\n"
    "  -h, --help    this help\n"
    "\n"
    "exit status: 0 (also when no process runs the shim); 2 usage error or\n"
    "/proc cannot be read.\n";

enum { HS__PS_HELP = HS__OPT_HELP, HS__PS_JSON };

static const hs__opt hs__ps_opts[] = {
    {"help", HS__PS_HELP, 0},
    {"json", HS__PS_JSON, 0},
    {NULL, 0, 0},
};

/* One process as listed. */
typedef struct hs__ps_row {
  int pid, ppid, started;
  const char *mode;
  unsigned long long snapshots;
  char signal[16];
  char dir[4096];
  char command[4096];
} hs__ps_row;

/* The status of a child of fork that has not started its shim: its
 * parent's settings. @return : 0 or -ENOENT. */
static int hs__ps_inherited(const hs__proc *p, hs_status *st) {
  hs__proc parent;
  if (hs__proc_get(p->ppid, &parent) || hs__proc_status(&parent, st))
    return -ENOENT;
  st->written = 0;
  return 0;
}

/* 1 for the shim's own copy of a process (the scan's clone, or precise
 * mode's helper): named after the shim's thread that made it
 * ("heapsnap:N"), not a process of the program. */
static int hs__ps_copy(int pid) {
  char comm[32];
  return hs__proc_comm(pid, pid, comm, sizeof comm) &&
         strncmp(comm, "heapsnap:", 9) == 0;
}

/* @return : 1 with row filled for a process that runs the shim, else 0. */
static int hs__ps_look(int pid, hs__ps_row *row) {
  hs__proc p;
  hs_status st;
  const int shim = hs__proc_get(pid, &p) || p.tgid != pid || hs__ps_copy(pid)
                       ? 0
                       : hs__proc_maps_shim(pid);
  if (shim <= 0 || (shim == HS__SHIM_ATTACHED && hs__proc_status(&p, &st)))
    return 0; /* no shim, or detached */
  memset(row, 0, sizeof *row);
  row->pid = pid;
  row->ppid = p.ppid;
  row->started = hs__proc_status(&p, &st) == 0;
  if (row->started || hs__ps_inherited(&p, &st) == 0) {
    row->mode = st.mode == HS_STATUS_SAMPLED ? "sampled" : "full";
    row->snapshots = (unsigned long long)st.written;
    hs__proc_signal_name(st.signo, row->signal, sizeof row->signal);
    snprintf(row->dir, sizeof row->dir, "%s", st.dir);
  } else {
    row->mode = "unknown"; /* no status: the shim did not start */
    snprintf(row->signal, sizeof row->signal, "-");
  }
  hs__proc_cmdline(pid, row->command, sizeof row->command);
  return 1;
}

static void hs__ps_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    const unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

/* dir_w: the DIR column's width, so that COMMAND lines up. */
static void hs__ps_print(const hs__ps_row *r, int json, int first, int dir_w) {
  if (!json) {
    /* A child of fork before its shim starts cannot be asked yet (snap
     * refuses it): said in its SIGNAL column, which its 0 alone did not
     * tell from a started one's. */
    printf("%-7d %-7d %-7s %5llu  %-12s %-*s  ", r->pid, r->ppid, r->mode,
           r->snapshots,
           r->started || r->signal[0] == '-' ? r->signal : "not started", dir_w,
           r->dir[0] ? r->dir : "-");
    hs__tool_put_safe(stdout, r->command);
    putchar('\n');
    return;
  }
  printf("%s\n  {\"pid\": %d, \"ppid\": %d, \"mode\": \"%s\", \"dir\": ",
         first ? "" : ",", r->pid, r->ppid, r->mode);
  hs__ps_json_string(r->dir);
  printf(", \"snapshots\": %llu, \"command\": ", r->snapshots);
  hs__ps_json_string(r->command);
  printf(", \"signal\": \"%s\", \"started\": %s}", r->signal,
         r->started ? "true" : "false");
}

/* Removes the status files, in this user's folders as this process sees
 * them, of processes of this pid namespace that no longer exist. */
static void hs__ps_tidy(void) {
  static const char *const bases[] = {"/dev/shm", "/tmp"};
  hs__proc self;
  if (hs__proc_get((int)getpid(), &self))
    return;
  for (int i = 0; i < 2; i++) {
    char dir[128], path[512];
    if (hs_status_folder(dir, sizeof dir, "", bases[i], (unsigned)geteuid()))
      continue;
    DIR *d = opendir(dir);
    const struct dirent *e;
    while (d && (e = readdir(d))) {
      hs_status st;
      char proc[300];
      struct stat ps;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      snprintf(proc, sizeof proc, "/proc/%s", e->d_name);
      if (isdigit((unsigned char)e->d_name[0]) &&
          hs_status_read(path, &st) == 0 && st.pidns == self.pidns &&
          stat(proc, &ps) != 0 && errno == ENOENT)
        unlink(path);
    }
    if (d)
      closedir(d);
  }
}

/* Reads the options: --json sets *json.
 * @return : 0, HS__TOOL_DONE after printing the help, or HS_EINVAL. */
static int hs__ps_options(int argc, char **argv, int *json) {
  hs__args it = {"ps", hs__ps_opts, argc, argv, 0, hs__help_ps};
  const char *v;
  int id;
  while ((id = hs__args_next(&it, &v)) > HS__TOOL_DONE) {
    *json = 1;
  }
  if (id == 0 && it.i < argc)
    return hs__tool_usage("ps", "unexpected argument '%s'", argv[it.i]);
  return id;
}

/* One row per process that maps the shim. @return : 0 or -errno. */
static int hs__ps_list(int json) {
  DIR *d = opendir("/proc");
  if (!d) {
    const int err = errno;
    hs__tool_error("ps", "/proc: %s", strerror(err));
    return -err;
  }
  hs__ps_tidy();
  /* All rows first: the DIR column is as wide as its longest folder. */
  hs__ps_row *rows = NULL;
  size_t n = 0, cap = 0;
  int dir_w = 3, rc = 0;
  const struct dirent *e;
  while (!rc && (e = readdir(d))) {
    if (n == cap && hd_grow(&rows, &cap, n, sizeof *rows, 16)) {
      rc = HS_ENOMEM;
      break;
    }
    if (isdigit((unsigned char)e->d_name[0]) &&
        hs__ps_look(atoi(e->d_name), &rows[n])) {
      const int w = (int)strlen(rows[n].dir[0] ? rows[n].dir : "-");
      dir_w = w > dir_w ? w : dir_w;
      n++;
    }
  }
  closedir(d);
  if (json)
    putchar('[');
  else
    printf("%-7s %-7s %-7s %5s  %-12s %-*s  %s\n", "PID", "PPID", "MODE",
           "SNAPS", "SIGNAL", dir_w, "DIR", "COMMAND");
  for (size_t i = 0; i < n; i++)
    hs__ps_print(&rows[i], json, i == 0, dir_w);
  if (json)
    printf("%s]\n", n ? "\n" : "");
  free(rows);
  if (rc)
    hs__tool_error("ps", "%s", hs_strerror(rc));
  return rc;
}

int hs__cmd_ps(int argc, char **argv) {
  int json = 0;
  int rc = hs__ps_options(argc, argv, &json);
  if (!rc)
    rc = hs__ps_list(json);
  return hs__tool_exit("ps", rc);
}
