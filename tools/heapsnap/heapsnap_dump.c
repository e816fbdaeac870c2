/* heapsnap_dump.c - `heapsnap dump FILE`: print a snapshot for people.
 *
 * Reads the file through the public reader only (include/hs_snapshot.h)
 * and prints the header, totals, modules and the stacks holding the most
 * live bytes. Frames are shown as module+offset from the load bias, which
 * is what symbolizers take; symbolizing is heapdiff's business. The output
 * depends on the file alone (no clock, no locale, ties broken by stack
 * index), so tests compare it byte for byte. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heapsnap_cmds.h"
#include "hs_parse.h"
#include "hs_snapshot.h"
#include "hs_tool.h"

#define HS__DUMP_TOP 10 /* default --top */
#define HS__NS 1000000000u

const char hs__help_dump[] =
    "usage: heapsnap dump [--top N] FILE\n"
    "\n"
    "Prints a snapshot file: its header, totals, the module table and the\n"
    "N stacks holding the most live bytes, frames as module+0xOFFSET from\n"
    "the module's load bias (or '? 0xADDRESS' outside every module).\n"
    "\n"
    "options:\n"
    "  --top N      show the N biggest stacks (default 10; 0 shows all)\n"
    "  -h, --help   this help\n"
    "\n"
    "exit status: 0 printed; 2 usage error, or FILE cannot be read or is\n"
    "not a valid snapshot.\n";

enum { HS__DUMP_HELP = HS__OPT_HELP, HS__DUMP_TOPN };

static const hs__opt hs__dump_opts[] = {
    {"help", HS__DUMP_HELP, 0},
    {"top", HS__DUMP_TOPN, 1},
    {NULL, 0, 0},
};

/* What one stack holds. */
typedef struct hs__dump_site {
  uint32_t stack;
  uint64_t blocks;
  uint64_t bytes;
} hs__dump_site;

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
    printf("sampled (mean gap %" PRIu64 " bytes)\n", h->sample_bytes);
  else
    printf("full\n");
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
  printf("scanned from %zu roots; %" PRIu64 " blocks (%s) unreachable\n",
         hs_snapshot_root_count(s), n, size);
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

/* Sums the blocks per stack into sites[stack_count].
 * @return : the number of stacks holding at least one block. */
static size_t hs__dump_sum(const hs_snapshot *snap, hs__dump_site *sites,
                           uint64_t *bytes) {
  const size_t nstacks = hs_snapshot_stack_count(snap);
  const size_t nblocks = hs_snapshot_block_count(snap);
  const hs_block *b = hs_snapshot_blocks(snap);
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
  }
  return used;
}

/* Most bytes first; ties by stack index so the order is the file's. */
static int hs__dump_site_cmp(const void *pa, const void *pb) {
  const hs__dump_site *a = pa, *b = pb;
  if (a->bytes != b->bytes)
    return a->bytes > b->bytes ? -1 : 1;
  return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/* The module that held the address when the stack was recorded (its load
 * generation, when the snapshot has them). */
static void hs__dump_frame(const hs_snapshot *snap, uint64_t addr,
                           uint32_t gen) {
  const hs_module *m = hs_snapshot_has_gens(snap)
                           ? hs_snapshot_module_at(snap, addr - 1, gen)
                           : hs_snapshot_module_find(snap, addr);
  if (!m) {
    printf("       ? 0x%" PRIx64 "\n", addr);
    return;
  }
  fputs("       ", stdout);
  hs__tool_put_safe(stdout, hs__dump_basename(m));
  printf("+0x%" PRIx64 "\n", addr - m->bias);
}

static void hs__dump_print_site(const hs_snapshot *snap, size_t rank,
                                const hs__dump_site *s, uint64_t total) {
  char size[64];
  hs__tool_size(size, sizeof size, s->bytes);
  const double pct = total ? 100.0 * (double)s->bytes / (double)total : 0;
  printf("  #%zu stack %" PRIu32 "%s: %" PRIu64 " block%s, %s, %.1f%%\n", rank,
         s->stack, s->stack ? "" : " (unknown)", s->blocks,
         s->blocks == 1 ? "" : "s", size, pct);
  const hs_stack st = hs_snapshot_stack(snap, s->stack);
  const uint32_t gen = hs_snapshot_stack_gen(snap, s->stack);
  for (uint32_t f = 0; f < st.depth; f++)
    hs__dump_frame(snap, st.frames[f], gen);
  if (st.depth == 0 && s->stack != 0)
    puts("       (no frames)");
}

/* Totals, then the `top` biggest stacks (0: all).
 * @return : 0 or -ENOMEM. */
static int hs__dump_stacks(const hs_snapshot *snap, uint64_t top) {
  const size_t nstacks = hs_snapshot_stack_count(snap);
  hs__dump_site *sites = calloc(nstacks ? nstacks : 1, sizeof *sites);
  if (!sites)
    return HS_ENOMEM;
  uint64_t bytes;
  const size_t used = hs__dump_sum(snap, sites, &bytes);
  printf("\ntotals\n");
  hs__dump_field("live blocks");
  printf("%zu\n", hs_snapshot_block_count(snap));
  hs__dump_size("live bytes", bytes);
  hs__dump_field("stacks used");
  printf("%zu of %zu\n", used, nstacks);
  qsort(sites, nstacks, sizeof *sites, hs__dump_site_cmp);
  const size_t shown = top && top < used ? (size_t)top : used;
  printf("\ntop %zu of %zu stacks by live bytes\n", shown, used);
  for (size_t i = 0; i < shown; i++)
    hs__dump_print_site(snap, i + 1, &sites[i], bytes);
  free(sites);
  return 0;
}

/* @return : 0, HS__TOOL_DONE after printing the help, or HS_EINVAL. */
static int hs__dump_options(hs__args *a, uint64_t *top) {
  const char *v;
  int id;
  while ((id = hs__args_next(a, &v)) > HS__TOOL_DONE) {
    if (hs__parse_u64(v, 0, UINT32_MAX, top))
      return hs__tool_bad_value(
          "dump", "top", "a whole number of stacks >= 0 (0 shows all)", v);
  }
  if (id != 0)
    return id; /* HS__TOOL_DONE or an error */
  if (a->i >= a->argc)
    return hs__tool_usage("dump", "missing the snapshot file");
  if (a->i + 1 < a->argc)
    return hs__tool_usage("dump", "unexpected argument '%s'",
                          a->argv[a->i + 1]);
  return 0;
}

/* Prints the file. @return : 0 or a code after one line naming it. */
static int hs__dump_file(const char *path, uint64_t top) {
  hs_snapshot *snap;
  int rc = hs_snapshot_open(path, &snap);
  if (rc == 0) {
    hs__dump_header(path, hs_snapshot_header(snap));
    hs__dump_reach(snap);
    hs__dump_modules(snap);
    rc = hs__dump_stacks(snap, top);
    hs_snapshot_free(snap);
  }
  if (rc)
    hs__tool_error(NULL, "%s: %s", path, hs_strerror(rc));
  return rc;
}

int hs__cmd_dump(int argc, char **argv) {
  hs__args a = {"dump", hs__dump_opts, argc, argv, 0, hs__help_dump};
  uint64_t top = HS__DUMP_TOP;
  int rc = hs__dump_options(&a, &top);
  if (!rc)
    rc = hs__dump_file(argv[a.i], top);
  return hs__tool_exit("dump", rc);
}
