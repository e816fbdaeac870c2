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

#include "hs_format.h"

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
static int write_gens(hs__writer *w, const seed *s) {
  int err = 0;
  for (unsigned i = 0; !err && i < s->modules; i++)
    err = hs__writer_gens_module(w, i, i % 3 == 2 ? i + 2 : 0);
  for (unsigned i = 0; !err && i < s->stacks; i++)
    err = hs__writer_gens_stack(w, i % 7);
  return err;
}

/* Roots, then block i held by root i % 2 (i < 4), by block i - 4, or by
 * nothing (every fifth). */
static int write_reach(hs__writer *w, unsigned blocks) {
  const hs_root roots[2] = {
      {HS_ROOT_GLOBAL, 0, 0, 0x7f0000100000u, 0x7f0000101000u, ""},
      {HS_ROOT_THREAD, 0, 1234, 0x7ffd0000000u, 0x7ffd0100000u, "main"}};
  int err = 0;
  for (unsigned i = 0; !err && i < 2; i++)
    err = hs__writer_root(w, &roots[i]);
  for (unsigned i = 0; !err && i < blocks; i++) {
    const hs_reach r = i % 5 == 4 ? (hs_reach){HS_REACH_NONE, 0, 0, 0}
                       : i < 4    ? (hs_reach){HS_REACH_ROOT, i % 2, 8 * i, 0}
                                  : (hs_reach){HS_REACH_BLOCK, i - 4, 8, i % 3};
    err = hs__writer_reach(w, &r);
  }
  return err;
}

static int write_modules(hs__writer *w, unsigned n) {
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
    const int err = hs__writer_module(w, &m);
    if (err)
      return err;
  }
  return 0;
}

static int write_stacks(hs__writer *w, unsigned n) {
  uint64_t frames[16];
  for (unsigned i = 0; i < n; i++) {
    for (unsigned d = 0; d < i % 16; d++)
      frames[d] = 0x7f0000001000u + (uint64_t)(d * 7919 + i) * 0x1000;
    const int err = hs__writer_stack(w, frames, i % 16);
    if (err)
      return err;
  }
  return 0;
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
  hs__writer *w;
  int err = hs__writer_create(fd, ZSTD_defaultCMem, 3, &w);
  if (!err)
    err = hs__writer_header(w, &h);
  if (!err)
    err = write_modules(w, s->modules);
  if (!err)
    err = write_stacks(w, s->stacks);
  for (unsigned i = 0; !err && i < s->blocks; i++) {
    const hs_block b = {0x5555000 + (uint64_t)i * 48, 16 * (uint64_t)(i % 50),
                        s->stacks ? i % (s->stacks + 1) : 0, i % 3};
    err = hs__writer_block(w, &b);
  }
  if (!err && s->scanned)
    err = write_reach(w, s->blocks);
  if (!err && s->gens)
    err = write_gens(w, s);
  if (!err)
    err = hs__writer_finish(w);
  hs__writer_free(w);
  return err;
}

/* Reads fd back from the start and decompresses what follows the
 * preamble into `path`. */
static int write_body(int fd, const char *path) {
  const off_t size = lseek(fd, 0, SEEK_END);
  uint8_t *const file = malloc((size_t)size);
  FILE *const out = fopen(path, "wb");
  ZSTD_DCtx *const d = ZSTD_createDCtx();
  int ok = file && out && d && pread(fd, file, (size_t)size, 0) == size;
  ZSTD_inBuffer in = {file + HS__PREAMBLE_SIZE,
                      (size_t)size - HS__PREAMBLE_SIZE, 0};
  for (size_t left = 1; ok && left != 0;) {
    uint8_t chunk[1 << 16];
    ZSTD_outBuffer o = {chunk, sizeof chunk, 0};
    left = ZSTD_decompressStream(d, &o, &in);
    ok = !ZSTD_isError(left) && fwrite(chunk, 1, o.pos, out) == o.pos;
  }
  ZSTD_freeDCtx(d);
  free(file);
  if (out && fclose(out) != 0)
    ok = 0;
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
