/* test_format_stream.c - a snapshot read from a descriptor, a chunk at a
 * time (hs_snapshot_open_fd), reads as the same bytes in memory do: every
 * truncation and every bit flip, through a pipe (size unknown) and a file
 * (size known); bytes after the frame; a big one written in small
 * pieces; a bomb through a pipe; and a frame of empty blocks that never
 * ends, refused after reading little of it. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "format_testutil.h"

/* The child's writes to a pipe: a file, in pieces of `step` bytes, then
 * `zeros` zero bytes (SIZE_MAX: until the reader closes the pipe). */
typedef struct feed {
  const fmt_buf *f;
  size_t step;
  size_t zeros;
} feed;

/* Writes what `how` says to fd; @return : the bytes written. */
static size_t feed_write(int fd, const feed *how) {
  static const uint8_t zero[4096];
  size_t n = 0;
  for (size_t at = 0; at < how->f->len;) {
    const size_t k =
        how->f->len - at < how->step ? how->f->len - at : how->step;
    const ssize_t w = write(fd, how->f->data + at, k);
    if (w <= 0)
      return n;
    at += (size_t)w, n += (size_t)w;
  }
  for (size_t z = 0; z < how->zeros;) {
    const ssize_t w = write(fd, zero, sizeof zero);
    if (w <= 0)
      return n;
    z += (size_t)w, n += (size_t)w;
  }
  return n;
}

/* Reads a snapshot from a pipe a child feeds as `how` says; the child's
 * byte count goes to *written. */
static int via_pipe(const feed *how, hs_snapshot **s, size_t *written) {
  int p[2], c[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(pipe(c), 0);
  const pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGPIPE, SIG_IGN); /* a reader that stops is EPIPE */
    close(p[0]);
    close(c[0]);
    const size_t n = feed_write(p[1], how);
    _exit(write(c[1], &n, sizeof n) == (ssize_t)sizeof n ? 0 : 1);
  }
  close(p[1]);
  close(c[1]);
  const int err = hs_snapshot_open_fd(p[0], s);
  close(p[0]);
  assert_int_equal(read(c[0], written, sizeof *written), sizeof *written);
  close(c[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_int_equal(status, 0);
  return err;
}

/* Reads f from a memfd (a regular file: its size is known). */
static int via_file(const fmt_buf *f, hs_snapshot **s) {
  const int fd = memfd_create("stream", MFD_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, f->data, f->len), (ssize_t)f->len);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  const int err = hs_snapshot_open_fd(fd, s);
  close(fd);
  return err;
}

/* f read from memory, a pipe and a file: the same code and, when read,
 * the same snapshot. @return : the code. */
static int read_three_ways(const fmt_buf *f) {
  hs_snapshot *m = NULL, *p = NULL, *r = NULL;
  const feed how = {f, 1, 0}; /* a byte a write: reads of any length */
  size_t n;
  const int err = hs_snapshot_load(f->data, f->len, &m);
  assert_int_equal(via_pipe(&how, &p, &n), err);
  assert_int_equal(via_file(f, &r), err);
  if (!err) {
    fmt_assert_same(m, p);
    fmt_assert_same(m, r);
  }
  hs_snapshot_free(m);
  hs_snapshot_free(p);
  hs_snapshot_free(r);
  return err;
}

static void test_every_truncation(void **state) {
  fmt_buf f;
  fmt_small(&f);
  const size_t len = f.len;
  for (f.len = 0; f.len < len; f.len++)
    assert_int_equal(read_three_ways(&f), f.len ? HS_ETRUNC : HS_EEMPTY);
  f.len = len;
  assert_int_equal(read_three_ways(&f), 0);
  fmt_buf_free(&f);
}

static void test_every_bit_flip(void **state) {
  fmt_buf f;
  fmt_small(&f);
  for (size_t i = 0; i < f.len; i++)
    for (int bit = 0; bit < 8; bit++) {
      f.data[i] ^= (uint8_t)(1u << bit);
      read_three_ways(&f);
      f.data[i] ^= (uint8_t)(1u << bit);
    }
  fmt_buf_free(&f);
}

/* Bytes after the frame are refused, and no more of them is read than a
 * chunk: the next read past the frame says so. */
static void test_trailing(void **state) {
  fmt_buf f;
  fmt_small(&f);
  fmt_put(&f, "junk", 4);
  assert_int_equal(read_three_ways(&f), HS_ECORRUPT);
  f.len -= 4;
  const feed how = {&f, f.len, SIZE_MAX};
  hs_snapshot *s;
  size_t n;
  assert_int_equal(via_pipe(&how, &s, &n), HS_ECORRUPT);
  assert_true(n < ((size_t)4 << 20)); /* pipe buffers */
  fmt_buf_free(&f);
}

/* HEAD, a record of `n` random bytes no reader knows, END: a frame of
 * about n bytes, as a file. */
static void big_file(size_t n, fmt_buf *f) {
  fmt_buf head = {0}, junk = {0}, end = {0}, body = {0};
  fmt_put_head(&head, 0, 0);
  fmt_put(&junk, NULL, n);
  srand(7);
  for (size_t i = 0; i < n; i++)
    junk.data[i] = (uint8_t)rand();
  fmt_put_record(&body, HS__TAG_HEAD, &head);
  fmt_put_record(&body, HS__TAG('X', 'T', 'R', 'A'), &junk);
  fmt_put_record(&body, HS__TAG_END, &end);
  fmt_frame(body.data, body.len, HS_FORMAT_VERSION, f);
  fmt_buf_free(&head);
  fmt_buf_free(&junk);
  fmt_buf_free(&body);
}

/* Many chunks, each read cut anywhere: an odd step splits the preamble,
 * the frame header and the blocks at every kind of place. */
static void test_big_in_pieces(void **state) {
  fmt_buf f;
  big_file((size_t)3 << 20, &f);
  hs_snapshot *m, *p;
  assert_int_equal(hs_snapshot_load(f.data, f.len, &m), 0);
  const size_t steps[] = {7, 1000, 65537};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    const feed how = {&f, steps[i], 0};
    size_t n;
    assert_int_equal(via_pipe(&how, &p, &n), 0);
    assert_int_equal(n, f.len);
    fmt_assert_same(m, p);
    hs_snapshot_free(p);
  }
  hs_snapshot_free(m);
  fmt_buf_free(&f);
}

/* Without a size, the cap holds for every prefix: 100 MiB of zeros in a
 * 3 KiB frame are refused from a pipe as from memory. */
static void test_bomb_in_pipe(void **state) {
  fmt_buf head = {0}, zeros = {0}, body = {0}, f;
  fmt_put_head(&head, 0, 0);
  fmt_put_record(&body, HS__TAG_HEAD, &head);
  fmt_put(&zeros, NULL, (size_t)100 << 20);
  memset(zeros.data, 0, zeros.len);
  fmt_put_record(&body, HS__TAG('X', 'T', 'R', 'A'), &zeros);
  fmt_frame(body.data, body.len, HS_FORMAT_VERSION, &f);
  assert_true(f.len < 10000);
  hs_snapshot *s;
  size_t n;
  const feed how = {&f, f.len, 0};
  assert_int_equal(via_pipe(&how, &s, &n), HS_ETOOBIG);
  assert_int_equal(hs_snapshot_load(f.data, f.len, &s), HS_ETOOBIG);
  fmt_buf_free(&head);
  fmt_buf_free(&zeros);
  fmt_buf_free(&body);
  fmt_buf_free(&f);
}

/* A preamble and a frame header, then zeros for ever: each 3 zero bytes
 * are an empty raw block, valid zstd. The reader gives up once the frame
 * outgrows its (empty) body, having read about HS__FRAME_SLACK. */
static void test_endless_empty_blocks(void **state) {
  fmt_buf f;
  fmt_small(&f);
  const size_t fh = ZSTD_frameHeaderSize(f.data + HS__PREAMBLE_SIZE,
                                         f.len - HS__PREAMBLE_SIZE);
  assert_false(ZSTD_isError(fh));
  f.len = HS__PREAMBLE_SIZE + fh;
  const feed how = {&f, f.len, SIZE_MAX};
  hs_snapshot *s;
  size_t n;
  assert_int_equal(via_pipe(&how, &s, &n), HS_ETOOBIG);
  assert_true(n < HS__FRAME_SLACK + ((size_t)4 << 20)); /* pipe buffers */
  fmt_buf_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_truncation),
      cmocka_unit_test(test_every_bit_flip),
      cmocka_unit_test(test_trailing),
      cmocka_unit_test(test_big_in_pieces),
      cmocka_unit_test(test_bomb_in_pipe),
      cmocka_unit_test(test_endless_empty_blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
