/* hs_exec.c - starting other programs, and leaving, as if the shim were
 * not there.
 *
 * A new program image (exec) or child (posix_spawn, system, popen) takes
 * the signal mask of the thread that starts it, and that thread keeps the
 * shim's snapshot signal blocked against the program's view
 * (hs_signal.c). Each call here unblocks those signals for its duration,
 * so the new program starts with the mask the program set, then blocks
 * them again if the call returns. glibc runs system and popen (and the
 * exec calls of execl, execlp, execle) through internal calls the
 * interposer cannot see, so each is wrapped itself. A raw execve or clone
 * syscall escapes; so does a vfork child that execs through its own
 * syscall.
 *
 * The exec calls also pass on the program's disposition of the shim's
 * signal, where the shim's own would pass on another (a signal ignored
 * stays ignored in the new image, one caught becomes default):
 * hs__signal_exec_prepare sets it for the call's length. posix_spawn
 * resets it in the child through the attributes where the shim ignores
 * it (attached); where the program ignores it and the shim catches it
 * (preloaded), the child gets the default. system and popen pass on the
 * shim's: they run as long as their command does, too long to change the
 * disposition for (docs/environment.md, docs/heapsnap.md).
 *
 * Nothing here writes thread-local state: a child of vfork runs on its
 * parent's memory until it execs. The status file goes at exec and _exit
 * (hs_channel.c); only the process it belongs to removes it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hs_shim.h"

extern char **environ;

typedef int (*hs__spawn_fn)(pid_t *, const char *,
                            const posix_spawn_file_actions_t *,
                            const posix_spawnattr_t *, char *const[],
                            char *const[]);

static struct {
  int (*execve)(const char *, char *const[], char *const[]);
  int (*execvp)(const char *, char *const[]);
  int (*execvpe)(const char *, char *const[], char *const[]);
  int (*fexecve)(int, char *const[], char *const[]);
  int (*execveat)(int, const char *, char *const[], char *const[], int);
  hs__spawn_fn posix_spawn, posix_spawnp;
  int (*system)(const char *);
  FILE *(*popen)(const char *, const char *);
  void (*exit_now)(int);
} hs__rx;

/* Preloaded, the definitions after the shim's; attached, those every
 * module binds to (another interposer's, preloaded, before the C
 * library's), as for the allocator (hs_init.c). */
#ifdef HS_ATTACH
#define hs__os_symbol_exec hs__attach_symbol
#else
#define hs__os_symbol_exec hs__os_symbol_next
#endif
#define HS_REAL_X(field, name)                                                 \
  hs__rx.field = (__typeof__(hs__rx.field))hs__os_symbol_exec(name)

void hs__exec_init(void) {
  HS_REAL_X(execve, "execve");
  HS_REAL_X(execvp, "execvp");
  HS_REAL_X(execvpe, "execvpe");
  HS_REAL_X(fexecve, "fexecve");
  HS_REAL_X(execveat, "execveat");
  HS_REAL_X(posix_spawn, "posix_spawn");
  HS_REAL_X(posix_spawnp, "posix_spawnp");
  HS_REAL_X(system, "system");
  HS_REAL_X(popen, "popen");
  HS_REAL_X(exit_now, "_exit");
}

/* The mask to restore when the call returns, and for an exec, the signal
 * whose disposition it changed (hs__signal_exec_prepare). */
typedef struct hs__as_program {
  sigset_t saved;
  int restore;
  int sig;
} hs__as_program;

/* Unblocks the signals this thread blocks for the shim only. */
static void hs__mask_program(hs__as_program *m) {
  const uint64_t forced = hs__signal_forced();
  m->restore = 0;
  if (!forced)
    return;
  sigset_t un;
  sigemptyset(&un);
  for (int s = 1; s <= 64; s++)
    if (forced & (1ull << (s - 1)))
      sigaddset(&un, s);
  m->restore = hs__os_sigmask(SIG_UNBLOCK, &un, &m->saved) == 0;
}

static void hs__mask_back(const hs__as_program *m) {
  const int saved = errno;
  if (m->restore)
    hs__os_sigmask(SIG_SETMASK, &m->saved, NULL);
  errno = saved;
}

/* Before an exec: the new image starts with the mask and the disposition
 * of the shim's signal that the program set, and the status file is this
 * image's no more. */
static void hs__exec_begin(hs__as_program *m) {
  if (!hs__rx.execve)
    hs__exec_init(); /* an exec from a constructor before ours */
  hs__mask_program(m);
  m->sig = hs__signal_exec_prepare();
  hs__status_remove();
}

/* The exec returned: it failed, the process goes on. */
static int hs__exec_failed(const hs__as_program *m, int rc) {
  const int saved = errno;
  hs__status_restore();
  hs__signal_exec_back(m->sig);
  hs__mask_back(m);
  errno = saved;
  return rc;
}

HS_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  hs__as_program m;
  hs__exec_begin(&m);
  return hs__exec_failed(&m, hs__rx.execve(path, argv, envp));
}

HS_EXPORT int execv(const char *path, char *const argv[]) {
  return execve(path, argv, environ);
}

HS_EXPORT int execvp(const char *file, char *const argv[]) {
  hs__as_program m;
  hs__exec_begin(&m);
  return hs__exec_failed(&m, hs__rx.execvp(file, argv));
}

HS_EXPORT int execvpe(const char *file, char *const argv[],
                      char *const envp[]) {
  hs__as_program m;
  hs__exec_begin(&m);
  return hs__exec_failed(&m, hs__rx.execvpe(file, argv, envp));
}

HS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  hs__as_program m;
  hs__exec_begin(&m);
  return hs__exec_failed(&m, hs__rx.fexecve(fd, argv, envp));
}

HS_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
                       char *const envp[], int flags) {
  hs__as_program m;
  hs__exec_begin(&m);
  if (!hs__rx.execveat) {
    errno = ENOSYS;
    return hs__exec_failed(&m, -1);
  }
  return hs__exec_failed(&m, hs__rx.execveat(dirfd, path, argv, envp, flags));
}

/* execl, execlp, execle: the arguments into an array on the stack (an
 * exec must not allocate: it may run in a child of vfork). */
static size_t hs__va_words(va_list ap) {
  va_list count;
  va_copy(count, ap);
  size_t n = 1;
  while (va_arg(count, char *))
    n++;
  va_end(count);
  return n;
}

static void hs__argv_fill(const char *first, va_list ap, char **argv,
                          size_t n) {
  argv[0] = (char *)first;
  for (size_t i = 1; i < n; i++)
    argv[i] = va_arg(ap, char *);
  argv[n] = NULL;
}

/* Declares `argv`, an array on this frame holding `first` and the
 * arguments after it up to the NULL, and leaves `ap` past them. A macro:
 * the array must live in the exported function's own frame. */
#define HS__ARGV_FROM(argv, ap, first)                                         \
  va_list ap;                                                                  \
  va_start(ap, first);                                                         \
  const size_t argv##_n = hs__va_words(ap);                                    \
  char *argv[argv##_n + 1];                                                    \
  hs__argv_fill(first, ap, argv, argv##_n)

HS_EXPORT int execl(const char *path, const char *arg, ...) {
  HS__ARGV_FROM(argv, ap, arg);
  va_end(ap);
  return execve(path, argv, environ);
}

HS_EXPORT int execlp(const char *file, const char *arg, ...) {
  HS__ARGV_FROM(argv, ap, arg);
  va_end(ap);
  return execvp(file, argv);
}

HS_EXPORT int execle(const char *path, const char *arg, ...) {
  HS__ARGV_FROM(argv, ap, arg);
  (void)va_arg(ap, char *); /* the NULL that ends the arguments */
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  return execve(path, argv, envp);
}

/* attr, or a copy of it in *own that also resets sig to the default in
 * the child. The attributes hold no pointers (glibc): a copy is whole. */
static const posix_spawnattr_t *
hs__spawn_attr(const posix_spawnattr_t *attr, posix_spawnattr_t *own, int sig) {
  short flags = 0;
  sigset_t dflt;
  sigemptyset(&dflt);
  if (attr) {
    *own = *attr;
    posix_spawnattr_getflags(own, &flags);
    if (flags & POSIX_SPAWN_SETSIGDEF)
      posix_spawnattr_getsigdefault(own, &dflt);
  } else if (posix_spawnattr_init(own) != 0) {
    return attr;
  }
  sigaddset(&dflt, sig);
  posix_spawnattr_setsigdefault(own, &dflt);
  posix_spawnattr_setflags(own, (short)(flags | POSIX_SPAWN_SETSIGDEF));
  return own;
}

/* A child started by the C library: it inherits this thread's mask, and
 * would inherit the shim's signal ignored where the shim ignores it
 * (attached): hs__spawn_attr resets it. */
static int hs__spawn(hs__spawn_fn real, pid_t *pid, const char *path,
                     const posix_spawn_file_actions_t *fa,
                     const posix_spawnattr_t *attr, char *const argv[],
                     char *const envp[]) {
  if (!real)
    hs__exec_init(), real = hs__rx.posix_spawn;
  hs__as_program m;
  hs__mask_program(&m);
  posix_spawnattr_t own;
  const int sig = hs__signal_spawn_default();
  const posix_spawnattr_t *use = sig ? hs__spawn_attr(attr, &own, sig) : attr;
  const int rc = real(pid, path, fa, use, argv, envp);
  if (use == &own && !attr)
    posix_spawnattr_destroy(&own);
  hs__mask_back(&m);
  return rc;
}

HS_EXPORT int posix_spawn(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[]) {
  return hs__spawn(hs__rx.posix_spawn, pid, path, fa, attr, argv, envp);
}

HS_EXPORT int posix_spawnp(pid_t *pid, const char *file,
                           const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[]) {
  if (!hs__rx.posix_spawnp)
    hs__exec_init();
  return hs__spawn(hs__rx.posix_spawnp, pid, file, fa, attr, argv, envp);
}

HS_EXPORT int system(const char *command) {
  if (!hs__rx.system)
    hs__exec_init();
  hs__as_program m;
  hs__mask_program(&m);
  const int rc = hs__rx.system(command);
  hs__mask_back(&m);
  return rc;
}

HS_EXPORT FILE *popen(const char *command, const char *mode) {
  if (!hs__rx.popen)
    hs__exec_init();
  hs__as_program m;
  hs__mask_program(&m);
  FILE *const f = hs__rx.popen(command, mode);
  hs__mask_back(&m);
  return f;
}

/* _exit and _Exit skip the destructors, where the status file goes. */
HS_EXPORT __attribute__((noreturn)) void _exit(int status) {
  hs__status_remove();
  if (hs__rx.exit_now)
    hs__rx.exit_now(status);
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

HS_EXPORT __attribute__((noreturn)) void _Exit(int status) {
  _exit(status);
}
