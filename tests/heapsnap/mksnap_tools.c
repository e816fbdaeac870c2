/* mksnap_tools.c - writes the known snapshot behind tests/heapsnap/dump.golden.
 *
 * usage: mksnap_tools OUT [sampled]
 *
 * Every value is fixed, so `heapsnap dump` must print the same bytes each
 * time: four modules (two with build ids, the vdso, an unloaded plugin),
 * three stacks (one frame outside every module) and seven blocks, one of
 * them on stack 0 with as many bytes as stack 1 so the tie order shows.
 * "sampled" also sets the sampled and stack-table-full flags. */
#include <stdio.h>
#include <string.h>

#include "hs_testsnap.h"

static const uint8_t hs__bid_demo[20] = {
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x11,
    0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
static const uint8_t hs__bid_libc[20] = {
    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0xf0, 0xe1,
    0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b};

/* In ascending address order, as the shim writes them. */
static const hs_module hs__mods[] = {
    {0x555555554000u, 0x555555559000u, 0x555555554000u, HS_MODULE_MAIN, 20,
     hs__bid_demo, "/usr/bin/demo"},
    {0x7ffff7a00000u, 0x7ffff7a10000u, 0x7ffff7a00000u, HS_MODULE_UNLOADED, 0,
     NULL, "/opt/demo/plugin.so"},
    {0x7ffff7d80000u, 0x7ffff7f95000u, 0x7ffff7d58000u, 0, 20, hs__bid_libc,
     "/lib/x86_64-linux-gnu/libc.so.6"},
    {0x7ffff7fc1000u, 0x7ffff7fc3000u, 0x7ffff7fc1000u, 0, 0, NULL, ""},
};

/* Innermost frame first. */
static const uint64_t hs__stack1[] = {0x555555555a2bu, 0x555555555100u,
                                      0x7ffff7d81d90u};
static const uint64_t hs__stack2[] = {0x7ffff7e3c000u, 0xdeadbeef000u,
                                      0x555555555200u};
static const uint64_t hs__stack3[] = {0x7ffff7fc1a00u, 0x555555555300u};

static const hs_block hs__blocks[] = {
    {0x5555555a0000u, 100, 1, 0},  {0x5555555a0080u, 200, 1, 1},
    {0x5555555a0200u, 300, 1, 2},  {0x5555555a1000u, 600, 0, 3},
    {0x5555555b0000u, 4096, 2, 3}, {0x7fffe0000000u, 1048576, 3, 1},
    {0x7fffe0100010u, 512, 3, 2},
};
#define HS__NBLOCKS (sizeof hs__blocks / sizeof *hs__blocks)

static void hs__mk_header(hs_header *h, int sampled) {
  static const char *const argv[] = {"demo", "--port", "8080", "hello world"};
  memset(h, 0, sizeof *h);
  h->flags = sampled ? HS_SNAP_SAMPLED | HS_SNAP_STACKS_FULL : 0;
  h->pid = 4242;
  h->ppid = 1;
  h->number = 3;
  h->epoch = 3;
  h->time_ns = 1700000000250000000u;  /* 2023-11-14T22:13:20.250Z */
  h->start_ns = 1699996400000000000u; /* 3600.250 s before */
  h->live_blocks = HS__NBLOCKS;
  for (size_t i = 0; i < HS__NBLOCKS; i++)
    h->live_bytes += hs__blocks[i].size;
  h->rss_bytes = 12582912; /* 12 MiB */
  h->sample_bytes = sampled ? 524288 : 0;
  h->pause_ns = 1500000;
  h->max_depth = 64;
  h->argc = 4;
  h->exe = "/usr/bin/demo";
  h->argv = argv;
  h->trigger = "signal";
}

static void hs__mk_body(hs_testsnap *t, int sampled) {
  hs_header h;
  hs__mk_header(&h, sampled);
  hs_testsnap_header(t, &h);
  hs_testsnap_modules(t, hs__mods, sizeof hs__mods / sizeof *hs__mods);
  hs_testsnap_stack(t, hs__stack1, 3);
  hs_testsnap_stack(t, hs__stack2, 3);
  hs_testsnap_stack(t, hs__stack3, 2);
  hs_testsnap_blocks(t, hs__blocks, HS__NBLOCKS);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "sampled") != 0)) {
    fprintf(stderr, "usage: mksnap_tools OUT [sampled]\n");
    return 2;
  }
  hs_testsnap t;
  if (hs_testsnap_create(&t, argv[1]) == 0)
    hs__mk_body(&t, argc == 3);
  const int rc = hs_testsnap_close(&t);
  if (rc) {
    fprintf(stderr, "mksnap_tools: %s: %s\n", argv[1], hs_strerror(rc));
    return 1;
  }
  return 0;
}
