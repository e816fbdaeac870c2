/* heapsnap_dump.c - `heapsnap dump FILE`: print a snapshot for people.
 *
 * Reads the file through the public reader only (include/hs_snapshot.h)
 * and prints the header, totals, modules and the stacks holding the most
 * live bytes, with the blocks of each that the scan found lost. Frames are
 * named by tools/common's symbolizer, as heapdiff names them, or with
 * --raw shown as module+offset from the load bias. The output depends on
 * the file (and, symbolized, the modules' files) alone: no clock, no
 * locale, ties broken by stack index, so tests compare it byte for byte. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hd_symbols.h"
#include "hd_symprint.h"
#include "heapsnap_cmds.h"
#include "hs_parse.h"
#include "hs_snapshot.h"
#include "hs_tool.h"

#define HS__DUMP_TOP 10 /* default --top */
#define HS__NS 1000000000u
#define HS__DUMP_DIRS 64 /* --debug-dir entries */

const char hs__help_dump[] =
    "usage: heapsnap dump [--top N] [--raw] [--sysroot DIR] [--debug-dir DIR]\n"
    "                     FILE\n"
    "\n"
    "Prints a snapshot file: its header, totals, the module table and the\n"
    "N stacks holding the most live bytes. Frames are named as heapdiff\n"
    "names them: function and file:line (inlined calls as frames of their\n"
    "own), or module+0xOFFSET from the module's load bias where the module\n"
    "has no symbols here (each such module is listed once, with the reason),\n"
    "or '? 0xADDRESS' outside every module. When the snapshot has a\n"
    "reachability scan, each stack says how many of its blocks are lost\n"
    "(nothing reaches them any more).\n"
    "\n"
    "options:\n"
    "  --top N          show the N biggest stacks (default 10; 0 shows all)\n"
    "  --raw            frames as module+0xOFFSET, without looking up symbols\n"
    "  --sysroot DIR    find the snapshot's modules under DIR\n"
    "  --debug-dir DIR  look for separate debug info here first (repeatable)\n"
    "  -h, --help       this help\n"
    "\n"
    "exit status: 0 printed; 2 usage error, or FILE cannot be read or is\n"
    "not a valid snapshot.\n";

enum {
  HS__DUMP_HELP = HS__OPT_HELP,
  HS__DUMP_TOPN,
  HS__DUMP_RAW,
  HS__DUMP_SYSROOT,
  HS__DUMP_DEBUG_DIR
};

static const hs__opt hs__dump_opts[] = {
    {"help", HS__DUMP_HELP, 0},
    {"top", HS__DUMP_TOPN, 1},
    {"raw", HS__DUMP_RAW, 0},
    {"sysroot", HS__DUMP_SYSROOT, 1},
    {"debug-dir", HS__DUMP_DEBUG_DIR, 1},
    {NULL, 0, 0},
};

/* The command line. */
typedef struct hs__dump_args {
  const char *file;
  uint64_t top;
  int raw;
  hd_sym_options sym;
  const char *dirs[HS__DUMP_DIRS];
} hs__dump_args;

/* What one stack holds, and how much of it the scan found lost. */
typedef struct hs__dump_site {
  uint32_t stack;
  uint64_t blocks;
  uint64_t bytes;
  uint64_t lost_blocks;
  uint64_t lost_bytes;
} hs__dump_site;

/* The snapshot being printed and, unless --raw, its modules' symbols. */
typedef struct hs__dump {
  const hs_snapshot *snap;
  hd_symbolizer *sym; /* NULL with --raw */
  uint32_t *handle;   /* a symbolizer handle per module index */
} hs__dump;

/* "2023-11-14T22:13:20.250Z", millisecond precision, UTC. */
static void hs__dump_iso(char *buf, size_t len, uint64_t ns) {
  const time_t s = (time_t)(ns / HS__NS);
  struct tm tm;
  char day[32];
  if (!gmtime_r(&s, &tm) ||
      !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm)) {
    snprintf(buf, len, "(out of range)");
    return;
  }
  snprintf(buf, len, "%s.%03uZ", day, (unsigned)(ns % HS__NS / 1000000u));
}

static void hs__dump_field(const char *name) {
  printf("  %-16s", name);
}

static void hs__dump_str(const char *name, const char *s) {
  hs__dump_field(name);
  hs__tool_put_safe(stdout, *s ? s : "(unknown)");
  putchar('\n');
}

static void hs__dump_size(const char *name, uint64_t bytes) {
  char buf[64];
  hs__tool_size(buf, sizeof buf, bytes);
  hs__dump_field(name);
  printf("%s\n", buf);
}

static void hs__dump_times(const hs_header *h) {
  char iso[64];
  hs__dump_iso(iso, sizeof iso, h->time_ns);
  hs__dump_field("time");
  printf("%s (%" PRIu64 ".%09" PRIu64 " s since the epoch)\n", iso,
         h->time_ns / HS__NS, h->time_ns % HS__NS);
  if (!h->start_ns || h->start_ns > h->time_ns)
    return; /* an old or odd writer: nothing sensible to say */
  const uint64_t up = h->time_ns - h->start_ns;
  hs__dump_iso(iso, sizeof iso, h->start_ns);
  hs__dump_field("shim started");
  printf("%s (%" PRIu64 ".%03u s before)\n", iso, up / HS__NS,
         (unsigned)(up % HS__NS / 1000000u));
}

static void hs__dump_argv(const hs_header *h) {
  hs__dump_field("command line");
  if (h->argc == 0)
    fputs("(unknown)", stdout);
  for (uint32_t i = 0; i < h->argc; i++) {
    if (i)
      putchar(' ');
    hs__tool_put_word(stdout, h->argv[i]);
  }
  putchar('\n');
}

static void hs__dump_tracking(const hs_header *h) {
  hs__dump_field("tracking");
  if (h->flags & HS_SNAP_SAMPLED)
    printf("sampled (mean gap %" PRIu64 " bytes)", h->sample_bytes);
  else
    printf("full");
  /* start_ns ("shim started") is then the attach */
  printf("%s\n", h->flags & HS_SNAP_ATTACHED
                     ? ", since attach (blocks allocated before not tracked)"
                     : "");
  if (h->flags & HS_SNAP_STACKS_FULL)
    hs__dump_str("note", "the stack table filled up: some blocks have an "
                         "unknown stack (stack 0)");
  if (h->scan_note && h->scan_note[0])
    hs__dump_str("reachability", h->scan_note);
  else if (h->flags & HS_SNAP_REGISTERS)
    hs__dump_str("reachability", "every thread stopped, registers scanned "
                                 "(HEAPSNAP_SCAN_REGISTERS=1)");
}

/* What the scan found: how many blocks nothing reaches. */
static void hs__dump_reach(const hs_snapshot *s) {
  const hs_reach *r = hs_snapshot_reach(s);
  if (!r)
    return;
  const hs_block *b = hs_snapshot_blocks(s);
  uint64_t n = 0, bytes = 0;
  for (size_t i = 0; i < hs_snapshot_block_count(s); i++)
    if (r[i].kind == HS_REACH_NONE)
      n++, bytes += b[i].size;
  char size[64];
  hs__tool_size(size, sizeof size, bytes);
  hs__dump_field("reachability");
  printf("scanned from %zu root%s; %" PRIu64 " block%s, %s, unreachable\n",
         hs_snapshot_root_count(s), hs_snapshot_root_count(s) == 1 ? "" : "s",
         n, n == 1 ? "" : "s", size);
  hs__dump_field("heap graph");
  if (!hs_snapshot_has_graph(s)) {
    printf("none (no retained sizes)\n");
    return;
  }
  size_t edges = 0, root_edges;
  const uint32_t *t;
  for (size_t i = 0; i < hs_snapshot_block_count(s); i++)
    edges += hs_snapshot_edges(s, i, &t);
  hs_snapshot_root_edges(s, &root_edges);
  printf("%zu pointers between blocks, %zu from roots\n", edges, root_edges);
}

static void hs__dump_header(const char *path, const hs_header *h) {
  fputs("snapshot ", stdout);
  hs__tool_put_safe(stdout, path);
  putchar('\n');
  hs__dump_field("format version");
  printf("%" PRIu32 "\n", h->version);
  hs__dump_field("pid");
  printf("%" PRId32 "\n", h->pid);
  hs__dump_field("parent pid");
  printf("%" PRId32 "\n", h->ppid);
  hs__dump_field("snapshot number");
  printf("%" PRIu32 "\n", h->number);
  hs__dump_field("epoch");
  printf("%" PRIu32 "\n", h->epoch);
  hs__dump_times(h);
  hs__dump_str("executable", h->exe);
  hs__dump_argv(h);
  hs__dump_str("trigger", h->trigger);
  hs__dump_tracking(h);
  hs__dump_field("pause");
  printf("%" PRIu64 ".%03u ms (%" PRIu64 " ns)\n", h->pause_ns / 1000000u,
         (unsigned)(h->pause_ns % 1000000u / 1000u), h->pause_ns);
  hs__dump_field("max depth");
  printf("%" PRIu32 " frames\n", h->max_depth);
  if (h->rss_bytes)
    hs__dump_size("RSS", h->rss_bytes);
  else
    hs__dump_str("RSS", "");
}

static const char *hs__dump_basename(const hs_module *m) {
  return *m->path ? hs__tool_basename(m->path) : "[vdso]";
}

static void hs__dump_module(size_t i, const hs_module *m) {
  printf("  #%zu ", i);
  hs__tool_put_safe(stdout, *m->path ? m->path : "[vdso]");
  if (m->flags & HS_MODULE_MAIN)
    fputs(" [main]", stdout);
  if (m->flags & HS_MODULE_UNLOADED)
    fputs(" [unloaded]", stdout);
  printf("\n     0x%" PRIx64 "-0x%" PRIx64 "  bias 0x%" PRIx64
         "\n     build id ",
         m->start, m->end, m->bias);
  for (uint32_t b = 0; b < m->build_id_len; b++)
    printf("%02x", m->build_id[b]);
  puts(m->build_id_len ? "" : "none");
}

static void hs__dump_modules(const hs_snapshot *snap) {
  const size_t n = hs_snapshot_module_count(snap);
  printf("\nmodules (%zu)\n", n);
  for (size_t i = 0; i < n; i++)
    hs__dump_module(i, hs_snapshot_module(snap, i));
}

/* Sums the blocks per stack into sites[stack_count], the lost ones too
 * when the snapshot has a scan.
 * @return : the number of stacks holding at least one block. */
static size_t hs__dump_sum(const hs_snapshot *snap, hs__dump_site *sites,
                           uint64_t *bytes) {
  const size_t nstacks = hs_snapshot_stack_count(snap);
  const size_t nblocks = hs_snapshot_block_count(snap);
  const hs_block *b = hs_snapshot_blocks(snap);
  const hs_reach *r = hs_snapshot_reach(snap);
  size_t used = 0;
  for (size_t i = 0; i < nstacks; i++)
    sites[i].stack = (uint32_t)i;
  *bytes = 0;
  for (size_t i = 0; i < nblocks; i++) {
    assert(b[i].stack < nstacks); /* the reader checks every index */
    hs__dump_site *s = &sites[b[i].stack];
    used += s->blocks == 0;
    s->blocks++;
    s->bytes += b[i].size;
    *bytes += b[i].size;
    if (r && r[i].kind == HS_REACH_NONE)
      s->lost_blocks++, s->lost_bytes += b[i].size;
  }
  return used;
}

/* Stacks with live blocks first (one of malloc(0) blocks has 0 bytes, as
 * the unused ones do, and fell among them, out of the list), then most
 * bytes; ties by stack index so the order is the file's. */
static int hs__dump_site_cmp(const void *pa, const void *pb) {
  const hs__dump_site *a = pa, *b = pb;
  if (!a->blocks != !b->blocks)
    return a->blocks ? -1 : 1;
  if (a->bytes != b->bytes)
    return a->bytes > b->bytes ? -1 : 1;
  return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/* The module that held the address when the stack was recorded (its load
 * generation, when the snapshot has them), or NULL. */
static const hs_module *hs__dump_module_of(const hs_snapshot *snap,
                                           uint64_t addr, uint32_t gen) {
  return hs_snapshot_has_gens(snap) ? hs_snapshot_module_at(snap, addr - 1, gen)
                                    : hs_snapshot_module_find(snap, addr);
}

/* A frame as module+offset from the load bias (--raw). */
static void hs__dump_frame_raw(const hs_module *m, uint64_t addr) {
  if (!m) {
    printf("       ? 0x%" PRIx64 "\n", addr);
    return;
  }
  fputs("       ", stdout);
  hs__tool_put_safe(stdout, hs__dump_basename(m));
  printf("+0x%" PRIx64 "\n", addr - m->bias);
}

/* A frame as the source frames the symbolizer finds there, innermost
 * first; the offset looked up is the call's (the byte before the return
 * address), the offset shown the return address's, as heapdiff does. */
static void hs__dump_frame(const hs__dump *d, uint64_t addr, uint32_t gen) {
  const hs_module *m = hs__dump_module_of(d->snap, addr, gen);
  if (!d->sym || !m) {
    hs__dump_frame_raw(m, addr);
    return;
  }
  const size_t i = (size_t)(m - hs_snapshot_module(d->snap, 0));
  const uint64_t off = addr - m->bias;
  const hd_frame *f;
  const size_t n = hd_symbolize(d->sym, d->handle[i], off ? off - 1 : 0, &f);
  for (size_t j = 0; j < n; j++) {
    fputs("       ", stdout);
    hd_frame_put(stdout, &f[j], *m->path ? m->path : "[vdso]", off, "", "");
  }
}

static void hs__dump_print_site(const hs__dump *d, size_t rank,
                                const hs__dump_site *s, uint64_t total) {
  char size[64];
  hs__tool_size(size, sizeof size, s->bytes);
  const double pct = total ? 100.0 * (double)s->bytes / (double)total : 0;
  printf("  #%zu stack %" PRIu32 "%s: %" PRIu64 " block%s, %s, %.1f%%", rank,
         s->stack, s->stack ? "" : " (unknown)", s->blocks,
         s->blocks == 1 ? "" : "s", size, pct);
  if (hs_snapshot_reach(d->snap)) {
    hs__tool_size(size, sizeof size, s->lost_bytes);
    printf("; lost %" PRIu64 " block%s, %s", s->lost_blocks,
           s->lost_blocks == 1 ? "" : "s", size);
  }
  putchar('\n');
  const hs_stack st = hs_snapshot_stack(d->snap, s->stack);
  const uint32_t gen = hs_snapshot_stack_gen(d->snap, s->stack);
  for (uint32_t f = 0; f < st.depth; f++)
    hs__dump_frame(d, st.frames[f], gen);
  if (st.depth == 0 && s->stack != 0)
    puts("       (no frames)");
}

/* Adds the module of each frame of the shown stacks to seen[] (one flag a
 * module index) and says once for each that has no symbols here why not,
 * so a user knows what to install or point --sysroot at. */
static void hs__dump_missing(const hs__dump *d, const hs__dump_site *sites,
                             size_t shown, uint8_t *seen) {
  for (size_t i = 0; i < shown; i++) {
    const hs_stack st = hs_snapshot_stack(d->snap, sites[i].stack);
    const uint32_t gen = hs_snapshot_stack_gen(d->snap, sites[i].stack);
    for (uint32_t f = 0; f < st.depth; f++) {
      const hs_module *m = hs__dump_module_of(d->snap, st.frames[f], gen);
      const size_t k = m ? (size_t)(m - hs_snapshot_module(d->snap, 0)) : 0;
      if (!m || seen[k])
        continue;
      seen[k] = 1;
      const char *why = NULL;
      const int rc = hd_symbolizer_module_status(d->sym, d->handle[k], &why);
      if (rc == HD_MOD_MISSING || rc == HD_MOD_MISMATCH || rc == HD_MOD_NOSYMS)
        hd_symbols_put_missing(stdout, m->path, why);
    }
  }
}

/* Totals, then the `top` biggest stacks (0: all).
 * @return : 0 or -ENOMEM. */
static int hs__dump_stacks(const hs__dump *d, uint64_t top) {
  const size_t nstacks = hs_snapshot_stack_count(d->snap);
  const size_t nmods = hs_snapshot_module_count(d->snap);
  hs__dump_site *sites = calloc(nstacks ? nstacks : 1, sizeof *sites);
  uint8_t *seen = calloc(nmods ? nmods : 1, 1);
  if (!sites || !seen) {
    free(sites);
    free(seen);
    return HS_ENOMEM;
  }
  uint64_t bytes;
  const size_t used = hs__dump_sum(d->snap, sites, &bytes);
  printf("\ntotals\n");
  hs__dump_field("live blocks");
  printf("%zu\n", hs_snapshot_block_count(d->snap));
  hs__dump_size("live bytes", bytes);
  hs__dump_field("stacks used");
  printf("%zu of %zu\n", used, nstacks);
  qsort(sites, nstacks, sizeof *sites, hs__dump_site_cmp);
  const size_t shown = top && top < used ? (size_t)top : used;
  printf("\ntop %zu of %zu stacks by live bytes\n", shown, used);
  if (d->sym)
    hs__dump_missing(d, sites, shown, seen);
  for (size_t i = 0; i < shown; i++)
    hs__dump_print_site(d, i + 1, &sites[i], bytes);
  free(sites);
  free(seen);
  return 0;
}

/* A folder for the symbolizer: its lists are ':'-separated.
 * @return : 0, or HS_EINVAL after one line. */
static int hs__dump_dir(const char *opt, const char *v) {
  struct stat st; /* a file (`--sysroot A.snap B.snap`) is refused */
  if (*v && stat(v, &st) == 0 && !S_ISDIR(st.st_mode))
    return hs__tool_bad_value("dump", opt, "a folder, not a file", v);
  if (*v && !strchr(v, ':'))
    return 0;
  return hs__tool_bad_value("dump", opt,
                            "a folder name, not empty and without ':'", v);
}

/* Applies one option. @return : 0, or HS_EINVAL after one line. */
static int hs__dump_option(hs__dump_args *o, int id, const char *v) {
  switch (id) {
  case HS__DUMP_TOPN:
    if (hs__parse_u64(v, 0, UINT32_MAX, &o->top))
      return hs__tool_bad_value(
          "dump", "top",
          "a whole number of stacks from 0 to 4294967295 (0 shows all)", v);
    return 0;
  case HS__DUMP_RAW:
    o->raw = 1;
    return 0;
  case HS__DUMP_SYSROOT:
    o->sym.sysroot = v;
    return hs__dump_dir("sysroot", v);
  case HS__DUMP_DEBUG_DIR:
    if (o->sym.n_debug_dirs == HS__DUMP_DIRS)
      return hs__tool_usage("dump", "--debug-dir: at most %d times",
                            HS__DUMP_DIRS);
    o->dirs[o->sym.n_debug_dirs++] = v;
    return hs__dump_dir("debug-dir", v);
  }
  return HS_EINVAL;
}

/* Options before or after the file, as heapdiff takes them ("--" ends
 * them). @return : 0, HS__TOOL_DONE after printing the help, or
 * HS_EINVAL. */
static int hs__dump_options(hs__args *a, hs__dump_args *o) {
  int only_file = 0;
  while (a->i < a->argc) {
    const char *v;
    if (!only_file && !strcmp(a->argv[a->i], "--")) {
      only_file = 1, a->i++;
      continue;
    }
    const int id = only_file ? 0 : hs__args_next(a, &v);
    if (id < 0 || id == HS__TOOL_DONE)
      return id; /* an error, or the help printed */
    const int rc = id ? hs__dump_option(o, id, v) : 0;
    if (rc)
      return rc;
    if (id)
      continue;
    if (o->file)
      return hs__tool_usage("dump", "unexpected argument '%s'", a->argv[a->i]);
    o->file = a->argv[a->i++];
  }
  if (o->raw && (o->sym.sysroot || o->sym.n_debug_dirs))
    return hs__tool_usage("dump",
                          "--raw looks up no symbols: --%s makes no "
                          "sense with it",
                          o->sym.sysroot ? "sysroot" : "debug-dir");
  if (!o->file)
    return hs__tool_usage("dump", "missing the snapshot file");
  return 0;
}

/* A symbolizer handle for every module of the snapshot (the files are
 * opened at the first look-up). @return : 0 or a negative code. */
static int hs__dump_symbols(hs__dump *d, const hs__dump_args *o) {
  const size_t n = hs_snapshot_module_count(d->snap);
  d->handle = calloc(n ? n : 1, sizeof *d->handle);
  if (!d->handle)
    return HS_ENOMEM;
  int rc = hd_symbolizer_create(&o->sym, &d->sym);
  for (size_t i = 0; !rc && i < n; i++)
    rc = hd_symbolizer_add_module(d->sym, hs_snapshot_module(d->snap, i),
                                  &d->handle[i]);
  return rc;
}

/* Prints the file. @return : 0 or a code after one line naming it. */
static int hs__dump_file(const char *path, const hs__dump_args *o) {
  hs_snapshot *snap = NULL;
  hs__dump d = {NULL, NULL, NULL};
  int rc = hs_snapshot_open(path, &snap);
  if (rc == 0) {
    d.snap = snap;
    if (!o->raw)
      rc = hs__dump_symbols(&d, o);
  }
  if (rc == 0) {
    hs__dump_header(path, hs_snapshot_header(snap));
    hs__dump_reach(snap);
    hs__dump_modules(snap);
    rc = hs__dump_stacks(&d, o->top);
  }
  hd_symbolizer_free(d.sym);
  free(d.handle);
  hs_snapshot_free(snap);
  if (rc)
    hs__tool_error(NULL, "%s: %s", path, hs_strerror(rc));
  return rc;
}

int hs__cmd_dump(int argc, char **argv) {
  hs__args a = {"dump", hs__dump_opts, argc, argv, 0, hs__help_dump};
  hs__dump_args o = {.top = HS__DUMP_TOP};
  o.sym.debug_dirs = o.dirs;
  int rc = hs__dump_options(&a, &o);
  if (!rc)
    rc = hs__dump_file(o.file, &o);
  return hs__tool_exit("dump", rc);
}
