/* hs_scan.h - the insides of the reachability scan, shared by hs_scan.c
 * (the scan and its child) and hs_stop.c (precise mode's helper). Nothing
 * else includes it: hs_shim.h gives the rest of the shim an opaque
 * hs__scan and a few calls. */
#ifndef HS_SCAN_H
#define HS_SCAN_H

#include "hs_shim.h"

#pragma GCC visibility push(hidden)

/* Roots are mostly lines of /proc/self/maps, which the kernel caps at
 * vm.max_map_count (65530 by default): a program with thousands of
 * coroutine stacks or arenas passed the old 8192, and the roots listed
 * last (the main thread's stack) were dropped. Untouched room costs
 * nothing (the shared area is NORESERVE). */
#define HS_ROOTS_MAX (1u << 17)
#define HS_DATA_MAX 4096

/* A root as the child records it (hs_root with the name inline). */
typedef struct hs__root {
  uint32_t kind;   /* HS_ROOT_* */
  uint32_t module; /* globals: index in the module table */
  int32_t tid;     /* threads */
  uint64_t start, end;
  char name[64]; /* thread name, or the mapping's name in maps */
} hs__root;

/* Shared with the child (MAP_SHARED): what it found, and what the parent
 * learns after the clone. */
typedef struct hs__scan_out {
  uint32_t done; /* set last, with release order */
  uint32_t n_roots;
  uint64_t n_blocks;
  uint64_t graph_len;        /* bytes of GRPH items in the scan's graph area */
  uint32_t graph_full;       /* the area filled up: no graph */
  uint32_t roots_dropped;    /* roots past HS_ROOTS_MAX, not scanned */
  _Atomic uint32_t sp_ready; /* set by the parent */
  uint64_t valid_sp[HS_SCAN_THREADS]; /* per task, 0: scan it whole */
  hs__root roots[HS_ROOTS_MAX];
  hs_reach reach[]; /* one per block, in address order */
} hs__scan_out;

/* hs_stop.c: precise mode (HEAPSNAP_SCAN_REGISTERS=1), the other threads
 * stopped with ptrace for the copy. One thread's registers as ptrace gives
 * them: the general regset (NT_PRSTATUS) then the vector one (NT_PRFPREG). */
#define HS_REGS_BYTES 1024
typedef struct hs__thread_regs {
  int32_t tid;
  uint32_t stopped; /* 1: stopped, and these are its registers */
  int32_t sig;      /* a signal it was stopped with, given back at detach */
  uint32_t len;     /* bytes of words */
  uint64_t sp;      /* its stack pointer */
  uint64_t words[HS_REGS_BYTES / 8];
} hs__thread_regs;

/* Shared (MAP_SHARED) by the snapshot's thread and the helper process that
 * stops the others. */
typedef struct hs__stop {
  _Atomic uint32_t state; /* HS_STOP_* (hs_stop.c) */
  int32_t pid, self_tid;  /* the process; the thread not to stop */
  uint32_t n;             /* slots used */
  int32_t fail_tid;       /* the first thread that could not be stopped */
  int32_t fail_errno;     /* why (ETIMEDOUT: it did not stop in time) */
  uint32_t missed;        /* threads not stopped */
  hs__thread_regs regs[HS_SCAN_THREADS];
} hs__stop;

struct hs__scan {
  int pid, child, jemalloc;
  int self_tid;     /* the thread taking the snapshot */
  uint64_t self_sp; /* its stack below this is the shim's or dead */
  const char *note; /* why there is no scan, when there is none */
  char *maps;       /* /proc/self/maps, read before the copy */
  hs__range data[HS_DATA_MAX];
  uint32_t data_module[HS_DATA_MAX];
  size_t n_data, n_tasks, n_dead, out_len;
  size_t cap;         /* blocks out has room for */
  int unknown_stacks; /* live threads whose stack cannot be told */
  int main_gone;      /* [stack] is no live thread's (hs__threads_main_gone) */
  size_t (*usable)(void *);
  hs__scan_out *out;
  uint8_t *graph;   /* shared: the heap graph as GRPH items (the child's) */
  size_t graph_cap; /* its bytes */
  hs__stop *stop;   /* precise mode: the shared stop area, else NULL */
  int stop_helper;  /* its helper process, 0 when none */
  int stop_done;    /* the helper finished: stop->regs say who stopped */
  int stopped_all;  /* and every thread but this one did */
  char stop_note[256];
  hs__thread dead[1024];           /* hs__threads_dead */
  hs__task tasks[HS_SCAN_THREADS]; /* last: not cleared by prepare */
};

/*! Before the table locks: the helper started, waiting (precise mode). */
void hs__stop_prepare(hs__scan *sc);
/*! Locks held, after the clone: the threads let go. */
void hs__stop_release(hs__scan *sc);
/*! After the locks: the helper reaped; sc->stop_note says what was missed. */
void hs__stop_finish(hs__scan *sc);
/*! The stop area unmapped (any helper first let go and reaped). */
void hs__stop_free(hs__scan *sc);

#pragma GCC visibility pop

#endif /* HS_SCAN_H */
