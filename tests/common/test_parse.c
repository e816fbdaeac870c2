/* test_parse - the setting parsers the shim and the launcher share. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hs_parse.h"
#include "hs_snapshot.h"

static void test_signals(void **state) {
  int s = -1;
  assert_int_equal(hs__parse_signal("USR2", &s), 0);
  assert_int_equal(s, SIGUSR2);
  assert_int_equal(hs__parse_signal("sigusr1", &s), 0);
  assert_int_equal(s, SIGUSR1);
  assert_int_equal(hs__parse_signal("12", &s), 0);
  assert_int_equal(s, 12);
  assert_int_equal(hs__parse_signal("RTMIN+3", &s), 0);
  assert_int_equal(s, SIGRTMIN + 3);
  assert_int_equal(hs__parse_signal("SIGRTMAX-1", &s), 0);
  assert_int_equal(s, SIGRTMAX - 1);
  assert_int_equal(hs__parse_signal("none", &s), 0);
  assert_int_equal(s, 0);
  s = 42;
  const char *bad[] = {"",         "bogus",   "KILL", "SIGSTOP", "9",    "SEGV",
                       "RTMIN+99", "RTMAX+1", "-3",   "12x",     "99999"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(hs__parse_signal(bad[i], &s), HS_EINVAL);
  assert_int_equal(s, 42); /* untouched on failure */
}

static void test_signal_names(void **state) {
  char buf[32];
  hs__signal_name(SIGUSR2, buf, sizeof buf);
  assert_string_equal(buf, "SIGUSR2");
  hs__signal_name(SIGRTMIN + 12, buf, sizeof buf);
  assert_string_equal(buf, "SIGRTMIN+12");
  hs__signal_name(SIGRTMIN, buf, sizeof buf);
  assert_string_equal(buf, "SIGRTMIN+0");
}

static void test_seconds(void **state) {
  uint64_t ns = 7;
  assert_int_equal(hs__parse_seconds("2", &ns), 0);
  assert_int_equal(ns, 2000000000ull);
  assert_int_equal(hs__parse_seconds("0.25", &ns), 0);
  assert_int_equal(ns, 250000000ull);
  assert_int_equal(hs__parse_seconds("0", &ns), 0);
  assert_int_equal(ns, 0);
  assert_int_equal(hs__parse_seconds("1.0000000019", &ns), 0);
  assert_int_equal(ns, 1000000001ull);
  assert_int_equal(hs__parse_seconds("0.000000001", &ns), 0);
  assert_int_equal(ns, 1);
  assert_int_equal(hs__parse_seconds("0.0000", &ns), 0);
  assert_int_equal(ns, 0);
  const char *bad[] = {"",    ".5", "1.",         "-1",          "1e3",
                       "abc", "2 ", "9999999999", "0.0000000001"};
  ns = 7;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(hs__parse_seconds(bad[i], &ns), HS_EINVAL);
  assert_int_equal(ns, 7);
}

static void test_numbers_and_bools(void **state) {
  uint64_t v = 0;
  assert_int_equal(hs__parse_u64("64", 1, 256, &v), 0);
  assert_int_equal(v, 64);
  assert_int_equal(hs__parse_u64("0", 1, 256, &v), HS_EINVAL);
  assert_int_equal(hs__parse_u64("257", 1, 256, &v), HS_EINVAL);
  assert_int_equal(hs__parse_u64("18446744073709551616", 0, UINT64_MAX, &v),
                   HS_EINVAL);
  int b = -1;
  assert_int_equal(hs__parse_bool("YES", &b), 0);
  assert_int_equal(b, 1);
  assert_int_equal(hs__parse_bool("off", &b), 0);
  assert_int_equal(b, 0);
  assert_int_equal(hs__parse_bool("2", &b), HS_EINVAL);
}

/* One rule for every size (docs/environment.md "Sizes"): digits, an
 * optional "B" or binary unit K/M/G/T in either case with optional "B" or "iB",
 * a fraction only with a unit, rounded down to bytes. */
static void test_sizes(void **state) {
  static const struct {
    const char *s;
    uint64_t v;
  } good[] = {
      {"0", 0},
      {"4096", 4096},
      {"4096B", 4096},
      {"1b", 1},
      {"512K", 524288},
      {"512k", 524288},
      {"512KiB", 524288},
      {"512kib", 524288},
      {"512KB", 524288},
      {"512kb", 524288},
      {"3m", 3ull << 20},
      {"10MB", 10ull << 20},
      {"10MiB", 10ull << 20},
      {"1G", 1ull << 30},
      {"1T", 1ull << 40}, /* the shim's "up to 1T" */
      {"1TiB", 1ull << 40},
      {"1.5G", 3ull << 29},
      {"1.5GiB", 3ull << 29},
      {"0.5k", 512},
      {"1.001K", 1025}, /* 1025.024 rounded down */
      {"1.000001T", (1ull << 40) + 1099511},
      {"16383T", 16383ull << 40},
  };
  uint64_t v = 7;
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    v = 7;
    assert_int_equal(hs__parse_bytes(good[i].s, UINT64_MAX, &v), 0);
    assert_int_equal(v, good[i].v);
  }
  /* the shim's and the launcher's bound, 1 TiB: 1T is in, a byte more not */
  assert_int_equal(hs__parse_bytes("1T", 1ull << 40, &v), 0);
  assert_int_equal(v, 1ull << 40);
  assert_int_equal(hs__parse_bytes("1024G", 1ull << 40, &v), 0);
  assert_int_equal(v, 1ull << 40);
  static const char *const bad[] = {
      "",
      "K",
      "KiB",
      "-1",
      "+1",
      " 1",
      "1 ",
      "1 K",
      "1.5",
      "1.",
      ".5K",
      "1.K",
      "1e3",
      "1x",
      "1KK",
      "1Ki",
      "1iB",
      "1KiBx",
      "1P",
      "1PiB",
      "0x10",
      "1.5.5K",
      "1,5K",
      "1.5B",
      "1BB",
      "1Bi",
      "1.0000001K",
      "16777216T",
      "18446744073709551616",
      "99999999999999999999K",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v = 7;
    assert_int_equal(hs__parse_bytes(bad[i], UINT64_MAX, &v), HS_EINVAL);
    assert_int_equal(v, 7); /* untouched on failure */
  }
  assert_int_equal(hs__parse_bytes("1025G", 1ull << 40, &v), HS_EINVAL);
  assert_int_equal(hs__parse_bytes("1.000001T", 1ull << 40, &v), HS_EINVAL);
  assert_int_equal(hs__parse_bytes("1099511627777", 1ull << 40, &v), HS_EINVAL);
  assert_int_equal(hs__parse_bytes(NULL, 1ull << 40, &v), HS_EINVAL);
  assert_int_equal(v, 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signals), cmocka_unit_test(test_signal_names),
      cmocka_unit_test(test_seconds), cmocka_unit_test(test_numbers_and_bools),
      cmocka_unit_test(test_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
