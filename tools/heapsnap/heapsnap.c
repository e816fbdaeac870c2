/* heapsnap.c - the heapsnap launcher: entry point, help and dispatch.
 *
 * `heapsnap run` starts a program under the shim, `heapsnap snap` asks a
 * running one for a snapshot, `heapsnap ps` lists those that run it,
 * `heapsnap dump` prints a snapshot file. The
 * manual is docs/heapsnap.md; each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "heapsnap_cmds.h"
#include "hs_tool.h"

#ifndef HS_VERSION
#error "HS_VERSION must be defined by the build (PROJECT_VERSION)"
#endif

static const char hs__help_main[] =
    "usage: heapsnap COMMAND [OPTIONS] [ARGS...]\n"
    "\n"
    "Heap snapshots for long-running C/C++ services: run a program with the\n"
    "libheapsnap.so shim preloaded, ask it for a snapshot, read a snapshot.\n"
    "\n"
    "commands:\n"
    "  run [OPTIONS] [--] CMD [ARGS...]  run CMD in place with the shim\n"
    "      --dir D  --interval S  --signal SIG  --at-exit  --keep N\n"
    "      --depth N  --verbose  --sample BYTES  --no-scan\n"
    "      --no-graph  --scan-registers\n"
    "  snap [--timeout S] [--dir D] PID  take a snapshot of a running "
    "process\n"
    "  ps [--json]                       list the processes that run the "
    "shim\n"
    "  dump [OPTIONS] FILE               print a snapshot file, symbolized\n"
    "      --top N  --raw  --sysroot DIR  --debug-dir DIR\n"
    "  attach [OPTIONS] PID              load the shim into a running "
    "process\n"
    "      --dir D  --interval S  --sample BYTES  --no-scan\n"
    "  detach PID                        stop tracking an attached process\n"
    "  help [COMMAND]                    this help, or a command's\n"
    "\n"
    "options:\n"
    "  -h, --help     show help ('heapsnap COMMAND --help' for a command)\n"
    "  --version      print the version\n"
    "\n"
    "exit status:\n"
    "  0    success\n"
    "  1    snap: the snapshot could not be written (the reason is\n"
    "       printed), the process exited, its shim has not started yet\n"
    "       (a child of fork), or the time ran out;\n"
    "       attach, detach: the process exited, no thread came to a\n"
    "       safe point, or the shim could not be loaded, started or\n"
    "       stopped\n"
    "  2    usage error or bad input\n"
    "  run: the program's own status; 127 when it cannot be found,\n"
    "       126 when it cannot be executed\n"
    "  128+N  ended by signal N (130 Ctrl-C, 143 SIGTERM)\n"
    "\n"
    "The manual is docs/heapsnap.md; the shim's settings are in\n"
    "docs/environment.md.\n";

typedef struct hs__command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} hs__command;

static const hs__command hs__commands[] = {
    {"run", hs__cmd_run, hs__help_run},
    {"snap", hs__cmd_snap, hs__help_snap},
    {"ps", hs__cmd_ps, hs__help_ps},
    {"dump", hs__cmd_dump, hs__help_dump},
    {"attach", hs__cmd_attach, hs__help_attach},
    {"detach", hs__cmd_detach, hs__help_detach},
};

static const hs__command *hs__command_find(const char *name) {
  for (size_t i = 0; i < sizeof hs__commands / sizeof *hs__commands; i++)
    if (strcmp(hs__commands[i].name, name) == 0)
      return &hs__commands[i];
  return NULL;
}

static int hs__help(const char *text) {
  fputs(text, stdout);
  return HS__TOOL_DONE;
}

/* heapsnap help [COMMAND]. @return : HS__TOOL_DONE or HS_EINVAL. */
static int hs__cmd_help(int argc, char **argv) {
  if (argc == 0 || (argc == 1 && (strcmp(argv[0], "--help") == 0 ||
                                  strcmp(argv[0], "-h") == 0 ||
                                  strcmp(argv[0], "help") == 0)))
    return hs__help(hs__help_main);
  if (argc > 1)
    return hs__tool_usage("help", "unexpected argument '%s'", argv[1]);
  const hs__command *c = hs__command_find(argv[0]);
  if (!c)
    return hs__tool_usage("help", "unknown command '%s'", argv[0]);
  return hs__help(c->help);
}

/* What the launcher does before a command: help, version, or a usage
 * error. @return : a code for hs__tool_exit(). */
static int hs__main_option(const char *arg, int argc, char **argv) {
  if (strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 ||
      strcmp(arg, "-h") == 0)
    return hs__cmd_help(argc, argv);
  if (strcmp(arg, "--version") == 0) {
    printf("heapsnap %s\n", HS_VERSION);
    return HS__TOOL_DONE;
  }
  if (arg[0] == '-')
    return hs__tool_usage(NULL, "unknown option '%s'", arg);
  return hs__tool_usage(NULL, "unknown command '%s'", arg);
}

int main(int argc, char **argv) {
  hs__tool_init("heapsnap");
  if (argc < 2)
    return hs__tool_exit(NULL, hs__tool_usage(NULL, "missing command"));
  const hs__command *c = hs__command_find(argv[1]);
  if (c)
    return c->run(argc - 2, argv + 2);
  return hs__tool_exit(NULL, hs__main_option(argv[1], argc - 2, argv + 2));
}
