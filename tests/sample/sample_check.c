/* sample_check - compares a sampled snapshot's estimates with a full
 * snapshot's truth, site by site.
 *
 * usage: sample_check FULL.snap SAMPLED.snap TOLERANCE
 *        sample_check --same SAMPLED.snap SAMPLED.snap
 * Each snapshot has its <path>.sites (sample_gen's site ranges and what it
 * left live at each). The full snapshot must hold exactly that. In the
 * sampled one each block of size s stands for 1/p blocks, p = 1 -
 * exp(-s/R) (R: the header's sample_bytes), and the estimated blocks and
 * bytes per site must be within TOLERANCE (a fraction) of the truth. Also:
 * the headers say which is sampled, with R, and that a sample is not
 * scanned. --same: two sampled runs of one seed recorded the same blocks
 * (as many, as big) at every site. Prints a table; exits 1 on any
 * failure, 2 on bad input. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_snapshot.h"

#define MAX_SITES 16

typedef struct site {
  char name[64];
  uint64_t lo, hi, blocks, bytes;
  double est_blocks, est_bytes; /* from the snapshot */
  uint64_t recorded;            /* blocks in the snapshot */
} site;

static int read_sites(const char *snap, site *s, size_t *n) {
  char path[4200], line[512];
  snprintf(path, sizeof path, "%s.sites", snap);
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return -1;
  }
  *n = 0;
  while (fgets(line, sizeof line, f) && *n < MAX_SITES) {
    site *x = &s[*n];
    memset(x, 0, sizeof *x);
    if (sscanf(line, "site %63s %" SCNx64 " %" SCNx64 " %" SCNu64 " %" SCNu64,
               x->name, &x->lo, &x->hi, &x->blocks, &x->bytes) == 5)
      (*n)++;
  }
  fclose(f);
  return *n ? 0 : -1;
}

/* A return address points past its call: the call is at ra - 1. */
static int in_site(const hs_snapshot *snap, uint32_t stack, const site *x) {
  const hs_stack st = hs_snapshot_stack(snap, stack);
  for (uint32_t i = 0; i < st.depth; i++)
    if (st.frames[i] - 1 >= x->lo && st.frames[i] - 1 < x->hi)
      return 1;
  return 0;
}

static void count(const hs_snapshot *snap, site *s, size_t n) {
  const hs_header *h = hs_snapshot_header(snap);
  const hs_block *b = hs_snapshot_blocks(snap);
  for (size_t i = 0; i < hs_snapshot_block_count(snap); i++) {
    double w = 1.0;
    if ((h->flags & HS_SNAP_SAMPLED) && h->sample_bytes)
      w = 1.0 / -expm1(-(double)b[i].size / (double)h->sample_bytes);
    for (size_t k = 0; k < n; k++)
      if (in_site(snap, b[i].stack, &s[k])) {
        s[k].recorded++;
        s[k].est_blocks += w;
        s[k].est_bytes += w * (double)b[i].size;
      }
  }
}

static int open_with_sites(const char *path, hs_snapshot **snap, site *s,
                           size_t *n) {
  const int rc = hs_snapshot_open(path, snap);
  if (rc) {
    fprintf(stderr, "sample_check: %s: %s\n", path, hs_strerror(rc));
    return -1;
  }
  if (read_sites(path, s, n))
    return -1;
  count(*snap, s, *n);
  return 0;
}

static int check_headers(const hs_header *full, const hs_header *smp) {
  int bad = 0;
  if (full->flags & HS_SNAP_SAMPLED)
    bad++, printf("FAIL the full snapshot says it is sampled\n");
  if (!(smp->flags & HS_SNAP_SAMPLED) || smp->sample_bytes == 0)
    bad++, printf("FAIL the sampled snapshot does not say so\n");
  if (smp->flags & HS_SNAP_SCANNED)
    bad++, printf("FAIL the sampled snapshot has a reachability scan\n");
  if (!strstr(smp->scan_note, "sampling"))
    bad++, printf("FAIL scan note \"%s\" does not name sampling\n",
                  smp->scan_note);
  printf("%s headers: sampled with R = %" PRIu64 ", scan note \"%s\"\n",
         bad ? "FAIL" : "ok", smp->sample_bytes, smp->scan_note);
  return bad;
}

static double rel(double est, uint64_t truth) {
  return truth ? fabs(est - (double)truth) / (double)truth : fabs(est);
}

/* Two runs with one seed: the same sample, site by site. */
static int check_same(const char *a, const char *b) {
  hs_snapshot *x, *y;
  site xs[MAX_SITES], ys[MAX_SITES];
  size_t nx, ny;
  if (open_with_sites(a, &x, xs, &nx) || open_with_sites(b, &y, ys, &ny) ||
      nx != ny)
    return 2;
  int bad = 0;
  for (size_t k = 0; k < nx; k++) {
    const int ok =
        xs[k].recorded == ys[k].recorded && xs[k].est_bytes == ys[k].est_bytes;
    bad += !ok;
    printf("%s %s: %" PRIu64 " and %" PRIu64 " blocks sampled\n",
           ok ? "ok  " : "FAIL", xs[k].name, xs[k].recorded, ys[k].recorded);
  }
  hs_snapshot_free(x);
  hs_snapshot_free(y);
  return bad ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--same") == 0)
    return check_same(argv[2], argv[3]);
  if (argc != 4) {
    fprintf(stderr, "usage: sample_check FULL.snap SAMPLED.snap TOLERANCE\n"
                    "       sample_check --same SAMPLED.snap SAMPLED.snap\n");
    return 2;
  }
  const double tol = strtod(argv[3], NULL);
  hs_snapshot *full, *smp;
  site fs[MAX_SITES], ss[MAX_SITES];
  size_t nf, ns;
  if (open_with_sites(argv[1], &full, fs, &nf) ||
      open_with_sites(argv[2], &smp, ss, &ns) || nf != ns)
    return 2;
  int bad = check_headers(hs_snapshot_header(full), hs_snapshot_header(smp));
  printf("%-13s %9s %9s %11s %7s %12s %12s %7s\n", "site", "sampled", "blocks",
         "estimate", "error", "bytes", "estimate", "error");
  for (size_t k = 0; k < nf; k++) {
    const site *f = &fs[k], *s = &ss[k];
    /* the truth: the full snapshot holds exactly what the program left */
    const int exact = f->recorded == f->blocks &&
                      (uint64_t)f->est_bytes == f->bytes &&
                      strcmp(f->name, s->name) == 0;
    const double eb = rel(s->est_blocks, f->recorded);
    const double ey = rel(s->est_bytes, (uint64_t)f->est_bytes);
    const int ok = exact && eb <= tol && ey <= tol && s->recorded > 0;
    bad += !ok;
    printf("%s %-10s %9" PRIu64 " %9" PRIu64 " %11.0f %6.2f%% %12.0f %12.0f "
           "%6.2f%%%s\n",
           ok ? "ok  " : "FAIL", f->name, s->recorded, f->recorded,
           s->est_blocks, 100 * eb, f->est_bytes, s->est_bytes, 100 * ey,
           exact ? "" : " (full snapshot != program's count)");
  }
  hs_snapshot_free(full);
  hs_snapshot_free(smp);
  return bad ? 1 : 0;
}
