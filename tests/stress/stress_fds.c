/* stress_fds - the shim uses none of the program's file descriptors.
 *
 * libunwind 1.6 checks a page before it reads it with a one-byte write
 * into a pipe it made at its first walk, draining a byte from the pipe
 * first. Under the shim that pipe took descriptors 3 and 4, and a program
 * that closed every descriptor it did not know and opened its own in
 * their place had a byte of its input read away and a byte written into
 * its output file at the shim's next walk; with a blocking pipe in their
 * place, the walk waited for good. Each phase prints what the program
 * saw; stress_fds.sh compares it with a run without the shim.
 *
 *   first   the first descriptor open() gives: 3, as without the shim
 *   limit   with RLIMIT_NOFILE 8, how many files open: 5
 *   reuse   after a close-all, a file read (6 bytes) and a file written
 *           (5 bytes) on 3 and 4 while a new thread allocates from new
 *           stacks: both whole, nothing else in them
 *   block   after a close-all, an empty blocking pipe on 3 and 4 while a
 *           new thread allocates: the thread ends, the pipe stays empty
 * usage: stress_fds clean DIR (every descriptor but 0-2 closed first, then
 * the program run again: stress_fds DIR) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Stacks the shim has not seen: each checked with libunwind, on the new
 * thread's own stack pages, which libunwind has not seen either. */
static __attribute__((noinline)) void *fds_leaf(size_t n) {
  void *p = malloc(n);
  __asm__ volatile("" ::: "memory");
  return p;
}
static __attribute__((noinline)) void *fds_mid(size_t n) {
  void *p = fds_leaf(n);
  __asm__ volatile("" ::: "memory");
  return p;
}
static __attribute__((noinline)) void *fds_top(size_t n) {
  void *p = fds_mid(n);
  __asm__ volatile("" ::: "memory");
  return p;
}

/* Each phase from call sites of its own, so that its stacks are new. */
static void *fds_worker(void *arg) {
  if (arg) {
    free(fds_leaf(24));
    free(fds_mid(40));
    free(fds_top(56));
  } else {
    free(fds_top(72));
    free(fds_mid(88));
    free(fds_leaf(104));
  }
  return NULL;
}

/* On a stack of its own, never used before: glibc would give the next
 * thread the last one's, whose pages libunwind has checked already. */
static void fds_allocate_in_new_thread(int phase) {
  const size_t size = 1 << 20;
  void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pthread_attr_t a;
  pthread_t t;
  if (stack == MAP_FAILED || pthread_attr_init(&a) != 0 ||
      pthread_attr_setstack(&a, stack, size) != 0 ||
      pthread_create(&t, &a, fds_worker, phase ? &a : NULL) != 0 ||
      pthread_join(t, NULL) != 0) {
    fprintf(stderr, "stress_fds: no thread\n");
    exit(2);
  }
  pthread_attr_destroy(&a);
}

static void fds_close_all(void) {
  for (int fd = 3; fd < 1024; fd++)
    close(fd);
}

static void fds_first(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/first", dir);
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  printf("first %d\n", fd);
  close(fd);
}

static void fds_limit(void) {
  struct rlimit old, low = {8, 8};
  getrlimit(RLIMIT_NOFILE, &old);
  low.rlim_max = old.rlim_max;
  setrlimit(RLIMIT_NOFILE, &low);
  int fds[16], n = 0;
  while (n < 16 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
    n++;
  printf("limit %d opened, then %s\n", n, strerror(errno));
  while (n > 0)
    close(fds[--n]);
  setrlimit(RLIMIT_NOFILE, &old);
}

static void fds_reuse(const char *dir) {
  char in[4096], out[4096];
  snprintf(in, sizeof in, "%s/in", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  FILE *f = fopen(in, "w");
  fputs("ABCDEF", f);
  fclose(f);
  fds_close_all();
  const int r = open(in, O_RDONLY);
  const int w = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  fds_allocate_in_new_thread(1);
  char buf[16] = {0};
  const ssize_t n = read(r, buf, sizeof buf - 1);
  const ssize_t m = write(w, "hello", 5);
  close(r);
  close(w);
  char back[16] = {0};
  const int b = open(out, O_RDONLY);
  const ssize_t k = read(b, back, sizeof back - 1);
  close(b);
  printf("reuse on %d and %d: read %zd \"%s\", wrote %zd, file has %zd "
         "\"%s\"\n",
         r, w, n, buf, m, k, back);
}

static void fds_block(void) {
  fds_close_all();
  int p[2];
  if (pipe(p) != 0)
    exit(2);
  fds_allocate_in_new_thread(0);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  char c;
  const ssize_t n = read(p[0], &c, 1);
  printf("block on %d and %d: thread ended, pipe %s\n", p[0], p[1],
         n < 0 && errno == EAGAIN ? "empty" : "not empty");
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "clean") == 0) {
    /* whatever the caller left open closed, then this program again */
    fds_close_all();
    execl("/proc/self/exe", argv[0], argv[2], (char *)NULL);
    return 2;
  }
  if (argc != 2)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  free(malloc(16)); /* the shim is up and has walked */
  fds_first(argv[1]);
  fds_limit();
  fds_reuse(argv[1]);
  fds_block();
  return 0;
}
