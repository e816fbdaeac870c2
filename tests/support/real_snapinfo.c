/* real_snapinfo - one line of facts per snapshot file, for the shell
 * checks of the real-program and stress tests.
 *
 * usage: real_snapinfo FILE...
 *        real_snapinfo --modules FILE   the module table, one line each:
 *          START END unloaded=0|1 PATH   (START and END in hex)
 * Prints, per file:
 *   FILE pid=P ppid=Q number=N trigger=T time=SECONDS blocks=B bytes=Y
 *        scanned=0|1 roots=R lost=L modules=M unloaded=U threads=TID,...
 *        note=TEXT
 * (lost: blocks the scan did not reach; threads: the thread ids whose
 * stacks were roots, "-" for none; note: why there is no scan, "-" when
 * there is one). Exits 2 when a file cannot be read (one line on
 * stderr naming it), after printing the others. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hs_snapshot.h"

static uint64_t real_lost(const hs_snapshot *s) {
  const hs_reach *r = hs_snapshot_reach(s);
  uint64_t n = 0;
  for (size_t i = 0; r && i < hs_snapshot_block_count(s); i++)
    n += r[i].kind == HS_REACH_NONE;
  return n;
}

static size_t real_unloaded(const hs_snapshot *s) {
  size_t n = 0;
  for (size_t i = 0; i < hs_snapshot_module_count(s); i++)
    n += (hs_snapshot_module(s, i)->flags & HS_MODULE_UNLOADED) != 0;
  return n;
}

static void real_threads(const hs_snapshot *s) {
  int first = 1;
  for (size_t i = 0; i < hs_snapshot_root_count(s); i++) {
    const hs_root *r = hs_snapshot_root(s, i);
    if (r->kind == HS_ROOT_THREAD)
      printf("%s%d", first ? "" : ",", r->tid), first = 0;
  }
  if (first)
    putchar('-');
}

static void real_print(const char *path, const hs_snapshot *s) {
  const hs_header *h = hs_snapshot_header(s);
  printf("%s pid=%d ppid=%d number=%u trigger=%s time=%" PRIu64 ".%09" PRIu64
         " blocks=%" PRIu64 " bytes=%" PRIu64
         " scanned=%d roots=%zu lost=%" PRIu64
         " modules=%zu unloaded=%zu threads=",
         path, h->pid, h->ppid, h->number, h->trigger, h->time_ns / 1000000000u,
         h->time_ns % 1000000000u, h->live_blocks, h->live_bytes,
         (h->flags & HS_SNAP_SCANNED) != 0, hs_snapshot_root_count(s),
         real_lost(s), hs_snapshot_module_count(s), real_unloaded(s));
  real_threads(s);
  printf(" note=%s\n", h->scan_note[0] ? h->scan_note : "-");
}

static void real_modules(const hs_snapshot *s) {
  for (size_t i = 0; i < hs_snapshot_module_count(s); i++) {
    const hs_module *m = hs_snapshot_module(s, i);
    printf("%" PRIx64 " %" PRIx64 " unloaded=%d %s\n", m->start, m->end,
           (m->flags & HS_MODULE_UNLOADED) != 0, m->path);
  }
}

int main(int argc, char **argv) {
  int rc = 0;
  const int modules = argc == 3 && strcmp(argv[1], "--modules") == 0;
  for (int i = 1 + modules; i < argc; i++) {
    hs_snapshot *s;
    const int e = hs_snapshot_open(argv[i], &s);
    if (e) {
      fprintf(stderr, "real_snapinfo: %s: %s\n", argv[i], hs_strerror(e));
      rc = 2;
      continue;
    }
    if (modules)
      real_modules(s);
    else
      real_print(argv[i], s);
    hs_snapshot_free(s);
  }
  return rc;
}
