/* mkbigsnap - writes a large synthetic snapshot for heapdiff's benchmark.
 * usage: mkbigsnap OUT BLOCKS STACKS NUMBER [MODULE] [scanned]
 * BLOCKS live blocks spread over STACKS distinct stacks of 8 to 31 frames,
 * drawn from 20000 distinct code addresses in MODULE (default: libzstd, a
 * library with a symbol table on every Debian machine), so heapdiff has
 * real symbol lookups to do. NUMBER 1 or 2: the second snapshot has 10%
 * more blocks, on the same stacks, so there is growth to report.
 * "scanned" adds a reachability scan and its heap graph: chains of 1000
 * blocks, each chain held by a global, every tenth block unreachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_testsnap.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: mkbigsnap OUT BLOCKS STACKS NUMBER [MODULE]\n");
    return 2;
  }
  const uint64_t nb = strtoull(argv[2], NULL, 0),
                 ns = strtoull(argv[3], NULL, 0);
  const unsigned number = (unsigned)atoi(argv[4]);
  const char *mod = argc > 5 && argv[5][0]
                        ? argv[5]
                        : "/usr/lib/x86_64-linux-gnu/libzstd.so.1";
  const int scanned = argc > 6 && !strcmp(argv[6], "scanned");
  const uint64_t base = 0x7f0000000000ull,
                 blocks = number == 2 ? nb + nb / 10 : nb;
  static const char *const args[] = {"server"};
  hs_header h = {.pid = 1000,
                 .ppid = 1,
                 .number = number,
                 .epoch = number - 1,
                 .time_ns = 1700000000000000000ull + number * 60000000000ull,
                 .start_ns = 1699999990000000000ull,
                 .max_depth = 64,
                 .argc = 1,
                 .argv = args,
                 .exe = "/opt/bench/server",
                 .trigger = "signal"};
  h.live_blocks = blocks;
  h.flags = scanned ? HS_SNAP_SCANNED | HS_SNAP_GRAPH : 0;
  uint64_t *sizes = malloc(blocks * sizeof *sizes);
  for (uint64_t i = 0; i < blocks; i++)
    h.live_bytes += sizes[i] = 16 + next() % 1000;
  const hs_module m = {base, base + 0x100000, base, HS_MODULE_MAIN, 0, NULL,
                       mod};
  hs_testsnap t;
  hs_testsnap_create(&t, argv[1]);
  hs_testsnap_header(&t, &h);
  hs_testsnap_modules(&t, &m, 1);
  rng = 12345; /* the same stacks in both snapshots */
  for (uint64_t s = 0; s < ns; s++) {
    uint64_t f[32];
    const uint32_t depth = 8 + (uint32_t)(next() % 24);
    for (uint32_t i = 0; i < depth; i++)
      f[i] = base + 0x1000 + (next() % 20000) * 16;
    hs_testsnap_stack(&t, f, depth);
  }
  for (uint64_t i = 0; i < blocks; i++) {
    const hs_block b = {0x10000000ull + i * 1024, sizes[i],
                        1 + (uint32_t)(i % ns), i < nb ? 0 : number - 1};
    hs_testsnap_blocks(&t, &b, 1);
  }
  const hs_root root = {HS_ROOT_GLOBAL, 0, 0, base + 0x90000,
                        base + 0x98000, ""};
  if (scanned)
    hs_testsnap_roots(&t, &root, 1);
  for (uint64_t i = 0; scanned && i < blocks; i++) {
    /* chains of 1000 from the global; every tenth block is skipped */
    const uint64_t prev = (i - 1) % 10 == 9 ? i - 2 : i - 1;
    const hs_reach r =
        i % 10 == 9     ? (hs_reach){HS_REACH_NONE, 0, 0, 0}
        : i % 1000 == 0 ? (hs_reach){HS_REACH_ROOT, 0, (i / 1000) % 4096 * 8, 0}
                        : (hs_reach){HS_REACH_BLOCK, (uint32_t)prev, 8, 0};
    hs_testsnap_reach(&t, &r, 1);
  }
  for (uint64_t i = 0; scanned && i < blocks; i++) {
    /* the same pointers as the graph: the reach above is its BFS tree */
    const uint32_t to = (uint32_t)(i % 10 == 8 ? i + 2 : i + 1);
    if (i % 1000 == 0 && i % 10 != 9)
      hs_testsnap_graph_root(&t, 0, (i / 1000) % 4096 * 8, (uint32_t)i);
    if (i % 10 != 9 && to < blocks && to % 1000 != 0)
      hs_testsnap_graph_block(&t, (uint32_t)i, &to, 1);
  }
  const int rc = hs_testsnap_close(&t);
  free(sizes);
  if (rc)
    fprintf(stderr, "mkbigsnap: %s: %s\n", argv[1], hs_strerror(rc));
  return rc ? 1 : 0;
}
