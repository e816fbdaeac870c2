/* heapdiff.c - `heapdiff a.snap b.snap [c.snap ...]`: which allocation
 * sites grew between snapshots of one program, by how much, whether they
 * keep growing; as a report, JSON or folded stacks; and a leak gate
 * (--fail-over) for test suites. The manual is docs/heapdiff.md. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hd.h"
#include "hd_names.h"
#include "hs_parse.h"
#include "hs_tool.h"

#ifndef HS_VERSION
#error "HS_VERSION must be defined by the build (PROJECT_VERSION)"
#endif

#define HD_MAX_LIST 64 /* --alloc-fn and --debug-dir entries */

static const char hd_help[] =
    "usage: heapdiff [OPTIONS] A.snap B.snap [C.snap ...]\n"
    "\n"
    "Compares heap snapshots of one program: which allocation sites grew\n"
    "from the first snapshot to the last, by how much, how many of their\n"
    "blocks are new since the first, and (three or more snapshots) whether\n"
    "each keeps growing. Snapshots are put in time order.\n"
    "\n"
    "output:\n"
    "  --top N           show the N sites that grew most (default 20)\n"
    "  --all             show every site that grew\n"
    "  --json            one JSON object (docs/json.md); lists every growing\n"
    "                    site unless --top is given\n"
    "  --folded          the growth as folded stacks (flamegraph.pl,\n"
    "                    speedscope)\n"
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
    "  --fail-over SIZE  exit 1 when the growing sites grew by more than\n"
    "                    SIZE in all (bytes; K, M, G suffixes are KiB...)\n"
    "  --force           compare snapshots of different programs\n"
    "  -h, --help        this help\n"
    "  --version         print the version\n"
    "\n"
    "exit status: 0 done; 1 growth over --fail-over; 2 usage error or bad\n"
    "input (a file missing, truncated, corrupted, of another program).\n";

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
  HD_WIDE,
  HD_ALL_FRAMES
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
    {"wide", HD_WIDE, 0},
    {"all-frames", HD_ALL_FRAMES, 0},
    {NULL, 0, 0},
};

/* "1048576", "10K", "1.5MiB", "2G": binary multiples. */
static int hd_parse_size(const char *s, uint64_t *out) {
  char *end;
  const double v = strtod(s, &end);
  if (end == s || v < 0 || s[0] == '-' || s[0] == '+')
    return HS_EINVAL;
  static const char *const suffix[] = {"", "K", "M", "G", "T"};
  double scale = 1;
  for (int i = 0; i < 5; i++, scale *= 1024) {
    const size_t n = strlen(suffix[i]);
    if (strncmp(end, suffix[i], n) != 0)
      continue;
    const char *rest = end + n;
    if (*rest == '\0' || (i && (!strcmp(rest, "iB") || !strcmp(rest, "B")))) {
      if (v * scale > 1.8e19)
        return HS_EINVAL;
      *out = (uint64_t)(v * scale);
      return 0;
    }
  }
  return HS_EINVAL;
}

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

static int hd_add(const char **list, size_t *n, const char *opt,
                  const char *v) {
  if (*n == HD_MAX_LIST)
    return hs__tool_usage(NULL, "--%s: at most %d times", opt, HD_MAX_LIST);
  list[(*n)++] = v;
  return 0;
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
    if (hs__parse_u64(v, 1, 1000000000, &n))
      return hs__tool_bad_value(NULL, "top", "a count of 1 or more", v);
    o->top = n, o->top_given = 1;
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
    o->output = HD_OUT_JSON;
    return 0;
  case HD_FOLDED:
    o->output = HD_OUT_FOLDED;
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
  case HD_COLOR:
    return hd_set_color(o, v);
  case HD_GROUP:
    return hd_set_group(o, v);
  case HD_ALLOC_FN:
    return hd_add(o->alloc_fns, &o->n_alloc_fns, "alloc-fn", v);
  case HD_DEBUG_DIR:
    return hd_add(dirs, &o->sym.n_debug_dirs, "debug-dir", v);
  case HD_SYSROOT:
    o->sym.sysroot = v;
    return 0;
  case HD_FAIL_OVER:
    if (hd_parse_size(v, &o->fail_over))
      return hs__tool_bad_value(NULL, "fail-over", "a size like 1048576 or 10M",
                                v);
    o->have_gate = 1;
    return 0;
  }
  return HS_EINVAL;
}

/* Loads, compares and reports; *over says whether the growth passed
 * --fail-over. @return : 0 or a code (hd_load reports what it finds). */
static int hd_run(hd_options *o, char **paths, size_t n, int *over) {
  hd_diff d = {.opt = o};
  int rc = hd_load(&d, paths, n);
  if (!rc)
    rc = hd_sites_build(&d);
  if (!rc)
    rc = hd_reach_build(&d);
  if (rc) {
    hd_diff_free(&d);
    return rc;
  }
  if (o->output == HD_OUT_JSON)
    hd_report_json(&d, stdout);
  else if (o->output == HD_OUT_FOLDED)
    hd_report_folded(&d, stdout);
  else
    hd_report_text(&d, stdout);
  *over = o->have_gate && d.total_growth > (double)o->fail_over;
  if (*over && o->output != HD_OUT_JSON)
    hs__tool_error(NULL, "growth %.0f bytes is over --fail-over %llu",
                   d.total_growth, (unsigned long long)o->fail_over);
  hd_diff_free(&d);
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
  if (!rc && n < 2)
    rc = hs__tool_usage(NULL, "needs two or more snapshot files");
  else if (!rc && o.all && o.top_given)
    rc = hs__tool_usage(NULL, "--top and --all do not go together");
  else if (!rc)
    rc = hd_run(&o, files, n, &over);
  free(files);
  /* Growth over --fail-over is a result, not an error: the report is out. */
  if (!rc && over)
    return hs__tool_flush(HS_EXIT_FAIL);
  return hs__tool_exit(NULL, rc);
}
