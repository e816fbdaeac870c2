/* test_format_reader.c - the reader refuses damaged files with the right
 * code: missing and empty files, every truncation and every single-bit
 * flip of a small snapshot, newer versions, trailing bytes, frames without
 * a checksum, oversized windows and decompression bombs. */
#define _GNU_SOURCE /* mkstemp */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "format_testutil.h"

static int load(const fmt_buf *f) {
  hs_snapshot *s = (hs_snapshot *)1;
  const int err = hs_snapshot_load(f->data, f->len, &s);
  assert_true(err ? s == NULL : s != NULL);
  hs_snapshot_free(s);
  return err;
}

static void test_missing_file(void **state) {
  hs_snapshot *s = (hs_snapshot *)1;
  assert_int_equal(hs_snapshot_open("/nonexistent/heapsnap/x.snap", &s),
                   -ENOENT);
  assert_null(s);
  assert_int_equal(hs_snapshot_open("/", &s), -EISDIR);
  assert_int_equal(hs_snapshot_open(NULL, &s), HS_EINVAL);
  assert_int_equal(hs_snapshot_load("", 0, NULL), HS_EINVAL);
  assert_int_equal(hs_snapshot_load(NULL, 1, &s), HS_EINVAL);
}

static void test_empty_file(void **state) {
  char path[] = "/tmp/hs_format_empty_XXXXXX";
  const int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  hs_snapshot *s;
  assert_int_equal(hs_snapshot_open(path, &s), HS_EEMPTY);
  unlink(path);
  assert_int_equal(hs_snapshot_load(NULL, 0, &s), HS_EEMPTY);
}

/* Every proper prefix of a valid snapshot is truncated: the preamble is
 * short, or the frame ends early. */
static void test_every_truncation(void **state) {
  fmt_buf f;
  fmt_small(&f);
  const size_t len = f.len;
  for (f.len = 0; f.len < len; f.len++)
    assert_int_equal(load(&f), f.len == 0 ? HS_EEMPTY : HS_ETRUNC);
  f.len = len;
  assert_int_equal(load(&f), 0);
  fmt_buf_free(&f);
}

static int flip_allowed(int err) {
  return err == HS_EMAGIC || err == HS_EVERSION || err == HS_ECHECKSUM ||
         err == HS_ECORRUPT || err == HS_ETRUNC;
}

/* A single flipped bit anywhere is refused with a corruption code, or,
 * for the few bits of the compressed blocks that zstd ignores (padding of
 * entropy table headers, reserved bits, the window size when still large
 * enough), decodes to the very same snapshot: the checksum covers the
 * decoded body, not those bits. Never different content, never a crash. */
static void test_every_bit_flip(void **state) {
  fmt_buf f;
  fmt_small(&f);
  hs_snapshot *orig;
  assert_int_equal(hs_snapshot_load(f.data, f.len, &orig), 0);
  size_t refused = 0, same = 0;
  for (size_t i = 0; i < f.len; i++)
    for (int bit = 0; bit < 8; bit++) {
      f.data[i] ^= (uint8_t)(1u << bit);
      hs_snapshot *s = NULL;
      const int err = hs_snapshot_load(f.data, f.len, &s);
      f.data[i] ^= (uint8_t)(1u << bit);
      if (err) {
        if (!flip_allowed(err))
          fail_msg("byte %zu bit %d: %s", i, bit, hs_strerror(err));
        refused++;
        continue;
      }
      /* not in the preamble (checked by value) nor the checksum itself */
      if (i < HS__PREAMBLE_SIZE + 4 || i >= f.len - 4)
        fail_msg("byte %zu bit %d was accepted", i, bit);
      fmt_assert_same(orig, s);
      hs_snapshot_free(s);
      same++;
    }
  print_message("%zu flips refused, %zu ignored by zstd\n", refused, same);
  assert_true(same * 50 < refused); /* a handful, not a pattern */
  hs_snapshot_free(orig);
  fmt_buf_free(&f);
}

static void test_preamble(void **state) {
  fmt_buf f;
  fmt_small(&f);
  f.data[8] = HS_FORMAT_VERSION + 1; /* version */
  assert_int_equal(load(&f), HS_EVERSION);
  f.data[11] = 0x80;
  assert_int_equal(load(&f), HS_EVERSION);
  f.data[8] = f.data[11] = 0;
  assert_int_equal(load(&f), HS_ECORRUPT); /* version 0 */
  f.data[8] = HS_FORMAT_VERSION;
  f.data[15] = 1; /* reserved */
  assert_int_equal(load(&f), HS_ECORRUPT);
  f.data[15] = 0;
  f.data[0] = 'h';
  assert_int_equal(load(&f), HS_EMAGIC);
  f.len = 3;
  assert_int_equal(load(&f), HS_EMAGIC);
  f.data[0] = 'H';
  assert_int_equal(load(&f), HS_ETRUNC); /* "HEA": what there is is right */
  fmt_buf_free(&f);
  fmt_buf text = {0};
  fmt_put(&text, "hello, world\n", 13);
  assert_int_equal(load(&text), HS_EMAGIC);
  fmt_buf_free(&text);
}

/* A newer version is refused before its contents are looked at. */
static void test_newer_version(void **state) {
  fmt_buf f;
  fmt_frame("anything at all", 15, HS_FORMAT_VERSION + 1, &f);
  assert_int_equal(load(&f), HS_EVERSION);
  fmt_buf_free(&f);
}

static void test_trailing_bytes(void **state) {
  fmt_buf f;
  fmt_small(&f);
  const size_t len = f.len;
  fmt_put(&f, "", 1);
  assert_int_equal(load(&f), HS_ECORRUPT);
  f.len = len;
  fmt_put(&f, f.data + HS__PREAMBLE_SIZE, len - HS__PREAMBLE_SIZE);
  assert_int_equal(load(&f), HS_ECORRUPT); /* a second frame */
  fmt_buf_free(&f);
}

/* Compresses `body` with the given zstd parameters, streaming so the
 * frame does not declare its size, behind a valid preamble. */
static void frame_with(const fmt_buf *body, ZSTD_cParameter p, int v,
                       fmt_buf *out) {
  *out = (fmt_buf){0};
  fmt_put(out, "HEAPSNAP\1\0\0\0\0\0\0\0", 16);
  ZSTD_CCtx *const c = ZSTD_createCCtx();
  assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
  assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, p, v)));
  uint8_t chunk[1 << 16];
  ZSTD_inBuffer in = {body->data, body->len, 0};
  for (ZSTD_EndDirective op = ZSTD_e_continue;; op = ZSTD_e_end) {
    size_t left;
    do {
      ZSTD_outBuffer o = {chunk, sizeof chunk, 0};
      left = ZSTD_compressStream2(c, &o, &in, op);
      assert_false(ZSTD_isError(left));
      fmt_put(out, chunk, o.pos);
    } while (op == ZSTD_e_end ? left != 0 : in.pos < in.size);
    if (op == ZSTD_e_end)
      break;
  }
  ZSTD_freeCCtx(c);
}

static void small_body(fmt_buf *body) {
  fmt_buf f;
  fmt_small(&f);
  fmt_unframe(f.data, f.len, body);
  fmt_buf_free(&f);
}

/* The frame header is held to what the zstd library writes. */
static void test_frame_header(void **state) {
  fmt_buf body, f;
  small_body(&body);
  frame_with(&body, ZSTD_c_checksumFlag, 0, &f);
  assert_int_equal(load(&f), HS_ECORRUPT); /* no checksum */
  fmt_buf_free(&f);
  frame_with(&body, ZSTD_c_windowLog, HS__MAX_WINDOW_LOG, &f);
  assert_int_equal(load(&f), 0);
  fmt_buf_free(&f);
  frame_with(&body, ZSTD_c_windowLog, HS__MAX_WINDOW_LOG + 1, &f);
  assert_int_equal(load(&f), HS_ECORRUPT); /* window over 8 MiB */
  fmt_buf_free(&f);
  /* a skippable frame carrying the body, instead of a zstd frame */
  f = (fmt_buf){0};
  fmt_put(&f, "HEAPSNAP\1\0\0\0\0\0\0\0", 16);
  fmt_put_u32(&f, 0x184D2A50);
  fmt_put_u32(&f, (uint32_t)body.len);
  fmt_put(&f, body.data, body.len);
  assert_int_equal(load(&f), HS_ECORRUPT);
  fmt_buf_free(&f);
  fmt_buf_free(&body);
}

/* A frame that decompresses to more than 64 MiB + 1000 x its size is
 * refused: 100 MiB of zeros make a 3 KiB frame. */
static void test_bomb(void **state) {
  fmt_buf body = {0};
  small_body(&body);
  body.len -= 8; /* no END: zeros are an unknown record of tag 0 */
  const size_t zeros = (size_t)100 << 20;
  fmt_put(&body, NULL, zeros);
  memset(body.data + body.len - zeros, 0, zeros);
  fmt_buf f;
  fmt_frame(body.data, body.len, HS_FORMAT_VERSION, &f);
  assert_true(f.len < 10000);
  assert_int_equal(load(&f), HS_ETOOBIG);
  fmt_buf_free(&f);
  fmt_buf_free(&body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_empty_file),
      cmocka_unit_test(test_every_truncation),
      cmocka_unit_test(test_every_bit_flip),
      cmocka_unit_test(test_preamble),
      cmocka_unit_test(test_newer_version),
      cmocka_unit_test(test_trailing_bytes),
      cmocka_unit_test(test_frame_header),
      cmocka_unit_test(test_bomb),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
