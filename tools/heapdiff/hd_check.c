/* hd_check.c - the leak check: what the last snapshot holds and what of it
 * is lost. With one snapshot (an at-exit snapshot, say) or with --lost the
 * report lists sites by what they hold rather than by growth; the totals
 * here feed the summary line, the JSON and --fail-over-lost. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>

#include "hd.h"
#include "hs_tool.h"

int hd_list_mode(const hd_diff *d) {
  return d->n_snaps == 1 || d->opt->lost_only;
}

int hd_has_rate(const hd_diff *d) {
  const hs_header *a = d->snaps[0].h, *b = d->snaps[d->n_snaps - 1].h;
  return hd_same_process(a, b) && b->time_ns > a->time_ns;
}

int hd_check_list(hd_diff *d) {
  if (!hd_list_mode(d))
    return 0;
  const size_t last = d->n_snaps - 1;
  d->n_order = 0;
  for (uint32_t i = 0; i < d->n_sites; i++)
    if (d->sites[i].blocks[last] > 0)
      d->order[d->n_order++] = i;
  return 0;
}

/* Most bytes first (lost bytes under --lost), then blocks, then the
 * site's index: the same order every run. */
static int hd_cmp_held(const void *x, const void *y, void *ctx) {
  const hd_diff *d = ctx;
  const uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
  const hd_site *a = &d->sites[i], *b = &d->sites[j];
  const size_t k = d->n_snaps - 1;
  const int lost = d->opt->lost_only;
  const double ab = lost ? a->unreachable_bytes : a->bytes[k];
  const double bb = lost ? b->unreachable_bytes : b->bytes[k];
  const double an = lost ? a->unreachable_blocks : a->blocks[k];
  const double bn = lost ? b->unreachable_blocks : b->blocks[k];
  if (ab != bb)
    return ab > bb ? -1 : 1;
  if (an != bn)
    return an > bn ? -1 : 1;
  return i < j ? -1 : 1;
}

static void hd_check_totals(hd_diff *d) {
  const size_t k = d->n_snaps - 1;
  for (size_t i = 0; i < d->n_sites; i++) {
    const hd_site *s = &d->sites[i];
    d->total_bytes += s->bytes[k];
    d->total_blocks += s->blocks[k];
    d->total_lost_blocks += s->unreachable_blocks;
    d->total_lost_bytes += s->unreachable_bytes;
    d->total_new_bytes += s->new_bytes;
    d->total_new_lost_bytes += s->new_unreachable_bytes;
    d->total_new_lost_blocks += s->new_unreachable_blocks;
    d->n_new_sites += s->new_blocks > 0;
    d->n_lost_sites += s->unreachable_blocks > 0;
  }
}

int hd_check_finish(hd_diff *d) {
  hd_check_totals(d);
  if ((d->opt->have_lost_gate || d->opt->lost_only) && !d->scanned) {
    const hd_snap *s = &d->snaps[d->n_snaps - 1];
    hs__tool_error(NULL, "%s: no reachability scan (%s): %s needs one", s->path,
                   s->h->scan_note[0] ? s->h->scan_note
                   : d->sampled       ? "a sampled snapshot"
                                      : "not scanned, HEAPSNAP_SCAN=0",
                   d->opt->have_lost_gate ? "--fail-over-lost" : "--lost");
    return HS_EINVAL;
  }
  if (!hd_list_mode(d))
    return 0;
  if (d->opt->lost_only) {
    size_t n = 0;
    for (size_t i = 0; i < d->n_order; i++)
      if (d->sites[d->order[i]].unreachable_blocks > 0)
        d->order[n++] = d->order[i];
    d->n_order = n;
  }
  qsort_r(d->order, d->n_order, sizeof *d->order, hd_cmp_held, d);
  return 0;
}

int hd_check_lost_over(const hd_diff *d) {
  if (!d->opt->have_lost_gate || !d->scanned)
    return 0;
  if (d->opt->fail_over_lost == 0) /* any lost block, malloc(0) ones too */
    return d->total_lost_blocks > 0;
  return d->total_lost_bytes > (double)d->opt->fail_over_lost;
}
