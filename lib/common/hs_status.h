/* hs_status.h - the status channel: what the shim in a process tells
 * heapsnap's tools about itself (docs/environment.md, "The status file").
 *
 * One file per process that runs the shim, 8192 bytes, at
 * <base>/heapsnap-<euid>/<pid> where <base> is /dev/shm, or /tmp when
 * /dev/shm cannot be used, and <pid> the process id as the process sees
 * it. The folder is the user's own (mode 0700); the file is 0600. The shim
 * maps the file shared and updates it in place; a tool reads it whole and
 * trusts it only when the process with that pid still has the recorded
 * start time and maps the shim. Nothing in it is needed by the process
 * itself: a process whose file cannot be written runs on without it.
 *
 * No allocation, no stdio: the shim uses the path rule and the reader. */
#ifndef HS_STATUS_H
#define HS_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "hs_snapshot.h"

#define HS_STATUS_MAGIC "HSSTATS1" /* 8 bytes, no NUL */
#define HS_STATUS_SIZE 8192u

/* mode */
#define HS_STATUS_FULL 0u    /* every block recorded */
#define HS_STATUS_SAMPLED 1u /* a Poisson sample (sample_bytes) */

/* flags */
#define HS_STATUS_THREAD 0x1u /* the snapshot thread runs (tid) */
#define HS_STATUS_MOVED 0x2u  /* the program took the configured signal */
#define HS_STATUS_CHILD 0x4u  /* a child of fork (of ppid) */

/* The file's content. Integers are the host's (the file never leaves the
 * machine); strings are NUL-terminated. */
typedef struct hs_status {
  char magic[8];
  uint32_t size;  /* HS_STATUS_SIZE */
  uint32_t seq;   /* odd while the shim writes; readers retry */
  int32_t pid;    /* as the process sees itself */
  int32_t ppid;   /* at start, or at fork for a child */
  uint64_t start; /* start time, field 22 of /proc/PID/stat */
  uint64_t pidns; /* inode of /proc/PID/ns/pid: where pid means it */
  uint32_t flags;
  uint32_t mode;
  int32_t signo;      /* the signal that asks for a snapshot now; 0: none */
  int32_t signo_conf; /* the one configured (HEAPSNAP_SIGNAL) */
  int32_t tid;        /* the snapshot thread, when it runs */
  int32_t last_error; /* the last attempt's error (HS_E* or -errno), 0 */
  uint64_t sample_bytes;
  uint64_t interval_ns;
  uint64_t attempts; /* snapshots tried */
  uint64_t written;  /* snapshots written */
  uint64_t last_n;   /* <n> of the last file written */
  uint64_t error_at; /* the attempt (1, 2, ...) last_error is about */
  uint64_t last_ns;  /* CLOCK_REALTIME at the end of the last attempt */
  char name[64];     /* <name> in <name>.<pid>.<n>.snap */
  char program[64];  /* the program's name, for messages */
  char dir[4096];    /* the snapshot folder, absolute */
  char pad[3848];
} hs_status;

_Static_assert(sizeof(hs_status) == HS_STATUS_SIZE, "hs_status layout");

/*! Writes the status folder for `uid` under `base` ("/dev/shm", "/tmp"),
 * prefixed by `root` ("" or "/proc/PID/root"), into buf.
 * @return : 0, or HS_EINVAL when it does not fit. */
int hs_status_folder(char *buf, size_t len, const char *root, const char *base,
                     unsigned uid);

/*! Reads the status file at `path` into `out`: a consistent copy, with
 * the magic and size checked and the strings terminated.
 * @return : 0, HS_EMAGIC (not a status file), HS_ETRUNC (short), or
 *           -errno from open or read (-ENOENT: there is none). */
int hs_status_read(const char *path, hs_status *out);

/*! Reads the start time (field 22) from the text of a /proc/PID/stat.
 * @return : 0 or HS_EINVAL. */
int hs_status_start_of(const char *stat, uint64_t *out);

#endif /* HS_STATUS_H */
