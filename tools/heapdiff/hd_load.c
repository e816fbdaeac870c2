/* hd_load.c - opening the snapshots heapdiff compares: each must read
 * cleanly, all must come from one program (unless --force), and they are
 * put in time order (saying so when they were not given in it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd.h"
#include "hs_tool.h"

static const hs_module *hd_main_module(const hs_snapshot *s) {
  for (size_t i = 0; i < hs_snapshot_module_count(s); i++)
    if (hs_snapshot_module(s, i)->flags & HS_MODULE_MAIN)
      return hs_snapshot_module(s, i);
  return NULL;
}

/* Same executable path, and same build id of the main module when both
 * recorded one: a rebuilt binary is another program. */
static int hd_same_program(const hd_snap *a, const hd_snap *b) {
  if (strcmp(a->h->exe, b->h->exe) != 0)
    return 0;
  const hs_module *ma = hd_main_module(a->snap), *mb = hd_main_module(b->snap);
  if (!ma || !mb || !ma->build_id_len || !mb->build_id_len)
    return 1;
  return ma->build_id_len == mb->build_id_len &&
         memcmp(ma->build_id, mb->build_id, ma->build_id_len) == 0;
}

/* One snapshot to read. A pipe (`/dev/stdin`, `<(...)`) or a FIFO can be
 * read only once: it is read whole when its header is wanted. A regular
 * file is peeked at, closed, and opened again when its turn comes, no
 * descriptor held in between (thousands of interval snapshots would pass
 * the limit on open files); it must then be the same file, unchanged.
 * The order to read them in: by time, then number. */
typedef struct hd_peek {
  hs_header h;
  char *path;
  struct stat st;    /* which file it is, and its size and time */
  hs_snapshot *snap; /* a pipe's or a FIFO's, read whole */
} hd_peek;

static int hd_cmp_time(const void *x, const void *y) {
  const hs_header *a = &((const hd_peek *)x)->h, *b = &((const hd_peek *)y)->h;
  if (a->time_ns != b->time_ns)
    return a->time_ns < b->time_ns ? -1 : 1;
  return a->number < b->number ? -1 : a->number > b->number;
}

int hd_same_process(const hs_header *a, const hs_header *b) {
  return a->pid == b->pid && a->start_ns == b->start_ns;
}

/* One file given twice (or a copy of one snapshot) would compare a
 * snapshot with itself. */
static int hd_check_distinct(const hd_peek *p, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      const hd_peek *a = &p[j], *b = &p[i];
      const int same_file =
          a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino;
      if (!same_file &&
          !(hd_same_process(&a->h, &b->h) && a->h.number == b->h.number &&
            a->h.time_ns == b->h.time_ns))
        continue;
      hs__tool_error(NULL, "%s: the same snapshot as %s; give each once",
                     b->path, a->path);
      return HS_EINVAL;
    }
  return 0;
}

/* Opens p->path once: a regular file's header alone; anything else read
 * whole now. */
static int hd_peek_one(hd_peek *p) {
  int fd = -1;
  int rc = hs_snapshot_open_file(p->path, &fd);
  if (!rc && fstat(fd, &p->st) != 0)
    rc = -errno;
  if (!rc && S_ISREG(p->st.st_mode))
    rc = hs_snapshot_peek_header_fd(fd, &p->h);
  else if (!rc && (rc = hs_snapshot_open_fd(fd, &p->snap)) == 0)
    p->h = *hs_snapshot_header(p->snap);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* The snapshots in time order, from each file's header alone (the user is
 * told when the order they gave was not it), and paths[] in that order:
 * snapshots are then read one at a time, oldest first, each done with
 * before the next is read. */
static int hd_order(hd_peek *p, char **paths, size_t n) {
  int rc = 0, sorted = 1, by_name = 1;
  for (size_t i = 0; i < n; i++)
    p[i] = (hd_peek){.path = paths[i]};
  for (size_t i = 0; !rc && i < n; i++) {
    rc = hd_peek_one(&p[i]);
    if (rc)
      hs__tool_error(NULL, "%s: %s", paths[i], hs_strerror(rc));
    else if (i > 0) {
      sorted &= hd_cmp_time(&p[i - 1], &p[i]) <= 0;
      by_name &= strcmp(paths[i - 1], paths[i]) <= 0;
    }
  }
  if (!rc)
    rc = hd_check_distinct(p, n);
  if (!rc && !sorted) {
    qsort(p, n, sizeof *p, hd_cmp_time);
    for (size_t i = 0; i < n; i++)
      paths[i] = p[i].path;
    /* Files given in the order of their names are a shell glob's, which
     * puts prog.PID.10.snap before prog.PID.9.snap: no order was meant. */
    if (!by_name)
      hs__tool_note("note: the snapshots were not given in time order; "
                    "compared oldest first");
  }
  return rc;
}

/* Whether a and b are the same file, as it was: a file replaced or
 * rewritten between the peek and the read is not. */
static int hd_same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
         a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The snapshot p stands for: taken over when read whole, else the
 * regular file opened again (-ESTALE when it changed meanwhile). */
static int hd_read(hd_peek *p, hs_snapshot **out) {
  *out = p->snap;
  p->snap = NULL;
  if (*out)
    return 0;
  int fd = -1;
  struct stat now;
  int rc = hs_snapshot_open_file(p->path, &fd);
  if (!rc && fstat(fd, &now) != 0)
    rc = -errno;
  if (!rc)
    rc = hd_same_file(&p->st, &now) ? hs_snapshot_open_fd(fd, out) : -ESTALE;
  if (fd >= 0)
    close(fd);
  return rc;
}

static void hd_peeks_free(hd_peek *p, size_t n) {
  for (size_t i = 0; p && i < n; i++)
    hs_snapshot_free(p[i].snap);
  free(p);
}

static int hd_open(hd_diff *d, size_t k, hd_peek *p) {
  hd_snap *s = &d->snaps[k];
  const int rc = hd_read(p, &s->snap);
  if (rc == -ESTALE)
    hs__tool_error(NULL,
                   "%s: changed since heapdiff first read it (replaced or "
                   "written to meanwhile); run it again",
                   p->path);
  else if (rc)
    hs__tool_error(NULL, "%s: %s", p->path, hs_strerror(rc));
  if (rc)
    return rc;
  s->path = p->path;
  s->h = hs_snapshot_header(s->snap);
  d->sampled |= (s->h->flags & HS_SNAP_SAMPLED) != 0;
  return 0;
}

static int hd_check_program(const hd_diff *d, size_t i) {
  if (i == 0 || hd_same_program(&d->snaps[0], &d->snaps[i]) || d->opt->force)
    return 0;
  hs__tool_error(NULL,
                 "%s: a snapshot of %s, but %s is of %s%s; use --force to "
                 "compare them anyway",
                 d->snaps[i].path, d->snaps[i].h->exe, d->snaps[0].path,
                 d->snaps[0].h->exe,
                 strcmp(d->snaps[i].h->exe, d->snaps[0].h->exe) == 0
                     ? " (another build)"
                     : "");
  return HS_EINVAL;
}

/* " (DIR/NAME.PID.*.snap)" when path is named as the shim names a snapshot
 * of pid (NAME.PID.N.snap): the files of that process, which a glob of a
 * folder that two runs wrote into mixes with another's; "" otherwise. */
static const char *hd_process_glob(const char *path, int pid, char *out,
                                   size_t len) {
  char tail[32];
  const size_t n = strlen(path);
  const char *const base = hs__tool_basename(path);
  const char *p =
      n > 5 && strcmp(path + n - 5, ".snap") == 0 ? path + n - 5 : NULL;
  while (p && p > base && p[-1] >= '0' && p[-1] <= '9')
    p--; /* the snapshot's number */
  snprintf(tail, sizeof tail, ".%d.", pid);
  const size_t t = strlen(tail);
  if (!p || p[0] == '.' || (size_t)(p - base) <= t ||
      memcmp(p - t, tail, t) != 0 || (size_t)(p - path) + 16 > len)
    return "";
  snprintf(out, len, " (%.*s*.snap)", (int)(p - path), path);
  return out;
}

/* Epochs and the rate mean something within one process only: snapshots
 * of two processes of one program are compared with --force alone. */
static int hd_check_process(const hd_diff *d, size_t i) {
  const hs_header *a = d->snaps[0].h, *b = d->snaps[i].h;
  if (i == 0 || d->opt->force || hd_same_process(a, b))
    return 0;
  if (a->pid == b->pid && ((a->flags | b->flags) & HS_SNAP_ATTACHED)) {
    /* one process, tracked twice: epochs and block ages restart */
    hs__tool_error(NULL,
                   "%s: pid %d tracked since another attach than %s's "
                   "(detached and attached again); use --force to compare "
                   "them anyway",
                   d->snaps[i].path, b->pid, d->snaps[0].path);
    return HS_EINVAL;
  }
  char glob[4096 + 16];
  hs__tool_error(NULL,
                 "%s: a snapshot of pid %d, but %s is of pid %d (another "
                 "process of %s); give one process's snapshots%s, or use "
                 "--force to compare them anyway",
                 d->snaps[i].path, b->pid, d->snaps[0].path, a->pid, a->exe,
                 hd_process_glob(d->snaps[0].path, a->pid, glob, sizeof glob));
  return HS_EINVAL;
}

static int hd_kind(const char *path) {
  const char *base = hs__tool_basename(path);
  if (strncmp(base, "libheapsnap", 11) == 0 &&
      (base[11] == '.' || base[11] == '-')) /* also libheapsnap-attach.so */
    return HD_KIND_SHIM;
  if (strncmp(base, "libc.so", 7) == 0)
    return HD_KIND_LIBC;
  if (strncmp(base, "libjemalloc.so", 14) == 0)
    return HD_KIND_JEMALLOC;
  return HD_KIND_CODE;
}

/* Every module of every snapshot gets a symbolizer handle; the same file
 * in two snapshots shares one. */
static int hd_register_modules(hd_diff *d, hd_snap *s) {
  int rc = d->sym ? 0 : hd_symbolizer_create(&d->opt->sym, &d->sym);
  const size_t nm = hs_snapshot_module_count(s->snap);
  s->module_handle = rc ? NULL : calloc(nm + 1, sizeof *s->module_handle);
  if (!rc && !s->module_handle)
    return HS_ENOMEM;
  for (size_t j = 0; !rc && j < nm; j++) {
    const hs_module *m = hs_snapshot_module(s->snap, j);
    uint32_t h;
    rc = hd_symbolizer_add_module(d->sym, m, &h);
    if (rc)
      break;
    s->module_handle[j] = h;
    if (h >= d->n_modules) {
      const char **p = realloc(d->module_paths, (h + 1) * sizeof *p);
      uint8_t *k = p ? realloc(d->module_kind, h + 1) : NULL;
      if (p)
        d->module_paths = p;
      if (!k)
        return HS_ENOMEM;
      d->module_kind = k;
      for (size_t x = d->n_modules; x <= h; x++)
        d->module_paths[x] = m->path,
        d->module_kind[x] = (uint8_t)hd_kind(m->path);
      d->n_modules = h + 1;
    }
  }
  return rc;
}

/* Snapshot k: read, checked against the earlier ones, summed; then its
 * blocks are dropped unless it is the last (whose blocks the reachability
 * report needs), so memory holds one snapshot's blocks at a time. */
static int hd_load_one(hd_diff *d, size_t k, hd_peek *p, int last) {
  int rc = hd_open(d, k, p);
  if (!rc)
    rc = hd_check_program(d, k);
  if (!rc)
    rc = hd_check_process(d, k);
  if (!rc)
    rc = hd_register_modules(d, &d->snaps[k]);
  if (!rc)
    rc = hd_sites_snapshot(d, k);
  if (!rc)
    rc = hd_retain_snapshot(d, k);
  if (!rc && !last)
    hs_snapshot_drop_blocks(d->snaps[k].snap);
  return rc;
}

int hd_load(hd_diff *d, char **paths, size_t n) {
  d->snaps = calloc(n, sizeof *d->snaps);
  hd_peek *const p = calloc(n + 1, sizeof *p);
  if (!d->snaps || !p) {
    free(p);
    return HS_ENOMEM;
  }
  int rc = hd_order(p, paths, n);
  /* the site arrays are sized for every snapshot from the first */
  d->n_snaps = n;
  for (size_t k = 0; !rc && k < n; k++)
    rc = hd_load_one(d, k, &p[k], k + 1 == n);
  hd_peeks_free(p, n);
  return rc;
}

void hd_diff_free(hd_diff *d) {
  hd_reach_free(d);
  hd_retain_free(d);
  for (size_t i = 0; i < d->n_snaps; i++) {
    hs_snapshot_free(d->snaps[i].snap);
    free(d->snaps[i].module_handle);
    free(d->snaps[i].stack_site);
  }
  for (size_t i = 0; i < d->n_sites; i++) {
    free(d->sites[i].frames);
    free(d->sites[i].blocks);
    free(d->sites[i].bytes);
    free(d->sites[i].retained);
  }
  free(d->snaps);
  free(d->sites);
  free(d->frames);
  free(d->frame_alloc);
  free(d->order);
  free(d->page);
  free(d->module_paths);
  free(d->module_kind);
  hd_map_free(d->frame_index);
  hd_map_free(d->site_index);
  hd_map_free(d->name_index);
  hd_symbolizer_free(d->sym);
}
