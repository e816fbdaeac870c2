/* stress_stack - how much of a thread's stack an allocation takes, so
 * that a driver can compare the program run bare and under the shim: a
 * thread with a small stack, or a signal handler on a small alternate
 * stack, must not overflow because the shim is in the way.
 *
 * A thread on a stack of the program's own paints it below its frame,
 * makes one call, and finds the deepest byte written. Each call comes
 * from a call site met for the first time (a stack the shim has not
 * seen: its slowest path, with libunwind's walk), except "known", the
 * same site again. glibc's first allocation in the thread comes before.
 *
 * usage: stress_stack
 * stdout: one line a call, "NAME: BYTES" (bytes below the measuring
 * frame, to 64).
 *
 * usage: stress_stack altstack [wait|reattach]
 * A signal handler on an 8 KiB alternate stack (the old SIGSTKSZ) that
 * allocates from call sites met for the first time: under the shim it
 * crashed in libunwind's check of a new stack. Then the same on another
 * 8 KiB stack put in its place, and on one that the kernel disarms while
 * its handler runs (SS_AUTODISARM). With wait, a line is read from stdin
 * once the first stack is set (heapsnap attach comes meanwhile); with
 * reattach, also before the second is set and after (heapsnap detach,
 * then attach again, come meanwhile). Each wait says so on stderr.
 * stdout: "NAME: BYTES" a stack (how deep its handlers went on it), then
 * "alternate stack: ok".
 *
 * usage: stress_stack smallstack
 * Threads created with 16 KiB (PTHREAD_STACK_MIN) and 20 KiB stacks, one
 * after another, that allocate from call sites met for the first time,
 * also 6 KiB down their stack, then one created without an attr after
 * the smallest was made the default (pthread_setattr_default_np), and
 * print: under the shim they overflowed
 * at their first lazily bound call while the shim's unwind cache was 9 KiB
 * of static TLS, which glibc takes out of each thread's stack, and in
 * libunwind's check of a new stack 4 KiB down one of 16 KiB.
 * stdout: "small stacks: ok". */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack_paint.h"

static void *volatile keep[8];

static __attribute__((noinline)) void *site_malloc(size_t n) {
  return malloc(n);
}
static __attribute__((noinline)) void *site_calloc(size_t n) {
  return calloc(1, n);
}
static __attribute__((noinline)) void *site_realloc(void *p, size_t n) {
  return realloc(p, n);
}
static __attribute__((noinline)) void *site_aligned(size_t n) {
  void *p = NULL;
  return posix_memalign(&p, 64, n) ? NULL : p;
}

/* Each measure is a macro: the call must be made from this frame, below
 * which the paint starts. */
#define MEASURE(name, call)                                                    \
  do {                                                                         \
    sp_paint(top - 512);                                                       \
    call;                                                                      \
    printf("%s: %ld\n", name, sp_deepest(top));                                \
  } while (0)

static __attribute__((noinline)) void *run(void *arg) {
  (void)arg;
  unsigned char *const top = __builtin_frame_address(0);
  free(malloc(1));            /* glibc's own first use in this thread */
  for (int i = 0; i < 2; i++) /* "known": the second time round */
    MEASURE(i ? "known" : "malloc", keep[0] = site_malloc(48));
  MEASURE("calloc", keep[1] = site_calloc(64));
  MEASURE("realloc", keep[2] = site_realloc(keep[2], 80));
  MEASURE("posix_memalign", keep[3] = site_aligned(96));
  MEASURE("free", free(keep[0]));
  for (int i = 1; i < 4; i++)
    free(keep[i]);
  return NULL;
}

static __attribute__((noinline)) void *small_site(int k) {
  return k & 1 ? calloc(1, 40 + (size_t)k) : malloc(24 + (size_t)k);
}

/* A few call sites the shim has not met: each is a new stack. */
static __attribute__((noinline)) void allocate_new_sites(void) {
  void *p[4] = {small_site(1), small_site(2), malloc(72), calloc(3, 9)};
  for (int i = 0; i < 4; i++)
    free(p[i]);
}

/* Sites of their own for the second and third alternate stacks, so that
 * their handlers meet new stacks there too. */
static __attribute__((noinline)) void *site_b(int k) {
  return k & 1 ? calloc(1, 50 + (size_t)k) : malloc(60 + (size_t)k);
}
static __attribute__((noinline)) void allocate_sites_b(void) {
  void *p[3] = {site_b(1), site_b(2), malloc(88)};
  for (int i = 0; i < 3; i++)
    free(p[i]);
}
static __attribute__((noinline)) void *site_c(int k) {
  return k & 1 ? calloc(2, 30 + (size_t)k) : malloc(90 + (size_t)k);
}
static __attribute__((noinline)) void allocate_sites_c(void) {
  void *p[3] = {site_c(1), site_c(2), calloc(5, 7)};
  for (int i = 0; i < 3; i++)
    free(p[i]);
}

static void (*volatile g_sites)(void) = allocate_new_sites;
static volatile sig_atomic_t g_handled;
static void on_usr1(int sig) { /* malloc in a handler: not safe, common */
  (void)sig;
  g_sites();
  void *p = realloc(malloc(123), 1000);
  free(p);
  g_handled++;
}

/* Raises the signal 20 times on the alternate stack ss, painted first,
 * and prints how deep its handlers went on it, as "NAME: BYTES". */
static int raise_20(const char *name, const stack_t *ss) {
  unsigned char *const lo = ss->ss_sp;
  memset(lo, 0xa5, ss->ss_size);
  for (int i = 0; i < 20; i++)
    if (raise(SIGUSR1))
      return 1;
  size_t used = ss->ss_size;
  for (size_t i = 0; i < ss->ss_size && lo[i] == 0xa5; i++)
    used--;
  printf("%s: %zu\n", name, used);
  return 0;
}

/* Linux's SS_AUTODISARM (4.7), which glibc's headers do not define. */
#define HS_AUTODISARM (1u << 31)

/* With on: says so on stderr and waits for a line on stdin. */
static int step(int on, const char *say) {
  char line[16];
  if (!on)
    return 0;
  fprintf(stderr, "%s\n", say);
  return !fgets(line, sizeof line, stdin);
}

/* Three 8 KiB alternate stacks in turn, each with new stacks to meet: the
 * first; another in its place (the shim keeps each thread's, and must
 * follow the change); one the kernel disarms while its handler runs
 * (SS_AUTODISARM: asked then, it says there is none). */
static int altstack(int wait, int reattach) {
  const size_t size = 8192;
  const stack_t ss = {.ss_sp = malloc(size), .ss_size = size};
  struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
  sigemptyset(&sa.sa_mask);
  /* The C library's calls bound now, as they are under the shim (its
   * hooks take theirs at start), not in the first handler: bare, that
   * took 3 KiB more there (and nothing with LD_BIND_NOW). */
  free(realloc(calloc(1, 8), 16));
  if (!ss.ss_sp || sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL))
    return 1;
  if (step(wait || reattach, "ready") || raise_20("alternate stack", &ss))
    return 1;
  const stack_t b = {.ss_sp = malloc(size), .ss_size = size};
  g_sites = allocate_sites_b;
  if (!b.ss_sp || step(reattach, "detach now") || sigaltstack(&b, NULL) ||
      step(reattach, "attach now") || raise_20("another in its place", &b))
    return 1;
  const stack_t c = {
      .ss_sp = malloc(size), .ss_size = size, .ss_flags = HS_AUTODISARM};
  g_sites = allocate_sites_c;
  if (!c.ss_sp)
    return 1;
  if (sigaltstack(&c, NULL) == 0) {
    if (raise_20("disarmed in its handler", &c))
      return 1;
  } else if (errno == EINVAL) { /* a kernel before 4.7 */
    fputs("SS_AUTODISARM: not in this kernel, not tried\n", stderr);
    g_handled += 20;
  } else {
    return 1;
  }
  if (g_handled != 60)
    return 1;
  puts("alternate stack: ok");
  return 0;
}

/* Allocates from new call sites with `used` bytes of the stack taken
 * above them. */
static __attribute__((noinline)) void allocate_below(size_t used) {
  volatile char *const room = __builtin_alloca(used);
  room[0] = room[used - 1] = 1;
  allocate_new_sites();
  __asm__ volatile("" ::: "memory"); /* no tail call: keep the room */
}

static __attribute__((noinline)) void *on_small_stack(void *arg) {
  char line[256];
  allocate_new_sites();
  allocate_below(6144); /* with 4 KiB taken, 16 KiB crashed under the shim */
  void *p = realloc(malloc(200), 4000);
  snprintf(line, sizeof line, "thread %d: %s", *(int *)arg, p ? "ok" : "-");
  free(p);
  return strlen(line) > 10 ? arg : NULL;
}

/* The same from another function: stacks the shim has not met. */
static __attribute__((noinline)) void *on_default_stack(void *arg) {
  allocate_below(6144);
  __asm__ volatile("" ::: "memory");
  return arg;
}

static int small_stacks(void) {
  const long min = sysconf(_SC_THREAD_STACK_MIN); /* 16 KiB on x86-64 */
  const size_t sizes[] = {min > 16384 ? (size_t)min : 16384,
                          (min > 16384 ? (size_t)min : 16384) + 4096};
  for (int i = 0; i < 8; i++) {
    pthread_attr_t attr;
    pthread_t t;
    void *ret = NULL;
    if (pthread_attr_init(&attr) ||
        pthread_attr_setstacksize(&attr, sizes[i & 1]) ||
        pthread_create(&t, &attr, on_small_stack, &i) ||
        pthread_join(t, &ret) || ret != &i)
      return 1;
    pthread_attr_destroy(&attr);
  }
  /* the smallest made the default: a thread created without an attr */
  pthread_attr_t def;
  pthread_t t;
  int k = 8;
  void *ret = NULL;
  if (pthread_attr_init(&def) || pthread_attr_setstacksize(&def, sizes[0]) ||
      pthread_setattr_default_np(&def) ||
      pthread_create(&t, NULL, on_default_stack, &k) || pthread_join(t, &ret) ||
      ret != &k)
    return 1;
  pthread_attr_destroy(&def);
  puts("small stacks: ok");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "altstack"))
    return altstack(argc == 3 && !strcmp(argv[2], "wait"),
                    argc == 3 && !strcmp(argv[2], "reattach"));
  if (argc == 2 && !strcmp(argv[1], "smallstack"))
    return small_stacks();
  return sp_run(run) ? 1 : 0;
}
