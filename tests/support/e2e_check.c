/* e2e_check - checks a snapshot against the sites a test program printed.
 *
 * usage: e2e_check SNAPSHOT [SITES-FILE]   (sites from stdin by default)
 * Lines understood:
 *   site NAME LO HI BLOCKS BYTES   blocks whose stack has a return address
 *                                  in (LO, HI] must number BLOCKS and sum
 *                                  to BYTES exactly
 *   pid PID                        the snapshot's header pid
 *   epoch NAME E                   every block of site NAME has epoch E
 *   trigger T                      the snapshot's trigger
 *   unloaded SUBSTR                a module whose path contains SUBSTR is
 *                                  in the table, flagged unloaded
 *   loaded SUBSTR                  one is, not flagged unloaded
 *   modsite SUBSTR BLOCKS BYTES    as site, for the blocks whose innermost
 *                                  frame lies in that module
 *   lost NAME N                    exactly N blocks of site NAME are
 *                                  unreachable (the snapshot must have a
 *                                  scan)
 *   unreachable N                  exactly N blocks in all are (a scan)
 *   root NAME KIND                 every block of site NAME is reached
 *                                  straight from a root of KIND (global,
 *                                  thread, mapping, register, thread-start)
 *   registers 0|1                  the header's HS_SNAP_REGISTERS flag
 *   note TEXT                      the header's scan note contains TEXT
 * Blank lines are passed over; any other line not understood is bad input
 * (so a mistyped expectation cannot go unchecked).
 * Prints one line per check and exits 1 if any fails, 2 on bad input. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_snapshot.h"

typedef struct e2e_site {
  char name[128];
  uint64_t lo, hi, blocks, bytes;
} e2e_site;

/* A return address points just past the call, so the call itself is at
 * ra - 1: a site matches when lo <= ra - 1 < hi. */
static int e2e_in_site(const hs_snapshot *s, uint32_t stack,
                       const e2e_site *site) {
  const hs_stack st = hs_snapshot_stack(s, stack);
  for (uint32_t i = 0; i < st.depth; i++)
    if (st.frames[i] - 1 >= site->lo && st.frames[i] - 1 < site->hi)
      return 1;
  return 0;
}

static int e2e_check_site(const hs_snapshot *s, const e2e_site *site,
                          long epoch) {
  uint64_t n = 0, bytes = 0, bad_epoch = 0;
  const hs_block *b = hs_snapshot_blocks(s);
  for (size_t i = 0; i < hs_snapshot_block_count(s); i++) {
    if (!e2e_in_site(s, b[i].stack, site))
      continue;
    n++;
    bytes += b[i].size;
    bad_epoch += epoch >= 0 && b[i].epoch != (uint64_t)epoch;
  }
  if (epoch >= 0) {
    printf("%s epoch %s: %" PRIu64 " blocks not in epoch %ld\n",
           bad_epoch ? "FAIL" : "ok", site->name, bad_epoch, epoch);
    return bad_epoch != 0;
  }
  const int ok = n == site->blocks && bytes == site->bytes;
  printf("%s site %s: %" PRIu64 " blocks %" PRIu64 " bytes (want %" PRIu64
         " and %" PRIu64 ")\n",
         ok ? "ok" : "FAIL", site->name, n, bytes, site->blocks, site->bytes);
  return !ok;
}

/* The file is <name>.<pid>.<n>.snap: pid and n must be the header's. */
static int e2e_check_name(const char *path, const hs_header *h) {
  const char *end = path + strlen(path) - strlen(".snap");
  const char *p = end;
  while (p > path && p[-1] != '.')
    p--;
  const unsigned long n = strtoul(p, NULL, 10);
  const char *q = p - 1;
  while (q > path && q[-1] != '.')
    q--;
  const long pid = strtol(q, NULL, 10);
  const int ok = pid == h->pid && n == h->number;
  printf("%s name: pid %ld number %lu (header: %d %u)\n", ok ? "ok" : "FAIL",
         pid, n, h->pid, h->number);
  return !ok;
}

static const hs_module *e2e_module(const hs_snapshot *s, const char *sub) {
  for (size_t i = 0; i < hs_snapshot_module_count(s); i++) {
    const hs_module *m = hs_snapshot_module(s, i);
    if (strstr(m->path, sub))
      return m;
  }
  return NULL;
}

/* want_unloaded: the module must be flagged unloaded, else loaded. */
static int e2e_check_loaded(const hs_snapshot *s, const char *sub,
                            int want_unloaded) {
  const hs_module *m = e2e_module(s, sub);
  const int ok = m && !!(m->flags & HS_MODULE_UNLOADED) == want_unloaded;
  printf("%s %s %s\n", ok ? "ok" : "FAIL",
         want_unloaded ? "unloaded" : "loaded", sub);
  return !ok;
}

static int e2e_check_modsite(const hs_snapshot *s, const char *sub,
                             uint64_t want_n, uint64_t want_bytes) {
  const hs_module *m = e2e_module(s, sub);
  uint64_t n = 0, bytes = 0;
  const hs_block *b = hs_snapshot_blocks(s);
  for (size_t i = 0; m && i < hs_snapshot_block_count(s); i++) {
    const hs_stack st = hs_snapshot_stack(s, b[i].stack);
    if (st.depth && st.frames[0] - 1 >= m->start && st.frames[0] - 1 < m->end)
      n++, bytes += b[i].size;
  }
  const int ok = n == want_n && bytes == want_bytes;
  printf("%s modsite %s: %" PRIu64 " blocks %" PRIu64 " bytes\n",
         ok ? "ok" : "FAIL", sub, n, bytes);
  return !ok;
}

/* Blocks of the site that the scan did not reach. */
static const char *const e2e_root_kinds[] = {
    "?", "global", "thread", "mapping", "register", "thread-start"};

/* Blocks of the site that are not reached straight from a root of kind. */
static int e2e_check_root(const hs_snapshot *s, const e2e_site *site,
                          const char *kind) {
  const hs_reach *r = hs_snapshot_reach(s);
  const hs_block *b = hs_snapshot_blocks(s);
  uint64_t n = 0, other = 0;
  const char *seen = "none";
  for (size_t i = 0; r && i < hs_snapshot_block_count(s); i++) {
    if (!e2e_in_site(s, b[i].stack, site))
      continue;
    n++;
    const hs_root *root =
        r[i].kind == HS_REACH_ROOT ? hs_snapshot_root(s, r[i].index) : NULL;
    const char *k = root && root->kind <= HS_ROOT_START
                        ? e2e_root_kinds[root->kind]
                        : (r[i].kind == HS_REACH_BLOCK ? "block" : "none");
    if (strcmp(k, kind) != 0)
      other++, seen = k;
  }
  const int ok = r && n && !other;
  printf("%s root %s: %" PRIu64 " of %" PRIu64 " blocks not from a %s%s%s\n",
         ok ? "ok" : "FAIL", site->name, other, n, kind,
         other ? ", one from " : "", other ? seen : "");
  return !ok;
}

static int e2e_check_lost(const hs_snapshot *s, const e2e_site *site,
                          uint64_t want) {
  const hs_reach *r = hs_snapshot_reach(s);
  const hs_block *b = hs_snapshot_blocks(s);
  uint64_t n = 0;
  for (size_t i = 0; r && i < hs_snapshot_block_count(s); i++)
    n += r[i].kind == HS_REACH_NONE && e2e_in_site(s, b[i].stack, site);
  const int ok = r && n == want;
  printf("%s lost %s: %" PRIu64 " (want %" PRIu64 ")%s\n", ok ? "ok" : "FAIL",
         site->name, n, want, r ? "" : ", and no scan");
  return !ok;
}

static int e2e_check_unreachable(const hs_snapshot *s, uint64_t want) {
  const hs_reach *r = hs_snapshot_reach(s);
  uint64_t n = 0;
  for (size_t i = 0; r && i < hs_snapshot_block_count(s); i++)
    n += r[i].kind == HS_REACH_NONE;
  const int ok = r && n == want;
  printf("%s unreachable: %" PRIu64 " (want %" PRIu64 ")%s\n",
         ok ? "ok" : "FAIL", n, want, r ? "" : ", and no scan");
  return !ok;
}

/* The site called `name`, or NULL after a FAIL line for `check`. */
static e2e_site *e2e_find(e2e_site *sites, size_t n, const char *name,
                          const char *check) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(sites[i].name, name) == 0)
      return &sites[i];
  printf("FAIL %s %s: no site line of that name before\n", check, name);
  return NULL;
}

static int e2e_blank(const char *line) {
  return line[strspn(line, " \t\r\n")] == '\0';
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: e2e_check SNAPSHOT [SITES]\n");
    return 2;
  }
  hs_snapshot *s;
  const int rc = hs_snapshot_open(argv[1], &s);
  if (rc) {
    fprintf(stderr, "e2e_check: %s: %s\n", argv[1], hs_strerror(rc));
    return 2;
  }
  const char *const in_name = argc == 3 ? argv[2] : "(stdin)";
  FILE *in = argc == 3 ? fopen(argv[2], "r") : stdin;
  if (!in) {
    perror(argv[2]);
    return 2;
  }
  static e2e_site sites[256];
  size_t nsites = 0;
  int fails = 0;
  char line[512], name[128], word[64];
  const hs_header *h = hs_snapshot_header(s);
  fails += e2e_check_name(argv[1], h);
  for (unsigned n = 1; fgets(line, sizeof line, in); n++) {
    e2e_site site;
    long v;
    if (sscanf(line, "site %127s %" SCNx64 " %" SCNx64 " %" SCNu64 " %" SCNu64,
               site.name, &site.lo, &site.hi, &site.blocks, &site.bytes) == 5) {
      if (nsites < 256)
        sites[nsites++] = site;
      fails += e2e_check_site(s, &site, -1);
    } else if (sscanf(line, "epoch %127s %ld", name, &v) == 2) {
      const e2e_site *st = e2e_find(sites, nsites, name, "epoch");
      fails += !st || e2e_check_site(s, st, v);
    } else if (sscanf(line, "unreachable %ld", &v) == 1) {
      fails += e2e_check_unreachable(s, (uint64_t)v);
    } else if (sscanf(line, "lost %127s %ld", name, &v) == 2) {
      const e2e_site *st = e2e_find(sites, nsites, name, "lost");
      fails += !st || e2e_check_lost(s, st, (uint64_t)v);
    } else if (sscanf(line, "pid %ld", &v) == 1) {
      printf("%s pid %d (want %ld)\n", h->pid == v ? "ok" : "FAIL", h->pid, v);
      fails += h->pid != v;
    } else if (sscanf(line, "unloaded %127s", name) == 1) {
      fails += e2e_check_loaded(s, name, 1);
    } else if (sscanf(line, "loaded %127s", name) == 1) {
      fails += e2e_check_loaded(s, name, 0);
    } else if (sscanf(line, "modsite %127s %" SCNu64 " %" SCNu64, name,
                      &site.blocks, &site.bytes) == 3) {
      fails += e2e_check_modsite(s, name, site.blocks, site.bytes);
    } else if (sscanf(line, "root %127s %63s", name, word) == 2) {
      const e2e_site *st = e2e_find(sites, nsites, name, "root");
      fails += !st || e2e_check_root(s, st, word);
    } else if (sscanf(line, "registers %ld", &v) == 1) {
      const long got = (h->flags & HS_SNAP_REGISTERS) != 0;
      printf("%s registers %ld (want %ld)\n", got == v ? "ok" : "FAIL", got, v);
      fails += got != v;
    } else if (strncmp(line, "note ", 5) == 0) {
      line[strcspn(line, "\n")] = '\0';
      const int ok = strstr(h->scan_note, line + 5) != NULL;
      printf("%s note \"%s\" (want \"%s\")\n", ok ? "ok" : "FAIL", h->scan_note,
             line + 5);
      fails += !ok;
    } else if (sscanf(line, "trigger %63s", word) == 1) {
      const int ok = strcmp(h->trigger, word) == 0;
      printf("%s trigger %s (want %s)\n", ok ? "ok" : "FAIL", h->trigger, word);
      fails += !ok;
    } else if (!e2e_blank(line)) {
      line[strcspn(line, "\n")] = '\0';
      fprintf(stderr, "e2e_check: %s:%u: cannot parse: %s\n", in_name, n, line);
      hs_snapshot_free(s);
      return 2;
    }
  }
  hs_snapshot_free(s);
  return fails ? 1 : 0;
}
