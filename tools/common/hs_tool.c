/* hs_tool.c - command-line plumbing shared by the tools (see hs_tool.h). */
#define _GNU_SOURCE /* vasprintf */
#include "hs_tool.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hs_snapshot.h"

static const char *hs__prog = "heapsnap";
static int hs__reported; /* a line was printed: hs__tool_exit stays quiet */

void hs__tool_init(const char *prog) {
  assert(prog && *prog);
  hs__prog = prog;
}

const char *hs__tool_prog(void) {
  return hs__prog;
}

/* The message formatted and written with control bytes as \xNN: it
 * names files and programs, and a newline in a name would make two lines
 * of one, an escape sequence drive the terminal. */
static void hs__tool_vput(const char *fmt, va_list ap) {
  char small[1024], *msg = small;
  va_list again;
  va_copy(again, ap);
  /* clang 14's analyzer misses va_start here; a known false positive. */
  // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
  const int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n >= (int)sizeof small && vasprintf(&msg, fmt, again) < 0)
    msg = small; /* no memory: the message cut rather than lost */
  va_end(again);
  hs__tool_put_safe(stderr, n < 0 ? fmt : msg);
  if (msg != small)
    free(msg);
}

/* One line on stderr: "<prog>[ <cmd>]: <message>", and with try_help
 * "; try '<prog>[ <cmd>] --help'" (the command's own help says more). */
static void hs__tool_vsay(const char *cmd, int try_help, const char *fmt,
                          va_list ap) {
  if (cmd)
    fprintf(stderr, "%s %s: ", hs__prog, cmd);
  else
    fprintf(stderr, "%s: ", hs__prog);
  hs__tool_vput(fmt, ap);
  const int own = cmd && strcmp(cmd, "help") != 0; /* has its own help */
  if (try_help)
    fprintf(stderr, "; try '%s%s%s --help'", hs__prog, own ? " " : "",
            own ? cmd : "");
  fputc('\n', stderr);
}

void hs__tool_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hs__tool_vsay(cmd, 0, fmt, ap);
  va_end(ap);
  hs__reported = 1;
}

void hs__tool_note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hs__tool_vsay(NULL, 0, fmt, ap);
  va_end(ap);
}

int hs__tool_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hs__tool_vsay(cmd, 1, fmt, ap);
  va_end(ap);
  hs__reported = 1;
  return HS_EINVAL;
}

int hs__tool_bad_value(const char *cmd, const char *opt, const char *expected,
                       const char *value) {
  return hs__tool_usage(cmd, "--%s: expected %s, got '%s'", opt, expected,
                        value);
}

int hs__tool_flush(int status) {
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout))
    return status;
  hs__tool_error(NULL, "cannot write the output: %s",
                 errno ? strerror(errno) : "write error");
  return HS_EXIT_USAGE;
}

int hs__tool_exit(const char *cmd, int code) {
  if (code == 0 || code == HS__TOOL_DONE)
    return hs__tool_flush(HS_EXIT_OK);
  assert(code < 0);
  if (!hs__reported)
    hs__tool_error(cmd, "%s", hs_strerror(code));
  return code == HS__TOOL_EFAIL ? HS_EXIT_FAIL : HS_EXIT_USAGE;
}

static const hs__opt *hs__opt_find(const hs__opt *opts, const char *name,
                                   size_t len) {
  for (; opts->name; opts++)
    if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0)
      return opts;
  return NULL;
}

/* Takes the value of `o`: after '=' in the same argument or the next one. */
static int hs__opt_value(hs__args *a, const hs__opt *o, const char *eq,
                         const char **value) {
  if (!o->has_value) {
    if (eq)
      hs__tool_usage(a->cmd, "--%s takes no value", o->name);
    *value = NULL;
    return eq ? HS_EINVAL : o->id;
  }
  if (eq) {
    *value = eq + 1;
    return o->id;
  }
  if (a->i >= a->argc) {
    hs__tool_usage(a->cmd, "--%s needs a value", o->name);
    return HS_EINVAL;
  }
  *value = a->argv[a->i++];
  return o->id;
}

int hs__args_next(hs__args *a, const char **value) {
  if (a->i >= a->argc)
    return 0;
  const char *arg = a->argv[a->i];
  if (strcmp(arg, "--") == 0) {
    a->i++;
    return 0;
  }
  if (arg[0] != '-' || arg[1] == '\0')
    return 0; /* an operand; "-" alone conventionally means stdin */
  const char *name = strcmp(arg, "-h") == 0 ? "-help" : arg + 1;
  const hs__opt *o = NULL;
  const char *eq = NULL;
  if (name[0] == '-') {
    name++;
    eq = strchr(name, '=');
    o = hs__opt_find(a->opts, name, eq ? (size_t)(eq - name) : strlen(name));
  }
  if (!o) {
    hs__tool_usage(a->cmd, "unknown option '%s'", arg);
    return HS_EINVAL;
  }
  a->i++;
  const int id = hs__opt_value(a, o, eq, value);
  if (id == HS__OPT_HELP)
    fputs(a->help, stdout);
  return id;
}

void hs__tool_size(char *buf, size_t len, uint64_t bytes) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) {
    snprintf(buf, len, "%" PRIu64 " byte%s", bytes, bytes == 1 ? "" : "s");
    return;
  }
  double v = (double)bytes / 1024;
  unsigned u = 0;
  while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
    v /= 1024;
    u++;
  }
  snprintf(buf, len, "%.1f %s (%" PRIu64 " bytes)", v, units[u], bytes);
}

const char *hs__tool_basename(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path ? path : "?";
}

/* One byte as it is shown: itself, or "\xNN" for a control byte.
 * @return : the length written to out (NUL-terminated). */
static size_t hs__safe_byte(unsigned char c, char out[5]) {
  if (c < 0x20 || c == 0x7f)
    return (size_t)snprintf(out, 5, "\\x%02x", c);
  out[0] = (char)c, out[1] = '\0';
  return 1;
}

void hs__tool_put_safe(FILE *f, const char *s) {
  char one[5];
  for (; *s; s++) {
    hs__safe_byte((unsigned char)*s, one);
    fputs(one, f);
  }
}

void hs__tool_safe_copy(char *buf, size_t len, const char *s) {
  assert(len > 0);
  size_t at = 0;
  char one[5];
  for (; *s; s++) {
    const size_t n = hs__safe_byte((unsigned char)*s, one);
    if (at + n >= len)
      break; /* never half an escape */
    memcpy(buf + at, one, n);
    at += n;
  }
  buf[at] = '\0';
}

/* Characters a shell reads literally anywhere in a word. */
static int hs__word_plain(const char *s) {
  static const char safe[] = "@%+=:,./-_";
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
        !(*s >= '0' && *s <= '9') && !strchr(safe, *s))
      return 0;
  return 1;
}

void hs__tool_put_word(FILE *f, const char *s) {
  if (hs__word_plain(s)) {
    fputs(s, f);
    return;
  }
  fputc('\'', f);
  for (const char *p = s; *p; p++) {
    if (*p == '\'') {
      fputs("'\\''", f);
    } else {
      const char one[2] = {*p, '\0'};
      hs__tool_put_safe(f, one);
    }
  }
  fputc('\'', f);
}

int hs__tool_is_snapshot(const char *path) {
  struct stat st;
  char magic[8];
  if (stat(path, &st) || !S_ISREG(st.st_mode))
    return 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  const int yes = fread(magic, 1, sizeof magic, f) == sizeof magic &&
                  memcmp(magic, "HEAPSNAP", sizeof magic) == 0; /* format.md */
  fclose(f);
  return yes;
}
