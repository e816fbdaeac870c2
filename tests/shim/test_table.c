/* test_table - the live-block table against a plain reference model:
 * random inserts, removals, restores and resizes, checked entry by entry;
 * epochs; addresses it must refuse; concurrent threads on their own
 * address ranges and on shared shards; a waiter on a held shard lock. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hs_shim.h"

#define SLOTS (1u << 18)
#define BASE 0x7f0000000000ull

typedef struct ref {
  uint64_t size;
  uint32_t stack, epoch;
  int live;
} ref;

static ref *model;

static uint64_t addr_of(uint32_t i) {
  return BASE + 16ull * i;
}

static int table_setup(void **state) {
  model = calloc(SLOTS, sizeof *model);
  return hs__table_init() || !model;
}

static int table_teardown(void **state) {
  free(model);
  return 0;
}

static int cmp_addr(const void *a, const void *b) {
  const uint64_t x = ((const hs__entry *)a)->addr;
  const uint64_t y = ((const hs__entry *)b)->addr;
  return x < y ? -1 : x > y;
}

/* Copies the table and compares it with the model, entry by entry. */
static void check_against_model(void) {
  hs__table_lock_all();
  const size_t n = hs__table_count_locked();
  uint64_t *pairs = malloc((n + 1) * 16);
  const size_t got = hs__table_copy_locked(pairs, n);
  const int sound = hs__table_sound_locked();
  hs__table_unlock_all();
  assert_true(sound);
  assert_int_equal(got, n);
  hs__entry *e = malloc((n + 1) * sizeof *e);
  for (size_t i = 0; i < n; i++)
    hs__table_decode(&pairs[2 * i], &e[i]);
  qsort(e, n, sizeof *e, cmp_addr);
  size_t k = 0;
  for (uint32_t i = 0; i < SLOTS; i++) {
    if (!model[i].live)
      continue;
    assert_true(k < n);
    assert_int_equal(e[k].addr, addr_of(i));
    assert_int_equal(e[k].size, model[i].size);
    assert_int_equal(e[k].stack, model[i].stack);
    assert_int_equal(e[k].epoch, model[i].epoch);
    k++;
  }
  assert_int_equal(k, n);
  free(pairs);
  free(e);
}

static uint32_t current_epoch;

static void random_op(unsigned *seed) {
  const uint32_t i = (uint32_t)rand_r(seed) % SLOTS;
  ref *r = &model[i];
  const int op = rand_r(seed) % 8;
  if (!r->live && op < 5) {
    r->size = (uint64_t)rand_r(seed) % 100000;
    r->stack = (uint32_t)rand_r(seed) % (1u << 24);
    r->epoch = current_epoch;
    r->live = 1;
    hs__table_insert(addr_of(i), r->size, r->stack);
  } else if (r->live && op < 6) {
    hs__entry out;
    assert_int_equal(hs__table_remove(addr_of(i), &out), 1);
    assert_int_equal(out.size, r->size);
    assert_int_equal(out.stack, r->stack);
    assert_int_equal(out.epoch, r->epoch);
    if (op == 5) /* a failed realloc puts it back as it was */
      hs__table_restore(&out);
    else
      r->live = 0;
  } else if (r->live) {
    r->size = (uint64_t)rand_r(seed);
    hs__table_resize(addr_of(i), r->size);
  } else {
    assert_int_equal(hs__table_remove(addr_of(i), NULL), 0);
  }
}

static void test_random_against_model(void **state) {
  unsigned seed = 12345;
  for (int round = 0; round < 4; round++) {
    for (int k = 0; k < 300000; k++)
      random_op(&seed);
    check_against_model();
    hs__table_lock_all();
    assert_int_equal(hs__table_epoch_advance_locked(), current_epoch);
    hs__table_unlock_all();
    current_epoch++;
  }
}

static void test_refuses_untrackable(void **state) {
  hs__table_lock_all();
  const size_t before = hs__table_count_locked();
  hs__table_unlock_all();
  hs__table_insert(0, 10, 1);          /* NULL */
  hs__table_insert(BASE + 4, 10, 1);   /* not 8-aligned */
  hs__table_insert(1ull << 60, 10, 1); /* above 2^48 */
  assert_int_equal(hs__table_remove(BASE + 4, NULL), 0);
  hs__table_lock_all();
  assert_int_equal(hs__table_count_locked(), before);
  hs__table_unlock_all();
}

static void test_huge_size_saturates(void **state) {
  const uint64_t a = BASE - 4096;
  hs__table_insert(a, 1ull << 50, 7);
  hs__entry e;
  assert_int_equal(hs__table_remove(a, &e), 1);
  assert_int_equal(e.size, (1ull << 40) - 1);
  assert_int_equal(e.stack, 7);
}

#define THREADS 4
#define PER_THREAD 50000

static void *thread_ops(void *arg) {
  const uint64_t base = BASE + (uint64_t)(uintptr_t)arg * (1ull << 32);
  for (int round = 0; round < 3; round++) {
    for (uint64_t i = 0; i < PER_THREAD; i++)
      hs__table_insert(base + 8 * i, i, (uint32_t)i);
    for (uint64_t i = 0; i < PER_THREAD; i += 2)
      if (!hs__table_remove(base + 8 * i, NULL))
        return (void *)1;
    for (uint64_t i = 0; i < PER_THREAD; i += 2)
      hs__table_insert(base + 8 * i, i, (uint32_t)i);
    for (uint64_t i = 1; i < PER_THREAD; i += 2)
      if (!hs__table_remove(base + 8 * i, NULL))
        return (void *)1;
  }
  return NULL;
}

static void test_threads(void **state) {
  hs__table_lock_all();
  const size_t before = hs__table_count_locked();
  hs__table_unlock_all();
  pthread_t t[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, thread_ops, (void *)(i + 1));
  for (int i = 0; i < THREADS; i++) {
    void *rc;
    pthread_join(t[i], &rc);
    assert_null(rc);
  }
  hs__table_lock_all();
  /* each thread leaves its even-numbered entries */
  assert_int_equal(hs__table_count_locked(),
                   before + THREADS * (PER_THREAD / 2));
  hs__table_unlock_all();
}

/* Eight threads on interleaved addresses of the same windows, so the same
 * shards: on two CPUs the shard locks are fought over, and waiters spin
 * and sleep (hs__lock_wait). Every entry is accounted for. */
#define SHARED_THREADS 8
#define SHARED_PER 20000

#define SHARED_BASE (BASE + (64ull << 30)) /* apart from the others' */

static void *thread_shared(void *arg) {
  const uint64_t t = (uint64_t)(uintptr_t)arg;
  for (int round = 0; round < 4; round++) {
    for (uint64_t i = 0; i < SHARED_PER; i++)
      hs__table_insert(SHARED_BASE + 8 * (i * SHARED_THREADS + t), i,
                       (uint32_t)t);
    for (uint64_t i = 0; i < SHARED_PER; i++) {
      hs__entry e;
      if (!hs__table_remove(SHARED_BASE + 8 * (i * SHARED_THREADS + t), &e) ||
          e.stack != t || e.size != i)
        return (void *)1;
    }
  }
  for (uint64_t i = 0; i < SHARED_PER; i += 4)
    hs__table_insert(SHARED_BASE + 8 * (i * SHARED_THREADS + t), i,
                     (uint32_t)t);
  return NULL;
}

static void test_shared_shards(void **state) {
  hs__table_lock_all();
  const size_t before = hs__table_count_locked();
  hs__table_unlock_all();
  pthread_t t[SHARED_THREADS];
  for (uintptr_t i = 0; i < SHARED_THREADS; i++)
    pthread_create(&t[i], NULL, thread_shared, (void *)i);
  for (int i = 0; i < SHARED_THREADS; i++) {
    void *rc;
    pthread_join(t[i], &rc);
    assert_null(rc);
  }
  hs__table_lock_all();
  const size_t after = hs__table_count_locked();
  hs__table_unlock_all(); /* before a failed check leaves the test */
  assert_int_equal(after, before + SHARED_THREADS * (SHARED_PER / 4));
  for (uint64_t k = 0; k < SHARED_THREADS; k++)
    for (uint64_t i = 0; i < SHARED_PER; i += 4)
      assert_int_equal(
          hs__table_remove(SHARED_BASE + 8 * (i * SHARED_THREADS + k), NULL),
          1);
}

/* A thread that meets a held shard waits (it sleeps: the main thread holds
 * every lock for 50 ms) and goes on once the lock is given back. While
 * one thread holds every lock it sleeps until they are given back, not 1
 * ms at a time: 2,000 such waiters woken every 1 ms starved fork. */
static _Atomic int inserted;

static void *thread_insert_one(void *arg) {
  hs__table_insert(BASE - 8192, 99, 5);
  atomic_store(&inserted, 1);
  return NULL;
}

static void test_waiter_wakes(void **state) {
  const uint64_t sleeps = hs__table_lock_sleeps();
  hs__table_lock_all();
  pthread_t t;
  pthread_create(&t, NULL, thread_insert_one, NULL);
  const struct timespec ms = {0, 1000 * 1000}, wait = {0, 50 * 1000 * 1000};
  for (int i = 0; i < 10000 && hs__table_lock_sleeps() == sleeps; i++)
    nanosleep(&ms, NULL); /* until it sleeps (a loaded machine is slow) */
  nanosleep(&wait, NULL);
  const int early = atomic_load(&inserted);
  hs__table_unlock_all();
  assert_int_equal(early, 0); /* it waited while the lock was held */
  pthread_join(t, NULL);
  assert_int_equal(atomic_load(&inserted), 1);
  /* one sleep, and a few more if its wake-up came between two gives */
  assert_in_range(hs__table_lock_sleeps() - sleeps, 1, 4);
  hs__entry e;
  assert_int_equal(hs__table_remove(BASE - 8192, &e), 1);
  assert_int_equal(e.size, 99);
  assert_int_equal(e.stack, 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_against_model),
      cmocka_unit_test(test_refuses_untrackable),
      cmocka_unit_test(test_huge_size_saturates),
      cmocka_unit_test(test_threads),
      cmocka_unit_test(test_shared_shards),
      cmocka_unit_test(test_waiter_wakes),
  };
  return cmocka_run_group_tests(tests, table_setup, table_teardown);
}
