/* test_gate - the fork gate (hs_prim.c) that keeps fork out while a thread
 * is inside a library that takes locks of its own (libunwind, the
 * loader's dl_iterate_phdr): closing it waits until the callers inside
 * have left, and holds new callers at the door until it opens again; a
 * real fork through pthread_atfork waits for a caller inside. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hs_shim.h"

static hs__gate gate;
static _Atomic int entered, left, release;

static void sleep_ms(int ms) {
  const struct timespec t = {0, ms * 1000000L};
  nanosleep(&t, NULL);
}

/* Goes in, says so, stays until released, leaves. */
static void *caller(void *arg) {
  (void)arg;
  hs__gate_enter(&gate);
  atomic_fetch_add(&entered, 1);
  while (!atomic_load(&release))
    sleep_ms(1);
  atomic_fetch_add(&left, 1);
  hs__gate_leave(&gate);
  return NULL;
}

static void *releaser(void *arg) {
  sleep_ms(50);
  atomic_store(&release, 1);
  return arg;
}

static void reset(void) {
  gate = (hs__gate){0};
  entered = left = release = 0;
}

static void test_close_waits_for_callers_inside(void **state) {
  (void)state;
  reset();
  pthread_t a, r;
  pthread_create(&a, NULL, caller, NULL);
  while (atomic_load(&entered) < 1)
    sleep_ms(1);
  pthread_create(&r, NULL, releaser, NULL);
  hs__gate_close(&gate, 0); /* returns only once the caller has left */
  assert_int_equal(atomic_load(&left), 1);
  assert_int_equal(atomic_load(&gate.inside), 0);
  hs__gate_open(&gate);
  pthread_join(a, NULL);
  pthread_join(r, NULL);
}

static void test_closed_gate_holds_new_callers(void **state) {
  (void)state;
  reset();
  atomic_store(&release, 1); /* callers leave at once once in */
  hs__gate_close(&gate, 0);
  pthread_t b;
  pthread_create(&b, NULL, caller, NULL);
  sleep_ms(100);
  assert_int_equal(atomic_load(&entered), 0); /* still at the door */
  hs__gate_open(&gate);
  pthread_join(b, NULL);
  assert_int_equal(atomic_load(&entered), 1);
  assert_int_equal(atomic_load(&gate.inside), 0);
}

/* The gate as the shim uses it, through pthread_atfork: a fork while
 * another thread is inside waits until it has left, so the child's copy
 * of memory shows it gone (without the gate the child would see it still
 * inside, as it would see a lock that thread held). The child starts with
 * nobody inside and the gate open. */
static void gate_prepare(void) {
  hs__gate_close(&gate, 0);
}
static void gate_parent(void) {
  hs__gate_open(&gate);
}
static void gate_child(void) {
  hs__gate_reset(&gate, 0);
}

static void test_fork_waits_for_callers(void **state) {
  (void)state;
  reset();
  pthread_atfork(gate_prepare, gate_parent, gate_child);
  pthread_t a, r;
  pthread_create(&a, NULL, caller, NULL);
  while (atomic_load(&entered) < 1)
    sleep_ms(1);
  pthread_create(&r, NULL, releaser, NULL); /* lets it go in 50 ms */
  const pid_t pid = fork();
  if (pid == 0) /* exit_group, not _exit: under TSan, _exit would report the
                 * parent's threads the child's copy never joined */
    syscall(SYS_exit_group, atomic_load(&left) == 1 &&
                                    atomic_load(&gate.inside) == 0 &&
                                    !atomic_load(&gate.forking)
                                ? 0
                                : 1);
  int status = -1;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(atomic_load(&gate.forking), 0); /* open again */
  pthread_join(a, NULL);
  pthread_join(r, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_close_waits_for_callers_inside),
      cmocka_unit_test(test_closed_gate_holds_new_callers),
      cmocka_unit_test(test_fork_waits_for_callers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
