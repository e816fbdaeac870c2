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

/* The error convention of the tools. Helpers return 0 or a code: a
 * negative HS_E* code or -errno (include/hs_snapshot.h), HS__TOOL_EFAIL,
 * or HS__TOOL_DONE. A helper that knows more than the code says (which
 * file, which option) prints its one line with hs__tool_error() and then
 * returns the code; each command's entry point ends in hs__tool_exit(),
 * the one place a code becomes an exit status (and a message, when no one
 * has said anything yet). Nothing else returns exit statuses. */

/* Documented exit statuses, shared by the tools. */
#define HS_EXIT_OK 0
#define HS_EXIT_FAIL 1  /* the work could not be done (snap timed out) */
#define HS_EXIT_USAGE 2 /* usage error or bad input */

/* Codes of the tools' own, beside the library's: */
#define HS__TOOL_DONE 1        /* stop now: help or version was printed */
#define HS__TOOL_EFAIL (-5900) /* the work could not be done (exit 1) */

/*! Sets the tool's name used to start every message ("heapsnap"). */
void hs__tool_init(const char *prog);

/*! @return : the name given to hs__tool_init(). */
const char *hs__tool_prog(void);

/*! Prints "<prog>[ <cmd>]: <message>\n" on stderr. `cmd` may be NULL.
 * Control bytes in the message are shown as \xNN (hs__tool_put_safe): a
 * file name in it cannot break the line or drive the terminal. The same
 * for every message below. */
void hs__tool_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*! Prints "<prog>: <message>\n" on stderr: a note, not an error (it does
 * not count as the report of a failure for hs__tool_exit). */
void hs__tool_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*! As hs__tool_error(), with "; try '<prog>[ <cmd>] --help'" appended.
 * @return : HS_EINVAL, so callers can `return hs__tool_usage(...)`. */
int hs__tool_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*! Reports an option value that does not parse, a usage error:
 * "<prog> <cmd>: --<opt>: expected <expected>, got '<value>'; try ...".
 * @return : HS_EINVAL. */
int hs__tool_bad_value(const char *cmd, const char *opt, const char *expected,
                       const char *value);

/*! Flushes stdout; when that or an earlier write failed, reports it.
 * @return : `status`, or HS_EXIT_USAGE when the output was lost. */
int hs__tool_flush(int status);

/*! Turns a helper's code into the process exit status: 0 and HS__TOOL_DONE
 * give HS_EXIT_OK once stdout is flushed, HS__TOOL_EFAIL gives HS_EXIT_FAIL,
 * any other negative code (usage, bad input, HS_E*, -errno) HS_EXIT_USAGE.
 * A failure no one has reported yet is reported here, as
 * "<prog>[ <cmd>]: <hs_strerror(code)>". */
int hs__tool_exit(const char *cmd, int code);

/* One long option a command accepts. */
typedef struct hs__opt {
  const char *name; /* without the dashes: "dir" */
  int id;           /* HS__OPT_HELP for "help", else > HS__TOOL_DONE */
  int has_value;    /* 1: "--name VALUE" or "--name=VALUE"; 0: a flag */
} hs__opt;

/* Walks a command's arguments. Options come first; the first argument that
 * is not an option (or the one after "--") starts the operands. */
typedef struct hs__args {
  const char *cmd;     /* command name for messages */
  const hs__opt *opts; /* terminated by an entry with name NULL */
  int argc;
  char **argv;
  int i;            /* next argument to look at; the first operand once done */
  const char *help; /* printed for --help (and -h) */
} hs__args;

/* The id of "help" in every option table: hs__args_next() prints the help. */
#define HS__OPT_HELP HS__TOOL_DONE

/*! Reads the next option. "-h" stands for "--help" when "help" is listed.
 * A loop over the options runs while the result is > HS__TOOL_DONE.
 * @return : the option's id with *value set (NULL for a flag);
 *           HS__TOOL_DONE after printing a->help for --help;
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

/*! 1 when path is a regular file that starts with a snapshot's magic: an
 * output must not overwrite one (a missing file name after an option
 * takes the next argument, a snapshot, for it). */
int hs__tool_is_snapshot(const char *path);

/*! Writes `s` to `f`, control bytes shown as \xNN: snapshot strings come
 * from another process and must not drive the terminal. */
void hs__tool_put_safe(FILE *f, const char *s);

/*! Copies `s` into buf as hs__tool_put_safe() writes it, cut (between
 * characters, never inside an \xNN) to fit len bytes with the NUL: for a
 * name that is measured or cut to a width after. */
void hs__tool_safe_copy(char *buf, size_t len, const char *s);

/*! Writes one command-line word, quoted shell-style when it needs to be. */
void hs__tool_put_word(FILE *f, const char *s);

#endif /* HS_TOOL_H */
