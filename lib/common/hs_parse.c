/* hs_parse.c - setting value parsers (see hs_parse.h). */
#include "hs_parse.h"

#include <signal.h>
#include <string.h>

#include "hs_snapshot.h"

static const struct {
  const char *name;
  int sig;
} hs__signals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1},   {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},   {"TERM", SIGTERM},     {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},   {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},   {"URG", SIGURG},       {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

static int hs__lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive prefix match; returns the rest of s or NULL. */
static const char *hs__skip_prefix(const char *s, const char *prefix) {
  for (; *prefix; s++, prefix++)
    if (hs__lower((unsigned char)*s) != hs__lower((unsigned char)*prefix))
      return 0;
  return s;
}

static int hs__streq_nocase(const char *a, const char *b) {
  const char *rest = hs__skip_prefix(a, b);
  return rest && *rest == '\0';
}

int hs__parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (!s || !*s)
    return HS_EINVAL;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return HS_EINVAL;
    const uint64_t d = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return HS_EINVAL;
    v = v * 10 + d;
  }
  if (v < min || v > max)
    return HS_EINVAL;
  *out = v;
  return 0;
}

/* The unit after a size's number: "" or "B" (bytes), K, M, G or T
 * (case-insensitive), each optionally followed by "iB" or "B" (also
 * case-insensitive): all binary multiples.
 * @return : the shift (0, 10, 20, 30, 40), or -1. */
static int hs__size_unit(const char *u) {
  static const char units[] = "kmgt";
  if (!*u || hs__streq_nocase(u, "b"))
    return 0;
  const char *p = strchr(units, hs__lower((unsigned char)*u));
  if (!p || !*p)
    return -1;
  const int shift = 10 * (int)(p - units + 1);
  u++;
  if (!*u || hs__streq_nocase(u, "b") || hs__streq_nocase(u, "ib"))
    return shift;
  return -1;
}

/* Whole digits into *v (at most 19, so no overflow); 0 digits is an error.
 * @return : the first character after them, or NULL. */
static const char *hs__digits(const char *s, uint64_t *v, unsigned *n) {
  *v = 0, *n = 0;
  for (; *s >= '0' && *s <= '9'; s++, (*n)++) {
    if (*n == 19)
      return 0;
    *v = *v * 10 + (uint64_t)(*s - '0');
  }
  return *n ? s : 0;
}

int hs__parse_bytes(const char *v, uint64_t max, uint64_t *out) {
  uint64_t whole, frac = 0, scale = 1;
  unsigned nw, nf = 0;
  const char *s = v ? hs__digits(v, &whole, &nw) : 0;
  if (!s)
    return HS_EINVAL;
  if (*s == '.') {
    s = hs__digits(s + 1, &frac, &nf);
    if (!s || nf > 6) /* a millionth of a unit is below a byte up to T */
      return HS_EINVAL;
    for (unsigned i = 0; i < nf; i++)
      scale *= 10;
  }
  const int shift = hs__size_unit(s);
  if (shift < 0 || (nf && !shift)) /* no fractions of a byte */
    return HS_EINVAL;
  if (whole > (max >> shift))
    return HS_EINVAL;
  /* frac / scale < 1 and shift <= 40, so frac << shift stays below 2^60 */
  const uint64_t base = whole << shift;
  const uint64_t bytes = base + ((frac << shift) / scale);
  if (bytes < base || bytes > max)
    return HS_EINVAL;
  *out = bytes;
  return 0;
}

int hs__parse_bool(const char *s, int *out) {
  static const char *const yes[] = {"1", "yes", "true", "on"};
  static const char *const no[] = {"0", "no", "false", "off"};
  if (!s)
    return HS_EINVAL;
  for (unsigned i = 0; i < 4; i++) {
    if (hs__streq_nocase(s, yes[i])) {
      *out = 1;
      return 0;
    }
    if (hs__streq_nocase(s, no[i])) {
      *out = 0;
      return 0;
    }
  }
  return HS_EINVAL;
}

int hs__parse_seconds(const char *s, uint64_t *out_ns) {
  uint64_t whole = 0, frac = 0, scale = 1000000000u;
  int nonzero = 0;
  if (!s || !*s || *s == '.')
    return HS_EINVAL;
  for (; *s >= '0' && *s <= '9'; s++) {
    whole = whole * 10 + (uint64_t)(*s - '0');
    nonzero |= *s != '0';
    if (whole > 1000000000u)
      return HS_EINVAL;
  }
  if (*s == '.') {
    s++;
    if (!*s)
      return HS_EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
      scale /= 10; /* digits past nanoseconds are dropped */
      frac += (uint64_t)(*s - '0') * scale;
      nonzero |= *s != '0';
    }
  }
  /* a time above 0 below a nanosecond would read as 0, which means off */
  if (*s || (nonzero && whole == 0 && frac == 0))
    return HS_EINVAL;
  *out_ns = whole * 1000000000u + frac;
  return 0;
}

/* "RTMIN+3", "RTMAX-1", "RTMIN" relative to the run-time bounds. */
static int hs__parse_rt(const char *s, int *out) {
  const char *rest;
  int base, sign = 1;
  if ((rest = hs__skip_prefix(s, "RTMIN")))
    base = SIGRTMIN;
  else if ((rest = hs__skip_prefix(s, "RTMAX")))
    base = SIGRTMAX, sign = -1;
  else
    return HS_EINVAL;
  uint64_t n = 0;
  if (*rest) {
    if (*rest != (sign > 0 ? '+' : '-'))
      return HS_EINVAL;
    if (hs__parse_u64(rest + 1, 0, 64, &n))
      return HS_EINVAL;
  }
  const int sig = base + sign * (int)n;
  if (sig < SIGRTMIN || sig > SIGRTMAX)
    return HS_EINVAL;
  *out = sig;
  return 0;
}

static int hs__signal_ok(int sig) {
  switch (sig) {
  case SIGKILL:
  case SIGSTOP:
  case SIGSEGV:
  case SIGBUS:
  case SIGFPE:
  case SIGILL:
  case SIGABRT:
  case SIGTRAP:
    return 0;
  default:
    return sig > 0 && sig <= SIGRTMAX;
  }
}

int hs__parse_signal(const char *s, int *out) {
  uint64_t n;
  int sig = -1;
  if (!s || !*s)
    return HS_EINVAL;
  if (hs__streq_nocase(s, "none") || hs__streq_nocase(s, "0")) {
    *out = 0;
    return 0;
  }
  if (hs__parse_u64(s, 1, 1024, &n) == 0) {
    sig = (int)n;
  } else {
    const char *name = hs__skip_prefix(s, "SIG");
    name = name ? name : s;
    for (unsigned i = 0; i < sizeof hs__signals / sizeof *hs__signals; i++)
      if (hs__streq_nocase(name, hs__signals[i].name))
        sig = hs__signals[i].sig;
    if (sig < 0 && hs__parse_rt(name, &sig))
      return HS_EINVAL;
  }
  if (!hs__signal_ok(sig))
    return HS_EINVAL;
  *out = sig;
  return 0;
}

static unsigned hs__put(char *buf, unsigned len, unsigned at, const char *s) {
  for (; *s && at + 1 < len; s++)
    buf[at++] = *s;
  buf[at < len ? at : len - 1] = '\0';
  return at;
}

void hs__signal_name(int sig, char *buf, unsigned len) {
  unsigned at = 0;
  if (!len)
    return;
  buf[0] = '\0';
  for (unsigned i = 0; i < sizeof hs__signals / sizeof *hs__signals; i++)
    if (hs__signals[i].sig == sig) {
      at = hs__put(buf, len, 0, "SIG");
      hs__put(buf, len, at, hs__signals[i].name);
      return;
    }
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    char num[4] = {0};
    const int off = sig - SIGRTMIN;
    num[0] = (char)('0' + off / 10);
    num[off >= 10 ? 1 : 0] = (char)('0' + off % 10);
    at = hs__put(buf, len, 0, "SIGRTMIN+");
    hs__put(buf, len, at, num);
    return;
  }
  char num[8];
  int n = sig, i = 7;
  num[i] = '\0';
  do
    num[--i] = (char)('0' + n % 10);
  while ((n /= 10) && i > 0);
  hs__put(buf, len, 0, num + i);
}
