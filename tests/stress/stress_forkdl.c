/* stress_forkdl - fork while another thread is inside the dynamic loader.
 *
 * glibc's fork does not reset the loader's dl_load_write_lock: a child
 * forked while another thread of the parent held it (in dlopen, dlclose or
 * dl_iterate_phdr) can never take it. Bare, that child hangs only if it
 * calls into the loader itself; the shim must not add a hang. Modes:
 *
 *   loop FORKS THREADS DLLIB  a loader thread dlopens and dlcloses DLLIB
 *        without pause; THREADS threads fork FORKS children in all, each
 *        child allocates 64 blocks, frees them and leaves with _exit.
 *        Prints "done".
 *   held DLLIB  deterministic: stress_forkhold makes the fork happen
 *        while a thread holds the lock, and dlcloses DLLIB (loaded and
 *        snapshotted before) after the shim captured the module list. The
 *        child allocates at site_held and takes an API snapshot, with the
 *        sites it must hold written beside it (e2e_check): its blocks, the
 *        program's modules loaded, DLLIB unloaded.
 *   live DIR  deterministic as held; the child writes DIR/live.sites,
 *        prints "child PID", keeps allocating and freeing, holding 10
 *        blocks of site_live, until stdin closes.
 *   dlopen held|free DLLIB  the child (forked with the lock held, or not)
 *        allocates, says so, then dlopens DLLIB. Prints whether it
 *        allocated and whether its dlopen returned within 2 s: the same
 *        with the shim as without.
 *   spawn N DLLIB  the loader thread runs while the program starts
 *        /bin/true N times with vfork+execv and N times with posix_spawn.
 *
 * A child that hangs is killed by SIGALRM after 30 s and the parent says
 * so, so a hang fails the test instead of stalling it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e_sites.h"

#define NOINLINE __attribute__((noinline))
#define HELD_BLOCKS 6
#define LIVE_BLOCKS 10

void forkhold_arm(int on, void *dlclose_handle);

extern char **environ;
static atomic_int stop;

static void fcntl_nonblock(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}
static const char *dllib;

NOINLINE void *site_held(void) {
  return malloc(400);
}
NOINLINE void *site_live(void) {
  return malloc(250);
}

static void *loader(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    void *h = dlopen(dllib, RTLD_NOW);
    if (h)
      dlclose(h);
  }
  return NULL;
}

static pthread_t loader_start(const char *lib) {
  pthread_t t;
  dllib = lib;
  if (pthread_create(&t, NULL, loader, NULL) != 0)
    exit(90);
  return t;
}

static void loader_stop(pthread_t t) {
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
}

/* Waits for a child; 0 when it exited with 0. */
static int reap(pid_t pid, const char *what) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return -1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
    return 0;
  if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
    fprintf(stderr, "%s: child %d hung (killed after 30 s)\n", what, pid);
  else
    fprintf(stderr, "%s: child %d failed (status %#x)\n", what, pid, st);
  return -1;
}

static void *forker(void *arg) {
  const long forks = (long)arg;
  for (long i = 0; i < forks; i++) {
    const pid_t pid = fork();
    if (pid == 0) {
      alarm(30);
      void *v[64];
      for (int j = 0; j < 64; j++)
        v[j] = malloc(32 + j);
      for (int j = 0; j < 64; j++)
        free(v[j]);
      _exit(0);
    }
    if (pid < 0 || reap(pid, "loop"))
      exit(1);
  }
  return NULL;
}

static int mode_loop(long forks, long threads, const char *lib) {
  const pthread_t l = loader_start(lib);
  pthread_t t[16];
  threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
  for (long i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, forker, (void *)(forks / threads));
  for (long i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  loader_stop(l);
  puts("done");
  return 0;
}

static void held_sites(FILE *f) {
  E2E_SITE(f, site_held, HELD_BLOCKS, HELD_BLOCKS * 400);
  fprintf(f, "loaded stress_forkdl\nloaded libc.so\nloaded stress_forkhold\n"
             "unloaded stress_dllib\n");
}

static void parent_sites(FILE *f) {
  fprintf(f, "loaded stress_dllib\n");
}

static int mode_held(const char *lib) {
  void *h = dlopen(lib, RTLD_NOW);
  if (!h)
    return 91;
  e2e_snapshot(parent_sites); /* the module table knows lib, loaded */
  forkhold_arm(1, h);         /* dlclosed after the shim's capture */
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(30);
    void *keep[HELD_BLOCKS];
    for (int i = 0; i < HELD_BLOCKS; i++)
      keep[i] = site_held();
    e2e_snapshot(held_sites);
    for (int i = 0; i < HELD_BLOCKS; i++)
      free(keep[i]);
    _exit(0);
  }
  forkhold_arm(0, NULL);
  const int rc = reap(pid, "held");
  puts(rc ? "held: child failed" : "held: child exited 0");
  return rc ? 1 : 0;
}

static void live_child(const char *dir, int quit_fd) {
  alarm(60);
  void *keep[LIVE_BLOCKS];
  for (int i = 0; i < LIVE_BLOCKS; i++)
    keep[i] = site_live();
  char path[4096];
  snprintf(path, sizeof path, "%s/live.sites", dir);
  FILE *f = fopen(path, "w");
  if (!f)
    _exit(92);
  fprintf(f, "pid %d\n", (int)getpid());
  E2E_SITE(f, site_live, LIVE_BLOCKS, LIVE_BLOCKS * 250);
  fprintf(f, "loaded stress_forkdl\nloaded libc.so\n");
  fclose(f);
  printf("child %d\n", (int)getpid());
  fflush(stdout);
  char c;
  for (unsigned i = 0; read(quit_fd, &c, 1) < 0 && errno == EAGAIN; i++) {
    void *p = malloc(64 + i % 512); /* churn: nothing of it stays */
    usleep(1000);
    free(p);
  }
  for (int i = 0; i < LIVE_BLOCKS; i++)
    free(keep[i]);
  _exit(0);
}

static int mode_live(const char *dir) {
  int quit[2];
  if (pipe(quit))
    return 93;
  forkhold_arm(1, NULL);
  const pid_t pid = fork();
  if (pid == 0) {
    close(quit[1]);
    fcntl_nonblock(quit[0]);
    live_child(dir, quit[0]);
  }
  forkhold_arm(0, NULL);
  close(quit[0]);
  char line[64];
  while (fgets(line, sizeof line, stdin))
    ;
  close(quit[1]); /* the child sees EOF */
  const int rc = reap(pid, "live");
  puts(rc ? "live: child failed" : "live: child exited 0");
  return rc ? 1 : 0;
}

/* Reads one line from fd within ms milliseconds; "" when none came. */
static const char *read_line(int fd, int ms, char *buf, size_t len) {
  size_t n = 0;
  for (int waited = 0; n + 1 < len && waited < ms;) {
    const ssize_t r = read(fd, buf + n, 1);
    if (r == 1 && buf[n] == '\n')
      break;
    if (r == 1) {
      n++;
      continue;
    }
    if (r == 0)
      break;
    usleep(10000);
    waited += 10;
  }
  buf[n] = '\0';
  return buf;
}

static int mode_dlopen(int held, const char *lib) {
  int p[2];
  if (pipe(p))
    return 94;
  forkhold_arm(held, NULL);
  const pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    alarm(30);
    void *x = site_held();
    dprintf(p[1], "allocated\n");
    void *h = dlopen(lib, RTLD_NOW);
    dprintf(p[1], "%s\n", h ? "dlopen returned" : "dlopen failed");
    free(x);
    _exit(0);
  }
  forkhold_arm(0, NULL);
  close(p[1]);
  fcntl_nonblock(p[0]);
  char a[64], b[64];
  printf("child: %s\n", read_line(p[0], 10000, a, sizeof a));
  const char *second = read_line(p[0], 2000, b, sizeof b);
  printf("child: %s\n", *second ? second : "dlopen did not return in 2 s");
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return 0;
}

static int mode_spawn(long n, const char *lib) {
  const pthread_t l = loader_start(lib);
  char *const argv[] = {"true", NULL};
  int ok = 0;
  for (long i = 0; i < n; i++) {
    const pid_t v = vfork();
    if (v == 0) {
      execv("/bin/true", argv);
      _exit(127);
    }
    ok += v > 0 && reap(v, "vfork") == 0;
    pid_t s;
    if (posix_spawn(&s, "/bin/true", NULL, NULL, argv, environ) == 0)
      ok += reap(s, "posix_spawn") == 0;
  }
  loader_stop(l);
  printf("spawn: %d of %ld children exited 0\n", ok, 2 * n);
  return ok == 2 * n ? 0 : 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "loop") == 0 && argc == 5)
    return mode_loop(atol(argv[2]), atol(argv[3]), argv[4]);
  if (strcmp(mode, "held") == 0 && argc == 3)
    return mode_held(argv[2]);
  if (strcmp(mode, "live") == 0 && argc == 3)
    return mode_live(argv[2]);
  if (strcmp(mode, "dlopen") == 0 && argc == 4)
    return mode_dlopen(strcmp(argv[2], "held") == 0, argv[3]);
  if (strcmp(mode, "spawn") == 0 && argc == 4)
    return mode_spawn(atol(argv[2]), argv[3]);
  fprintf(stderr, "usage: stress_forkdl loop FORKS THREADS DLLIB | held DLLIB"
                  " | live DIR | dlopen held|free DLLIB | spawn N DLLIB\n");
  return 2;
}
