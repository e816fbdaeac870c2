/* stress_sigmask - the shim's own signal-mask changes (libunwind's lock
 * blocks every signal, then puts the old mask back) leave a thread's mask
 * as it was, glibc's two reserved signals included.
 *
 * usage: stress_sigmask mask
 * The main thread blocks signals 32 and 33 (glibc's SIGCANCEL and
 * SIGSETXID, which only a raw rt_sigprocmask can block), allocates from
 * call stacks met for the first time (each one walked by libunwind under
 * the shim), and reads its mask back. Under the shim signal 32 came back
 * unblocked: glibc's sigprocmask, through which the restore went, takes
 * 32 and 33 out of any mask. stdout: "mask: 32 blocked, 33 blocked".
 *
 * usage: stress_sigmask timer
 * A SIGEV_THREAD timer every millisecond, whose callbacks allocate. glibc's
 * timer thread keeps 32 blocked and waits for it with sigwaitinfo; its
 * first allocation starts the first callback's thread. Under the shim it
 * died of signal 32 at the second expiry. stdout: "timer: 100 ticks".
 *
 * usage: stress_sigmask mask|timer wait
 * The same after a line on stdin (tests/attach: attached meanwhile). */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *volatile sink;

/* A new call stack at each depth: n frames of recursion, then malloc. */
static __attribute__((noinline)) void allocate_at(int n) {
  if (n > 0) {
    allocate_at(n - 1);
  } else {
    sink = malloc(40);
    free(sink);
  }
  __asm__ volatile("" ::: "memory"); /* no tail call */
}

static uint64_t raw_mask(int how, uint64_t set) {
  uint64_t old = 0;
  if (syscall(SYS_rt_sigprocmask, how, how >= 0 ? &set : NULL, &old,
              sizeof old))
    exit(2);
  return old;
}

static int mask(void) {
  const uint64_t bit32 = 1ull << 31, bit33 = 1ull << 32;
  raw_mask(SIG_BLOCK, bit32 | bit33);
  for (int n = 0; n < 20; n++)
    allocate_at(n);
  const uint64_t now = raw_mask(SIG_BLOCK, 0);
  printf("mask: 32 %s, 33 %s\n", now & bit32 ? "blocked" : "unblocked",
         now & bit33 ? "blocked" : "unblocked");
  return 0;
}

static atomic_int ticks;

static void on_tick(union sigval v) {
  (void)v;
  allocate_at(atomic_fetch_add(&ticks, 1) % 16);
}

static int timer(void) {
  timer_t t;
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = on_tick;
  const struct itimerspec every_ms = {{0, 1000000}, {0, 1000000}};
  if (timer_create(CLOCK_MONOTONIC, &ev, &t) ||
      timer_settime(t, 0, &every_ms, NULL))
    return 1;
  for (int i = 0; i < 20000 && atomic_load(&ticks) < 100; i++)
    usleep(1000);
  timer_delete(t);
  printf("timer: %s ticks\n", atomic_load(&ticks) >= 100 ? "100" : "too few");
  return 0;
}

int main(int argc, char **argv) {
  char line[16];
  if (argc == 3 && !strcmp(argv[2], "wait") && !fgets(line, sizeof line, stdin))
    return 2;
  if (argc >= 2 && !strcmp(argv[1], "mask"))
    return mask();
  if (argc >= 2 && !strcmp(argv[1], "timer"))
    return timer();
  fprintf(stderr, "usage: stress_sigmask mask|timer [wait]\n");
  return 2;
}
