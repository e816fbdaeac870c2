/* hs_snap.c - taking one snapshot and writing it to its file.
 *
 * The pause the service feels is only hs__snap_copy(): every shard lock
 * held, the raw entries copied, the epoch advanced. Sorting, encoding,
 * compression and I/O happen after the locks are dropped, in whatever
 * thread asked (the shim's own thread for signals and intervals).
 * Snapshots are serialized by one mutex that the hot path never touches.
 * All memory is mmap'd; the writer gets mmap-backed zstd memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hs_format.h"
#include "hs_shim.h"

#define HS_ARGV_MAX 1024
#define HS_CMDLINE_MAX 65536
#define HS_KEEP_MAX 1000000

static pthread_mutex_t hs__snap_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
  uint32_t next_n; /* next file number to try; 0 = not started */
  uint32_t *ring;  /* numbers written, for HEAPSNAP_KEEP */
  uint64_t ring_len, ring_head, ring_count;
  int last_err;         /* the last error said, and when */
  uint64_t last_err_ns; /* (CLOCK_MONOTONIC) */
  uint64_t start_ns;
  char cmdline[HS_CMDLINE_MAX];
  const char *argv[HS_ARGV_MAX];
  char exe[PATH_MAX];
} hs__sn;

/* The consistent copy: blocks, epoch and stack count at one instant, and
 * the reachability scan of that instant when there is one. */
typedef struct hs__copy {
  uint64_t *pairs, *tmp;
  size_t n, cap;
  int want_scan;         /* the settings ask for one */
  hs__scan *scan;        /* NULL: no scan (off, or it could not run) */
  const char *scan_note; /* why not, for the header */
  uint32_t epoch, stacks;
  uint64_t pause_ns;
} hs__copy;

static void hs__copy_free(hs__copy *c) {
  hs__os_free(c->pairs, c->cap * 16);
  hs__os_free(c->tmp, c->cap * 16);
}

static uint64_t hs__rss(void);

/* Allocates (and touches, so no page fault lands in the pause) room for the
 * blocks; retries with more room if the table outgrew the estimate. */
static int hs__snap_copy(hs__copy *c) {
  for (size_t est = 1024;;) {
    c->cap = est + est / 8 + 1024;
    c->pairs = hs__os_alloc(c->cap * 16);
    c->tmp = hs__os_alloc(c->cap * 16);
    if (!c->pairs || !c->tmp) {
      hs__copy_free(c);
      return HS_ENOMEM;
    }
    memset(c->pairs, 0, c->cap * 16);
    /* The scan needs its shared result area before the copy; without it,
     * or without the memory, the snapshot goes on unscanned (the note
     * says why). */
    c->scan =
        c->want_scan ? hs__scan_create(hs__rss(), c->cap, &c->scan_note) : NULL;
    const uint64_t t0 = hs__clock_ns(CLOCK_MONOTONIC);
    hs__table_lock_all();
    const size_t live = hs__table_count_locked();
    if (live <= c->cap) {
      if (c->scan)
        hs__stop_world(c->scan); /* precise mode only */
      c->n = hs__table_copy_locked(c->pairs, c->cap);
      c->epoch = hs__table_epoch_advance_locked();
      c->stacks = hs__stacks_count();
      if (c->scan && hs__scan_start_locked(c->scan, c->pairs, c->tmp, c->n))
        c->scan_note = "not scanned: cannot clone the process";
      hs__table_unlock_all();
      c->pause_ns = hs__clock_ns(CLOCK_MONOTONIC) - t0;
      if (c->scan)
        hs__scan_settle(c->scan);
      return 0;
    }
    hs__table_unlock_all();
    hs__scan_free(c->scan);
    c->scan = NULL;
    hs__copy_free(c);
    est = live;
  }
}

static void hs__snap_sort(hs__copy *c) {
  uint64_t *const sorted = hs__table_sort(c->pairs, c->tmp, c->n);
  if (sorted != c->pairs) {
    c->tmp = c->pairs;
    c->pairs = sorted;
  }
}

static uint64_t hs__rss(void) {
  char buf[128];
  if (hs__os_read_file("/proc/self/statm", buf, sizeof buf) <= 0)
    return 0;
  unsigned long long size = 0, resident = 0;
  if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
    return 0;
  return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void hs__header_fill(hs_header *h, const hs__copy *c,
                            const char *trigger, uint32_t number) {
  memset(h, 0, sizeof *h);
  ssize_t n = readlink("/proc/self/exe", hs__sn.exe, sizeof hs__sn.exe - 1);
  hs__sn.exe[n > 0 ? n : 0] = '\0';
  n = hs__os_read_file("/proc/self/cmdline", hs__sn.cmdline, HS_CMDLINE_MAX);
  h->argc = 0;
  for (ssize_t i = 0; i < n && h->argc < HS_ARGV_MAX;) {
    hs__sn.argv[h->argc++] = &hs__sn.cmdline[i];
    i += (ssize_t)strnlen(&hs__sn.cmdline[i], (size_t)(n - i)) + 1;
  }
  hs__sn.cmdline[n > 0 ? n : 0] = '\0';
  h->flags = hs__stacks_full() ? HS_SNAP_STACKS_FULL : 0;
  h->flags |= c->scan ? HS_SNAP_SCANNED : 0;
  h->flags |= c->scan && hs__scan_stopped_all(c->scan) ? HS_SNAP_REGISTERS : 0;
  size_t graph_len;
  h->flags |=
      c->scan && hs__scan_graph(c->scan, &graph_len) ? HS_SNAP_GRAPH : 0;
  h->flags |= hs__cfg.sample_bytes ? HS_SNAP_SAMPLED : 0;
#ifdef HS_ATTACH
  h->flags |= HS_SNAP_ATTACHED; /* start_ns: the attach */
#endif
  h->sample_bytes = hs__cfg.sample_bytes;
  /* Scanned: what precise mode missed, if anything; else why no scan. */
  h->scan_note = c->scan        ? hs__scan_stop_note(c->scan)
                 : c->scan_note ? c->scan_note
                                : "";
  h->pid = getpid();
  h->ppid = getppid();
  h->number = number;
  h->epoch = c->epoch;
  h->time_ns = hs__clock_ns(CLOCK_REALTIME);
  h->start_ns = hs__sn.start_ns;
  h->live_blocks = c->n;
  for (size_t i = 0; i < c->n; i++) {
    hs__entry e;
    hs__table_decode(&c->pairs[2 * i], &e);
    h->live_bytes += e.size;
  }
  h->rss_bytes = hs__rss();
  h->pause_ns = c->pause_ns;
  h->max_depth = hs__cfg.depth;
  h->exe = hs__sn.exe;
  h->argv = hs__sn.argv;
  h->trigger = trigger;
}

static int hs__write_reach(hs__writer *w, const hs__scan *sc, size_t n) {
  uint32_t n_roots;
  const hs_reach *const reach = hs__scan_result(sc, &n_roots);
  int rc = 0;
  for (uint32_t i = 0; i < n_roots && !rc; i++) {
    hs_root root;
    hs__scan_result_root(sc, i, &root);
    rc = hs__writer_root(w, &root);
  }
  for (size_t i = 0; i < n && !rc; i++)
    rc = hs__writer_reach(w, &reach[i]);
  return rc;
}

/* Each module's life and each stack's load generation (GENS). */
static int hs__write_gens(hs__writer *w, const hs__copy *c, size_t n_mods) {
  int rc = 0;
  for (size_t i = 0; i < n_mods && !rc; i++) {
    uint32_t load, unload;
    hs__modules_life(i, &load, &unload);
    rc = hs__writer_gens_module(w, load, unload);
  }
  for (uint32_t id = 1; id < c->stacks && !rc; id++)
    rc = hs__writer_gens_stack(w, hs__stack_gen(id));
  return rc;
}

static int hs__write_body(hs__writer *w, const hs__copy *c) {
  int rc = 0;
  const size_t n_mods = hs__modules_count();
  for (size_t i = 0; i < n_mods && !rc; i++) {
    hs_module m;
    hs__modules_get(i, &m);
    rc = hs__writer_module(w, &m);
  }
  uint64_t f[HS_DEPTH_MAX + 8];
  for (uint32_t id = 1; id < c->stacks && !rc; id++)
    rc = hs__writer_stack(w, f, hs__stack_frames(id, f));
  for (size_t i = 0; i < c->n && !rc; i++) {
    hs__entry e;
    hs__table_decode(&c->pairs[2 * i], &e);
    const hs_block b = {e.addr, e.size, e.stack, e.epoch};
    rc = hs__writer_block(w, &b);
  }
  if (!rc && c->scan)
    rc = hs__write_reach(w, c->scan, c->n);
  if (!rc)
    rc = hs__write_gens(w, c, n_mods);
  size_t graph_len;
  const uint8_t *graph = c->scan ? hs__scan_graph(c->scan, &graph_len) : NULL;
  if (!rc && graph)
    rc = hs__writer_graph(w, graph, graph_len);
  return rc ? rc : hs__writer_finish(w);
}

static int hs__write_fd(int fd, const hs__copy *c, const hs_header *h) {
  const ZSTD_customMem mem = {hs__zstd_alloc, hs__zstd_free, NULL};
  hs__writer *w = NULL;
  int rc = hs__writer_create(fd, mem, 3, &w);
  if (!rc)
    rc = hs__writer_header(w, h);
  if (!rc)
    rc = hs__write_body(w, c);
  hs__writer_free(w);
  if (!rc && fsync(fd) != 0)
    rc = -errno;
  return rc;
}

/* The settings keep the folder 64 bytes short of PATH_MAX, so names fit. */
static void hs__name(char *buf, size_t len, uint32_t n, int tmp) {
  const int w =
      snprintf(buf, len, "%s/%s%s.%d.%u.snap%s", hs__cfg.dir, tmp ? "." : "",
               hs__cfg.name, (int)getpid(), n, tmp ? ".tmp" : "");
  if (w < 0 || (size_t)w >= len)
    buf[0] = '\0'; /* an empty path fails with ENOENT */
}

/* Moves tmp to the first free final name at or after *n, never replacing
 * a file (a reused pid may have left one). */
static int hs__publish(const char *tmp, uint32_t *n, char *final, size_t len) {
  for (int tries = 0; tries < 100000; tries++, (*n)++) {
    hs__name(final, len, *n, 0);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
      return 0;
    if (errno == EEXIST)
      continue;
    if (errno != EINVAL && errno != ENOSYS)
      return -errno;
    /* No RENAME_NOREPLACE on this file system: link fails on a taken name. */
    if (link(tmp, final) == 0) {
      unlink(tmp);
      return 0;
    }
    if (errno != EEXIST)
      return -errno;
  }
  return -EEXIST;
}

static int hs__open_tmp(char *tmp, size_t len, uint32_t *n) {
  for (int tries = 0; tries < 100000; tries++, (*n)++) {
    char final[PATH_MAX];
    hs__name(final, sizeof final, *n, 0);
    if (access(final, F_OK) == 0)
      continue; /* taken, by an earlier process with this pid */
    hs__name(tmp, len, *n, 1);
    const int fd =
        open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST)
      return fd >= 0 ? fd : -errno;
  }
  return -EEXIST;
}

/* HEAPSNAP_KEEP: a FIFO of the numbers of the interval snapshots this
 * process wrote. A snapshot asked for (signal, heapsnap snap, the API, at
 * exit) is not in it: heapsnap snap printed its name, and a rotation
 * removing it under the user's heapdiff was reported as a bug. */
static void hs__keep(uint32_t n) {
  if (!hs__cfg.keep)
    return;
  if (!hs__sn.ring) {
    hs__sn.ring_len = hs__cfg.keep < HS_KEEP_MAX ? hs__cfg.keep : HS_KEEP_MAX;
    hs__sn.ring = hs__os_alloc(hs__sn.ring_len * 4);
    if (!hs__sn.ring)
      return;
  }
  if (hs__sn.ring_count == hs__sn.ring_len) {
    char old[PATH_MAX];
    hs__name(old, sizeof old, hs__sn.ring[hs__sn.ring_head], 0);
    unlink(old);
    hs__sn.ring_head = (hs__sn.ring_head + 1) % hs__sn.ring_len;
    hs__sn.ring_count--;
  }
  hs__sn.ring[(hs__sn.ring_head + hs__sn.ring_count) % hs__sn.ring_len] = n;
  hs__sn.ring_count++;
}

/* Every failed attempt is said, but one error is said at most once a
 * minute, so that a failing interval cannot flood a log; a different
 * error, or the same after a minute, is said again. The status file
 * (hs_channel.c) has every attempt's outcome, for heapsnap snap. */
#define HS_REPORT_EVERY_NS (60ull * 1000000000u)

static void hs__report(int rc, const char *path, uint32_t number) {
  hs__status_result(rc, number);
  if (rc == 0) {
    if (hs__cfg.verbose)
      hs__say("wrote %s", path);
    hs__sn.last_err = 0;
    return;
  }
  const uint64_t now = hs__clock_ns(CLOCK_MONOTONIC);
  if (rc != hs__sn.last_err || now - hs__sn.last_err_ns >= HS_REPORT_EVERY_NS) {
    hs__say("cannot write a snapshot in %s: %s (the program runs on)",
            hs__cfg.dir, hs_strerror(rc));
    hs__sn.last_err = rc;
    hs__sn.last_err_ns = now;
  }
}

/* Writes the copy under a temporary name, then publishes it. */
static int hs__snap_write(const hs__copy *c, const char *trigger, char *final,
                          size_t len) {
  char tmp[PATH_MAX];
  uint32_t n = hs__sn.next_n;
  const int fd = hs__open_tmp(tmp, sizeof tmp, &n);
  if (fd < 0)
    return fd;
  hs_header h;
  hs__header_fill(&h, c, trigger, n);
  int rc = hs__write_fd(fd, c, &h);
  if (close(fd) != 0 && !rc)
    rc = -errno;
  if (!rc)
    rc = hs__publish(tmp, &n, final, len);
  if (rc)
    unlink(tmp);
  else
    hs__sn.next_n = n + 1;
  return rc;
}

/* The child scans while the parent sorts; the header, written next, must
 * say whether the scan is there. */
static void hs__snap_scan_wait(hs__copy *c) {
  if (!c->scan)
    return;
  if (hs__scan_finish(c->scan, c->n)) {
    c->scan_note = c->scan_note ? c->scan_note : hs__scan_note(c->scan);
    hs__scan_free(c->scan);
    c->scan = NULL;
  }
}

int hs__snapshot_take(const char *trigger, char *path, size_t path_len) {
  char final[PATH_MAX] = "";
  /* The write and its fsync are cancellation points: a thread cancelled
   * there left the lock held, and every later snapshot, and the program's
   * join of that thread, hung. A cancel waits for the snapshot's end. */
  int cancel;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
  const int was_busy = hs__busy;
  hs__busy = 1;
  pthread_mutex_lock(&hs__snap_lock);
  /* Below this frame, this thread's stack holds only the shim's frames and
   * dead ones (earlier snapshots' block addresses): not a root. Said under
   * the lock: said before it, an interval snapshot's thread could say it
   * in between, and an API snapshot scanned its caller's dead frames. */
  hs__scan_self((uint64_t)__builtin_frame_address(0));
  hs__status_attempt();
  if (!hs__sn.next_n) {
    hs__sn.next_n = 1;
    hs__sn.start_ns =
        hs__sn.start_ns ? hs__sn.start_ns : hs__clock_ns(CLOCK_REALTIME);
  }
  hs__modules_refresh();
  /* The scan needs every block: a sample cannot tell what is reachable. */
  const int sampling = hs__cfg.sample_bytes != 0;
  hs__copy c = {.want_scan = hs__cfg.scan && !sampling,
                .scan_note = sampling ? "not scanned: sampling mode" : NULL};
  int rc = hs__snap_copy(&c);
  if (!rc) {
    hs__snap_sort(&c);
    hs__snap_scan_wait(&c);
    rc = hs__snap_write(&c, trigger, final, sizeof final);
    hs__scan_free(c.scan);
    hs__copy_free(&c);
    if (!rc && strcmp(trigger, "interval") == 0)
      hs__keep(hs__sn.next_n - 1); /* one asked for is the asker's to keep */
  }
  hs__report(rc, final, rc ? 0 : hs__sn.next_n - 1);
  pthread_mutex_unlock(&hs__snap_lock);
  if (path && path_len) {
    strncpy(path, rc ? "" : final, path_len - 1);
    path[path_len - 1] = '\0';
  }
  hs__busy = was_busy;
  pthread_setcancelstate(cancel, NULL);
  return rc;
}

void hs__snap_mark_start(void) {
  hs__sn.start_ns = hs__clock_ns(CLOCK_REALTIME);
}

/* In a child of fork. fork does not wait for a snapshot being written by
 * the parent's shim thread (that could take seconds); the child just starts
 * afresh: a new pid numbers its files from 1, and the files kept belong to
 * the parent. */
void hs__snap_fork_child(void) {
  pthread_mutex_init(&hs__snap_lock, NULL);
  hs__sn.next_n = 1;
  hs__sn.ring_head = hs__sn.ring_count = 0;
  hs__sn.last_err = 0;
}
