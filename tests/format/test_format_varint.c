/* test_format_varint.c - the LEB128 and zigzag encodings of hs_varint.h:
 * exact bytes at every length boundary, and refusal of every malformed
 * form (cut, padded, too long, past 64 bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hs_varint.h"

static void expect_bytes(uint64_t v, const uint8_t *bytes, size_t n) {
  uint8_t buf[HS__VARINT_MAX];
  assert_int_equal(hs__varint_put(buf, v), n);
  assert_int_equal(hs__varint_size(v), n);
  assert_memory_equal(buf, bytes, n);
  const uint8_t *p = bytes;
  uint64_t back = 0;
  assert_int_equal(hs__varint_get(&p, bytes + n, &back), 0);
  assert_ptr_equal(p, bytes + n);
  assert_true(back == v);
}

static void test_exact_bytes(void **state) {
  expect_bytes(0, (const uint8_t[]){0x00}, 1);
  expect_bytes(1, (const uint8_t[]){0x01}, 1);
  expect_bytes(127, (const uint8_t[]){0x7f}, 1);
  expect_bytes(128, (const uint8_t[]){0x80, 0x01}, 2);
  expect_bytes(300, (const uint8_t[]){0xac, 0x02}, 2);
  expect_bytes(16383, (const uint8_t[]){0xff, 0x7f}, 2);
  expect_bytes(16384, (const uint8_t[]){0x80, 0x80, 0x01}, 3);
  expect_bytes(UINT32_MAX, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x0f}, 5);
  expect_bytes(1ull << 63,
               (const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                 0x80, 0x01},
               10);
  expect_bytes(UINT64_MAX,
               (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0x01},
               10);
}

/* Every 2^k - 1 and 2^k survive the round trip at the right size. */
static void test_every_power(void **state) {
  for (unsigned k = 0; k < 64; k++) {
    for (uint64_t v = (1ull << k) - 1; v <= (1ull << k); v++) {
      uint8_t buf[HS__VARINT_MAX];
      const size_t n = hs__varint_put(buf, v);
      const unsigned bits = v ? 64 - (unsigned)__builtin_clzll(v) : 1;
      assert_int_equal(n, (bits + 6) / 7);
      const uint8_t *p = buf;
      uint64_t back;
      assert_int_equal(hs__varint_get(&p, buf + n, &back), 0);
      assert_true(back == v);
    }
  }
}

static void expect_refused(const uint8_t *bytes, size_t n) {
  const uint8_t *p = bytes;
  uint64_t v = 7;
  assert_int_equal(hs__varint_get(&p, bytes + n, &v), HS_ECORRUPT);
  assert_ptr_equal(p, bytes); /* nothing consumed, nothing stored */
  assert_int_equal(v, 7);
}

static void test_malformed(void **state) {
  expect_refused((const uint8_t[]){0}, 0);                /* nothing */
  expect_refused((const uint8_t[]){0x80}, 1);             /* cut */
  expect_refused((const uint8_t[]){0xff, 0xff}, 2);       /* cut */
  expect_refused((const uint8_t[]){0x80, 0x00}, 2);       /* padded 0 */
  expect_refused((const uint8_t[]){0x81, 0x80, 0x00}, 3); /* padded 1 */
  expect_refused((const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0x02},
                 10); /* 2^64 and up */
  expect_refused((const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0x81, 0x00},
                 11); /* 11 bytes */
}

static void test_zigzag(void **state) {
  static const struct {
    uint64_t diff, zz;
  } table[] = {
      {0, 0},
      {UINT64_MAX, 1}, /* -1 */
      {1, 2},
      {UINT64_MAX - 1, 3}, /* -2 */
      {0x7fffffffffffffff, UINT64_MAX - 1},
      {0x8000000000000000, UINT64_MAX}, /* INT64_MIN */
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    assert_true(hs__zigzag(table[i].diff) == table[i].zz);
    assert_true(hs__unzigzag(table[i].zz) == table[i].diff);
  }
  /* wrapping differences of frames come back exactly */
  const uint64_t a = 0x7fffffffe000, b = 0x401000;
  assert_true(b + hs__unzigzag(hs__zigzag(a - b)) == a);
  assert_true(a + hs__unzigzag(hs__zigzag(b - a)) == b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_bytes),
      cmocka_unit_test(test_every_power),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_zigzag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
