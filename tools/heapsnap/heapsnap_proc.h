/* heapsnap_proc.h - what the launcher learns of a process from /proc and
 * from the shim's status file (lib/common/hs_status.h): for `heapsnap
 * snap` and `heapsnap ps`.
 *
 * Every function returns 0 or a negative code: -errno from /proc
 * (-ENOENT, -ESRCH: no such process; -EACCES, -EPERM: not ours to see),
 * or HS_ENOSHIM. Nothing prints. */
#ifndef HEAPSNAP_PROC_H
#define HEAPSNAP_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "hs_status.h"

typedef struct hs__proc {
  int pid, tgid, ppid;
  int ended;       /* exited, its parent not told yet (state Z or X) */
  int leader_gone; /* its main thread exited (pthread_exit), others run */
  int live;        /* a live thread: the pid, or another when leader_gone */
  int tracer;      /* the process tracing it (TracerPid), 0 if none */
  unsigned euid;
  int nspid;      /* the pid as the process sees itself (NSpid, last) */
  uint64_t start; /* field 22 of /proc/PID/stat */
  uint64_t pidns; /* inode of /proc/PID/ns/pid, 0 if unknown */
} hs__proc;

/*! Reads /proc/PID/status and /proc/PID/stat into p. */
int hs__proc_get(int pid, hs__proc *p);

/*! Thread TID's name (/proc/PID/task/TID/comm, the newline cut; TID = PID:
 * the process's) into out. @return : 1, or 0 when it cannot be read. */
int hs__proc_comm(int pid, int tid, char *out, size_t len);

/*! @return : HS__SHIM_PRELOADED when the process maps libheapsnap.so (or
 *           .so.N), HS__SHIM_ATTACHED when it maps libheapsnap-attach.so
 *           (`heapsnap attach`; detached when it has no status file), 0 if
 *           neither, or -errno. */
int hs__proc_maps_shim(int pid);
#define HS__SHIM_PRELOADED 1
#define HS__SHIM_ATTACHED 2

/*! Reads the process's status file, looked for as the process sees its
 * file system (/proc/PID/root/dev/shm/heapsnap-EUID/NSPID, then /tmp), and
 * keeps it only when it is that process's: the same pid and start time.
 * @return : 0 with *st filled, -ENOENT when there is none, or -errno. */
int hs__proc_status(const hs__proc *p, hs_status *st);

/*! @return : 1 when a thread of process pid is stopped by a signal
 *           (SIGSTOP, ^Z: state T, not a tracer's stop t): a group stop
 *           holds all of them until SIGCONT. 0 otherwise, or when it
 *           cannot be read. */
int hs__proc_stopped(int pid);

/*! Writes /proc/PID/cmdline into buf as words separated by spaces, control
 * bytes as '?', cut to len - 1 bytes. "" when it cannot be read. */
void hs__proc_cmdline(int pid, char *buf, size_t len);

/*! Writes the name of the shim's thread's signal: "SIGUSR2", "none". */
void hs__proc_signal_name(int signo, char *buf, size_t len);

#endif /* HEAPSNAP_PROC_H */
