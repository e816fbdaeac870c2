/* hs_testsnap.c - the one way test programs write a snapshot
 * (see hs_testsnap.h). */
#include "hs_testsnap.h"
#include "hs_varint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hs_testsnap_create_fd(hs_testsnap *t, int fd, int level) {
  *t = (hs_testsnap){.fd = fd};
  t->err = hs__writer_create(fd, ZSTD_defaultCMem, level, &t->w);
  return t->err;
}

int hs_testsnap_create(hs_testsnap *t, const char *path) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *t = (hs_testsnap){.fd = -1, .err = -errno};
    return t->err;
  }
  hs_testsnap_create_fd(t, fd, HS_TESTSNAP_LEVEL);
  t->own_fd = 1;
  return t->err;
}

/* Runs `call` unless an error came first, and keeps its error. */
#define HS_TESTSNAP_DO(t, call)                                                \
  do {                                                                         \
    if ((t)->err == 0)                                                         \
      (t)->err = (call);                                                       \
  } while (0)

void hs_testsnap_header(hs_testsnap *t, const hs_header *h) {
  HS_TESTSNAP_DO(t, hs__writer_header(t->w, h));
}

void hs_testsnap_modules(hs_testsnap *t, const hs_module *m, size_t n) {
  for (size_t i = 0; i < n; i++)
    HS_TESTSNAP_DO(t, hs__writer_module(t->w, &m[i]));
}

void hs_testsnap_stack(hs_testsnap *t, const uint64_t *frames, uint32_t depth) {
  HS_TESTSNAP_DO(t, hs__writer_stack(t->w, frames, depth));
}

void hs_testsnap_blocks(hs_testsnap *t, const hs_block *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    HS_TESTSNAP_DO(t, hs__writer_block(t->w, &b[i]));
}

void hs_testsnap_roots(hs_testsnap *t, const hs_root *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    HS_TESTSNAP_DO(t, hs__writer_root(t->w, &r[i]));
}

void hs_testsnap_reach(hs_testsnap *t, const hs_reach *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    HS_TESTSNAP_DO(t, hs__writer_reach(t->w, &r[i]));
}

void hs_testsnap_gens_module(hs_testsnap *t, uint32_t load_gen,
                             uint32_t unload_gen) {
  HS_TESTSNAP_DO(t, hs__writer_gens_module(t->w, load_gen, unload_gen));
}

void hs_testsnap_gens_stack(hs_testsnap *t, uint32_t gen) {
  HS_TESTSNAP_DO(t, hs__writer_gens_stack(t->w, gen));
}

void hs_testsnap_graph_root(hs_testsnap *t, uint32_t root, uint64_t from,
                            uint32_t block) {
  uint8_t buf[3 * HS__VARINT_MAX];
  HS_TESTSNAP_DO(t, hs__writer_graph(
                        t->w, buf, hs__graph_put_root(buf, root, from, block)));
}

void hs_testsnap_graph_block(hs_testsnap *t, uint32_t block,
                             const uint32_t *targets, size_t n) {
  uint8_t buf[HS__VARINT_MAX];
  HS_TESTSNAP_DO(
      t, hs__writer_graph(t->w, buf,
                          hs__graph_put_source(buf, t->graph_last, block)));
  t->graph_last = block;
  for (size_t i = 0; i < n; i++)
    HS_TESTSNAP_DO(
        t, hs__writer_graph(t->w, buf,
                            hs__graph_put_target(
                                buf, i ? targets[i - 1] : block, targets[i])));
  HS_TESTSNAP_DO(t, hs__writer_graph(t->w, buf, hs__graph_put_end(buf)));
}

int hs_testsnap_close(hs_testsnap *t) {
  HS_TESTSNAP_DO(t, hs__writer_finish(t->w));
  hs__writer_free(t->w);
  t->w = NULL;
  if (t->own_fd && close(t->fd) != 0 && t->err == 0)
    t->err = -errno;
  t->own_fd = 0;
  return t->err;
}

int hs_testsnap_body(const void *file, size_t len, uint8_t **body,
                     size_t *body_len) {
  *body = NULL;
  *body_len = 0;
  if (len < HS__PREAMBLE_SIZE)
    return -1;
  ZSTD_DCtx *const d = ZSTD_createDCtx();
  ZSTD_inBuffer in = {(const uint8_t *)file + HS__PREAMBLE_SIZE,
                      len - HS__PREAMBLE_SIZE, 0};
  uint8_t *out = NULL;
  size_t out_len = 0, left = 1;
  while (d && left != 0) {
    uint8_t chunk[1 << 16];
    ZSTD_outBuffer o = {chunk, sizeof chunk, 0};
    left = ZSTD_decompressStream(d, &o, &in);
    /* a frame cut short asks for more input there is none of */
    if (ZSTD_isError(left) || (o.pos == 0 && in.pos == in.size))
      break;
    uint8_t *const grown = realloc(out, out_len + o.pos + 1);
    if (!grown)
      break;
    memcpy(grown + out_len, chunk, o.pos);
    out = grown;
    out_len += o.pos;
  }
  ZSTD_freeDCtx(d);
  if (!d || left != 0) {
    free(out);
    return -1;
  }
  *body = out;
  *body_len = out_len;
  return 0;
}
