/* hd_report.c - heapdiff's three outputs: the human report (one screen:
 * what grew, where, whether it keeps growing), JSON (docs/json.md) and
 * folded stacks for flamegraph.pl and speedscope. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hd.h"
#include "hd_names.h"
#include "hd_symprint.h"
#include "hs_tool.h"

#define HD_BOLD "\033[1m"
#define HD_RED "\033[31m"
#define HD_DIM "\033[2m"
#define HD_OFF "\033[0m"

static const char *hd_c(const hd_diff *d, const char *code) {
  return d->opt->color ? code : "";
}

/* "1.5 MiB", "812 B"; signed when `sign`. */
static void hd_size(char *buf, size_t len, double bytes, int sign) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = fabs(bytes);
  int u = 0;
  while (v >= 1024 && u < 4)
    v /= 1024, u++;
  /* a negative one keeps its sign always ("RSS - heap" when RSS is below
   * the live bytes: blocks not touched yet); sign adds "+" */
  const char *s = bytes < 0 && v > 0 ? "-" : sign ? "+" : "";
  if (u == 0)
    snprintf(buf, len, "%s%.0f B", s, v);
  else
    snprintf(buf, len, "%s%.1f %s", s, v, units[u]);
}

static double hd_seconds(const hd_diff *d) {
  const hs_header *a = d->snaps[0].h, *b = d->snaps[d->n_snaps - 1].h;
  return (double)(b->time_ns - a->time_ns) / 1e9;
}

/* The modules of the shown sites' frames that have no symbols here (not
 * found, another build): said once each, so a user knows why a frame is
 * module+offset and what to install or point --sysroot at. */
static size_t hd_unsymbolized(hd_diff *d, size_t shown, uint32_t *out,
                              const char **why, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < shown; i++) {
    const hd_site *s = &d->sites[d->order[i]];
    for (uint32_t f = 0; f < s->depth; f++) {
      const uint32_t m = d->frames[s->frames[f]].module;
      const char *w = NULL;
      size_t k = 0;
      while (k < n && out[k] != m)
        k++;
      if (m == HD_NO_MODULE || k < n || n == max)
        continue;
      const int st = hd_symbolizer_module_status(d->sym, m, &w);
      if (st == HD_MOD_MISSING || st == HD_MOD_MISMATCH ||
          st == HD_MOD_NOSYMS) {
        why[n] = w ? w : "no symbols";
        out[n++] = m;
      }
    }
  }
  return n;
}

static size_t hd_shown(const hd_diff *d, int json) {
  if (d->opt->all || (json && !d->opt->top_given))
    return d->n_order;
  return d->opt->top < d->n_order ? d->opt->top : d->n_order;
}

/* --- text -------------------------------------------------------------- */

/* Live totals are the estimates (each sampled block weighted), which in
 * full mode are the exact counts. */
static void hd_text_snapshots(const hd_diff *d, FILE *out) {
  fprintf(out, "  %-34s %9s %12s %11s %11s %11s\n", "snapshot", "time",
          "live blocks", "live bytes", "RSS", "RSS - heap");
  for (size_t i = 0; i < d->n_snaps; i++) {
    const hd_snap *s = &d->snaps[i];
    const hs_header *h = s->h;
    char live[32], rss[32], gap[32];
    hd_size(live, sizeof live, s->est_bytes, 0);
    hd_size(rss, sizeof rss, (double)h->rss_bytes, 0);
    hd_size(gap, sizeof gap, (double)h->rss_bytes - s->est_bytes, 0);
    char name[4096]; /* escaped before it is cut: as it is shown */
    hs__tool_safe_copy(name, sizeof name - 4, hs__tool_basename(s->path));
    if (d->opt->width)
      hd_cut_left(name, 34);
    fprintf(out, "  %-34s %+8.1fs %12.0f %11s %11s %11s\n", name,
            (double)(h->time_ns - d->snaps[0].h->time_ns) / 1e9, s->est_blocks,
            live, h->rss_bytes ? rss : "?", h->rss_bytes ? gap : "?");
  }
}

/* Why trends end before the last snapshot (hd_trend_end): it was taken at
 * exit, after the program's destructors, or the last snapshots hold the
 * blocks of an earlier one (an idle program's --at-exit snapshot). */
static void hd_text_trend_end(const hd_diff *d, FILE *out) {
  const size_t m = hd_trend_end(d), n = d->n_snaps, e = hd_trend_exit(d);
  if (m + 1 == n)
    return;
  char last[4096], end[4096];
  hs__tool_safe_copy(last, sizeof last,
                     hs__tool_basename(d->snaps[e ? e : n - 1].path));
  hs__tool_safe_copy(end, sizeof end, hs__tool_basename(d->snaps[m].path));
  if (e)
    fprintf(out,
            "%s was taken at exit, after atexit handlers and static "
            "destructors (what they freed is not in it): trends end at %s; "
            "leave it out to see what grew while the program ran\n",
            last, end);
  else if (n - m > 2)
    fprintf(out,
            "the last %zu snapshots hold the same blocks as %s (nothing kept "
            "or freed since): trends end at it\n",
            n - m - 1, end);
  else
    fprintf(out,
            "%s holds the same blocks as %s (nothing kept or freed since): "
            "trends end at it\n",
            last, end);
}

/* One frame's row from column `col`: its short name and position, and
 * `via` after them when all fit; cut to the width.
 * @return : 1 when `via` was printed. */
static int hd_text_frame(hd_diff *d, FILE *out, uint32_t fid, const hd_frame *f,
                         int first, size_t col, const char *via) {
  char name[4096], tail[4096 + 64];
  int with_via = 0;
  hd_frame_text(d, fid, f, name, sizeof name, tail, sizeof tail / 2);
  if (via &&
      (!d->opt->width ||
       col + hd_cols(name) + hd_cols(tail) + hd_cols(via) <= d->opt->width)) {
    strncat(tail, via, sizeof tail - strlen(tail) - 3);
    with_via = 1;
  }
  hd_fit(name, tail, d->opt->width, col);
  fputs(first ? hd_c(d, HD_BOLD) : hd_c(d, HD_DIM), out);
  hs__tool_put_safe(out, name);
  fputs(hd_c(d, HD_OFF), out);
  hs__tool_put_safe(out, tail);
  fputc('\n', out);
  return with_via;
}

/* "  via std::vector<…>::vector": the runtime function the origin called. */
static void hd_text_via(hd_diff *d, uint32_t fid, const hd_frame *f, char *via,
                        size_t len) {
  char name[4096], tail[4096 + 64];
  hd_frame_text(d, fid, f, name, sizeof name, tail, sizeof tail / 2);
  snprintf(via, len, "  via %s", name);
}

/* The site's frames from the one it is named by (its origin) outward,
 * --stack-depth of them, the first on the site's row (which is at column
 * `col` after `pad` spaces, or on a row of its own when it does not fit),
 * with the runtime function the origin called; --all-frames: from the
 * innermost, runtime frames too. */
static void hd_text_stack(hd_diff *d, FILE *out, const hd_site *s, size_t col,
                          size_t pad) {
  static const char indent[] = "             ";
  const uint32_t width = d->opt->width;
  uint32_t ofid = 0, fid, index = 0, shown = 0;
  const hd_frame *of = NULL, *f;
  const uint32_t origin =
      !s->depth || d->opt->all_frames ? 0 : hd_site_origin(d, s, &ofid, &of);
  char name[4096], tail[4096 + 64];
  size_t need = 24;
  hd_walk w;
  hd_walk_start(&w, d, s);
  if (!of && s->depth) /* --all-frames: the innermost comes first */
    hd_walk_next(&w, &ofid, &of);
  if (of) {
    hd_frame_text(d, ofid, of, name, sizeof name, tail, sizeof tail / 2);
    need = hd_cols(name) + hd_cols(tail);
  }
  if (width && col + 2 + need > width) /* a row of its own */
    fprintf(out, "\n%s", indent), col = sizeof indent - 1;
  else
    fprintf(out, "%*s", (int)pad + 2, ""), col += 2;
  if (!s->depth) {
    fputs("(no stack recorded)\n", out);
    return;
  }
  char via[4096 + 16] = "";
  hd_walk_start(&w, d, s);
  while (shown < d->opt->stack_depth && hd_walk_next(&w, &fid, &f)) {
    if (index + 1 == origin)
      hd_text_via(d, fid, f, via, sizeof via - 2);
    if (index++ < origin)
      continue;
    if (shown++ == 0) {
      if (!hd_text_frame(d, out, fid, f, 1, col, via[0] ? via : NULL) &&
          via[0]) {
        hd_fit(via + 2, (char[3]){""}, width, sizeof indent - 1);
        fprintf(out, "%s%s", indent, hd_c(d, HD_DIM));
        hs__tool_put_safe(out, via + 2);
        fprintf(out, "%s\n", hd_c(d, HD_OFF));
      }
      continue;
    }
    fputs(indent, out);
    hd_text_frame(d, out, fid, f, 0, sizeof indent - 1, NULL);
  }
}

/* "session_get", "  session.c:44" for the frame a site is named by. */
static void hd_text_site_name(hd_diff *d, const hd_site *s, char *name,
                              size_t nlen, char *tail, size_t tlen) {
  uint32_t fid = 0;
  const hd_frame *f = NULL;
  if (!s->depth) {
    snprintf(name, nlen, "(no stack)");
    tail[0] = '\0';
    return;
  }
  hd_site_origin(d, s, &fid, &f);
  hd_frame_text(d, fid, f, name, nlen, tail, tlen);
  char *inl = strstr(tail, "  (inlined)");
  if (inl)
    *inl = '\0';
}

/* Hop `h` of a path, with the pointer that leads on from it: held by the
 * next hop (its incoming pointer), or by the path for the last one. */
static void hd_hop_out(const hd_diff *d, const hd_path *p, const uint32_t *hops,
                       size_t n, size_t h, uint64_t *from, uint64_t *target) {
  const hd_pnode *next = h + 1 < n ? &d->pnodes[hops[h + 1]] : NULL;
  *from = next ? next->from : p->from;
  *target = next ? next->target : p->target;
}

static void hd_text_hop(hd_diff *d, FILE *out, const hd_pnode *n, uint64_t from,
                        uint64_t target, int first) {
  const char *lead = first ? "               " : "               -> ";
  char name[4096], tail[4096 + 128];
  size_t t = 0;
  tail[0] = '\0';
  if (n->is_root) {
    hd_root_name(d, n, from, name, sizeof name - 2);
  } else {
    hd_text_site_name(d, &d->sites[n->what], name, sizeof name, tail, 4096);
    t = strlen(tail);
    if (n->count > 1)
      t += (size_t)snprintf(tail + t, sizeof tail - t, "  (%u in a row)",
                            n->count);
    t += (size_t)snprintf(tail + t, sizeof tail - t, "  at +%" PRIu64, from);
  }
  if (target)
    snprintf(tail + t, sizeof tail - t - 2, ", into +%" PRIu64, target);
  hd_fit(name, tail, d->opt->width, strlen(lead));
  fputs(lead, out);
  hs__tool_put_safe(out, name);
  hs__tool_put_safe(out, tail);
  fputc('\n', out);
}

/* The site's biggest retainer paths, root first. */
static void hd_text_paths(hd_diff *d, FILE *out, const hd_site *s) {
  for (size_t i = 0; i < s->n_paths && i < d->opt->retainers; i++) {
    uint32_t hops[64];
    const size_t n = hd_path_hops(d, s->paths[i].node, hops, 64);
    char bytes[32];
    hd_size(bytes, sizeof bytes, s->paths[i].bytes, 0);
    fprintf(out, "             %sheld: %.0f block%s, %s, by%s\n",
            hd_c(d, HD_BOLD), s->paths[i].blocks,
            s->paths[i].blocks == 1 ? "" : "s", bytes, hd_c(d, HD_OFF));
    for (size_t h = 0; h < n; h++) {
      uint64_t from, target;
      hd_hop_out(d, &s->paths[i], hops, n, h, &from, &target);
      hd_text_hop(d, out, &d->pnodes[hops[h]], from, target, h == 0);
    }
  }
  if (s->n_paths > d->opt->retainers && d->opt->retainers)
    fprintf(out, "             ... %zu more path%s (--retainers N)\n",
            s->n_paths - d->opt->retainers,
            s->n_paths - d->opt->retainers == 1 ? "" : "s");
}

/* The column the stacks start at: `base` plus the lost and retained
 * columns when there are any. */
static size_t hd_text_col(const hd_diff *d, size_t base) {
  return base + (d->scanned ? 12 : 0) + (d->retained_last ? 12 : 0);
}

/* The site's retained bytes in the last snapshot, when it has a graph. */
static void hd_text_retained(const hd_diff *d, FILE *out, const hd_site *s) {
  char buf[32];
  if (!d->retained_last)
    return;
  hd_size(buf, sizeof buf, s->retained[d->n_snaps - 1], 0);
  fprintf(out, "%11s ", buf);
}

static void hd_text_site(hd_diff *d, FILE *out, size_t rank, const hd_site *s) {
  char growth[32], fresh[32], blocks[48], lost[32];
  hd_size(growth, sizeof growth, s->delta_bytes, 1);
  hd_size(fresh, sizeof fresh, s->new_bytes, 0);
  hd_size(lost, sizeof lost, s->unreachable_bytes, 0);
  if (s->unreachable_bytes == 0 && s->unreachable_blocks > 0) /* malloc(0) */
    snprintf(lost, sizeof lost, "%.0f block%s", (double)s->unreachable_blocks,
             s->unreachable_blocks == 1 ? "" : "s");
  snprintf(blocks, sizeof blocks, "%.0f -> %.0f", s->blocks[0],
           s->blocks[d->n_snaps - 1]);
  fprintf(out, "%3zu %s%11s%s %11s ", rank, hd_c(d, HD_RED), growth,
          hd_c(d, HD_OFF), fresh);
  if (d->scanned)
    fprintf(out, "%11s ", lost);
  hd_text_retained(d, out, s);
  fprintf(out, "%19s  %s", blocks, s->trend);
  hd_text_stack(d, out, s, hd_text_col(d, 58),
                strlen(s->trend) < 9 ? 9 - strlen(s->trend) : 0);
  if (d->scanned)
    hd_text_paths(d, out, s);
}

/* "812 B" or, for a malloc(0) leak with no bytes, "3 blocks". */
static void hd_lost_size(char *buf, size_t len, double bytes, double blocks) {
  hd_size(buf, len, bytes, 0);
  if (bytes == 0 && blocks > 0)
    snprintf(buf, len, "%.0f block%s", blocks, blocks == 1 ? "" : "s");
}

/* The growth, then what of the new bytes (allocated after the first
 * snapshot, alive in the last) is lost and what is held; with one
 * snapshot, what it holds and what of that is lost. No rate between two
 * processes or without time between the snapshots. */
static void hd_text_summary(const hd_diff *d, FILE *out) {
  char a[32], b[32], c[32];
  fputs("\n", out);
  fputs(hd_c(d, HD_BOLD), out);
  if (d->n_snaps == 1) {
    hd_size(a, sizeof a, d->total_bytes, 0);
    fprintf(out, "%zu site%s hold%s %s in %.0f block%s", d->n_live_sites,
            d->n_live_sites == 1 ? "" : "s", d->n_live_sites == 1 ? "s" : "", a,
            d->total_blocks, d->total_blocks == 1 ? "" : "s");
    if (d->scanned) {
      hd_lost_size(b, sizeof b, d->total_lost_bytes, d->total_lost_blocks);
      if (d->total_lost_blocks > 0)
        fprintf(out, ": %s of it lost, in %zu site%s", b, d->n_lost_sites,
                d->n_lost_sites == 1 ? "" : "s");
      else
        fputs(": none of it lost", out);
    }
    fprintf(out, "%s\n\n", hd_c(d, HD_OFF));
    return;
  }
  hd_size(a, sizeof a, d->total_growth, 1);
  fprintf(out, "%zu of %zu site%s grew, by %s in all", d->n_growing,
          d->n_live_sites, d->n_live_sites == 1 ? "" : "s", a);
  if (hd_has_rate(d)) {
    hd_size(b, sizeof b, d->total_growth / hd_seconds(d), 1);
    fprintf(out, " (%s/s)", b);
  }
  hd_size(a, sizeof a, d->total_new_bytes, 1);
  fprintf(out, "\n%s new in %zu site%s", a, d->n_new_sites,
          d->n_new_sites == 1 ? "" : "s");
  if (d->scanned) {
    hd_lost_size(b, sizeof b, d->total_new_lost_bytes,
                 d->total_new_lost_blocks);
    hd_size(c, sizeof c, d->total_new_bytes - d->total_new_lost_bytes, 0);
    fprintf(out, ": %s of it lost, %s held", b, c);
  }
  fprintf(out, "%s\n\n", hd_c(d, HD_OFF));
}

/* The site table's first column heads: "#", two numbers, "lost". */
static void hd_text_columns(const hd_diff *d, FILE *out, const char *a,
                            const char *b) {
  fprintf(out, "%3s %11s %11s ", "#", a, b);
  if (d->scanned)
    fprintf(out, "%11s ", "lost");
  if (d->retained_last)
    fprintf(out, "%11s ", "retained");
}

/* One snapshot, or --lost: the sites by what the last snapshot holds (or
 * has lost), with their stacks and retainers. */
static void hd_text_list(hd_diff *d, FILE *out) {
  const size_t shown = hd_shown(d, 0), k = d->n_snaps - 1;
  if (d->opt->lost_only && !d->n_order) {
    fputs("no lost blocks in the last snapshot\n", out);
    return;
  }
  if (!d->n_order)
    return;
  hd_text_columns(d, out, "bytes", "blocks");
  fprintf(out, " %-9s  %s\n", "trend", "allocated at");
  for (size_t i = 0; i < shown; i++) {
    const hd_site *s = &d->sites[d->order[i]];
    char bytes[32], lost[32];
    hd_size(bytes, sizeof bytes, s->bytes[k], 0);
    hd_lost_size(lost, sizeof lost, s->unreachable_bytes,
                 s->unreachable_blocks);
    fprintf(out, "%3zu %11s %11.0f ", i + 1, bytes, s->blocks[k]);
    if (d->scanned)
      fprintf(out, "%s%11s%s ", hd_c(d, s->unreachable_blocks ? HD_RED : ""),
              lost, hd_c(d, s->unreachable_blocks ? HD_OFF : ""));
    hd_text_retained(d, out, s);
    fprintf(out, " %s", s->trend);
    hd_text_stack(d, out, s, hd_text_col(d, 38),
                  strlen(s->trend) < 9 ? 9 - strlen(s->trend) : 0);
    if (d->scanned)
      hd_text_paths(d, out, s);
  }
  if (shown < d->n_order)
    fprintf(out, "... and %zu more %ssites (--top N, --all)\n",
            d->n_order - shown, d->opt->lost_only ? "losing " : "");
}

/* One root's line: "global g_sessions (server)  retains 48.1 MiB (+32.0
 * MiB) in 2000 blocks", then the sites it retains most growth of. */
static void hd_text_holder(hd_diff *d, FILE *out, const hd_root *r) {
  const size_t l = d->n_snaps - 1;
  char name[4096], kept[32], grew[32], tail[128];
  hd_root_label(d, r, name, sizeof name);
  hd_size(kept, sizeof kept, r->bytes[l], 0);
  hd_size(grew, sizeof grew, r->delta_bytes, 1);
  snprintf(tail, sizeof tail, "  retains %s%s%s%s in %.0f block%s", kept,
           d->n_snaps > 1 ? " (" : "", d->n_snaps > 1 ? grew : "",
           d->n_snaps > 1 ? ")" : "", r->blocks[l],
           r->blocks[l] == 1 ? "" : "s");
  /* cut in the middle: the end tells roots of a kind apart (a thread's
   * id, a global's offset) */
  const size_t width = d->opt->width, nt = hd_cols(tail);
  if (width && 2 + hd_cols(name) + nt > width)
    hd_cut_middle(name, width > 2 + nt + 12 ? width - 2 - nt : 12);
  hd_fit(name, tail, d->opt->width, 2);
  fputs("  ", out);
  hs__tool_put_safe(out, name);
  hs__tool_put_safe(out, tail);
  fputc('\n', out);
  for (uint32_t i = 0; i < r->rs_count && i < 3; i++) {
    const hd_rsite *rs = &d->rsites[r->rs_first + i];
    const double v = d->n_snaps > 1 ? rs->last - rs->first : rs->last;
    if (v <= 0)
      break;
    char size[32], site[4096], where[4096 + 8];
    hd_size(size, sizeof size, v, d->n_snaps > 1);
    hd_text_site_name(d, &d->sites[rs->site], site, sizeof site, where,
                      sizeof where);
    hd_fit(site, where, d->opt->width, 17);
    fprintf(out, "    %11s  ", size);
    hs__tool_put_safe(out, site);
    hs__tool_put_safe(out, where);
    fputc('\n', out);
  }
}

/* What holds the growth: the roots whose retained size grew most (with
 * one snapshot: that retain most), each with the sites it retains. */
static void hd_text_holders(hd_diff *d, FILE *out) {
  const size_t l = d->n_snaps - 1;
  size_t shown = 0;
  for (size_t i = 0; i < d->n_roots && shown < 5; i++) {
    const hd_root *r = &d->roots[d->root_order[i]];
    const double v = d->n_snaps > 1 ? r->delta_bytes : r->bytes[l];
    if (!(v > 0))
      continue;
    if (!shown++)
      fprintf(out,
              "\n%swhat holds the %s%s (retained: what would be freed "
              "if that root let go)\n",
              hd_c(d, HD_BOLD), d->n_snaps > 1 ? "growth" : "heap",
              hd_c(d, HD_OFF));
    hd_text_holder(d, out, r);
  }
}

/* "3 snapshots of EXE (pid N), 2.0 s from first to last", the program's
 * path cut from the left (its name is at the end) to fit the width; the
 * last snapshot's program named too when it is another (--force). */
static void hd_text_title(const hd_diff *d, FILE *out) {
  char head[32], exe[4 * 4096 + 8], other[41], tail[128];
  snprintf(head, sizeof head, "%zu snapshot%s of ", d->n_snaps,
           d->n_snaps == 1 ? "" : "s");
  /* escaped before they are cut: as they are shown */
  hs__tool_safe_copy(exe, sizeof exe - 4,
                     d->snaps[0].h->exe[0] ? d->snaps[0].h->exe : "?");
  const hs_header *last = d->snaps[d->n_snaps - 1].h;
  hs__tool_safe_copy(other, sizeof other, hs__tool_basename(last->exe));
  const int pid0 = d->snaps[0].h->pid, pid1 = last->pid;
  int n;
  if (strcmp(d->snaps[0].h->exe, last->exe)) /* --force: another program */
    n = snprintf(tail, sizeof tail, " (pid %d), then of %s (pid %d)", pid0,
                 other, pid1);
  else if (pid0 != pid1)
    n = snprintf(tail, sizeof tail, " (pid %d, then pid %d)", pid0, pid1);
  else
    n = snprintf(tail, sizeof tail, " (pid %d)", pid0);
  if (d->n_snaps > 1)
    snprintf(tail + n, sizeof tail - (size_t)n, ", %.1f s from first to last",
             hd_seconds(d));
  const size_t fixed = hd_cols(head) + hd_cols(tail), width = d->opt->width;
  if (width)
    hd_cut_left(exe, width > fixed + 12 ? width - fixed : 12);
  fputs(head, out);
  fputs(exe, out);
  fputs(tail, out);
  fputc('\n', out);
}

/* The last snapshot's scan note; when it has none and was not scanned,
 * why (a snapshot written with HEAPSNAP_SCAN=0 carries no note). */
static const char *hd_scan_note(const hd_diff *d) {
  const hs_header *last = d->snaps[d->n_snaps - 1].h;
  if (last->scan_note[0] || d->scanned)
    return last->scan_note;
  return d->sampled ? "sampled snapshots have none"
                    : "not scanned (HEAPSNAP_SCAN=0)";
}

/* A process attached to (`heapsnap attach`): its snapshots know nothing
 * of what it allocated before. */
static void hd_text_attached(const hd_diff *d, FILE *out) {
  const hs_header *h = d->snaps[0].h;
  if (!(h->flags & HS_SNAP_ATTACHED))
    return;
  char when[32] = "?";
  const time_t t = (time_t)(h->start_ns / 1000000000u);
  struct tm tm;
  if (gmtime_r(&t, &tm))
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(out,
          "tracking since attach (%s): blocks allocated before it are not "
          "counted\n",
          when);
}

/* The line on the last snapshot's scan: its note (the snapshot's own
 * text, so shown safe), or that registers were scanned too. */
static void hd_text_scan(const hd_diff *d, FILE *out) {
  const hs_header *last = d->snaps[d->n_snaps - 1].h;
  if (d->scanned && !last->scan_note[0]) {
    if (last->flags & HS_SNAP_REGISTERS)
      fputs("reachability: every thread stopped, registers scanned "
            "(HEAPSNAP_SCAN_REGISTERS=1)\n",
            out);
    return;
  }
  fputs(d->scanned ? "reachability: "
                   : "no reachability in the last snapshot: ",
        out);
  hs__tool_put_safe(out, hd_scan_note(d));
  fputc('\n', out);
}

void hd_report_text(hd_diff *d, FILE *out) {
  hd_text_title(d, out);
  hd_text_attached(d, out);
  if (d->sampled)
    fprintf(out,
            "sampled (mean gap %" PRIu64 " bytes): numbers are "
            "estimates\n",
            d->snaps[0].h->sample_bytes);
  hd_text_snapshots(d, out);
  hd_text_trend_end(d, out);
  hd_text_scan(d, out);
  uint32_t mods[16];
  const char *why[16];
  const size_t nmods = hd_unsymbolized(d, hd_shown(d, 0), mods, why, 16);
  for (size_t i = 0; i < nmods; i++)
    hd_symbols_put_missing(out, d->module_paths[mods[i]], why[i]);
  hd_text_summary(d, out);
  if (hd_list_mode(d)) {
    hd_text_list(d, out);
    if (!d->opt->lost_only) /* lost blocks have no retainers */
      hd_text_holders(d, out);
    return;
  }
  if (!d->n_growing)
    return;
  hd_text_columns(d, out, "growth", "new");
  fprintf(out, "%19s  %-9s  %s\n", "blocks", "trend", "allocated at");
  const size_t shown = hd_shown(d, 0);
  for (size_t i = 0; i < shown; i++)
    hd_text_site(d, out, i + 1, &d->sites[d->order[i]]);
  if (shown < d->n_growing)
    fprintf(out, "... and %zu more growing sites (--top N, --all)\n",
            d->n_growing - shown);
  hd_text_holders(d, out);
}

/* --- JSON ---------------------------------------------------------------- */

void hd_json_str(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

static void hd_json_numbers(FILE *out, const double *v, size_t n) {
  fputc('[', out);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "%s%.0f", i ? ", " : "", v[i]);
  fputc(']', out);
}

static void hd_json_snapshot(const hd_snap *s, FILE *out, int last) {
  const hs_header *h = s->h;
  fputs("    {\"path\": ", out);
  hd_json_str(out, s->path);
  fprintf(out,
          ", \"pid\": %d, \"number\": %u, \"time\": %.6f, "
          "\"live_blocks\": %" PRIu64 ", \"live_bytes\": %" PRIu64
          ", \"estimated_blocks\": %.0f, \"estimated_bytes\": %.0f"
          ", \"rss\": %" PRIu64 ", \"epoch\": %u, \"trigger\": ",
          h->pid, h->number, (double)h->time_ns / 1e9, h->live_blocks,
          h->live_bytes, s->est_blocks, s->est_bytes, h->rss_bytes, h->epoch);
  hd_json_str(out, h->trigger);
  fputs(", \"exe\": ", out);
  hd_json_str(out, h->exe);
  fprintf(out, ", \"repeat\": %s", s->repeat ? "true" : "false");
  fputs(last ? "}\n" : "},\n", out);
}

static void hd_json_frame(hd_diff *d, FILE *out, uint32_t fid,
                          const hd_frame *f, int first) {
  const hd_frame_key *k = &d->frames[fid];
  fputs(first ? "\n        {" : ",\n        {", out);
  fputs("\"function\": ", out);
  hd_json_str(out, f->function);
  fputs(", \"short_function\": ", out);
  if (f->function) {
    char name[4096];
    hd_name_simplify(f->function, name, sizeof name);
    hd_json_str(out, name);
  } else {
    fputs("null", out);
  }
  fputs(", \"file\": ", out);
  hd_json_str(out, f->file);
  fprintf(out, ", \"line\": %u, \"module\": ", f->line);
  hd_json_str(out, hd_frame_module(d, fid));
  fprintf(out,
          ", \"offset\": %" PRIu64 ", \"address\": %" PRIu64
          ", \"inlined\": %s}",
          k->offset, k->address, /* offset: the raw address in no module */
          f->inlined ? "true" : "false");
}

static void hd_json_stack(hd_diff *d, FILE *out, const hd_site *s) {
  fputc('[', out);
  int first = 1;
  uint32_t fid;
  const hd_frame *f;
  hd_walk w;
  hd_walk_start(&w, d, s);
  while (hd_walk_next(&w, &fid, &f))
    hd_json_frame(d, out, fid, f, first), first = 0;
  fputc(']', out);
}

static void hd_json_root(hd_diff *d, FILE *out, const hd_pnode *n,
                         uint64_t from, uint64_t target) {
  hd_root_desc rd;
  hd_root_describe(d, n->what, from, &rd);
  const hs_root *r = rd.root;
  if (r->kind == HS_ROOT_GLOBAL) {
    fputs("{\"kind\": \"global\", \"symbol\": ", out);
    hd_json_str(out, rd.symbol);
    fprintf(out,
            ", \"symbol_offset\": %" PRIu64 ", \"module\": ", rd.symbol_offset);
    hd_json_str(out, rd.module->path);
    fprintf(out, ", \"offset\": %" PRIu64, rd.offset);
  } else if (r->kind == HS_ROOT_MAPPING) {
    fprintf(out,
            "{\"kind\": \"mapping\", \"start\": %" PRIu64 ", \"end\": %" PRIu64
            ", \"name\": ",
            r->start, r->end);
    hd_json_str(out, r->name);
  } else {
    fprintf(out, "{\"kind\": \"%s\", \"tid\": %d, \"name\": ",
            r->kind == HS_ROOT_THREAD     ? "thread"
            : r->kind == HS_ROOT_REGISTER ? "register"
                                          : "thread-start",
            r->tid);
    hd_json_str(out, r->name);
    if (r->kind == HS_ROOT_REGISTER) {
      char reg[32];
      fputs(", \"register\": ", out);
      hd_json_str(out, hd_register_name(r, from, reg, sizeof reg));
    }
  }
  fprintf(out, ", \"target_offset\": %" PRIu64 "}", target);
}

static void hd_json_hop(hd_diff *d, FILE *out, const hd_pnode *n, uint64_t from,
                        uint64_t target) {
  if (n->is_root) {
    hd_json_root(d, out, n, from, target);
    return;
  }
  const hd_site *s = &d->sites[n->what];
  const hd_frame *f = NULL;
  if (s->depth)
    hd_frame_symbols(d, s->frames[0], &f);
  fputs("{\"kind\": \"block\", \"function\": ", out);
  hd_json_str(out, f ? f->function : NULL);
  fputs(", \"file\": ", out);
  hd_json_str(out, f ? f->file : NULL);
  fprintf(out, ", \"line\": %u, \"stack\": ", f ? f->line : 0);
  hd_json_stack(d, out, s);
  uint32_t ofid;
  const hd_frame *of;
  fprintf(out,
          ", \"origin\": %u, \"offset\": %" PRIu64
          ", \"target_offset\": %" PRIu64 ", \"count\": %u}",
          hd_site_origin(d, s, &ofid, &of), from, target, n->count);
}

static void hd_json_retainers(hd_diff *d, FILE *out, const hd_site *s) {
  if (!d->scanned) {
    fputs(",\n     \"unreachable_blocks\": null, \"unreachable_bytes\": "
          "null, \"new_unreachable_blocks\": null, "
          "\"new_unreachable_bytes\": null, \"retainers\": []",
          out);
    return;
  }
  fprintf(out,
          ",\n     \"unreachable_blocks\": %.0f, \"unreachable_bytes\": %.0f, "
          "\"new_unreachable_blocks\": %.0f, \"new_unreachable_bytes\": %.0f, "
          "\"retainers\": [",
          s->unreachable_blocks, s->unreachable_bytes,
          s->new_unreachable_blocks, s->new_unreachable_bytes);
  for (size_t i = 0; i < s->n_paths && i < d->opt->retainers; i++) {
    uint32_t hops[64];
    const size_t n = hd_path_hops(d, s->paths[i].node, hops, 64);
    fprintf(out, "%s\n       {\"blocks\": %.0f, \"bytes\": %.0f, \"path\": [",
            i ? "," : "", s->paths[i].blocks, s->paths[i].bytes);
    for (size_t h = 0; h < n; h++) {
      uint64_t from, target;
      hd_hop_out(d, &s->paths[i], hops, n, h, &from, &target);
      fputs(h ? ",\n          " : "\n          ", out);
      hd_json_hop(d, out, &d->pnodes[hops[h]], from, target);
    }
    fputs("]}", out);
  }
  fputc(']', out);
}

/* A number, or null for NAN (no figure: a snapshot without its graph). */
static void hd_json_maybe(FILE *out, double v) {
  if (isnan(v))
    fputs("null", out);
  else
    fprintf(out, "%.0f", v);
}

static void hd_json_maybe_numbers(FILE *out, const double *v, size_t n) {
  fputc('[', out);
  for (size_t i = 0; i < n; i++) {
    if (i)
      fputs(", ", out);
    hd_json_maybe(out, v ? v[i] : NAN);
  }
  fputc(']', out);
}

static void hd_json_site(hd_diff *d, FILE *out, const hd_site *s, int last) {
  const double secs = hd_seconds(d);
  uint32_t fid;
  const hd_frame *f;
  fputs("    {\"stack\": ", out);
  hd_json_stack(d, out, s);
  fprintf(out, ",\n     \"origin\": %u, \"blocks\": ",
          hd_site_origin(d, s, &fid, &f));
  hd_json_numbers(out, s->blocks, d->n_snaps);
  fputs(", \"bytes\": ", out);
  hd_json_numbers(out, s->bytes, d->n_snaps);
  fprintf(out,
          ",\n     \"delta_blocks\": %.0f, \"delta_bytes\": %.0f, "
          "\"new_blocks\": %.0f, \"new_bytes\": %.0f, \"trend\": \"%s\", "
          "\"bytes_per_second\": ",
          s->delta_blocks, s->delta_bytes, s->new_blocks, s->new_bytes,
          s->trend);
  if (hd_has_rate(d))
    fprintf(out, "%.1f", s->delta_bytes / secs);
  else
    fputs("null", out);
  fputs(",\n     \"retained_bytes\": ", out);
  hd_json_maybe_numbers(out, s->retained, d->n_snaps);
  fputs(", \"delta_retained_bytes\": ", out);
  hd_json_maybe(out, s->delta_retained);
  hd_json_retainers(d, out, s);
  fprintf(out, "}%s\n", last ? "" : ",");
}

/* What one root retains by site: the site's origin frame and the bytes
 * of its blocks the root dominates in the first and the last snapshot. */
static void hd_json_root_sites(hd_diff *d, FILE *out, const hd_root *r) {
  fputs(", \"sites\": [", out);
  for (uint32_t i = 0; i < r->rs_count; i++) {
    const hd_rsite *rs = &d->rsites[r->rs_first + i];
    const hd_site *s = &d->sites[rs->site];
    uint32_t fid;
    const hd_frame *f = NULL;
    if (s->depth)
      hd_site_origin(d, s, &fid, &f);
    fputs(i ? ",\n       {\"function\": " : "\n       {\"function\": ", out);
    hd_json_str(out, f ? f->function : NULL);
    fputs(", \"file\": ", out);
    hd_json_str(out, f ? f->file : NULL);
    fprintf(out, ", \"line\": %u, \"first_bytes\": %.0f, \"last_bytes\": %.0f}",
            f ? f->line : 0, rs->first, rs->last);
  }
  fputc(']', out);
}

/* A root with what it retains (docs/json.md, roots[]): the fields of its
 * kind as retainer hops have them. */
static void hd_json_retaining_root(hd_diff *d, FILE *out, const hd_root *r,
                                   int first) {
  static const char *const kinds[] = {"?",       "global",   "thread",
                                      "mapping", "register", "thread-start"};
  fprintf(out, "%s\n    {\"kind\": \"%s\"", first ? "" : ",",
          kinds[r->kind <= HS_ROOT_START ? r->kind : 0]);
  if (r->kind == HS_ROOT_GLOBAL) {
    fputs(", \"symbol\": ", out);
    hd_json_str(out, r->symbol);
    fputs(", \"module\": ", out);
    hd_json_str(out, d->module_paths[r->module]);
    fprintf(out, ", \"offset\": %" PRIu64, r->offset);
  } else if (r->kind == HS_ROOT_MAPPING) {
    fprintf(out, ", \"start\": %" PRIu64 ", \"end\": %" PRIu64, r->start,
            r->end);
  } else {
    fprintf(out, ", \"tid\": %d", r->tid);
  }
  if (r->kind != HS_ROOT_GLOBAL) {
    fputs(", \"name\": ", out);
    hd_json_str(out, r->name);
  }
  fputs(",\n     \"retained_bytes\": ", out);
  hd_json_maybe_numbers(out, r->bytes, d->n_snaps);
  fputs(", \"retained_blocks\": ", out);
  hd_json_maybe_numbers(out, r->blocks, d->n_snaps);
  fputs(", \"delta_retained_bytes\": ", out);
  hd_json_maybe(out, r->delta_bytes);
  hd_json_root_sites(d, out, r);
  fputc('}', out);
}

/* The leak check's top-level fields: what sites[] lists, what the last
 * snapshot holds and has lost, the new bytes, --fail-over-lost. */
static void hd_json_check(const hd_diff *d, FILE *out) {
  fprintf(out,
          "  \"listed\": \"%s\",\n  \"total_bytes\": %.0f,\n"
          "  \"total_blocks\": %.0f,\n  \"total_new_bytes\": %.0f,\n",
          d->opt->lost_only ? "lost"
          : d->n_snaps == 1 ? "live"
                            : "growing",
          d->total_bytes, d->total_blocks, d->total_new_bytes);
  if (d->scanned)
    fprintf(out,
            "  \"total_lost_blocks\": %.0f,\n  \"total_lost_bytes\": %.0f,\n"
            "  \"total_new_lost_bytes\": %.0f,\n",
            d->total_lost_blocks, d->total_lost_bytes, d->total_new_lost_bytes);
  else
    fputs("  \"total_lost_blocks\": null,\n  \"total_lost_bytes\": null,\n"
          "  \"total_new_lost_bytes\": null,\n",
          out);
  if (d->opt->have_lost_gate)
    fprintf(out,
            "  \"fail_over_lost\": %" PRIu64 ",\n"
            "  \"lost_gate_exceeded\": %s,\n",
            d->opt->fail_over_lost, hd_check_lost_over(d) ? "true" : "false");
}

void hd_json_unsymbolized(hd_diff *d, FILE *out, size_t shown) {
  uint32_t mods[64];
  const char *why[64];
  const size_t nmods = hd_unsymbolized(d, shown, mods, why, 64);
  fputs("\"modules_without_symbols\": [", out);
  for (size_t i = 0; i < nmods; i++) {
    fputs(i ? ", {\"path\": " : "{\"path\": ", out);
    hd_json_str(out, d->module_paths[mods[i]]);
    fputs(", \"why\": ", out);
    hd_json_str(out, why[i]);
    fputc('}', out);
  }
  fputc(']', out);
}

void hd_report_json(hd_diff *d, FILE *out) {
  const size_t shown = hd_shown(d, 1);
  fputs("{\n  \"schema\": 1,\n  \"snapshots\": [\n", out);
  for (size_t i = 0; i < d->n_snaps; i++)
    hd_json_snapshot(&d->snaps[i], out, i + 1 == d->n_snaps);
  fprintf(out,
          "  ],\n  \"scanned\": %s,\n  \"registers_scanned\": %s,\n"
          "  \"scan_note\": ",
          d->scanned ? "true" : "false",
          d->scanned && (d->snaps[d->n_snaps - 1].h->flags & HS_SNAP_REGISTERS)
              ? "true"
              : "false");
  hd_json_str(out, hd_scan_note(d));
  fprintf(out, ",\n  \"attached\": %s",
          d->snaps[0].h->flags & HS_SNAP_ATTACHED ? "true" : "false");
  fprintf(out, ",\n  \"sampled\": %s,\n  \"group_by\": \"%s\",\n",
          d->sampled ? "true" : "false",
          (const char *[]){"stack", "function", "line"}[d->opt->group_by]);
  fprintf(out, "  \"trend_end\": %zu,\n", hd_trend_end(d));
  fprintf(out,
          "  \"seconds\": %.6f,\n  \"total_growth_bytes\": %.0f,\n"
          "  \"growing_sites\": %zu,\n  \"sites_total\": %zu,\n",
          hd_seconds(d), d->total_growth, d->n_growing, d->n_live_sites);
  hd_json_check(d, out);
  if (d->opt->have_gate)
    fprintf(out, "  \"fail_over\": %" PRIu64 ",\n  \"gate_exceeded\": %s,\n",
            d->opt->fail_over,
            d->total_growth > (double)d->opt->fail_over ? "true" : "false");
  fputs("  ", out);
  hd_json_unsymbolized(d, out, shown);
  fputs(",\n  \"sites\": [\n", out);
  for (size_t i = 0; i < shown; i++)
    hd_json_site(d, out, &d->sites[d->order[i]], i + 1 == shown);
  fputs("  ],\n  \"roots\": [", out);
  for (size_t i = 0; i < d->n_roots; i++)
    hd_json_retaining_root(d, out, &d->roots[d->root_order[i]], i == 0);
  fputs(d->n_roots ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* --- folded ------------------------------------------------------------- */

/* Folded names may not hold ';' (the separator) or a line break, nor
 * other control characters. */
static void hd_folded_text(FILE *out, const char *s) {
  for (const char *p = s; *p; p++)
    fputc(*p == ';'                                ? ':'
          : (unsigned char)*p < 0x20 || *p == 0x7f ? ' '
                                                   : *p,
          out);
}

/* A function's name, or module+offset: a module's file name is the
 * program's to choose, ';' and line breaks included. */
static void hd_folded_name(hd_diff *d, FILE *out, uint32_t fid,
                           const hd_frame *f) {
  if (!f->function) {
    hd_folded_text(out, hs__tool_basename(hd_frame_module(d, fid)));
    fprintf(out, "+%#" PRIx64, d->frames[fid].offset);
    return;
  }
  hd_folded_text(out, f->function);
}

/* The growth; in list mode what the last snapshot holds, or has lost. */
static double hd_folded_value(const hd_diff *d, const hd_site *s) {
  if (!hd_list_mode(d))
    return s->delta_bytes;
  return d->opt->lost_only ? s->unreachable_bytes : s->bytes[d->n_snaps - 1];
}

/* One site's stack as a folded line's names, root first. */
static void hd_folded_stack(hd_diff *d, FILE *out, const hd_site *s) {
  int first = 1;
  for (uint32_t k = s->depth; k-- > 0;) {
    const hd_frame *f;
    const size_t n = hd_frame_symbols(d, s->frames[k], &f);
    for (size_t j = n; j-- > 0; first = 0) {
      fputs(first ? "" : ";", out);
      hd_folded_name(d, out, s->frames[k], &f[j]);
    }
  }
  if (first)
    fputs("(no stack)", out);
}

typedef struct hd_folded_line {
  char *stack;
  double value;
} hd_folded_line;

static int hd_folded_eq(const void *ctx, uint32_t id, const void *key) {
  return strcmp(((const hd_folded_line *)ctx)[id].stack, key) == 0;
}

/* Root first, as flamegraph.pl expects; the value is the growth, or in
 * list mode (one snapshot, --lost) the bytes held, or lost. Sites whose
 * names fold alike (two lines of one function: folded names carry no
 * line) make one line, their values summed, where the first came. */
void hd_report_folded(hd_diff *d, FILE *out) {
  const size_t shown = hd_shown(d, 1);
  hd_folded_line *lines = calloc(shown + 1, sizeof *lines);
  hd_map *seen = hd_map_create();
  size_t n = 0, i = 0;
  for (; lines && seen && i < shown; i++) {
    const hd_site *s = &d->sites[d->order[i]];
    size_t len = 0;
    char *text = NULL;
    FILE *m = open_memstream(&text, &len);
    if (!m)
      break;
    hd_folded_stack(d, m, s);
    if (fclose(m))
      break;
    const uint64_t h = hd_hash(0, text, len);
    const uint32_t at = hd_map_find(seen, h, hd_folded_eq, lines, text);
    if (at != UINT32_MAX) {
      lines[at].value += hd_folded_value(d, s);
      free(text);
    } else if (hd_map_put(seen, h, (uint32_t)n) == 0) {
      lines[n++] = (hd_folded_line){text, hd_folded_value(d, s)};
    } else {
      free(text);
      break;
    }
  }
  for (size_t k = 0; k < n; k++) {
    fprintf(out, "%s %.0f\n", lines[k].stack, lines[k].value);
    free(lines[k].stack);
  }
  for (; i < shown; i++) { /* out of memory: the rest as they come */
    hd_folded_stack(d, out, &d->sites[d->order[i]]);
    fprintf(out, " %.0f\n", hd_folded_value(d, &d->sites[d->order[i]]));
  }
  free(lines);
  hd_map_free(seen);
}
