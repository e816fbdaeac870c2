/* hs_snapshot.h - read heapsnap snapshot files.
 *
 * The snapshot reader is a library of its own (libhsformat); tools link it,
 * never the shim. A snapshot is read whole into memory, validated
 * (magic, version, checksum, every count against the bytes that carry it),
 * and then read through the accessors below. Every pointer an accessor
 * returns is owned by the hs_snapshot and lives until hs_snapshot_free().
 *
 * Errors follow one convention: functions return int, 0 on success and a
 * negative code on failure: one of HS_E* (hs_errors.h), or -errno for a system
 * call that failed. hs_strerror() turns any of them into a short sentence. The
 * file format itself is specified in docs/format.md. */
#ifndef HS_SNAPSHOT_H
#define HS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "hs_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! hs_strerror() :
 * @return : a static sentence for an HS_E* code or a -errno value;
 *           never NULL. */
const char *hs_strerror(int err);

/* Format version this library writes and the newest it reads. */
#define HS_FORMAT_VERSION 1

/* hs_header.flags */
/* The blocks are a Poisson sample; see sample_bytes. */
#define HS_SNAP_SAMPLED 0x1u
/* The reachability section is present. */
#define HS_SNAP_SCANNED 0x2u
/* The stack table filled up; some blocks have stack 0 (unknown). */
#define HS_SNAP_STACKS_FULL 0x4u
/* Precise mode: every other thread was stopped for the scan, and its
 * registers were roots. */
#define HS_SNAP_REGISTERS 0x8u
/* The heap graph (GRPH) is present: every pointer the scan followed, so a
 * reader can work out dominators and retained sizes. Only with SCANNED. */
#define HS_SNAP_GRAPH 0x10u
/* Tracking began at an attach (`heapsnap attach`), at start_ns: blocks
 * allocated before it are not in the snapshot. */
#define HS_SNAP_ATTACHED 0x20u

typedef struct hs_header {
  uint32_t version;        /* format version of the file */
  uint32_t flags;          /* HS_SNAP_* */
  int32_t pid;             /* process that wrote it */
  int32_t ppid;            /* its parent at the time */
  uint32_t number;         /* n in <name>.<pid>.<n>.snap */
  uint32_t epoch;          /* blocks allocated from now on carry epoch+1 */
  uint64_t time_ns;        /* wall clock, ns since the Unix epoch */
  uint64_t start_ns;       /* wall clock when the shim started */
  uint64_t live_blocks;    /* blocks in this snapshot */
  uint64_t live_bytes;     /* sum of their requested sizes */
  uint64_t rss_bytes;      /* resident set size of the process, 0 if unknown */
  uint64_t sample_bytes;   /* mean sampling gap R in bytes; 0 = every block */
  uint64_t pause_ns;       /* how long the service's allocations were held */
  uint32_t max_depth;      /* stack depth limit in force */
  uint32_t argc;           /* number of strings in argv */
  const char *exe;         /* absolute path of the executable ("" if unknown) */
  const char *const *argv; /* command line, argc strings */
  const char *trigger;     /* "signal", "interval", "exit", "api", or "" */
  const char *scan_note;   /* why there is no reachability scan, or what */
                           /* the scan missed (precise mode), or "" */
} hs_header;

/* hs_module.flags */
#define HS_MODULE_UNLOADED 0x1u /* dlclose'd before the snapshot was taken */
#define HS_MODULE_MAIN 0x2u     /* the executable itself */

typedef struct hs_module {
  uint64_t start; /* lowest address of its PT_LOAD segments, in memory */
  uint64_t end;   /* one past the highest such address */
  uint64_t bias;  /* load bias: memory address = ELF vaddr + bias */
  uint32_t flags; /* HS_MODULE_* */
  uint32_t build_id_len;
  const uint8_t *build_id; /* GNU build id bytes, build_id_len of them */
  const char *path;        /* path as the loader saw it ("" for the vdso) */
} hs_module;

/* A stack is the list of return addresses, innermost first, as captured in
 * the process. Stack 0 is the empty stack (unknown). */
typedef struct hs_stack {
  const uint64_t *frames;
  uint32_t depth;
} hs_stack;

typedef struct hs_block {
  uint64_t addr;  /* address the allocator returned */
  uint64_t size;  /* size the program asked for */
  uint32_t stack; /* index into the stack table */
  uint32_t epoch; /* snapshots taken before it was allocated; 0 = before #1 */
} hs_block;

/* Block epochs stop here (the shim keeps 19 bits of one a block): a block
 * allocated after snapshot HS_BLOCK_EPOCH_MAX or any later one carries
 * it, so epochs no longer tell those snapshots apart. */
#define HS_BLOCK_EPOCH_MAX 524287u

/* Reachability (HS_SNAP_SCANNED): the roots the scan started from, and for
 * each block how it was first reached. docs/reachability.md. */
#define HS_ROOT_GLOBAL 1   /* a writable segment of module `module` */
#define HS_ROOT_THREAD 2   /* thread `tid`'s stack */
#define HS_ROOT_MAPPING 3  /* an anonymous mapping malloc does not own */
#define HS_ROOT_REGISTER 4 /* thread `tid`'s registers (precise mode) */
#define HS_ROOT_START 5    /* the argument of a thread not started yet; */
                           /* tid: the thread that created it */

typedef struct hs_root {
  uint32_t kind;   /* HS_ROOT_* */
  uint32_t module; /* HS_ROOT_GLOBAL: index in the module table */
  int32_t tid;     /* HS_ROOT_THREAD, HS_ROOT_REGISTER, HS_ROOT_START */
  uint64_t start;  /* the range scanned */
  uint64_t end;
  const char *name; /* thread name, mapping name, or "" */
} hs_root;

#define HS_REACH_NONE 0  /* not reached from the scanned roots */
#define HS_REACH_ROOT 1  /* first reached from root `index` */
#define HS_REACH_BLOCK 2 /* first reached from block `index` */

typedef struct hs_reach {
  uint32_t kind;   /* HS_REACH_* */
  uint32_t index;  /* root index, or block index (address order) */
  uint64_t from;   /* offset of the pointer in that root or block */
  uint64_t target; /* how far into this block the pointer points */
} hs_reach;

/* A pointer out of a root into a block (GRPH). */
typedef struct hs_root_edge {
  uint32_t root;  /* root index */
  uint32_t block; /* block index (address order) */
  uint64_t from;  /* offset of the pointer in the root's range */
} hs_root_edge;

typedef struct hs_snapshot hs_snapshot;

/*! hs_snapshot_open() :
 * Reads and validates the snapshot at `path`: a file, a pipe or a FIFO
 * (opened as hs_snapshot_open_file() opens it).
 * @return : 0 and *out set (free it with hs_snapshot_free), or an error
 *           code with *out set to NULL. Checks the preamble before it
 *           reads on, and stops reading as soon as the bytes read break
 *           a rule: never reads or allocates more than the file can
 *           justify, and a device that never ends is refused. */
int hs_snapshot_open(const char *path, hs_snapshot **out);

/*! hs_snapshot_open_file() :
 * Opens `path` for reading as this library does: a FIFO that no process
 * writes to does not block, it reads as empty (HS_EEMPTY).
 * @return : 0 and *fd (the caller closes it), or -errno, HS_EINVAL. */
int hs_snapshot_open_file(const char *path, int *fd);

/*! hs_snapshot_open_fd() :
 * As hs_snapshot_open(), from `fd` (still the caller's), read from its
 * current offset to its end. */
int hs_snapshot_open_fd(int fd, hs_snapshot **out);

/*! hs_snapshot_peek_header() :
 * Reads only the header of the snapshot at `path` (the body is
 * decompressed as far as its first record): the numbers, with exe,
 * trigger, scan_note and argv NULL. For ordering many big files before
 * opening each. @return : 0, or an error code as hs_snapshot_open(). */
int hs_snapshot_peek_header(const char *path, hs_header *out);

/*! hs_snapshot_peek_header_fd() :
 * As hs_snapshot_peek_header(), from `fd`'s current offset. It reads on
 * from there: to open the snapshot from the same fd, seek back (a pipe
 * cannot, so read a pipe whole with hs_snapshot_open_fd()). */
int hs_snapshot_peek_header_fd(int fd, hs_header *out);

/*! hs_snapshot_drop_blocks() :
 * Frees the blocks, the reachability records and the heap graph of a
 * snapshot a reader is done with, keeping the header, modules, stacks and
 * roots. hs_snapshot_block_count() still gives the number of blocks;
 * hs_snapshot_blocks(), hs_snapshot_reach() and hs_snapshot_has_graph()
 * then say there are none. Accepts NULL. */
void hs_snapshot_drop_blocks(hs_snapshot *snap);

/*! hs_snapshot_load() :
 * As hs_snapshot_open(), from `len` bytes in memory (copied as needed). */
int hs_snapshot_load(const void *data, size_t len, hs_snapshot **out);

/*! hs_snapshot_free() : releases everything; accepts NULL. */
void hs_snapshot_free(hs_snapshot *snap);

/*! @return : the header; valid until hs_snapshot_free(). */
const hs_header *hs_snapshot_header(const hs_snapshot *snap);

size_t hs_snapshot_module_count(const hs_snapshot *snap);
/*! @return : module i (i < module_count), or NULL when out of range. */
const hs_module *hs_snapshot_module(const hs_snapshot *snap, size_t i);
/*! @return : the module whose [start, end) holds addr, or NULL. */
const hs_module *hs_snapshot_module_find(const hs_snapshot *snap,
                                         uint64_t addr);

/*! @return : 1 when the snapshot says which load of a module each stack's
 *           frames belong to (section GENS, docs/format.md), else 0. */
int hs_snapshot_has_gens(const hs_snapshot *snap);
/*! Module i's life in load generations: loaded in *load, unloaded when
 * *unload began (0: still loaded). Both 0 without GENS or i out of range. */
void hs_snapshot_module_life(const hs_snapshot *snap, size_t i, uint32_t *load,
                             uint32_t *unload);
/*! @return : a load generation in which stack i's frames all lay in the
 *           modules loaded then; 0 without GENS or i out of range. */
uint32_t hs_snapshot_stack_gen(const hs_snapshot *snap, uint32_t i);
/*! @return : the module that held addr in load generation gen: the one
 *           whose range holds addr and whose life holds gen. Without GENS,
 *           as hs_snapshot_module_find(). NULL when none. */
const hs_module *hs_snapshot_module_at(const hs_snapshot *snap, uint64_t addr,
                                       uint32_t gen);

/*! @return : number of stacks, including stack 0. */
size_t hs_snapshot_stack_count(const hs_snapshot *snap);
/*! @return : stack i; an empty stack when i is out of range. */
hs_stack hs_snapshot_stack(const hs_snapshot *snap, uint32_t i);

size_t hs_snapshot_block_count(const hs_snapshot *snap);
/*! @return : all blocks, sorted by address, block_count of them. */
const hs_block *hs_snapshot_blocks(const hs_snapshot *snap);

/*! @return : number of roots of the reachability scan (0 without one). */
size_t hs_snapshot_root_count(const hs_snapshot *snap);
/*! @return : root i, or NULL when out of range. */
const hs_root *hs_snapshot_root(const hs_snapshot *snap, size_t i);
/*! @return : block_count records, one per block in block order, or NULL
 *           when the snapshot has no scan. Every index is in range, and
 *           following block retainers always ends at a root. */
const hs_reach *hs_snapshot_reach(const hs_snapshot *snap);

/*! @return : 1 when the snapshot carries its heap graph (HS_SNAP_GRAPH):
 *           then the two calls below give every pointer the scan followed
 *           from a reached block or a root into a block. */
int hs_snapshot_has_graph(const hs_snapshot *snap);
/*! @return : the number of distinct blocks block b points into (not
 *           itself), and in *targets their indexes, ascending; 0 and NULL
 *           without a graph or for b out of range. */
size_t hs_snapshot_edges(const hs_snapshot *snap, size_t b,
                         const uint32_t **targets);
/*! @return : the pointers out of roots into blocks, by root then offset,
 *           and their number in *n (0 and NULL without a graph). */
const hs_root_edge *hs_snapshot_root_edges(const hs_snapshot *snap, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* HS_SNAPSHOT_H */
