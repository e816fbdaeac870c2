/* stress_fork - fork while other threads allocate, in four ways, with
 * interval snapshots running (stress_fork.sh sets HEAPSNAP_INTERVAL):
 *   child 0: allocates, takes an API snapshot, exits;
 *   child 1: starts a thread that allocates and takes the snapshot;
 *   child 2: execs this program ("exec-child"), which allocates and takes
 *            the snapshot in the new image (same pid);
 *   child 3: forks a grandchild that allocates, takes the snapshot and
 *            leaves with _exit.
 * Every API snapshot has its .sites beside it (e2e_check): the blocks the
 * process inherited and its own, exactly.
 * One more thread of the parent walks the loaded modules all the time
 * (dl_iterate_phdr, as backtrace() and C++ exceptions do): glibc does not
 * reset the loader's lock in a child, and a child forked while it was held
 * hung at its first snapshot. A child that hangs dies of SIGALRM after
 * 30 s and the parent reports it.
 * The parent counts SIGCHLD and checks at the end that wait() finds no
 * child left: the shim's scan clones must neither signal nor be reaped.
 * usage: stress_fork FORKS      (output deterministic) */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e_sites.h"

#define CHURNERS 4
#define PARENT_BLOCKS 8
#define CHILD_BLOCKS 5
#define EXEC_BLOCKS 7

static void *parent_blocks[PARENT_BLOCKS];
static volatile int churning = 1;
static volatile sig_atomic_t sigchld;
static void *mine[CHILD_BLOCKS];

#define NOINLINE __attribute__((noinline))
NOINLINE void *site_parent(void) {
  return malloc(300);
}
NOINLINE void *site_child(void) {
  return malloc(500);
}
NOINLINE void *site_exec(void) {
  return calloc(1, 700);
}

NOINLINE void site_churn(unsigned seed) {
  void *ring[32] = {0};
  for (unsigned i = 0; churning; i++) {
    seed = seed * 1103515245u + 12345u;
    free(ring[i % 32]);
    ring[i % 32] = malloc(16 + (seed >> 16) % 1024);
  }
  for (int i = 0; i < 32; i++)
    free(ring[i]);
}

static void *churner(void *arg) {
  site_churn((unsigned)(long)arg);
  return NULL;
}

static int count_module(struct dl_phdr_info *info, size_t size, void *n) {
  ++*(int *)n;
  return 0;
}

static void *module_walker(void *arg) {
  int n = 0;
  while (churning)
    dl_iterate_phdr(count_module, &n);
  return NULL;
}

static void child_sites(FILE *f) {
  E2E_SITE(f, site_parent, PARENT_BLOCKS, PARENT_BLOCKS * 300);
  E2E_SITE(f, site_child, CHILD_BLOCKS, CHILD_BLOCKS * 500);
  E2E_SITE(f, site_exec, 0, 0);
}

static void exec_sites(FILE *f) {
  E2E_SITE(f, site_parent, 0, 0); /* a new image inherits no block */
  E2E_SITE(f, site_child, 0, 0);
  E2E_SITE(f, site_exec, EXEC_BLOCKS, EXEC_BLOCKS * 700);
}

/* Without the shim (the reference run) there is no snapshot to take. */
static void snapshot(void (*write_sites)(FILE *)) {
  if (heapsnap_active())
    e2e_snapshot(write_sites);
}

static void *child_thread(void *arg) {
  for (int i = 0; i < CHILD_BLOCKS; i++)
    mine[i] = site_child();
  snapshot(child_sites);
  return NULL;
}

static void child(int mode, char *self) {
  pthread_t t;
  pid_t g;
  int status;
  alarm(30);
  switch (mode) {
  case 0:
    child_thread(NULL);
    exit(0);
  case 1:
    if (pthread_create(&t, NULL, child_thread, NULL) || pthread_join(t, NULL))
      _exit(10);
    exit(0);
  case 2:
    execl("/proc/self/exe", self, "exec-child", (char *)NULL);
    _exit(11);
  default:
    g = fork();
    if (g == 0) {
      alarm(30); /* not inherited */
      child_thread(NULL);
      _exit(0);
    }
    if (g < 0 || waitpid(g, &status, 0) != g || status != 0)
      _exit(12);
    exit(0);
  }
}

static void on_sigchld(int sig) {
  sigchld++;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "exec-child") == 0) {
    void *held[EXEC_BLOCKS];
    for (int i = 0; i < EXEC_BLOCKS; i++)
      held[i] = site_exec();
    snapshot(exec_sites);
    return held[0] ? 0 : 1; /* held to the end */
  }
  const int forks = argc == 2 ? atoi(argv[1]) : 0;
  if (forks <= 0) {
    fprintf(stderr, "usage: stress_fork FORKS\n");
    return 2;
  }
  signal(SIGCHLD, on_sigchld);
  for (int i = 0; i < PARENT_BLOCKS; i++)
    parent_blocks[i] = site_parent();
  pthread_t t[CHURNERS], walker;
  for (long i = 0; i < CHURNERS; i++)
    pthread_create(&t[i], NULL, churner, (void *)i);
  pthread_create(&walker, NULL, module_walker, NULL);
  int failed = 0;
  for (int k = 0; k < forks; k++) {
    const pid_t pid = fork();
    if (pid == 0)
      child(k % 4, argv[0]);
    int status = -1;
    pid_t r;
    do
      r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (pid < 0 || r != pid || status != 0) {
      fprintf(stderr, "stress_fork: child %d (mode %d) status %#x\n", pid,
              k % 4, status);
      failed++;
    }
  }
  churning = 0;
  for (int i = 0; i < CHURNERS; i++)
    pthread_join(t[i], NULL);
  pthread_join(walker, NULL);
  errno = 0;
  const pid_t w = wait(NULL);
  printf("forks %d failed %d sigchld %d wait %d %s\n", forks, failed,
         (int)sigchld, (int)w, strerror(errno));
  return failed ? 1 : 0;
}
