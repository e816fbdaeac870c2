/* hs_unwio.c - libunwind kept off the program's file descriptors.
 *
 * Before it reads a word of a page it has not seen, libunwind 1.6 checks
 * that the page can be read: mincore, then a one-byte write(2) from it
 * into a pipe of its own, made at its first walk (after draining a byte
 * with read(2)). That pipe took the program's two lowest free
 * descriptors for good, and it is known by number only: a program that
 * closes descriptors it did not open (a daemon's close-all) and opens
 * others in their place had a byte of its own input read away and a byte
 * of the shim's stack written into its own file or socket at the shim's
 * next walk, or waited for good on that read if the descriptor was a
 * blocking socket.
 *
 * So libunwind's own slots of pipe2, read, write and syscall point here
 * (hs__unwind_guard, before its first walk): its pipe is two numbers no
 * descriptor has, the drain finds it "empty" without a system call, and
 * the write of one byte is answered by hs__os_readable, which needs no
 * descriptor. Every other call goes on as it was. The same holds for
 * libunwind 1.8, whose checks moved to another file but still go through
 * these four calls. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <libunwind.h>
#include <link.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hs_shim.h"

/* The pipe libunwind is given: two numbers no descriptor can have (-1,
 * "none", would make it try again at each check, or give up). Its close
 * of them, when it thinks the pipe broken, fails harmlessly. */
#define HS_UNW_FD_R (-2)
#define HS_UNW_FD_W (-3)

static int hs__unw_pipe2(int fds[2], int flags) {
  (void)flags;
  fds[0] = HS_UNW_FD_R;
  fds[1] = HS_UNW_FD_W;
  return 0;
}

static ssize_t hs__unw_read(int fd, void *buf, size_t n) {
  if (fd == HS_UNW_FD_R && n == 1) {
    errno = EAGAIN; /* the pipe's drain: nothing to drain */
    return -1;
  }
  return read(fd, buf, n);
}

/* The check itself: one byte from addr "written" to the pipe. */
static long hs__unw_check(const void *addr) {
  if (hs__os_readable(addr))
    return 1;
  errno = EFAULT;
  return -1;
}

static ssize_t hs__unw_write(int fd, const void *buf, size_t n) {
  if (fd == HS_UNW_FD_W && n == 1)
    return hs__unw_check(buf);
  return write(fd, buf, n);
}

/* glibc's syscall() takes six words whatever the call; so does this.
 * libunwind passes the descriptor and the count as int: only the low
 * halves of their words are theirs. */
static long hs__unw_syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a[6];
  for (int i = 0; i < 6; i++)
    a[i] = va_arg(ap, long);
  va_end(ap);
  if (nr == SYS_write && (int)a[0] == HS_UNW_FD_W && (int)a[2] == 1)
    return hs__unw_check((const void *)a[1]);
  return syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static const struct {
  const char *name;
  void *fn;
} hs__unw_calls[] = {
    {"pipe2", (void *)hs__unw_pipe2},
    {"read", (void *)hs__unw_read},
    {"write", (void *)hs__unw_write}, /* where it writes without syscall() */
    {"syscall", (void *)hs__unw_syscall},
};

static int hs__unw_patch_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  const uint64_t at = (uint64_t)arg, self = (uint64_t)&hs__unwind_guard;
  hs__module_view m;
  if (hs__got_view(info, &m) != 0 || at < m.lo || at >= m.hi)
    return 0;
  if (self >= m.lo && self < m.hi)
    return 1; /* libunwind linked into the shim: its calls are the shim's */
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < m.n_rela[k]; i++) {
      const char *name = hs__got_name(&m, &m.rela[k][i]);
      for (size_t c = 0;
           name && c < sizeof hs__unw_calls / sizeof *hs__unw_calls; c++)
        if (strcmp(name, hs__unw_calls[c].name) == 0)
          hs__got_store(&m, m.base + m.rela[k][i].r_offset,
                        (uint64_t)hs__unw_calls[c].fn);
    }
  return 1; /* libunwind's module: done */
}

int hs__unwind_guard(void) {
  int (*iterate)(int (*)(struct dl_phdr_info *, size_t, void *), void *) =
      (__typeof__(iterate))hs__os_symbol_next("dl_iterate_phdr");
  if (!iterate)
    return -1;
  return iterate(hs__unw_patch_cb, (void *)(uint64_t)&unw_backtrace) ? 0 : -1;
}
