/* e2e_fork - fork while another thread allocates: no deadlock, and each
 * child tracks on under its own pid, with the parent's blocks it inherited
 * and its own, in its own snapshot files. */
#include <pthread.h>
#include <sys/wait.h>

#include "e2e_sites.h"

#define PARENT_BLOCKS 10
#define CHILD_FREES 4
#define CHILD_BLOCKS 6

static void *parent_blocks[PARENT_BLOCKS];
static volatile int churning = 1;

__attribute__((noinline)) void *site_parent(void) {
  return malloc(500);
}
__attribute__((noinline)) void *site_child(void) {
  return malloc(700);
}

__attribute__((noinline)) void site_churn(void) {
  while (churning) {
    void *p[16];
    for (int i = 0; i < 16; i++)
      p[i] = malloc(32 + 16 * (size_t)i);
    for (int i = 0; i < 16; i++)
      free(p[i]);
  }
}

static void *churner(void *arg) {
  site_churn();
  return NULL;
}

static void child_sites(FILE *f) {
  E2E_SITE(f, site_parent, PARENT_BLOCKS - CHILD_FREES,
           (PARENT_BLOCKS - CHILD_FREES) * 500);
  E2E_SITE(f, site_child, CHILD_BLOCKS, CHILD_BLOCKS * 700);
  /* site_churn is not checked here: the child inherits whatever the
   * churning thread held at the instant of fork (up to 16 blocks). */
}

static void parent_sites(FILE *f) {
  E2E_SITE(f, site_parent, PARENT_BLOCKS, PARENT_BLOCKS * 500);
  E2E_SITE(f, site_child, 0, 0);
  E2E_SITE(f, site_churn, 0, 0);
}

static void child(void) {
  void *mine[CHILD_BLOCKS];
  for (int i = 0; i < CHILD_FREES; i++)
    free(parent_blocks[i]);
  for (int i = 0; i < CHILD_BLOCKS; i++)
    mine[i] = site_child();
  e2e_snapshot(child_sites);
  (void)mine;
  exit(0);
}

int main(void) {
  for (int i = 0; i < PARENT_BLOCKS; i++)
    parent_blocks[i] = site_parent();
  pthread_t t;
  pthread_create(&t, NULL, churner, NULL);
  for (int k = 0; k < 5; k++) {
    const pid_t pid = fork();
    if (pid == 0)
      child();
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      fprintf(stderr, "e2e_fork: child %d failed (status %#x)\n", pid, status);
      return 1;
    }
  }
  churning = 0;
  pthread_join(t, NULL);
  e2e_snapshot(parent_sites);
  return 0;
}
