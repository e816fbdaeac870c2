/* hs_prim.c - the shim's operating-system calls: memory maps, small file
 * reads, symbol look-up, messages, clocks and the fork gate.
 *
 * Everything here may run inside an interposed malloc, in a forked child
 * or in the shim's own thread: no malloc, no stdio streams. Only the list
 * of the shim's own mappings takes a lock (hs__os_alloc, hs__os_free,
 * hs__os_map_shared); what a clone of the process may call takes none.
 * Messages are formatted into a stack buffer and written with write(2), as
 * mimalloc does. Each function's preconditions are in hs_shim.h, and
 * checked with HS_ASSERT in Debug builds. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hs_shim.h"

/* The thread's re-entry flag (hs_shim.h), here because the symbol look-up
 * sets it: what dlsym allocates is the C library's, never tracked. */
__thread int hs__busy __attribute__((tls_model("initial-exec")));
/* Set by hs_threads.c for a thread with a small stack; read here. */
__thread uint64_t hs__stack_lo __attribute__((tls_model("initial-exec")));

size_t hs__os_round(size_t size) {
  const size_t page = 4096;
  return (size + page - 1) & ~(page - 1);
}

/* FUTEX_CMP_REQUEUE reads the word to compare it with the last argument
 * and then, asked to wake and to move no waiter, does nothing: the
 * kernel's read fails with EFAULT where a load would fault (unmapped,
 * PROT_NONE, a file's page past its end), so a bad page costs no signal.
 * A private futex needs no descriptor, and sandboxes let futex through. */
int hs__os_readable(const void *p) {
  const uint64_t a = (uint64_t)p & ~(uint64_t)3;
  const int saved = errno;
  const long r = syscall(SYS_futex, a, FUTEX_CMP_REQUEUE_PRIVATE, 0, 0L, a, 0);
  /* read: equal (0) or not (EAGAIN); anything else (EFAULT, or a sandbox
   * refusing the call) is "not readable", which stops a walk, never
   * faults in it */
  const int ok = r >= 0 || errno == EAGAIN;
  errno = saved;
  return ok;
}

/* Every mapping the shim makes is listed, so the reachability scan can
 * leave the shim's own memory out of the roots. Taken under a shard lock
 * when a table grows, and under the status channel's lock
 * (hs_channel.c), never the other way round. */
#define HS_OWN_MAX 65536
static struct {
  pthread_mutex_t lock;
  size_t n;
  hs__range r[HS_OWN_MAX];
} hs__own = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void hs__own_add_locked(void *p, size_t len) {
  if (hs__own.n < HS_OWN_MAX)
    hs__own.r[hs__own.n++] = (hs__range){(uint64_t)p, (uint64_t)p + len};
}

static void hs__own_add(void *p, size_t len) {
  pthread_mutex_lock(&hs__own.lock);
  hs__own_add_locked(p, len);
  pthread_mutex_unlock(&hs__own.lock);
}

static void hs__own_del_locked(void *p) {
  for (size_t i = 0; i < hs__own.n; i++)
    if (hs__own.r[i].start == (uint64_t)p) {
      hs__own.r[i] = hs__own.r[--hs__own.n];
      break;
    }
}

static void hs__own_del(void *p) {
  pthread_mutex_lock(&hs__own.lock);
  hs__own_del_locked(p);
  pthread_mutex_unlock(&hs__own.lock);
}

const hs__range *hs__os_owned(size_t *n) {
  *n = hs__own.n;
  return hs__own.r;
}

void hs__os_lock(void) {
  pthread_mutex_lock(&hs__own.lock);
}

void hs__os_unlock(void) {
  pthread_mutex_unlock(&hs__own.lock);
}

int hs__os_trylock(void) {
  return pthread_mutex_trylock(&hs__own.lock) == 0 ? 0 : -1;
}

void hs__os_reinit_child(void) {
  pthread_mutex_init(&hs__own.lock, NULL);
}

/* Read-write pages, whole ones; NULL on failure. */
static void *hs__mmap(size_t size, int flags, int fd) {
  void *const p =
      mmap(NULL, hs__os_round(size), PROT_READ | PROT_WRITE, flags, fd, 0);
  return p == MAP_FAILED ? NULL : p;
}

void *hs__os_alloc(size_t size) {
  if (size == 0)
    return NULL;
  void *const p =
      hs__mmap(size, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  if (p)
    hs__own_add(p, hs__os_round(size));
  return p;
}

void hs__os_free(void *p, size_t size) {
  if (!p)
    return;
  HS_ASSERT(size > 0);
  hs__own_del(p);
  munmap(p, hs__os_round(size));
}

void *hs__os_map_shared_locked(int fd, size_t size) {
  HS_ASSERT(fd >= 0 && size > 0);
  void *const p = hs__mmap(size, MAP_SHARED, fd);
  if (p)
    hs__own_add_locked(p, hs__os_round(size));
  return p;
}

void hs__os_unmap_shared_locked(void *p, size_t size) {
  hs__own_del_locked(p);
  munmap(p, hs__os_round(size));
}

void *hs__os_map_shared(int fd, size_t size) {
  pthread_mutex_lock(&hs__own.lock);
  void *const p = hs__os_map_shared_locked(fd, size);
  pthread_mutex_unlock(&hs__own.lock);
  return p;
}

void hs__os_unmap_shared(void *p, size_t size) {
  hs__os_free(p, size);
}

void *hs__os_map(size_t size, int shared) {
  HS_ASSERT(size > 0);
  return hs__mmap(
      size, (shared ? MAP_SHARED | MAP_NORESERVE : MAP_PRIVATE) | MAP_ANONYMOUS,
      -1);
}

void hs__os_unmap(void *p, size_t size) {
  if (p)
    munmap(p, hs__os_round(size));
}

ssize_t hs__os_read_file(const char *path, char *buf, size_t len) {
  HS_ASSERT(path && buf && len > 0);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t got = 0;
  while (got < len - 1) {
    const ssize_t r = read(fd, buf + got, len - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  return (ssize_t)got;
}

/* Without close_range (kernels before 5.9): each descriptor listed, by
 * getdents64 (the C library's readdir allocates, which a copy of the
 * process must not). */
static void hs__close_listed(int keep) {
  const int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return;
  char buf[4096];
  long got;
  while ((got = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0)
    for (long at = 0; at < got;) {
      const struct dirent64 *e = (const void *)(buf + at);
      const int fd = atoi(e->d_name);
      if (e->d_name[0] != '.' && fd != keep && fd != dir) /* not . or .. */
        close(fd);
      at += e->d_reclen;
    }
  close(dir);
}

void hs__os_close_all_but(int keep) {
#ifdef SYS_close_range
  const long a = keep > 0 ? syscall(SYS_close_range, 0, keep - 1, 0) : 0;
  const long b = syscall(SYS_close_range, keep < 0 ? 0 : keep + 1, ~0u, 0);
  if (a == 0 && b == 0)
    return;
#endif
  hs__close_listed(keep);
}

/* This thread's alternate signal stack: where it starts and its size (0:
 * none), and the epoch it was read in (0: not known: the kernel is
 * asked). Asking at each new stack's capture cost a system call (1.1
 * microseconds in a loop on this project's virtual machines, more between
 * allocations): 0.03x-0.08x of a run that meets thousands of new stacks
 * (docs/performance.md, issue 18's eighth pass). The program's sigaltstack
 * calls set it (hs__alt_stack_set); a raw system call escapes, and so
 * does a change a handler makes, which the kernel undoes when the handler
 * returns. Set at the call, it also holds in a handler of an
 * SS_AUTODISARM stack, where the kernel says there is none. The epoch
 * moves at each attach (hs__alt_stacks_forget): calls made while detached
 * were not seen. 16 bytes of static TLS: an attached shim's comes out of
 * glibc's small surplus for libraries loaded later. Written with signals
 * let through: a handler that comes in between finds it not known and
 * asks for itself. */
static __thread struct {
  uint64_t lo;
  uint32_t size, known;
} hs__alt __attribute__((tls_model("initial-exec")));
static _Atomic uint32_t hs__alt_epoch = 1;

void hs__alt_stacks_forget(void) {
  if (atomic_fetch_add(&hs__alt_epoch, 1) + 1 == 0)
    atomic_fetch_add(&hs__alt_epoch, 1); /* 0 is "not known" */
}

void hs__alt_stack_set(const stack_t *ss) {
  hs__alt.known = 0;
  __asm__ volatile("" ::: "memory");
  if (!ss)
    return;
  const int none = (ss->ss_flags & SS_DISABLE) ||
                   ss->ss_size > UINT32_MAX; /* 4 GiB has room: as none */
  hs__alt.lo = none ? 0 : (uint64_t)ss->ss_sp;
  hs__alt.size = none ? 0 : (uint32_t)ss->ss_size;
  __asm__ volatile("" ::: "memory");
  hs__alt.known = atomic_load_explicit(&hs__alt_epoch, memory_order_relaxed);
}

uint64_t hs__stack_room(void) {
  const uint64_t sp = (uint64_t)__builtin_frame_address(0);
  if (HS_UNLIKELY(hs__alt.known !=
                  atomic_load_explicit(&hs__alt_epoch, memory_order_relaxed))) {
    stack_t alt; /* the kernel's own call: the shim's would come here */
    if (syscall(SYS_sigaltstack, NULL, &alt) != 0)
      alt = (stack_t){.ss_flags = SS_DISABLE};
    hs__alt_stack_set(&alt);
  }
  if (sp - hs__alt.lo < hs__alt.size) /* a handler's alternate stack */
    return sp - hs__alt.lo;
  if (hs__stack_lo && sp > hs__stack_lo) /* a small stack (hs_threads.c) */
    return sp - hs__stack_lo;
  return UINT64_MAX; /* a large stack, or one the shim did not see start */
}

/* dlsym may allocate (its error string, the first look-up's tables): that
 * memory is the C library's, so this thread is busy meanwhile. */
static void *hs__symbol(void *handle, const char *name) {
  HS_ASSERT(name != NULL);
  const int was_busy = hs__busy;
  hs__busy = HS_BUSY;
  void *const f = dlsym(handle, name);
  hs__busy = was_busy;
  return f;
}

void *hs__os_symbol_next(const char *name) {
  return hs__symbol(RTLD_NEXT, name);
}

void *hs__os_symbol_any(const char *name) {
  return hs__symbol(RTLD_DEFAULT, name);
}

/* All of buf to fd 2, through EINTR and short writes. */
static void hs__write_err(const char *buf, size_t len) {
  for (size_t off = 0; off < len;) {
    const ssize_t w = write(2, buf + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    off += (size_t)w;
  }
}

/* Not hs__say: the failed assertion may be anywhere, so the message is
 * pieced together from plain strings, without even vsnprintf. */
void hs__assert_fail(const char *file, int line, const char *cond) {
  char num[16] = "";
  size_t at = sizeof num - 1;
  unsigned v = line > 0 ? (unsigned)line : 0;
  do
    num[--at] = (char)('0' + v % 10);
  while ((v /= 10) != 0 && at > 0);
  const char *const part[] = {"heapsnap: ",           file, ":", num + at,
                              ": assertion failed: ", cond, "\n"};
  for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
    hs__write_err(part[i], strlen(part[i]));
  abort();
}

/* vsnprintf with plain conversions does not allocate in glibc. */
void hs__say(const char *fmt, ...) {
  char buf[1024];
  const int saved = errno;
  const size_t pre = sizeof "heapsnap: " - 1;
  memcpy(buf, "heapsnap: ", pre);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + pre, sizeof buf - pre - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  size_t len = pre + ((size_t)n < sizeof buf - pre - 1 ? (size_t)n
                                                       : sizeof buf - pre - 2);
  buf[len++] = '\n';
  hs__write_err(buf, len);
  errno = saved;
}

uint64_t hs__clock_ns(int clock_id) {
  struct timespec ts;
  clock_gettime((clockid_t)clock_id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* zstd frees without a size: keep it in a header in front of the block. */
void *hs__zstd_alloc(void *opaque, size_t size) {
  (void)opaque;
  uint64_t *p = hs__os_alloc(size + 16);
  if (!p)
    return NULL;
  p[0] = size + 16;
  return p + 2;
}

void hs__zstd_free(void *opaque, void *p) {
  (void)opaque;
  if (!p)
    return;
  uint64_t *base = (uint64_t *)p - 2;
  hs__os_free(base, base[0]);
}

/* Gates: see hs_shim.h. 2 s at most, in steps of 100 us: a fork that
 * never ends, or a fork from a signal handler that interrupted a caller,
 * must not hang the process; it then goes on as it would without us. A
 * caller counts its wait per fork: under threads that fork one after the
 * other the gate is closed nearly all the time, and a caller that went in
 * after 2 s in all went in during a fork (its child then hung on
 * libunwind's lock). */
#define HS_GATE_STEPS 20000

void hs__gate_enter(hs__gate *g) {
  const struct timespec us = {0, 100000};
  uint32_t fork = atomic_load(&g->forks);
  for (int waited = 0;;) {
    while (atomic_load(&g->forking) && waited++ < HS_GATE_STEPS) {
      nanosleep(&us, NULL);
      const uint32_t now = atomic_load(&g->forks);
      if (now != fork)
        fork = now, waited = 0; /* another fork: wait for it anew */
    }
    atomic_fetch_add(&g->inside, 1);
    if (!atomic_load(&g->forking) || waited >= HS_GATE_STEPS)
      return;
    atomic_fetch_sub(&g->inside, 1);
  }
}

void hs__gate_leave(hs__gate *g) {
  atomic_fetch_sub(&g->inside, 1);
}

void hs__gate_close(hs__gate *g, int own) {
  atomic_fetch_add(&g->forks, 1);
  atomic_store(&g->forking, 1);
  const struct timespec us = {0, 100000};
  for (int i = 0; i < HS_GATE_STEPS && atomic_load(&g->inside) > own; i++)
    nanosleep(&us, NULL);
}

void hs__gate_open(hs__gate *g) {
  atomic_store(&g->forking, 0);
}

int hs__gate_reset(hs__gate *g, int own) {
  const int others = atomic_load(&g->inside) > own;
  atomic_store(&g->inside, own);
  atomic_store(&g->forking, 0);
  return others;
}
