/* hs_scan.c - the reachability scan: which live blocks the program can
 * still reach, and through what (docs/reachability.md).
 *
 * A conservative scan of a consistent copy, without stopping any thread:
 * while every table lock is held (no block can come or go), the snapshot
 * clones the process (raw clone, no exit signal, so the program's SIGCHLD
 * handler and waitpid(-1) never see it) and lets go at once. The child,
 * a copy-on-write image of that instant, walks breadth-first from the
 * roots: the writable segments of every module, each thread's stack, and
 * anonymous writable mappings that malloc does not own (a runtime's own
 * heap). Every aligned word that points into a live block, at its start
 * or inside it, links the two; the first link to reach a block is its
 * nearest retainer. The child writes one record per block into a shared
 * mapping and exits; it uses no malloc, no stdio and no lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hs_scan.h"
#include "hs_varint.h"

#define HS_MAPS_MAX (4u << 20)

/* --- in the parent, before the copy ------------------------------------ */

/* MemAvailable, in bytes; 0 if unknown. */
static uint64_t hs__mem_available(void) {
  char buf[4096];
  if (hs__os_read_file("/proc/meminfo", buf, sizeof buf) <= 0)
    return 0;
  const char *p = strstr(buf, "MemAvailable:");
  unsigned long long kb = 0;
  return p && sscanf(p, "MemAvailable: %llu kB", &kb) == 1 ? kb * 1024 : 0;
}

/* The live threads, with an address on each one's stack where the shim
 * knows one (those started through pthread_create); the stacks of threads
 * that exited. The child completes the list (hs__threads_at_copy). */
static void hs__scan_threads(hs__scan *sc) {
  static hs__thread reg[HS_SCAN_THREADS];
  sc->n_tasks = hs__tasks_read(sc->tasks, HS_SCAN_THREADS);
  const size_t n_reg = hs__threads_list(reg, HS_SCAN_THREADS);
  for (size_t i = 0; i < sc->n_tasks; i++)
    for (size_t j = 0; j < n_reg; j++)
      if (reg[j].tid == sc->tasks[i].tid)
        sc->tasks[i].sp_start = reg[j].sp;
}

static int hs__self_tid;
static uint64_t hs__self_sp;
/* The parent's memory, opened by the parent before the clone: the child
 * inherits the descriptor, which still reads the parent (the permission was
 * checked at open, on the process itself). See hs__roots_not_copied. */
static int hs__parent_mem = -1;

void hs__scan_self(uint64_t sp) {
  hs__self_tid = (int)gettid();
  hs__self_sp = sp;
}

/* The main thread's static TLS and descriptor: below and above its thread
 * pointer (x86-64 puts the TLS blocks below the TCB). ld.so maps them
 * apart from any stack, in an anonymous mapping that is not a root when
 * it looks malloc's (merged with memory holding a block, or any with
 * jemalloc); this range is a root whatever that mapping looks like
 * (hs__classify). */
static uint64_t hs__tls_lo, hs__tls_hi;

void hs__scan_main_tls(void) {
  hs__scan_main_tls_at((uint64_t)__builtin_thread_pointer());
}

void hs__scan_main_tls_at(uint64_t tp) {
  if (!tp) {
    hs__tls_lo = hs__tls_hi = 0;
    return;
  }
  size_t size = 0, align = 0;
  void (*info)(size_t *, size_t *) = (void (*)(
      size_t *, size_t *))hs__os_symbol_any("_dl_get_tls_static_info");
  if (info)
    info(&size, &align);
  hs__tls_lo = tp - (size ? size : 4096);
  hs__tls_hi = tp + 4096; /* struct pthread: its first 32 keys' values */
}

/* Everything the child needs that it may not gather itself: the mappings,
 * the modules' writable segments, the threads and their names. */
static int hs__scan_prepare(hs__scan *sc, uint64_t rss, size_t cap) {
  memset(sc, 0, offsetof(hs__scan, tasks));
  sc->cap = cap;
  sc->pid = getpid();
  sc->self_tid = hs__self_tid;
  sc->self_sp = hs__self_sp;
  const uint64_t avail = hs__mem_available();
  if (avail && avail < rss) {
    sc->note = "not scanned: less memory available than the process uses";
    return HS_ENOMEM;
  }
  sc->maps = hs__os_alloc(HS_MAPS_MAX);
  sc->out_len = sizeof(hs__scan_out) + cap * sizeof(hs_reach);
  sc->out = hs__os_map(sc->out_len, 1);
  /* The graph's items: the blocks' pointers, a few bytes each; the pages
   * the child never writes cost nothing (hs__os_map: NORESERVE). */
  sc->graph_cap = hs__cfg.graph ? ((size_t)32 << 20) + cap * 24 + rss / 4 : 0;
  sc->graph = sc->graph_cap ? hs__os_map(sc->graph_cap, 1) : NULL;
  if (!sc->maps || !sc->out || (sc->graph_cap && !sc->graph)) {
    sc->note = "not scanned: no memory for the scan";
    return HS_ENOMEM;
  }
  if (hs__os_read_file("/proc/self/maps", sc->maps, HS_MAPS_MAX) <= 0) {
    sc->note = "not scanned: cannot read /proc/self/maps";
    return HS_EINVAL;
  }
  sc->n_data = hs__modules_data(sc->data, sc->data_module, HS_DATA_MAX);
  hs__scan_threads(sc);
  sc->jemalloc = hs__real.mallocx != NULL;
  sc->usable = hs__real.malloc_usable_size;
  hs__parent_mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  return 0;
}

/* Big, and one at a time: only used under the snapshot's lock. */
static hs__scan hs__the_scan;

hs__scan *hs__scan_create(uint64_t rss, size_t cap, const char **note) {
  hs__scan *const sc = &hs__the_scan;
  if (hs__scan_prepare(sc, rss, cap)) {
    *note = sc->note;
    hs__scan_free(sc);
    return NULL;
  }
  hs__stop_prepare(sc); /* precise mode only */
  return sc;
}

void hs__scan_free(hs__scan *sc) {
  if (!sc)
    return;
  hs__stop_free(sc);
  if (hs__parent_mem >= 0)
    close(hs__parent_mem);
  hs__parent_mem = -1;
  hs__os_free(sc->maps, HS_MAPS_MAX);
  hs__os_unmap(sc->out, sc->out_len);
  hs__os_unmap(sc->graph, sc->graph_cap); /* accepts NULL */
  sc->maps = NULL;
  sc->out = NULL;
  sc->graph = NULL;
}

/* --- in the child ------------------------------------------------------- */

typedef struct hs__walk {
  hs__scan *sc;
  const uint64_t *addr, *size; /* the blocks, sorted by address */
  size_t n;
  uint64_t lo, hi; /* the blocks' overall range */
  uint32_t *queue;
  size_t q_head, q_tail;
  const hs__range *own; /* the shim's mappings: never roots */
  size_t n_own;
  int pagemap; /* the child's /proc/self/pagemap, or -1 */
  uint8_t *g;  /* the graph's items so far (sc->graph) */
  size_t g_len, g_cap;
  uint32_t g_last;        /* the last block item's block */
  uint32_t recent[4];     /* a block's last targets: a repeat is one edge */
  uint32_t stack_blk[64]; /* blocks that are a live thread's stack */
  size_t n_stack_blk;
} hs__walk;

/* --- the heap graph: every pointer followed, as GRPH items --------------- */

/* Room for one more item part (30 bytes); when the area is full the
 * graph is dropped whole, not cut: a partial graph would misstate what
 * dominates what. */
static int hs__graph_room(hs__walk *k) {
  if (k->g_len + 3 * HS__VARINT_MAX <= k->g_cap)
    return 1;
  k->sc->out->graph_full = k->g_cap != 0; /* 0: HEAPSNAP_GRAPH=0 */
  return 0;
}

static void hs__graph_root(hs__walk *k, uint32_t root, uint64_t from, long b) {
  if (hs__graph_room(k))
    k->g_len += hs__graph_put_root(k->g + k->g_len, root, from, (uint32_t)b);
}

/* Block `src`'s pointers: its item starts at the first target. */
static void hs__graph_target(hs__walk *k, uint32_t src, int *started,
                             uint32_t *prev, long t) {
  const uint32_t tt = (uint32_t)t;
  if (tt == src || k->recent[0] == tt || k->recent[1] == tt ||
      k->recent[2] == tt || k->recent[3] == tt || !hs__graph_room(k))
    return;
  if (!*started) {
    k->g_len += hs__graph_put_source(k->g + k->g_len, k->g_last, src);
    k->g_last = src;
    *started = 1;
  }
  k->g_len += hs__graph_put_target(k->g + k->g_len, *prev, tt);
  *prev = tt;
  k->recent[tt & 3] = tt;
}

static void hs__graph_end(hs__walk *k, int started) {
  if (started)
    k->g_len += hs__graph_put_end(k->g + k->g_len); /* room kept for it */
  k->recent[0] = k->recent[1] = k->recent[2] = k->recent[3] = UINT32_MAX;
}

/* `new T[0]` for a T with a destructor: an 8-byte block holding the
 * element count, 0, and the program's pointer just past it. Held, as
 * LeakSanitizer decides (docs/reachability.md). */
static int hs__new0_cookie(const hs__walk *k, size_t b, uint64_t w) {
  return k->size[b] == 8 && w == k->addr[b] + 8 &&
         *(const uint64_t *)k->addr[b] == 0;
}

/* The block holding address w (start or interior), or -1. */
static inline long hs__find(const hs__walk *k, uint64_t w) {
  if (w < k->lo || w > k->hi)
    return -1;
  size_t lo = 0, hi = k->n;
  while (hi - lo > 1) {
    const size_t mid = (lo + hi) / 2;
    if (k->addr[mid] <= w)
      lo = mid;
    else
      hi = mid;
  }
  const uint64_t len = k->size[lo] ? k->size[lo] : 1;
  if (w - k->addr[lo] < len)
    return (long)lo;
  return HS_UNLIKELY(w - k->addr[lo] == 8) && hs__new0_cookie(k, lo, w)
             ? (long)lo
             : -1;
}

/* The first block starting at or after a. */
static size_t hs__first_at(const hs__walk *k, uint64_t a) {
  size_t lo = 0, hi = k->n;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (k->addr[mid] < a)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void hs__link(hs__walk *k, long b, uint32_t kind, uint32_t from_index,
                     uint64_t from_off, uint64_t w) {
  hs_reach *r = &k->sc->out->reach[b];
  if (r->kind != HS_REACH_NONE)
    return;
  r->kind = kind;
  r->index = from_index;
  r->from = from_off;
  r->target = w - k->addr[b];
  k->queue[k->q_tail++] = (uint32_t)b;
}

/* glibc keeps its free lists in libc's data: those pointers aim at the
 * next chunk's header, the last 8 usable bytes of a live block. */
static int hs__is_chunk_header(const hs__walk *k, long b, uint64_t w) {
  if (k->sc->jemalloc || !k->sc->usable)
    return 0;
  const uint64_t usable = k->sc->usable((void *)k->addr[b]);
  return usable >= 8 && w - k->addr[b] == usable - 8 && w != k->addr[b];
}

/* Among globals and other memory (all seen before any block is walked),
 * a pointer to a block's start outranks one into its middle met earlier:
 * a stray word (a stale char * into a buffer since reused) must not take a
 * structure that another root points at properly. Not among stacks, whose
 * order (live frames first) already decides. The block is queued already;
 * only its retainer changes. */
/* Thread stacks, registers and thread arguments: scanned after globals
 * and other memory, in an order that decides by itself. */
static int hs__root_late(uint32_t kind) {
  return kind == HS_ROOT_THREAD || kind == HS_ROOT_REGISTER ||
         kind == HS_ROOT_START;
}

static void hs__relink(hs__walk *k, long b, uint32_t root, uint64_t from,
                       uint64_t w) {
  hs_reach *r = &k->sc->out->reach[b];
  const hs__root *roots = k->sc->out->roots;
  if (r->kind != HS_REACH_ROOT || r->target == 0 || w != k->addr[b] ||
      hs__root_late(roots[r->index].kind) || hs__root_late(roots[root].kind))
    return;
  r->index = root;
  r->from = from;
  r->target = 0;
}

static void hs__scan_value(hs__walk *k, uint32_t root, uint64_t p, uint64_t w,
                           int libc) {
  const long b = hs__find(k, w);
  if (b < 0 || (libc && hs__is_chunk_header(k, b, w)))
    return;
  const uint64_t from = p - k->sc->out->roots[root].start;
  hs__graph_root(k, root, from, b);
  if (k->sc->out->reach[b].kind == HS_REACH_NONE)
    hs__link(k, b, HS_REACH_ROOT, root, from, w);
  else
    hs__relink(k, b, root, from, w);
}

static void hs__scan_word(hs__walk *k, uint32_t root, uint64_t p, int libc) {
  hs__scan_value(k, root, p, *(const uint64_t *)p, libc);
}

/* A stack is scanned from its base down: the live frames of the outer
 * functions come first, so a block held by a live variable is named by
 * it rather than by a stale copy in a dead frame further down. */
static void hs__scan_root(hs__walk *k, uint32_t root, uint64_t lo, uint64_t hi,
                          int libc) {
  lo = (lo + 7) & ~7ull;
  if (hi < lo + 8)
    return;
  if (k->sc->out->roots[root].kind == HS_ROOT_THREAD) {
    for (uint64_t p = (hi - 8) & ~7ull; p >= lo && p + 8 <= hi; p -= 8)
      hs__scan_word(k, root, p, libc);
  } else {
    for (uint64_t p = lo; p + 8 <= hi; p += 8)
      hs__scan_word(k, root, p, libc);
  }
}

/* Scans the pages of [lo, hi) that were ever written, in the root's
 * order. A page the pagemap shows neither present nor swapped out reads as
 * zeros, yet reading it costs a page fault: that is most of every
 * thread's 8 MiB stack, 30 ms a thread on a virtual machine, so a
 * 16-thread program took 0.5 s a snapshot. Without the pagemap (or on a
 * short read) every page is scanned. */
#define HS_PM_CHUNK 512
static void hs__scan_touched(hs__walk *k, uint32_t root, uint64_t lo,
                             uint64_t hi, int libc) {
  const int down = k->sc->out->roots[root].kind == HS_ROOT_THREAD;
  const uint64_t first = lo / 4096, end = (hi + 4095) / 4096;
  uint64_t e[HS_PM_CHUNK];
  for (uint64_t c = 0; first + c < end; c += HS_PM_CHUNK) {
    const uint64_t n =
        end - first - c < HS_PM_CHUNK ? end - first - c : HS_PM_CHUNK;
    const uint64_t at = down ? end - c - n : first + c;
    if (k->pagemap < 0 ||
        pread(k->pagemap, e, n * 8, (off_t)(at * 8)) != (ssize_t)(n * 8)) {
      hs__scan_root(k, root, at * 4096 > lo ? at * 4096 : lo,
                    (at + n) * 4096 < hi ? (at + n) * 4096 : hi, libc);
      continue;
    }
    for (uint64_t j = 0; j < n; j++) {
      const uint64_t i = down ? n - 1 - j : j, pg = (at + i) * 4096;
      if (e[i] >> 62) /* bit 63 present, bit 62 swapped */
        hs__scan_root(k, root, pg > lo ? pg : lo,
                      pg + 4096 < hi ? pg + 4096 : hi, libc);
    }
  }
}

/* Scans [lo, hi) minus the shim's own mappings, and minus the blocks in a
 * mapping root (glibc's own mappings merged into it: hs__mmapped_chunk),
 * which are scanned when reached, as blocks. */
static void hs__scan_root_range(hs__walk *k, uint32_t root, int libc) {
  const hs__root *r = &k->sc->out->roots[root];
  uint64_t at = r->start;
  while (at < r->end) {
    uint64_t stop = r->end, skip_to = r->end;
    for (size_t i = 0; i < k->n_own; i++)
      if (k->own[i].end > at && k->own[i].start < stop)
        stop = k->own[i].start > at ? k->own[i].start : at,
        skip_to = k->own[i].end;
    const size_t b = hs__first_at(k, at);
    if (r->kind == HS_ROOT_MAPPING && b < k->n && k->addr[b] < stop)
      stop = k->addr[b], skip_to = k->addr[b] + (k->size[b] ? k->size[b] : 1);
    hs__scan_touched(k, root, at, stop, libc);
    at = stop == r->end ? r->end : skip_to;
  }
}

/* A block that is a live thread's stack is scanned as that thread's
 * root, from its stack pointer: reached from the global that keeps it,
 * it would give its frames, dead ones too, to that global. */
static int hs__is_stack_blk(const hs__walk *k, uint32_t b) {
  for (size_t i = 0; i < k->n_stack_blk; i++)
    if (k->stack_blk[i] == b)
      return 1;
  return 0;
}

static void hs__scan_blocks(hs__walk *k) {
  while (k->q_head < k->q_tail) {
    const uint32_t b = k->queue[k->q_head++];
    if (hs__is_stack_blk(k, b))
      continue;
    const uint64_t start = k->addr[b], end = start + (k->size[b] & ~7ull);
    int started = 0;
    uint32_t prev = b;
    for (uint64_t p = start; p < end; p += 8) {
      const uint64_t w = *(const uint64_t *)p;
      const long t = hs__find(k, w);
      if (t < 0)
        continue;
      hs__link(k, t, HS_REACH_BLOCK, b, p - start, w);
      hs__graph_target(k, b, &started, &prev, t);
    }
    hs__graph_end(k, started);
  }
}

static hs__root *hs__root_add(hs__walk *k, uint32_t kind, uint64_t start,
                              uint64_t end) {
  hs__scan_out *o = k->sc->out;
  if (o->n_roots == HS_ROOTS_MAX) {
    o->roots_dropped++;
    return NULL;
  }
  hs__root *r = &o->roots[o->n_roots++];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->start = start;
  r->end = end;
  r->module = UINT32_MAX;
  return r;
}

static int hs__overlaps(uint64_t a, uint64_t b, const hs__range *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (r[i].start < b && r[i].end > a)
      return 1;
  return 0;
}

/* A mapping holding a live block's start belongs to malloc. */
static int hs__has_block(const hs__walk *k, uint64_t a, uint64_t b) {
  const size_t i = hs__first_at(k, a);
  return i < k->n && k->addr[i] < b;
}

/* glibc serves a big request with a mapping of its own, and the kernel
 * merges it with a neighbour of the same protection (a pymalloc arena, a
 * V8 page): a block whose chunk (two size words before it, IS_MMAPPED set)
 * spans whole pages of [a, b) does not make the mapping malloc's, or the
 * arena's objects would lose their root at random. */
static int hs__mmapped_chunk(const hs__walk *k, size_t i, uint64_t a,
                             uint64_t b) {
  const uint64_t p = k->addr[i] - 16;
  if (k->sc->jemalloc || !k->sc->usable || k->addr[i] < a + 16)
    return 0;
  const uint64_t prev = *(const uint64_t *)p, size = *(const uint64_t *)(p + 8);
  const uint64_t lo = p - prev, hi = p + (size & ~7ull);
  return (size & 2) && prev <= p - a && lo % 4096 == 0 && hi % 4096 == 0 &&
         hi <= b && hi > k->addr[i];
}

/* Whether [a, b) holds a block other than such chunks: malloc's arena. */
static int hs__malloc_owns(const hs__walk *k, uint64_t a, uint64_t b) {
  for (size_t i = hs__first_at(k, a); i < k->n && k->addr[i] < b; i++)
    if (!hs__mmapped_chunk(k, i, a, b))
      return 1;
  return 0;
}

/* The registers of thread tid, when precise mode stopped it for the copy. */
static const hs__thread_regs *hs__stopped(const hs__scan *sc, int32_t tid) {
  if (!sc->stop_done)
    return NULL;
  for (uint32_t i = 0; i < sc->stop->n; i++)
    if (sc->stop->regs[i].tid == tid && sc->stop->regs[i].stopped)
      return &sc->stop->regs[i];
  return NULL;
}

static const hs__task *hs__task_of(const hs__scan *sc, int32_t tid) {
  for (size_t i = 0; i < sc->n_tasks; i++)
    if (sc->tasks[i].tid == tid)
      return &sc->tasks[i];
  return NULL;
}

/* A thread the parent's list lacks, with an address on its stack. */
static void hs__task_add(hs__scan *sc, int32_t tid, uint64_t sp) {
  hs__task *t = (hs__task *)hs__task_of(sc, tid);
  if (t) {
    t->sp_start = t->sp_start ? t->sp_start : sp;
    return;
  }
  if (sc->n_tasks == HS_SCAN_THREADS)
    return;
  t = &sc->tasks[sc->n_tasks++];
  memset(t, 0, sizeof *t);
  t->tid = tid;
  t->sp_start = sp;
  hs__tasks_name(sc->pid, tid, t->name);
}

/* The threads as of the copy. The parent listed /proc/self/task before
 * it: a thread started since through pthread_create is in this image's
 * list of the shim, and precise mode has the stack pointer of every thread
 * it stopped. Then the live threads whose stack cannot be told: while
 * there is one, a stack glibc keeps from an exited thread may be its. */
static void hs__threads_at_copy(hs__scan *sc) {
  static hs__thread reg[HS_SCAN_THREADS];
  const size_t n_reg = hs__threads_list(reg, HS_SCAN_THREADS);
  for (size_t j = 0; j < n_reg; j++)
    hs__task_add(sc, reg[j].tid, reg[j].sp);
  for (uint32_t i = 0; sc->stop_done && i < sc->stop->n; i++)
    if (sc->stop->regs[i].stopped)
      hs__task_add(sc, sc->stop->regs[i].tid, sc->stop->regs[i].sp);
  sc->n_dead = hs__threads_dead(sc->dead, 1024);
  sc->main_gone = hs__threads_main_gone();
  sc->unknown_stacks = 0;
  for (size_t i = 0; i < sc->n_tasks; i++) {
    const hs__task *t = &sc->tasks[i];
    sc->unknown_stacks +=
        !t->sp_start && !t->sp && t->tid != sc->pid && t->tid != sc->self_tid &&
        strncmp(t->name, "heapsnap:", 9) != 0 && !hs__threads_ended(t->tid);
  }
}

/* 1 when p lies in the shim's own memory. */
static int hs__own_at(const hs__walk *k, uint64_t p) {
  for (size_t i = 0; i < k->n_own; i++)
    if (p >= k->own[i].start && p < k->own[i].end)
      return 1;
  return 0;
}

/* An address on thread t's stack that lies in [a, b), or 0. */
static uint64_t hs__task_sp_in(const hs__task *t, uint64_t a, uint64_t b) {
  return t->sp >= a && t->sp < b               ? t->sp
         : t->sp_start >= a && t->sp_start < b ? t->sp_start
                                               : 0;
}

/* The live thread whose stack [a, b) is; not the shim's own thread, whose
 * stack is the shim's memory: a mapping the kernel merged with it (an
 * allocator's, say) is judged as any other mapping. Nor a thread whose
 * stack is a live block (hs__block_stacks). */
static const hs__task *hs__task_in(const hs__walk *k, uint64_t a, uint64_t b) {
  const hs__scan *sc = k->sc;
  for (size_t i = 0; i < sc->n_tasks; i++) {
    const uint64_t sp = hs__task_sp_in(&sc->tasks[i], a, b);
    if (sp && !hs__own_at(k, sp) && hs__find(k, sp) < 0)
      return &sc->tasks[i];
  }
  return NULL;
}

static hs__root *hs__thread_root(hs__walk *k, const hs__task *th, uint64_t a,
                                 uint64_t b) {
  hs__root *r = hs__root_add(k, HS_ROOT_THREAD, a, b);
  if (r) {
    r->tid = th ? th->tid : k->sc->pid;
    snprintf(r->name, sizeof r->name, "%s", th ? th->name : "main");
  }
  return r;
}

/* Threads in [a, b) whose stack is a live block (pthread_attr_setstack on
 * malloc'd memory, a coroutine's stack): that block is the thread's root,
 * and the mapping is judged without them. Taken for the thread's, all of
 * malloc's heap was scanned as a stack, lost blocks and free chunks too:
 * every block after the stack read held by it. */
static void hs__block_stacks(hs__walk *k, uint64_t a, uint64_t b) {
  const hs__scan *sc = k->sc;
  for (size_t i = 0; i < sc->n_tasks; i++) {
    const uint64_t sp = hs__task_sp_in(&sc->tasks[i], a, b);
    const long s = sp && !hs__own_at(k, sp) ? hs__find(k, sp) : -1;
    if (s < 0 ||
        !hs__thread_root(k, &sc->tasks[i], k->addr[s], k->addr[s] + k->size[s]))
      continue;
    if (k->n_stack_blk < sizeof k->stack_blk / sizeof k->stack_blk[0])
      k->stack_blk[k->n_stack_blk++] = (uint32_t)s;
  }
}

/* A stack glibc keeps from a thread that exited (glibc puts a guard page
 * right below each), and no live thread's: what it holds is dead, but for
 * the exited thread's descriptor at its top, whose TLS vector glibc keeps
 * allocated with the stack (a root of one word: a thread joined was
 * reported to hold a lost block of glibc's). NULL when [a, b) is not. */
static const hs__thread *hs__dead_stack(const hs__scan *sc, uint64_t a,
                                        uint64_t b, int guard_below) {
  if (!guard_below || sc->unknown_stacks)
    return NULL;
  for (size_t i = 0; i < sc->n_dead; i++)
    if (sc->dead[i].sp >= a && sc->dead[i].sp < b)
      return &sc->dead[i];
  return NULL;
}

static void hs__dead_dtv_root(hs__walk *k, const hs__thread *t, uint64_t a,
                              uint64_t b) {
  hs__root *r;
  if (!t->dtv_at || t->dtv_at < a || t->dtv_at + 8 > b ||
      !(r = hs__root_add(k, HS_ROOT_MAPPING, t->dtv_at, t->dtv_at + 8)))
    return;
  snprintf(r->name, sizeof r->name, "[TLS vector of exited thread %d]",
           (int)t->tid);
}

static int hs__classify_root(hs__walk *k, uint64_t a, uint64_t b,
                             const char *path, int guard_below);

/* [a, b) holds a module's data, a root already, but only its segment: the
 * kernel merges a .bss with the anonymous mapping next to it (the one ld.so
 * put the main thread's TLS in, a runtime's heap). What the segments leave
 * at either end is judged as a mapping of its own.
 * @return : 1 when all of [a, b) is scanned. */
static int hs__classify_rest(hs__walk *k, uint64_t a, uint64_t b,
                             const char *path, int guard_below) {
  uint64_t lo = a, hi = b;
  for (size_t i = 0; i < k->sc->n_data; i++) {
    const hs__range *d = &k->sc->data[i];
    if (d->start <= lo && d->end > lo)
      lo = d->end;
    if (d->end >= hi && d->start < hi)
      hi = d->start;
  }
  if (lo >= hi)
    return 1; /* all data */
  if (lo == a && hi == b)
    return 0; /* a segment in its middle: left as it was */
  return hs__classify_root(k, lo, hi, path, lo == a && guard_below);
}

/* A fault while a root is scanned (a module dlclose'd since its data
 * segment was listed) skips the rest of that root; anywhere else the
 * scan gives up. */
static sigjmp_buf hs__fault_jmp;
static volatile int hs__fault_armed;

#ifdef HS_ATTACH
/* Attach mode: the blocks malloc handed out before the attach are not in
 * the table, yet the program's structures may run through them (a hash
 * table's bucket array, a list's first nodes). In glibc's heaps (not with
 * jemalloc) they are found by walking the chunk headers: each chunk's size,
 * in use when the next one's PREV_INUSE bit says so; every in-use chunk
 * that is not a tracked block is a root, named "allocated before attach".
 * Chunks in tcache and fastbins look in use: what they held before their
 * free stays a root. A heap is the [heap] mapping (up to the break) or an
 * arena's heap, 64 MiB-aligned, its heap_info giving its size (the kernel
 * may have merged it with other mappings). Its first chunk lies after the
 * heap's own headers: the first offset from which the chunks tile the
 * heap exactly, up to the top chunk, is taken; a heap that no offset tiles
 * is not a root. */
static uint8_t hs__preattach[HS_ROOTS_MAX]; /* in the child */

#define HS_HEAP_MAX (64ull << 20) /* glibc's HEAP_MAX_SIZE, 64-bit */
#define HS_HEAP_HEAD 4096 /* heap_info and an arena come before the chunks */

static uint64_t hs__chunk_size(uint64_t c) {
  return *(const uint64_t *)(c + 8) & ~7ull;
}

/* 1 when the chunks from c on end exactly at end (the top chunk's end). */
static int hs__chunks_tile(uint64_t c, uint64_t end) {
  for (uint64_t size; c + 32 <= end; c += size) {
    size = hs__chunk_size(c);
    if (size < 32 || (size & 15) || c + size > end)
      return 0;
    if (c + size == end)
      return 1;
  }
  return 0;
}

static void hs__scan_chunks(hs__walk *k, uint32_t root, uint64_t c,
                            uint64_t end) {
  for (uint64_t next; (next = c + hs__chunk_size(c)) < end; c = next)
    if ((*(const uint64_t *)(next + 8) & 1) && hs__find(k, c + 16) < 0)
      for (uint64_t p = c + 16; p < next + 8; p += 8)
        hs__scan_word(k, root, p, 0);
}

static void hs__scan_heap(hs__walk *k, uint32_t root, uint64_t h,
                          uint64_t end) {
  for (uint64_t off = 0; off < HS_HEAP_HEAD && h + off < end; off += 16)
    if (hs__chunks_tile(h + off, end)) {
      hs__scan_chunks(k, root, h + off, end);
      return;
    }
}

static void hs__scan_preattach(hs__walk *k, uint32_t root) {
  const hs__root *r = &k->sc->out->roots[root];
  if (strncmp(r->name, "[heap]", 6) == 0) {
    hs__scan_heap(k, root, r->start, r->end);
    return;
  }
  for (uint64_t h = (r->start + HS_HEAP_MAX - 1) & ~(HS_HEAP_MAX - 1);
       h + 32 <= r->end; h += HS_HEAP_MAX) {
    const uint64_t size = ((const uint64_t *)h)[2]; /* heap_info.size */
    if (size >= 4096 && size <= HS_HEAP_MAX && h + size <= r->end)
      hs__scan_heap(k, root, h, h + size);
  }
}

static void hs__scan_preattach_safe(hs__walk *k, uint32_t root) {
  if (sigsetjmp(hs__fault_jmp, 1) == 0) {
    hs__fault_armed = 1;
    hs__scan_preattach(k, root);
  }
  hs__fault_armed = 0;
}

/* A mapping of malloc's: a root of the chunks allocated before attach. */
static int hs__classify_preattach(hs__walk *k, uint64_t a, uint64_t b,
                                  const char *path) {
  hs__root *r;
  if (k->sc->jemalloc || !(r = hs__root_add(k, HS_ROOT_MAPPING, a, b)))
    return 0;
  snprintf(r->name, sizeof r->name, "%s allocated before attach",
           path[0] ? path : "[arena]");
  hs__preattach[r - k->sc->out->roots] = 1;
  return 0;
}
#endif

/* One writable private line of /proc/self/maps: a root, or not.
 * @return : 1 when [a, b) is scanned whole. */
static int hs__classify_root(hs__walk *k, uint64_t a, uint64_t b,
                             const char *path, int guard_below) {
  hs__scan *sc = k->sc;
  if (hs__overlaps(a, b, sc->data, sc->n_data))
    return hs__classify_rest(k, a, b, path, guard_below);
  hs__block_stacks(k, a, b);
  const hs__task *th = hs__task_in(k, a, b);
  hs__root *r;
  const int stack = !strcmp(path, "[stack]");
  if (stack && !th && sc->main_gone)
    return 0; /* a child of fork: the parent's main thread's */
  if (stack || th) {
    if (!(r = hs__thread_root(k, th, a, b)))
      return 0;
    if (r->tid == sc->self_tid && sc->self_sp > a && sc->self_sp < b)
      r->start = sc->self_sp & ~7ull; /* see hs__scan_self */
    return r->start == a;
  }
#ifdef HS_ATTACH
  if (!strcmp(path, "[heap]") || (!path[0] && hs__malloc_owns(k, a, b)))
    return hs__classify_preattach(k, a, b, path);
#endif
  if ((path[0] && path[0] != '[') || !strcmp(path, "[heap]") ||
      !strncmp(path, "[v", 2) || sc->jemalloc || hs__malloc_owns(k, a, b))
    return 0; /* a file, malloc's, the kernel's; with jemalloc, its own */
  const hs__thread *const dead = hs__dead_stack(sc, a, b, guard_below);
  if (dead) {
    hs__dead_dtv_root(k, dead, a, b);
    return 0;
  }
  if (!(r = hs__root_add(k, HS_ROOT_MAPPING, a, b)))
    return 0;
  snprintf(r->name, sizeof r->name, "%s", path);
  return 1;
}

static void hs__classify(hs__walk *k, uint64_t a, uint64_t b, const char *perms,
                         const char *path, int guard_below) {
  if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p')
    return;
  hs__root *r;
  if (!hs__classify_root(k, a, b, path, guard_below) && hs__tls_hi > a &&
      hs__tls_lo < b &&
      (r = hs__root_add(k, HS_ROOT_MAPPING, hs__tls_lo > a ? hs__tls_lo : a,
                        hs__tls_hi < b ? hs__tls_hi : b)))
    snprintf(r->name, sizeof r->name, "[main thread TLS]");
}

static void hs__roots_from_maps(hs__walk *k, char *maps) {
  unsigned long long prev_end = 0;
  char prev_perms[8] = "";
  for (char *line = maps; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    unsigned long long a, b;
    char perms[8] = "", path[256] = "";
    if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %255s", &a, &b, perms, path) >=
        3) {
      hs__classify(k, a, b, perms, path,
                   prev_end == a && !strcmp(prev_perms, "---p"));
      prev_end = b;
      memcpy(prev_perms, perms, sizeof perms);
    }
    line = nl ? nl + 1 : NULL;
  }
}

/* Mappings of the parent that this image lacks: memory excluded from fork
 * (MADV_DONTFORK; V8 marks its whole heap so, and that heap holds the
 * pointers to every ArrayBuffer's backing store), or unmapped since maps
 * was read. Read live through the parent's /proc/self/mem: a moment later
 * than the copy, but without them a node program's buffers look held by
 * stale stack words or lost. Their range in the child is unmapped, so the
 * first page is enough to tell (mincore fails with ENOMEM). */
static uint8_t hs__remote[HS_ROOTS_MAX]; /* in the child: read from parent */

static void hs__roots_not_copied(hs__walk *k) {
  unsigned char in_core;
  for (char *line = k->sc->maps; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    unsigned long long a, b;
    char perms[8] = "", path[256] = "";
    hs__root *r;
    if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %255s", &a, &b, perms, path) >=
            3 &&
        !strcmp(perms, "rw-p") && (!path[0] || !strncmp(path, "[anon:", 6)) &&
        !k->sc->jemalloc && !hs__has_block(k, a, b) &&
        mincore((void *)a, 4096, &in_core) != 0 && errno == ENOMEM &&
        (r = hs__root_add(k, HS_ROOT_MAPPING, a, b)))
      hs__remote[r - k->sc->out->roots] = 1;
    line = nl ? nl + 1 : NULL;
  }
}

static void hs__scan_remote(hs__walk *k, uint32_t root, uint64_t *buf,
                            size_t len) {
  const hs__root *r = &k->sc->out->roots[root];
  for (uint64_t at = r->start; at < r->end && hs__parent_mem >= 0;) {
    const size_t want = r->end - at < len ? r->end - at : len;
    const ssize_t got = pread(hs__parent_mem, buf, want, (off_t)at);
    if (got <= 0)
      return; /* unmapped in the parent too */
    for (size_t i = 0; i + 8 <= (size_t)got; i += 8)
      hs__scan_value(k, root, at + i, buf[i / 8], 0);
    at += (uint64_t)got;
  }
}

/* Threads being started (hs_threads.c): their argument is held by the
 * shim's start slot alone until they run. Scanned with the stacks. */
static void hs__roots_from_starts(hs__walk *k) {
  uint64_t at[64];
  int32_t creator[64];
  const size_t n = hs__threads_starting(at, creator, 64);
  for (size_t i = 0; i < n; i++) {
    hs__root *r = hs__root_add(k, HS_ROOT_START, at[i], at[i] + 8);
    if (!r)
      return;
    r->tid = creator[i];
    for (size_t t = 0; t < k->sc->n_tasks; t++)
      if (k->sc->tasks[t].tid == creator[i])
        memcpy(r->name, k->sc->tasks[t].name, sizeof k->sc->tasks[t].name);
    r->name[sizeof r->name - 1] = '\0';
  }
}

/* Precise mode: each stopped thread's registers, a root of their own
 * (module: its slot in the stop area), scanned before the stacks. */
static void hs__roots_from_registers(hs__walk *k) {
  const hs__scan *sc = k->sc;
  for (uint32_t i = 0; sc->stop_done && i < sc->stop->n; i++) {
    const hs__thread_regs *g = &sc->stop->regs[i];
    if (!g->stopped)
      continue;
    hs__root *r = hs__root_add(k, HS_ROOT_REGISTER, 0, g->len);
    if (!r)
      return;
    r->tid = g->tid;
    r->module = i;
    const hs__task *t = hs__task_of(sc, g->tid);
    snprintf(r->name, sizeof r->name, "%s", t ? t->name : "");
  }
}

static void hs__scan_registers(hs__walk *k, uint32_t root) {
  const hs__thread_regs *g = &k->sc->stop->regs[k->sc->out->roots[root].module];
  for (uint32_t at = 0; at + 8 <= g->len; at += 8)
    hs__scan_value(k, root, at, g->words[at / 8], 0);
}

/* The shim's own .data and .bss are not the program's: they hold the
 * ends of its mappings and stale pthread_create arguments, which matched
 * blocks (redis under jemalloc: "held by global hs__own+3624"). */
static int hs__is_shim_data(const hs__range *d) {
  const uint64_t mine = (uint64_t)&hs__parent_mem;
  return mine >= d->start && mine < d->end;
}

static void hs__roots_from_modules(hs__walk *k) {
  for (size_t i = 0; i < k->sc->n_data; i++) {
    if (hs__is_shim_data(&k->sc->data[i]))
      continue;
    hs__root *r = hs__root_add(k, HS_ROOT_GLOBAL, k->sc->data[i].start,
                               k->sc->data[i].end);
    if (r)
      r->module = k->sc->data_module[i];
  }
}

static void hs__on_fault(int sig) {
  if (hs__fault_armed)
    siglongjmp(hs__fault_jmp, 1);
  syscall(SYS_exit_group, 70);
}

static void hs__scan_root_safe(hs__walk *k, uint32_t root, int libc) {
  if (sigsetjmp(hs__fault_jmp, 1) == 0) {
    hs__fault_armed = 1;
    hs__scan_root_range(k, root, libc);
  }
  hs__fault_armed = 0;
}

/* The child inherits the mask of the thread taking the snapshot; the
 * shim's own thread blocks every signal, and a fault with SIGSEGV blocked
 * kills the process whatever its handler: unblock the two we handle.
 * The C library's own calls: the shim's interposers take a lock another
 * thread may have held at the clone. */
static void hs__child_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = hs__on_fault;
  sigemptyset(&sa.sa_mask);
  hs__os_sigaction(SIGSEGV, &sa, NULL);
  hs__os_sigaction(SIGBUS, &sa, NULL);
  sigset_t faults;
  sigemptyset(&faults);
  sigaddset(&faults, SIGSEGV);
  sigaddset(&faults, SIGBUS);
  hs__os_sigmask(SIG_UNBLOCK, &faults, NULL);
}

/* Starts each thread's stack at its stack pointer at the copy, less the
 * 128-byte red zone: below is dead frames. Known for a thread precise mode
 * stopped; for one that sat blocked in a system call across the clone once
 * the parent says so (hs__scan_settle; 2 s at most). The others, and all
 * when the parent is late, whole. */
static void hs__stacks_from_sp(hs__scan *sc) {
  const struct timespec us = {0, 100000};
  for (int i = 0; i < 20000 && !atomic_load(&sc->out->sp_ready); i++)
    nanosleep(&us, NULL);
  const int ready = atomic_load(&sc->out->sp_ready) != 0;
  for (uint32_t r = 0; r < sc->out->n_roots; r++) {
    hs__root *root = &sc->out->roots[r];
    if (root->kind != HS_ROOT_THREAD || root->tid == sc->self_tid)
      continue;
    const hs__thread_regs *g = hs__stopped(sc, root->tid);
    uint64_t sp = g ? g->sp : 0;
    for (size_t t = 0; !sp && ready && t < sc->n_tasks; t++)
      if (sc->tasks[t].tid == root->tid)
        sp = sc->out->valid_sp[t];
    if (sp > root->start + 128 && sp < root->end)
      root->start = (sp - 128) & ~7ull;
  }
}

void hs__scan_settle(hs__scan *sc) {
  if (sc->out) {
    hs__tasks_settle(sc->tasks, sc->n_tasks, sc->out->valid_sp);
    atomic_store(&sc->out->sp_ready, 1); /* the child waits for it */
  }
  hs__stop_finish(sc); /* precise mode only */
}

/* The child's whole life. Memory it needs beyond the copy comes from
 * mmap; it ends with exit_group, never returning into the parent's code. */
static void hs__scan_child(hs__scan *sc, uint64_t *pairs, uint64_t *tmp,
                           size_t n) {
  hs__os_close_all_but(hs__parent_mem); /* none of the service's open here */
  hs__child_signals();
  /* The parent read maps before the copy while its other threads went on
   * mapping and unmapping (V8 does, all the time): a root listed there may
   * be gone here, and a new mapping missing. This image's own maps is
   * exact: nothing in the child changes it. */
  char *maps = hs__os_map(HS_MAPS_MAX, 0);
  uint64_t *chunk = hs__os_map(1 << 16, 0);
  if (!maps || !chunk ||
      hs__os_read_file("/proc/self/maps", maps, HS_MAPS_MAX) <= 0)
    syscall(SYS_exit_group, 72);
  hs__walk k = {.sc = sc, .n = n, .g = sc->graph, .g_cap = sc->graph_cap};
  hs__graph_end(&k, 0); /* no item open: clears the repeat filter */
  k.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  uint64_t *arr = hs__os_map(n * 16 + 16, 0);
  k.queue = hs__os_map(n * 4 + 4, 0);
  if (!arr || !k.queue)
    syscall(SYS_exit_group, 71);
  k.addr = arr;
  k.size = arr + n;
  pairs = hs__table_sort(pairs, tmp, n); /* as the parent does its own */
  for (size_t i = 0; i < n; i++) {
    hs__entry e;
    hs__table_decode(&pairs[2 * i], &e);
    arr[i] = e.addr;
    arr[n + i] = e.size;
    if (e.addr + (e.size ? e.size : 1) > k.hi)
      k.hi = e.addr + (e.size ? e.size : 1);
  }
  k.lo = n ? arr[0] : 1;
  k.own = hs__os_owned(&k.n_own);
  hs__threads_at_copy(sc);
  hs__roots_from_modules(&k);
  hs__roots_from_registers(&k);
  hs__roots_from_maps(&k, maps);
  hs__roots_not_copied(&k);
  hs__roots_from_starts(&k);
  /* Globals and other memory first, with all they reach; thread stacks
   * after. Stacks are scanned whole, dead frames too: a stale word there
   * pointing into the middle of a list a global holds would otherwise take
   * the list's tail for itself (redis' keys, "held by stack of thread
   * main"). A block only a stack reaches is still the stack's. Stacks of
   * threads that sat blocked across the clone start at their stack
   * pointer (hs__stacks_from_sp). */
  for (uint32_t pass = 0; pass < 2; pass++) {
    if (pass == 1)
      hs__stacks_from_sp(sc);
    for (uint32_t r = 0; r < sc->out->n_roots; r++) {
      const hs__root *root = &sc->out->roots[r];
      if ((uint32_t)hs__root_late(root->kind) != pass)
        continue;
      if (root->kind == HS_ROOT_START)
        hs__scan_value(&k, r, root->start, *(const uint64_t *)root->start, 0);
      else if (root->kind == HS_ROOT_REGISTER)
        hs__scan_registers(&k, r);
      else if (hs__remote[r])
        hs__scan_remote(&k, r, chunk, 1 << 16);
#ifdef HS_ATTACH
      else if (hs__preattach[r])
        hs__scan_preattach_safe(&k, r);
#endif
      else
        hs__scan_root_safe(&k, r,
                           root->module != UINT32_MAX &&
                               hs__modules_is_libc(root->module));
    }
    hs__scan_blocks(&k);
  }
  sc->out->n_blocks = n;
  sc->out->graph_len = k.g_len;
  __atomic_store_n(&sc->out->done, 1, __ATOMIC_RELEASE);
  syscall(SYS_exit_group, 0);
}

/* Called with every table lock held, right after the copy: the child sees
 * exactly the copy's blocks, with their contents at this instant. It sorts
 * them as the parent will, so block indexes agree. */
int hs__scan_start_locked(hs__scan *sc, uint64_t *pairs, uint64_t *tmp,
                          size_t n) {
  HS_ASSERT(n <= sc->cap); /* the child writes n records into out */
  const long pid = syscall(SYS_clone, 0, NULL, NULL, NULL, 0);
  if (pid == 0)
    hs__scan_child(sc, pairs, tmp, n);
  const int rc = pid < 0 ? -errno : 0;
  sc->child = (int)pid;
  hs__stop_release(sc); /* precise mode: the copy is made */
  return rc;
}

/* The child's exit and its word that it is done, seen from the parent. */
static int hs__scan_wait(hs__scan *sc) {
  int status = 0;
  pid_t r;
  do
    r = waitpid(sc->child, &status, __WALL);
  while (r < 0 && errno == EINTR);
  if (r != sc->child || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      !__atomic_load_n(&sc->out->done, __ATOMIC_ACQUIRE)) {
    sc->note = "not scanned: the scan did not complete";
    return HS_EINVAL;
  }
  return 0;
}

int hs__scan_finish(hs__scan *sc, size_t n) {
  if (sc->child <= 0 || hs__scan_wait(sc))
    return HS_EINVAL;
  if (sc->out->roots_dropped && !sc->stop_note[0])
    snprintf(sc->stop_note, sizeof sc->stop_note,
             "%u roots past the scan's %u not scanned: what only they hold "
             "shows as lost",
             sc->out->roots_dropped, HS_ROOTS_MAX);
  else if (sc->out->graph_full && !sc->stop_note[0])
    snprintf(sc->stop_note, sizeof sc->stop_note,
             "no retained sizes: the heap graph outgrew its %zu MiB",
             sc->graph_cap >> 20);
  return sc->out->n_blocks == n ? 0 : HS_EINVAL;
}

const char *hs__scan_note(const hs__scan *sc) {
  return sc->note;
}

int hs__scan_stopped_all(const hs__scan *sc) {
  return sc->stopped_all;
}

const char *hs__scan_stop_note(const hs__scan *sc) {
#ifdef HS_ATTACH
  /* Said in every snapshot, not only in docs/heapsnap.md: a report full
   * of lost blocks would otherwise read as a leak. */
  if (sc->jemalloc) {
    static char note[sizeof sc->stop_note + 160]; /* one snapshot at a time */
    snprintf(note, sizeof note,
             "attached to a process on jemalloc: memory allocated before "
             "the attach is no root, so a block held only through it shows "
             "as lost%s%s",
             sc->stop_note[0] ? "; " : "", sc->stop_note);
    return note;
  }
#endif
  return sc->stop_note;
}

const hs_reach *hs__scan_result(const hs__scan *sc, uint32_t *n_roots) {
  *n_roots = sc->out->n_roots;
  return sc->out->reach;
}

void hs__scan_result_root(const hs__scan *sc, uint32_t i, hs_root *out) {
  HS_ASSERT(i < sc->out->n_roots);
  const hs__root *r = &sc->out->roots[i];
  *out = (hs_root){r->kind, r->module, r->tid, r->start, r->end, r->name};
}

const uint8_t *hs__scan_graph(const hs__scan *sc, size_t *len) {
  const int none = sc->out->graph_full || !sc->graph;
  *len = none ? 0 : sc->out->graph_len;
  return none ? NULL : sc->graph;
}
