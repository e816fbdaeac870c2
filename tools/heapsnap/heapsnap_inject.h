/* heapsnap_inject.h - calling a function inside another process, with
 * ptrace (x86-64 Linux), for `heapsnap attach` and `heapsnap detach`.
 *
 * One thread of the process is taken at a safe point, never inside the
 * allocator or the loader: a thread blocked in a system call that waits
 * (poll, epoll_wait, nanosleep, accept, read...) from outside ld.so, or,
 * when none waits, a thread stopped (briefly, one at a time) while it runs
 * code that is not the C library's, ld.so's or the allocator's. Only that
 * thread is held while the calls run; the others run on (a thread holding
 * an allocator lock must be able to let go of it). Signals the held thread
 * receives meanwhile are kept and delivered when it is let go; a system
 * call the stop interrupted is restarted.
 *
 * Every function returns 0 or a negative code after one line
 * (hs__tool_error, command `cmd`). */
#ifndef HEAPSNAP_INJECT_H
#define HEAPSNAP_INJECT_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/user.h>

#define HS__INJECT_SIGS 8

typedef struct hs__inject {
  const char *cmd;               /* "attach" or "detach", for messages */
  int pid, tid;                  /* the process and the thread taken */
  int tid_taken;                 /* tid, kept after hs__inject_close */
  int mem;                       /* /proc/PID/mem, read-write */
  struct user_regs_struct saved; /* the thread's registers when taken */
  uint64_t taken_ns;             /* when it stopped */
  uint64_t held_ns;              /* after hs__inject_close: how long */
  uint64_t cpu_at_take, cpu_ns;  /* its time on a CPU meanwhile (schedstat) */
  const char *how;               /* "waiting in a system call", ... */
  int sigs[HS__INJECT_SIGS];     /* signals kept for it */
  int n_sigs;
  /* Its vector and x87 registers when taken (NT_X86_XSTATE, else the
   * legacy area): the calls use them, and a thread taken while it ran
   * the program's code has live values there. */
  void *fpu;
  size_t fpu_len;
  int fpu_kind;       /* 0 none, 1 xstate, 2 legacy */
  sigset_t tool_mask; /* this tool's mask before open blocked signals */
  int masked;
} hs__inject;

/*! Takes a thread of process pid at a safe point (waits up to 5 s for one).
 * From here to hs__inject_close this tool's signals that would end it
 * (Ctrl-C, SIGTERM, SIGHUP...) wait: ended in the middle of a call, it
 * would leave the thread to return from the call to address 0 and the
 * process to die of SIGSEGV. Only SIGKILL can still do that.
 * @return : 0, -EPERM when ptrace is not permitted (said what to change),
 * HS__TOOL_EFAIL otherwise (the process exited, no safe point; said). */
int hs__inject_open(hs__inject *ij, const char *cmd, int pid);

/*! Calls fn(args[0..5]) in the taken thread. When str is not NULL, it is
 * copied onto the thread's stack (below its red zone) and args[0] set to
 * its address. @return : 0 with *ret the call's rax, or HS__TOOL_EFAIL
 * after one line (the process exited, the call faulted or hung). */
int hs__inject_call(hs__inject *ij, uint64_t fn, uint64_t args[6],
                    const char *str, uint64_t *ret);

/*! Reads a NUL-terminated string at addr of the process into buf. */
void hs__inject_read_str(const hs__inject *ij, uint64_t addr, char *buf,
                         size_t len);

/*! Lets the thread go as it was: registers (vector registers too), the
 * call it was in, the signals kept. Sets ij->held_ns. Then this tool's
 * own signals that waited are delivered (after one line saying the
 * process was let go). Accepts a closed one. */
void hs__inject_close(hs__inject *ij);

/*! The address of symbol `sym` of the module mapped in process pid whose
 * file name is `base` (libc.so.6): its load address in the process plus
 * the symbol's value in the file's .dynsym (libelf).
 * @return : 0 with *addr set, -ENOENT when the module or symbol is not
 * there, or -errno. Prints nothing. */
int hs__proc_symbol(int pid, const char *base, const char *sym, uint64_t *addr);

/*! The value of `sym` in the .dynsym of the ELF file at path, and the
 * file's first PT_LOAD address (page-aligned): the symbol lies at the
 * module's first mapping + value - first_load. @return : 0, -ENOENT, or
 * -errno. */
int hs__file_symbol(const char *path, const char *sym, uint64_t *value,
                    uint64_t *first_load);

/*! The file of module `base` mapped in pid, as this process can open it
 * (/proc/PID/root/...). @return : 0, -ENOENT, -ENAMETOOLONG. */
int hs__proc_module_path(int pid, const char *base, char *out, size_t len);

/*! The start of the first mapping (offset 0) of module `base` in pid.
 * @return : 0, or -ENOENT when it is not mapped. */
int hs__proc_module_at(int pid, const char *base, uint64_t *lo);

/*! Says in one line that ptrace of pid is not permitted (what failed and
 * err), naming kernel.yama.ptrace_scope and CAP_SYS_PTRACE.
 * @return : -EPERM. */
int hs__ptrace_refused(const char *cmd, int pid, const char *what, int err);

/*! 1 when a module whose file name is `base` is mapped in pid, else 0. */
int hs__proc_maps_module(int pid, const char *base);

#endif /* HEAPSNAP_INJECT_H */
