/* test_channel - the status file after a failed exec (hs_channel.c).
 *
 * The exec wrappers remove the file before the call and make it again
 * when the call returns (hs__status_restore). An exec may come from a
 * signal handler that interrupted a holder of the locks that takes, so
 * the restore must never wait for them: it tries them, and when one is
 * busy it leaves the file to the shim's thread (hs__status_mend), woken by
 * hs__trigger_poke. These tests hold the lock of the shim's list of
 * mappings, as an interrupted table growth would, and check that the
 * restore returns, that the thread was poked, and that the mend makes the
 * file again with what the old one said. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hs_shim.h"
#include "hs_status.h"

hs__settings hs__cfg;

/* What hs_channel.c needs from the rest of the shim. */
static int pokes;
void hs__trigger_poke(void) {
  pokes++;
}
int hs__signal_current(void) {
  return SIGUSR2;
}
int hs__os_sigmask(int how, const sigset_t *set, sigset_t *old) {
  return pthread_sigmask(how, set, old);
}
void hs__os_block_all(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, old);
}

/* This process's status file, as heapsnap snap finds it. */
static void file_path(char *buf, size_t len) {
  char dir[96];
  assert_int_equal(
      hs_status_folder(dir, sizeof dir, "", "/dev/shm", (unsigned)geteuid()),
      0);
  snprintf(buf, len, "%s/%d", dir, (int)getpid());
}

static int file_read(hs_status *out) {
  char path[160];
  file_path(path, sizeof path);
  return hs_status_read(path, out);
}

static int setup(void **state) {
  (void)state;
  snprintf(hs__cfg.name, sizeof hs__cfg.name, "test_channel");
  snprintf(hs__cfg.dir, sizeof hs__cfg.dir, "/tmp");
  hs__status_open();
  hs_status st;
  if (file_read(&st) != 0) {
    fprintf(stderr, "test_channel: no writable /dev/shm for the status file\n");
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hs__status_remove();
  return 0;
}

/* The common case: nothing holds the locks, the file is back at once with
 * what it said before the exec, and the thread is not bothered. */
static void test_restore_at_once(void **state) {
  (void)state;
  hs__status_result(0, 7);
  hs__status_remove();
  hs_status st;
  assert_int_equal(file_read(&st), -ENOENT);
  pokes = 0;
  hs__status_restore();
  assert_int_equal(file_read(&st), 0);
  assert_int_equal(st.pid, getpid());
  assert_int_equal(st.last_n, 7);
  assert_int_equal(pokes, 0);
  hs__status_result(0, 8); /* the new file is the one updated */
  assert_int_equal(file_read(&st), 0);
  assert_int_equal(st.last_n, 8);
}

static void *restore_main(void *arg) {
  (void)arg;
  hs__status_restore();
  return NULL;
}

/* The list's lock held (by the main thread here; in a program, by the
 * thread a handler interrupted): the restore returns without the file
 * and pokes the thread, whose mend makes it. The old code waited on the
 * lock, so the join times out. */
static void test_restore_with_lock_held(void **state) {
  (void)state;
  hs__status_result(0, 11);
  hs__status_remove();
  pokes = 0;
  hs__os_lock();
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, restore_main, NULL), 0);
  struct timespec by;
  clock_gettime(CLOCK_REALTIME, &by);
  by.tv_sec += 10;
  const int joined = pthread_timedjoin_np(t, NULL, &by);
  hs__os_unlock();
  if (joined != 0)
    pthread_join(t, NULL);
  assert_int_equal(joined, 0);
  hs_status st;
  assert_int_equal(file_read(&st), -ENOENT);
  assert_int_equal(pokes, 1);
  hs__status_mend();
  assert_int_equal(file_read(&st), 0);
  assert_int_equal(st.last_n, 11);
  /* once made, a mend does nothing: the file stays as it is */
  hs__status_remove();
  hs__status_mend();
  assert_int_equal(file_read(&st), -ENOENT);
  hs__status_restore();
  assert_int_equal(file_read(&st), 0);
  assert_int_equal(pokes, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_restore_at_once),
      cmocka_unit_test(test_restore_with_lock_held),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
