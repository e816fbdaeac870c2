/* heapdiff.c - `heapdiff a.snap b.snap [c.snap ...]`: which allocation
 * sites grew between snapshots of one program, by how much, whether they
 * keep growing; as a report, JSON or folded stacks; and a leak gate
 * (--fail-over) for test suites. The manual is docs/heapdiff.md. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd.h"
#include "hd_names.h"
#include "hs_parse.h"
#include "hs_tool.h"

#ifndef HS_VERSION
#error "HS_VERSION must be defined by the build (PROJECT_VERSION)"
#endif

#define HD_MAX_LIST 64         /* --alloc-fn and --debug-dir entries */
#define HD_TOP_MAX 1000000000u /* more sites than any heap has */
#define HD_SIZE_HELP "a size in bytes like 1048576, 512K, 10MiB or 1.5G"

static const char hd_help[] =
    "usage: heapdiff [OPTIONS] A.snap [B.snap ...]\n"
    "\n"
    "Compares heap snapshots of one process: which allocation sites grew\n"
    "from the first snapshot to the last, by how much, how many of their\n"
    "blocks are new since the first, and (three or more snapshots) whether\n"
    "each keeps growing. Snapshots are put in time order. With one\n"
    "snapshot: its live heap by site, and what of it is lost.\n"
    "\n"
    "output:\n"
    "  --top N           show the N sites that grew most (default 20; 0\n"
    "                    shows every one, as --all)\n"
    "  --all             show every site that grew\n"
    "  --json            one JSON object (docs/json.md); lists every growing\n"
    "                    site unless --top is given\n"
    "  --folded          the growth as folded stacks (flamegraph.pl,\n"
    "                    speedscope)\n"
    "  --pprof FILE      write a gzipped pprof profile (go tool pprof,\n"
    "                    Pyroscope, Parca) to FILE instead of the report:\n"
    "                    every stack, in-use and new objects and bytes, lost\n"
    "                    or held (docs/heapdiff.md, docs/fleet.md)\n"
    "  --html FILE       write one self-contained page (timeline, flame\n"
    "                    graph, every site; docs/html.md) to FILE and print\n"
    "                    a line naming it instead of the report (with --json\n"
    "                    or --folded those still go to stdout, the line to\n"
    "                    stderr)\n"
    "  --stack-depth N   source frames shown per site, from the one it is\n"
    "                    named by outward (default 5)\n"
    "  --all-frames      show the runtime frames too, from the innermost\n"
    "  --wide            whole lines (default: cut to COLUMNS, the\n"
    "                    terminal's width, or 100 columns)\n"
    "  --retainers N     retainer paths shown per site (default 3; 0: none)\n"
    "  --color WHEN      auto (default: on a terminal, unless NO_COLOR is\n"
    "                    set), always or never\n"
    "sites:\n"
    "  --group-by K      stack (default), function or line: merge sites by\n"
    "                    the function (and line) each is named by\n"
    "  --alloc-fn PAT    the program's own allocation wrapper: its callers\n"
    "                    are the sites; shell wildcards ('myalloc*',\n"
    "                    'std::*'); repeatable\n"
    "symbols:\n"
    "  --debug-dir DIR   look for separate debug info here first (repeatable)\n"
    "  --sysroot DIR     find the snapshot's modules under DIR\n"
    "checks:\n"
    "  --lost            list only the sites with lost (unreachable) blocks\n"
    "                    in the last snapshot, most lost bytes first\n"
    "  --fail-over SIZE  exit 1 when the growing sites grew by more than\n"
    "                    SIZE in all\n"
    "  --fail-over-lost SIZE  exit 1 when the last snapshot's lost blocks\n"
    "                    hold more than SIZE bytes (0: any lost block)\n"
    "  --force           compare snapshots of different programs, or of\n"
    "                    different processes of one\n"
    "  -h, --help        this help\n"
    "  --version         print the version\n"
    "\n"
    "SIZE: bytes, or with a binary unit K, M, G, T (KiB, KB, k all mean\n"
    "1024): 1048576, 512K, 10MiB, 1.5G.\n"
    "\n"
    "exit status: 0 done; 1 over --fail-over or --fail-over-lost, or the\n"
    "--pprof or --html file could not be written; 2 usage error or bad\n"
    "input (a file missing, truncated, corrupted, of another program;\n"
    "--fail-over-lost or --lost on a snapshot without a scan; an output\n"
    "file that is a snapshot).\n";

enum {
  HD_HELP = HS__OPT_HELP,
  HD_VERSION,
  HD_TOP,
  HD_ALL,
  HD_JSON,
  HD_FOLDED,
  HD_DEPTH,
  HD_COLOR,
  HD_GROUP,
  HD_ALLOC_FN,
  HD_DEBUG_DIR,
  HD_SYSROOT,
  HD_FAIL_OVER,
  HD_FORCE,
  HD_RETAINERS,
  HD_LOST,
  HD_FAIL_OVER_LOST,
  HD_WIDE,
  HD_ALL_FRAMES,
  HD_PPROF,
  HD_HTML
};

static const hs__opt hd_opts[] = {
    {"help", HD_HELP, 0},
    {"version", HD_VERSION, 0},
    {"top", HD_TOP, 1},
    {"all", HD_ALL, 0},
    {"json", HD_JSON, 0},
    {"folded", HD_FOLDED, 0},
    {"stack-depth", HD_DEPTH, 1},
    {"color", HD_COLOR, 1},
    {"group-by", HD_GROUP, 1},
    {"alloc-fn", HD_ALLOC_FN, 1},
    {"debug-dir", HD_DEBUG_DIR, 1},
    {"sysroot", HD_SYSROOT, 1},
    {"fail-over", HD_FAIL_OVER, 1},
    {"force", HD_FORCE, 0},
    {"retainers", HD_RETAINERS, 1},
    {"lost", HD_LOST, 0},
    {"fail-over-lost", HD_FAIL_OVER_LOST, 1},
    {"wide", HD_WIDE, 0},
    {"all-frames", HD_ALL_FRAMES, 0},
    {"pprof", HD_PPROF, 1},
    {"html", HD_HTML, 1},
    {NULL, 0, 0},
};

static int hd_set_color(hd_options *o, const char *v) {
  if (!strcmp(v, "always"))
    o->color = 1;
  else if (!strcmp(v, "never"))
    o->color = 0;
  else if (!strcmp(v, "auto"))
    o->color = isatty(1) && !getenv("NO_COLOR");
  else
    return hs__tool_bad_value(NULL, "color", "auto, always or never", v);
  return 0;
}

static int hd_set_group(hd_options *o, const char *v) {
  static const char *const names[] = {"stack", "function", "line"};
  for (int i = 0; i < 3; i++)
    if (!strcmp(v, names[i])) {
      o->group_by = i;
      return 0;
    }
  return hs__tool_bad_value(NULL, "group-by", "stack, function or line", v);
}

/* --json, --folded and --pprof are outputs: one of them, or the report. */
static int hd_set_output(hd_options *o, int output) {
  static const char *const names[] = {"", "--json", "--folded", "--pprof"};
  if (o->output != HD_OUT_TEXT && o->output != output)
    return hs__tool_usage(NULL, "%s and %s do not go together",
                          names[o->output < output ? o->output : output],
                          names[o->output < output ? output : o->output]);
  o->output = output;
  return 0;
}

static int hd_add(const char **list, size_t *n, const char *opt,
                  const char *v) {
  if (*n == HD_MAX_LIST)
    return hs__tool_usage(NULL, "--%s: at most %d times", opt, HD_MAX_LIST);
  list[(*n)++] = v;
  return 0;
}

/* 1 when v names a file that is not a folder: `--sysroot A.snap B.snap`
 * took the first snapshot for the folder. A folder that does not exist
 * is let be (a list of places to look, some missing on this machine). */
static int hd_not_folder(const char *v) {
  struct stat st;
  return !*v || (stat(v, &st) == 0 && !S_ISDIR(st.st_mode));
}

/* Applies one option.
 * @return : 0, HS__TOOL_DONE after printing help or the version, or
 *           HS_EINVAL after one line. */
static int hd_option(hd_options *o, int id, const char *v, const char **dirs) {
  uint64_t n;
  switch (id) {
  case HD_VERSION:
    printf("heapdiff %s\n", HS_VERSION);
    return HS__TOOL_DONE;
  case HD_TOP:
    if (hs__parse_u64(v, 0, HD_TOP_MAX, &n))
      return hs__tool_bad_value(NULL, "top",
                                "a count from 0 (all) to 1000000000", v);
    o->top = n, o->top_given = 1; /* 0: every site, settled in main */
    return 0;
  case HD_DEPTH:
    if (hs__parse_u64(v, 1, 1024, &n))
      return hs__tool_bad_value(NULL, "stack-depth", "1 to 1024", v);
    o->stack_depth = (uint32_t)n;
    return 0;
  case HD_ALL:
    o->all = 1;
    return 0;
  case HD_JSON:
  case HD_FOLDED:
    return hd_set_output(o, id == HD_JSON ? HD_OUT_JSON : HD_OUT_FOLDED);
  case HD_PPROF:
    if (!*v)
      return hs__tool_bad_value(NULL, "pprof", "a file name", v);
    o->pprof = v;
    return hd_set_output(o, HD_OUT_PPROF);
  case HD_LOST:
    o->lost_only = 1;
    return 0;
  case HD_FAIL_OVER_LOST:
    if (hs__parse_bytes(v, UINT64_MAX, &o->fail_over_lost))
      return hs__tool_bad_value(NULL, "fail-over-lost", HD_SIZE_HELP, v);
    o->have_lost_gate = 1;
    return 0;
  case HD_RETAINERS:
    if (hs__parse_u64(v, 0, 1000, &n))
      return hs__tool_bad_value(NULL, "retainers", "0 to 1000", v);
    o->retainers = (uint32_t)n;
    return 0;
  case HD_FORCE:
    o->force = 1;
    return 0;
  case HD_WIDE:
    o->width = 0;
    return 0;
  case HD_ALL_FRAMES:
    o->all_frames = 1;
    return 0;
  case HD_HTML:
    if (!v[0])
      return hs__tool_bad_value(NULL, "html", "a file name", v);
    o->html = v;
    return 0;
  case HD_COLOR:
    return hd_set_color(o, v);
  case HD_GROUP:
    return hd_set_group(o, v);
  case HD_ALLOC_FN:
    if (hs__tool_is_snapshot(v)) /* `--alloc-fn A.snap B.snap` */
      return hs__tool_bad_value(NULL, "alloc-fn", "a function name", v);
    return hd_add(o->alloc_fns, &o->n_alloc_fns, "alloc-fn", v);
  case HD_DEBUG_DIR:
    if (hd_not_folder(v))
      return hs__tool_bad_value(NULL, "debug-dir", "a folder", v);
    return hd_add(dirs, &o->sym.n_debug_dirs, "debug-dir", v);
  case HD_SYSROOT:
    if (hd_not_folder(v))
      return hs__tool_bad_value(NULL, "sysroot", "a folder", v);
    o->sym.sysroot = v;
    return 0;
  case HD_FAIL_OVER:
    if (hs__parse_bytes(v, UINT64_MAX, &o->fail_over))
      return hs__tool_bad_value(NULL, "fail-over", HD_SIZE_HELP, v);
    o->have_gate = 1;
    return 0;
  }
  return HS_EINVAL;
}

/* Says which gate the result is over (the report is out by then). */
static int hd_gates(const hd_options *o, const hd_diff *d) {
  const int growth = o->have_gate && d->total_growth > (double)o->fail_over;
  const int lost = hd_check_lost_over(d);
  if (growth)
    hs__tool_error(NULL, "growth %.0f bytes is over --fail-over %llu",
                   d->total_growth, (unsigned long long)o->fail_over);
  if (lost)
    hs__tool_error(NULL,
                   "%s: %.0f lost byte%s in %.0f block%s, over "
                   "--fail-over-lost %llu",
                   d->snaps[d->n_snaps - 1].path, d->total_lost_bytes,
                   d->total_lost_bytes == 1 ? "" : "s", d->total_lost_blocks,
                   d->total_lost_blocks == 1 ? "" : "s",
                   (unsigned long long)o->fail_over_lost);
  return growth || lost;
}

/* Whether path is where this tool's stdout goes: /dev/stdout, or any
 * name of the same file or pipe (/dev/fd/3 after 3>&1). */
static int hd_is_stdout(const char *path) {
  struct stat a, b;
  return path && (hd_out_fd(path) == 1 ||
                  (!stat(path, &a) && !fstat(1, &b) && a.st_dev == b.st_dev &&
                   a.st_ino == b.st_ino && !S_ISCHR(a.st_mode)));
}

/* Loads, compares and reports; *over says whether the growth passed
 * --fail-over or the lost bytes --fail-over-lost. @return : 0 or a code
 * (hd_load reports what it finds). */
static int hd_run(hd_options *o, char **paths, size_t n, int *over) {
  hd_diff d = {.opt = o};
  if (o->output == HD_OUT_PPROF) /* pprof merges stacks by itself */
    o->group_by = HD_GROUP_STACK;
  int rc = hd_load(&d, paths, n);
  if (!rc)
    rc = hd_sites_build(&d);
  if (!rc)
    rc = hd_retain_build(&d);
  if (!rc)
    rc = hd_check_list(&d);
  if (!rc)
    rc = o->html ? hd_html_reach(&d) : hd_reach_build(&d);
  if (!rc)
    rc = hd_check_finish(&d);
  /* The lines naming the files written keep off JSON and folded output,
   * and off a file written to stdout (/dev/stdout). */
  FILE *const say = o->output == HD_OUT_JSON || o->output == HD_OUT_FOLDED ||
                            hd_is_stdout(o->html) || hd_is_stdout(o->pprof)
                        ? stderr
                        : stdout;
  if (!rc && o->html)
    rc = hd_report_html(&d, o->html, say);
  if (rc) {
    hd_diff_free(&d);
    return rc;
  }
  if (o->output == HD_OUT_PPROF)
    rc = hd_report_pprof(&d, say);
  else if (o->output == HD_OUT_JSON)
    hd_report_json(&d, stdout);
  else if (o->output == HD_OUT_FOLDED)
    hd_report_folded(&d, stdout);
  else if (!o->html) /* the page is the report */
    hd_report_text(&d, stdout);
  *over = !rc && hd_gates(o, &d);
  hd_diff_free(&d);
  return rc;
}

/* An output file (--html, --pprof) that is one of the snapshots to read,
 * or any snapshot: `--html A.snap B.snap` takes A.snap for the page's
 * name, and writing it would destroy a snapshot. */
static int hd_output_ok(const char *opt, const char *path, char **files,
                        size_t n) {
  struct stat out, in;
  if (!path || stat(path, &out))
    return 0; /* a new file */
  for (size_t i = 0; i < n; i++)
    if (!stat(files[i], &in) && in.st_dev == out.st_dev &&
        in.st_ino == out.st_ino)
      return hs__tool_usage(NULL, "--%s %s: that is a snapshot to read", opt,
                            path);
  if (hs__tool_is_snapshot(path))
    return hs__tool_usage(NULL,
                          "--%s %s: that file is a snapshot, not overwritten "
                          "(a file name missing after --%s?)",
                          opt, path, opt);
  return 0;
}

/* The same file for --html and --pprof (the second would replace the
 * first, or both would go into one pipe), or stdout for a file and for
 * the report. A device such as /dev/null takes both. */
static int hd_outputs_apart(const hd_options *o) {
  struct stat a, b;
  const int dev = o->html && !stat(o->html, &a) && S_ISCHR(a.st_mode) &&
                  hd_out_fd(o->html) < 0;
  if (o->html && o->pprof && !dev &&
      (!strcmp(o->html, o->pprof) ||
       (hd_out_fd(o->html) >= 0 && hd_out_fd(o->html) == hd_out_fd(o->pprof)) ||
       (!stat(o->html, &a) && !stat(o->pprof, &b) && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)))
    return hs__tool_usage(NULL, "--html and --pprof name the same file (%s)",
                          o->html);
  const char *on_stdout = hd_is_stdout(o->html) ? o->html : o->pprof;
  if ((o->output == HD_OUT_JSON || o->output == HD_OUT_FOLDED) &&
      hd_is_stdout(on_stdout))
    return hs__tool_usage(NULL, "%s: the %s report goes to stdout already",
                          on_stdout,
                          o->output == HD_OUT_JSON ? "--json" : "--folded");
  return 0;
}

/* Options may come before, between or after the files ("--" ends them). */
static int hd_parse(hd_options *o, int argc, char **argv, const char **dirs,
                    char **files, size_t *n_files) {
  hs__args a = {NULL, hd_opts, argc, argv, 1, hd_help};
  int only_files = 0;
  while (a.i < argc) {
    if (only_files || (!strcmp(argv[a.i], "--") && (only_files = 1, a.i++))) {
      if (a.i < argc)
        files[(*n_files)++] = argv[a.i++];
      continue;
    }
    const char *v;
    const int id = hs__args_next(&a, &v);
    if (id < 0 || id == HS__TOOL_DONE)
      return id;
    if (id == 0) {
      files[(*n_files)++] = argv[a.i++];
      continue;
    }
    const int rc = hd_option(o, id, v, dirs);
    if (rc)
      return rc;
  }
  return 0;
}

int main(int argc, char **argv) {
  static const char *alloc_fns[HD_MAX_LIST], *dirs[HD_MAX_LIST];
  hd_options o = {.top = 20,
                  .stack_depth = 5,
                  .retainers = 3,
                  .alloc_fns = alloc_fns,
                  .sym = {.debug_dirs = dirs}};
  hs__tool_init("heapdiff");
  hd_set_color(&o, "auto");
  o.width = hd_width_default();
  char **files = calloc((size_t)argc + 1, sizeof *files);
  size_t n = 0;
  int rc = files ? hd_parse(&o, argc, argv, dirs, files, &n) : HS_ENOMEM;
  int over = 0;
  if (!rc && n < 1)
    rc = hs__tool_usage(NULL, "needs one or more snapshot files");
  else if (!rc && o.all && o.top_given && o.top)
    rc = hs__tool_usage(NULL, "--top and --all do not go together");
  if (o.top_given && !o.top) /* --top 0, as heapsnap dump's: every site */
    o.all = 1;
  if (!rc)
    rc = hd_output_ok("html", o.html, files, n);
  if (!rc)
    rc = hd_output_ok("pprof", o.pprof, files, n);
  if (!rc)
    rc = hd_outputs_apart(&o);
  if (!rc)
    rc = hd_run(&o, files, n, &over);
  free(files);
  /* Over a gate is a result, not an error: the report is out. */
  if (!rc && over)
    return hs__tool_flush(HS_EXIT_FAIL);
  return hs__tool_exit(NULL, rc);
}
