/* mkcorpus.c - writes a seed corpus for fuzz_reader into a folder.
 *
 * usage: mkcorpus DIR
 * For a few valid snapshots, of growing size, it writes the file itself
 * (NAME.snap) and its decompressed body (NAME.body): fuzz_reader reads
 * every input both as a file and as a body, so the file seeds lead it
 * through the preamble and frame, the body seeds through the records.
 * Generated at build/test time so no binary file is committed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hs_testsnap.h"

/* The shape of one seed. */
typedef struct seed {
  const char *name;
  unsigned modules, stacks, blocks;
  int scanned; /* with roots and a reach record per block */
  int gens;    /* with the load generations (GENS) */
} seed;

static const seed seeds[] = {
    {"empty", 0, 0, 0, 0, 0},      {"small", 2, 3, 4, 0, 0},
    {"medium", 12, 40, 300, 0, 0}, {"scanned", 3, 5, 40, 1, 0},
    {"gens", 6, 9, 20, 1, 1},
};

/* Module i lives from generation i to i + 2 (unloaded ones) or on;
 * stack i belongs to generation i % 7. */
static void write_gens(hs_testsnap *t, const seed *s) {
  for (unsigned i = 0; i < s->modules; i++)
    hs_testsnap_gens_module(t, i, i % 3 == 2 ? i + 2 : 0);
  for (unsigned i = 0; i < s->stacks; i++)
    hs_testsnap_gens_stack(t, i % 7);
}

/* Roots, then block i held by root i % 2 (i < 4), by block i - 5, or by
 * nothing (every fifth): each chain ends at a root, as the reader wants. */
static void write_reach(hs_testsnap *t, unsigned blocks) {
  const hs_root roots[2] = {
      {HS_ROOT_GLOBAL, 0, 0, 0x7f0000100000u, 0x7f0000101000u, ""},
      {HS_ROOT_THREAD, 0, 1234, 0x7ffd0000000u, 0x7ffd0100000u, "main"}};
  hs_testsnap_roots(t, roots, 2);
  for (unsigned i = 0; i < blocks; i++) {
    const hs_reach r = i % 5 == 4 ? (hs_reach){HS_REACH_NONE, 0, 0, 0}
                       : i < 4    ? (hs_reach){HS_REACH_ROOT, i % 2, 8 * i, 0}
                                  : (hs_reach){HS_REACH_BLOCK, i - 5, 8, i % 3};
    hs_testsnap_reach(t, &r, 1);
  }
}

static void write_modules(hs_testsnap *t, unsigned n) {
  static const uint8_t id[20] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6};
  for (unsigned i = 0; i < n; i++) {
    const uint64_t start = 0x7f0000000000u + (uint64_t)(i / 2) * 0x200000;
    const hs_module m = {start,
                         start + 0x180000,
                         start,
                         i == 0       ? HS_MODULE_MAIN
                         : i % 3 == 2 ? HS_MODULE_UNLOADED
                                      : 0,
                         i % 2 ? 0 : 20,
                         id,
                         i == 1 ? "" : "/lib/libx.so"};
    hs_testsnap_modules(t, &m, 1);
  }
}

static void write_stacks(hs_testsnap *t, unsigned n) {
  uint64_t frames[16];
  for (unsigned i = 0; i < n; i++) {
    for (unsigned d = 0; d < i % 16; d++)
      frames[d] = 0x7f0000001000u + (uint64_t)(d * 7919 + i) * 0x1000;
    hs_testsnap_stack(t, frames, i % 16);
  }
}

static int write_seed(int fd, const seed *s) {
  static const char *const argv[] = {"/usr/bin/svc", "--port", "8080"};
  hs_header h = {.flags = s->scanned ? HS_SNAP_SCANNED : HS_SNAP_SAMPLED,
                 .pid = 1234,
                 .ppid = 1,
                 .number = 1,
                 .epoch = 1,
                 .time_ns = 1700000000000000000u,
                 .start_ns = 1690000000000000000u,
                 .live_blocks = s->blocks,
                 .rss_bytes = 1 << 24,
                 .max_depth = 64,
                 .argc = 3,
                 .exe = "/usr/bin/svc",
                 .argv = argv,
                 .trigger = "signal"};
  for (unsigned i = 0; i < s->blocks; i++)
    h.live_bytes += 16 * (uint64_t)(i % 50);
  hs_testsnap t;
  hs_testsnap_create_fd(&t, fd, HS_TESTSNAP_LEVEL);
  hs_testsnap_header(&t, &h);
  write_modules(&t, s->modules);
  write_stacks(&t, s->stacks);
  for (unsigned i = 0; i < s->blocks; i++) {
    const hs_block b = {0x5555000 + (uint64_t)i * 48, 16 * (uint64_t)(i % 50),
                        s->stacks ? i % (s->stacks + 1) : 0, i % 3};
    hs_testsnap_blocks(&t, &b, 1);
  }
  if (s->scanned)
    write_reach(&t, s->blocks);
  if (s->gens)
    write_gens(&t, s);
  return hs_testsnap_close(&t);
}

/* Reads fd back from the start and writes the body of the snapshot in it
 * (what follows the preamble, decompressed) to `path`. */
static int write_body(int fd, const char *path) {
  const off_t size = lseek(fd, 0, SEEK_END);
  uint8_t *const file = size > 0 ? malloc((size_t)size) : NULL;
  uint8_t *body = NULL;
  size_t len = 0;
  int ok = file && pread(fd, file, (size_t)size, 0) == size &&
           hs_testsnap_body(file, (size_t)size, &body, &len) == 0;
  free(file);
  FILE *const out = ok ? fopen(path, "wb") : NULL;
  ok = out && fwrite(body, 1, len, out) == len;
  if (out && fclose(out) != 0)
    ok = 0;
  free(body);
  return ok ? 0 : -1;
}

static int make_seed(const char *dir, const seed *s) {
  char path[4096];
  snprintf(path, sizeof path, "%s/seed-%s.snap", dir, s->name);
  const int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
    return -1;
  }
  int err = write_seed(fd, s);
  if (err)
    fprintf(stderr, "mkcorpus: %s: %s\n", path, hs_strerror(err));
  snprintf(path, sizeof path, "%s/seed-%s.body", dir, s->name);
  if (!err && (err = write_body(fd, path)) != 0)
    fprintf(stderr, "mkcorpus: %s: cannot write the body\n", path);
  close(fd);
  return err ? -1 : 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mkcorpus DIR\n");
    return 2;
  }
  for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
    if (make_seed(argv[1], &seeds[i]) != 0)
      return 1;
  return 0;
}
