/* hd_out.c - writing heapdiff's output files (--html, --pprof): gzip in
 * memory, and a regular file written whole or not at all (a device or a
 * pipe is written into, as is this tool's own stdout named /dev/stdout; a
 * symbolic link's file replaced, or made, the link kept), even when a
 * signal ends the process meanwhile (hd_end_sigs). */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hd.h"
#include "hs_tool.h"

int hd_gzip(const void *in, size_t n, int level, uint8_t **out, size_t *len) {
  z_stream z = {0};
  *out = NULL;
  if (n > UINT32_MAX / 2) /* zlib counts in uInt */
    return HS_ENOMEM;
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    return HS_ENOMEM;
  const size_t cap = deflateBound(&z, (uLong)n) + 32;
  *out = malloc(cap);
  z.next_in = (Bytef *)in, z.avail_in = (uInt)n;
  z.next_out = *out, z.avail_out = (uInt)cap;
  const int zrc = *out ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
  *len = cap - z.avail_out;
  deflateEnd(&z);
  if (zrc == Z_STREAM_END)
    return 0;
  free(*out);
  *out = NULL;
  return HS_ENOMEM;
}

/* The signals that end the process by default and may come while a
 * temporary file exists: ^C, ^\, kill, a closed terminal, a closed pipe;
 * a limit reached (ulimit -f: the write itself raises SIGXFSZ; ulimit -t,
 * a timer, a profiler's) and the signals a user sends that the tool does
 * not use, the real-time ones too. */
static const int hd_end_sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGPIPE,   SIGTERM,
                                  SIGXFSZ, SIGXCPU, SIGALRM, SIGVTALRM, SIGPROF,
                                  SIGPWR,  SIGUSR1, SIGUSR2};

static int hd_is_end_sig(int sig) {
  for (size_t i = 0; i < sizeof hd_end_sigs / sizeof *hd_end_sigs; i++)
    if (hd_end_sigs[i] == sig)
      return 1;
  return sig >= SIGRTMIN && sig <= SIGRTMAX;
}

/* The temporary file that exists, for the handler, and the dispositions
 * it replaced (by signal number); both set and read back with the
 * signals blocked. */
static const char *volatile hd_tmp_live;
static struct sigaction hd_sigs_before[NSIG];

static void hd_end_sigs_set(sigset_t *set) {
  sigemptyset(set);
  for (int sig = 1; sig < NSIG; sig++)
    if (hd_is_end_sig(sig))
      sigaddset(set, sig);
}

/* Removes the temporary file, then ends the process as the signal would
 * have (128+N to a shell): a partial file is left under no name. Only
 * async-signal-safe calls; the re-raised signal, blocked in here, is
 * taken when the handler returns. */
static void hd_tmp_on_signal(int sig) {
  if (hd_tmp_live)
    unlink(hd_tmp_live);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Creates the temporary file from the template `tmp`; until hd_tmp_end()
 * the end signals remove it first. They are blocked meanwhile, so none
 * comes between the file's creation and the handler knowing its name; one
 * ignored (nohup, SIGINT in a background job) stays ignored.
 * @return : the descriptor, or -errno. */
static int hd_tmp_begin(char *tmp) {
  sigset_t set, old;
  hd_end_sigs_set(&set);
  sigprocmask(SIG_BLOCK, &set, &old);
  const int fd = mkostemp(tmp, O_CLOEXEC);
  const int err = errno;
  if (fd >= 0) {
    const struct sigaction on = {.sa_handler = hd_tmp_on_signal,
                                 .sa_mask = set};
    hd_tmp_live = tmp;
    for (int sig = 1; sig < NSIG; sig++)
      if (hd_is_end_sig(sig) && !sigaction(sig, NULL, &hd_sigs_before[sig]) &&
          hd_sigs_before[sig].sa_handler != SIG_IGN)
        sigaction(sig, &on, NULL);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return fd >= 0 ? fd : -err;
}

/* Renames the temporary file to `to`, or removes it (`to` NULL, or the
 * rename failed), and gives the end signals back their dispositions: one
 * that came meanwhile then ends the process, the file whole or gone.
 * @return : 0, or the rename's -errno. */
static int hd_tmp_end(const char *tmp, const char *to) {
  sigset_t set, old;
  hd_end_sigs_set(&set);
  sigprocmask(SIG_BLOCK, &set, &old);
  const int rc = to && rename(tmp, to) ? -errno : 0;
  if (!to || rc)
    unlink(tmp);
  hd_tmp_live = NULL;
  for (int sig = 1; sig < NSIG; sig++)
    if (hd_is_end_sig(sig))
      sigaction(sig, &hd_sigs_before[sig], NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return rc;
}

/* Gives the new temporary file fd what the file it replaces had (`was`,
 * NULL for a new file): its owner and group where this user may set them
 * (root; a group the user is in), then its mode, after the chown that
 * clears set-id bits. A new file gets the mode a new file gets (the
 * umask's), not mkstemp's 0600. @return : 0 or -errno. */
static int hd_tmp_like(int fd, const struct stat *was) {
  if (!was) {
    const mode_t mask = umask(0);
    umask(mask);
    return fchmod(fd, 0666 & ~mask) ? -errno : 0;
  }
  if ((was->st_uid != geteuid() || was->st_gid != getegid()) &&
      fchown(fd, was->st_uid, was->st_gid))
    (void)!fchown(fd, (uid_t)-1, was->st_gid); /* the owner is ours now */
  return fchmod(fd, was->st_mode & 07777) ? -errno : 0;
}

/* put() into the new temporary file fd, made like `was` (hd_tmp_like),
 * flushed to disk; fd is closed. */
static int hd_put_tmp(int fd, const struct stat *was,
                      int (*put)(FILE *, void *), void *ctx) {
  FILE *out = fdopen(fd, "w");
  if (!out) {
    const int err = -errno;
    close(fd);
    return err;
  }
  int rc = hd_tmp_like(fd, was);
  rc = rc ? rc : put(out, ctx);
  if (fflush(out) && (!rc || rc == HS_EINVAL || rc == -EIO))
    rc = -errno; /* the write's own reason: put() says only that one failed */
  if (!rc && fsync(fd))
    rc = -errno;
  if (fclose(out) && !rc)
    rc = -errno;
  return rc;
}

int hd_out_fd(const char *path) {
  if (!path)
    return -1;
  if (!strcmp(path, "/dev/stdout"))
    return 1;
  if (!strcmp(path, "/dev/stderr"))
    return 2;
  const char *n = !strncmp(path, "/dev/fd/", 8)          ? path + 8
                  : !strncmp(path, "/proc/self/fd/", 14) ? path + 14
                                                         : NULL;
  if (!n || *n < '0' || *n > '9')
    return -1;
  char *end;
  const long fd = strtol(n, &end, 10);
  return *end || fd > 1 << 20 ? -1 : (int)fd;
}

/* put(), then the flush and close, with the write's own reason. */
static int hd_put_close(FILE *out, int (*put)(FILE *, void *), void *ctx) {
  int rc = put(out, ctx);
  if (fflush(out) && (!rc || rc == HS_EINVAL || rc == -EIO))
    rc = -errno; /* put() says only that a write failed */
  if (fclose(out) && !rc)
    rc = -errno;
  return rc;
}

/* put() into this tool's own descriptor fd, as the shell opened it:
 * reopened by name, /dev/stdout on a file would truncate it (even one
 * opened for appending, >>), and a file renamed over it would replace
 * it. */
static int hd_save_fd(int fd, int (*put)(FILE *, void *), void *ctx) {
  const int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  FILE *out = own < 0 ? NULL : fdopen(own, "w");
  if (!out) {
    const int err = -errno;
    if (own >= 0)
      close(own);
    return err;
  }
  return hd_put_close(out, put, ctx);
}

/* put() straight into what path names, which exists and is no regular
 * file: a device (/dev/null), a pipe. Renaming a file over it would
 * replace it. */
static int hd_save_into(const char *path, int (*put)(FILE *, void *),
                        void *ctx) {
  FILE *out = fopen(path, "we");
  if (!out)
    return -errno;
  return hd_put_close(out, put, ctx);
}

/* The file a link that names no file yet would make: its target, read
 * link by link (relative to each link's folder). NULL for a loop. */
static char *hd_link_end(const char *path) {
  char *at = strdup(path);
  struct stat st;
  for (int hops = 0; at && hops < 40; hops++) {
    if (lstat(at, &st) || !S_ISLNK(st.st_mode))
      return at;
    char to[PATH_MAX];
    const ssize_t k = readlink(at, to, sizeof to - 1);
    if (k < 0)
      break;
    to[k] = '\0';
    const char *slash = strrchr(at, '/');
    char *next;
    if (to[0] == '/' || !slash)
      next = strdup(to);
    else if (asprintf(&next, "%.*s/%s", (int)(slash - at), at, to) < 0)
      next = NULL;
    free(at);
    at = next;
  }
  free(at);
  return NULL;
}

/* The temporary file's name beside `at`: "AT.tmp.XXXXXX", or, when that
 * would be longer than a name may be, ".heapdiff.tmp.XXXXXX" in the same
 * folder. */
static char *hd_tmp_name(const char *at) {
  const char *slash = strrchr(at, '/');
  const char *base = slash ? slash + 1 : at;
  char *tmp = NULL;
  if (strlen(base) + 11 <= NAME_MAX) {
    if (asprintf(&tmp, "%s.tmp.XXXXXX", at) < 0)
      tmp = NULL;
  } else if (asprintf(&tmp, "%.*s.heapdiff.tmp.XXXXXX", (int)(base - at), at) <
             0) {
    tmp = NULL;
  }
  return tmp;
}

/* Whether this user may replace the regular file `at`, if it exists, as
 * a plain write could: the rename would replace a file the user may not
 * write (another user's, in a folder anyone may write), and root may
 * write any file, a read-only one too. *exists says whether there is one
 * to replace, and then *st is its stat. @return : 0 or -errno. */
static int hd_may_replace(const char *at, struct stat *st, int *exists) {
  *exists = 0;
  if (stat(at, st) || !S_ISREG(st->st_mode))
    return 0; /* a new file */
  if (faccessat(AT_FDCWD, at, W_OK, AT_EACCESS))
    return errno == ENOENT ? 0 : -errno;
  *exists = 1;
  return st->st_mode & 0222 ? 0 : -EACCES;
}

/* Says, for `shown` (the name given), that no temporary file can be made
 * in the folder of `at`, which is what fails when the file itself may be
 * writable. @return : HS__TOOL_EFAIL after that line, or err itself when
 * the folder is missing: hd_save's line says so for the name given. */
static int hd_tmp_failed(const char *shown, const char *at, int err) {
  if (err == -ENOENT || err == -ENOTDIR)
    return err;
  const char *const slash = strrchr(at, '/');
  const int len = slash && slash > at ? (int)(slash - at) : 1;
  hs__tool_error(NULL,
                 "%s: cannot create a temporary file in %.*s (%s): the file "
                 "is written there first, then renamed into place; choose a "
                 "writable folder",
                 shown, len, slash ? at : ".", hs_strerror(err));
  return HS__TOOL_EFAIL;
}

/* A regular file: a temporary one beside it, renamed over it when whole.
 * Through a symbolic link, the file it names (the link stays). `shown`
 * names it to the user. */
static int hd_save_file(const char *shown, const char *path,
                        int (*put)(FILE *, void *), void *ctx) {
  char *const real = realpath(path, NULL); /* NULL: a new file */
  const char *const at = real ? real : path;
  char *tmp = hd_tmp_name(at);
  struct stat was;
  int exists = 0;
  int rc = tmp ? hd_may_replace(at, &was, &exists) : HS_ENOMEM;
  const int fd = rc ? -1 : hd_tmp_begin(tmp);
  if (!rc && fd < 0)
    rc = hd_tmp_failed(shown, at, fd);
  if (!rc) {
    rc = hd_put_tmp(fd, exists ? &was : NULL, put, ctx);
    const int moved = hd_tmp_end(tmp, rc ? NULL : at);
    rc = rc ? rc : moved;
  }
  free(tmp);
  free(real);
  return rc;
}

int hd_save(const char *path, const char *what, int (*put)(FILE *, void *),
            void *ctx) {
  struct stat st;
  int rc;
  if (hd_out_fd(path) >= 0)
    rc = hd_save_fd(hd_out_fd(path), put, ctx);
  else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    rc = -EISDIR;
  else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    rc = hd_save_into(path, put, ctx);
  else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
           stat(path, &st) != 0) { /* a link to no file yet: its target */
    char *const end = hd_link_end(path);
    rc = end ? hd_save_file(path, end, put, ctx) : -ELOOP;
    free(end);
  } else {
    rc = hd_save_file(path, path, put, ctx);
  }
  if (rc && rc != HS__TOOL_EFAIL) /* EFAIL: its line is out */
    hs__tool_error(NULL, "%s: cannot write the %s: %s", path, what,
                   hs_strerror(rc == HS_EINVAL ? -EIO : rc));
  return rc ? HS__TOOL_EFAIL : 0;
}
