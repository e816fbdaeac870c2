/* hs_tool.h - command-line plumbing shared by the heapsnap tools.
 *
 * heapsnap and heapdiff print errors the same way (one line on stderr that
 * names the tool, the command and what is wrong), parse long options the
 * same way and show sizes the same way. Nothing here knows a subcommand. */
#ifndef HS_TOOL_H
#define HS_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Documented exit codes, shared by the tools. */
#define HS_EXIT_OK 0
#define HS_EXIT_FAIL 1  /* the work could not be done (snap timed out) */
#define HS_EXIT_USAGE 2 /* usage error or bad input */

/*! Sets the tool's name used to start every message ("heapsnap"). */
void hs__tool_init(const char *prog);

/*! @return : the name given to hs__tool_init(). */
const char *hs__tool_prog(void);

/*! Prints "<prog>[ <cmd>]: <message>\n" on stderr. `cmd` may be NULL. */
void hs__tool_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*! As hs__tool_error(), with "; try '<prog> --help'" appended.
 * @return : HS_EXIT_USAGE, so callers can `return hs__tool_usage(...)`. */
int hs__tool_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*! Reports an option value that does not parse:
 * "<prog> <cmd>: --<opt>: expected <expected>, got '<value>'".
 * @return : HS_EXIT_USAGE. */
int hs__tool_bad_value(const char *cmd, const char *opt, const char *expected,
                       const char *value);

/*! Flushes stdout; when that or an earlier write failed, reports it.
 * @return : `status`, or HS_EXIT_USAGE when the output was lost. */
int hs__tool_flush(int status);

/* One long option a command accepts. */
typedef struct hs__opt {
  const char *name; /* without the dashes: "dir" */
  int id;           /* > 0, returned by hs__args_next() */
  int has_value;    /* 1: "--name VALUE" or "--name=VALUE"; 0: a flag */
} hs__opt;

/* Walks a command's arguments. Options come first; the first argument that
 * is not an option (or the one after "--") starts the operands. */
typedef struct hs__args {
  const char *cmd;     /* command name for messages */
  const hs__opt *opts; /* terminated by an entry with name NULL */
  int argc;
  char **argv;
  int i; /* next argument to look at; the first operand once done */
} hs__args;

/*! Reads the next option. "-h" stands for "--help" when "help" is listed.
 * @return : the option's id with *value set (NULL for a flag);
 *           0 when the options end (a->i is then the first operand);
 *           HS_EINVAL after printing one line for an unknown option, a
 *           missing value or a value given to a flag. */
int hs__args_next(hs__args *a, const char **value);

/*! Formats a byte count for people: "512 bytes" below 1 KiB, else
 * "1.5 MiB (1572864 bytes)". Writes at most len bytes, NUL-terminated. */
void hs__tool_size(char *buf, size_t len, uint64_t bytes);

/*! @return : the last component of `path` (after its last '/'), `path`
 * itself when it has no '/', or "?" when it is NULL. Points into `path`. */
const char *hs__tool_basename(const char *path);

/*! Writes `s` to `f`, control bytes shown as \xNN: snapshot strings come
 * from another process and must not drive the terminal. */
void hs__tool_put_safe(FILE *f, const char *s);

/*! Writes one command-line word, quoted shell-style when it needs to be. */
void hs__tool_put_word(FILE *f, const char *s);

#endif /* HS_TOOL_H */
