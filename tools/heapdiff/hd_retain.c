/* hd_retain.c - retained sizes: what each root and each site keeps alive,
 * from each snapshot's dominator tree (docs/heapdiff.md, "Retained sizes").
 *
 * A snapshot with its heap graph (GRPH) has every pointer the scan
 * followed. The roots, named as retainer paths name them (one node per
 * global symbol, per thread's stack, per mapping...), hang from one virtual
 * root; node x dominates node y when every path from the virtual root to y
 * goes through x. A block's retained size is the bytes of the blocks it
 * dominates, itself included: what would be freed if the one pointer to it
 * went. The dominator tree comes from semi-NCA (Lengauer-Tarjan's
 * semidominators, then each immediate dominator as the nearest common
 * ancestor in the DFS tree: Georgiadis' thesis, as LLVM does it), near
 * linear in the graph. Each snapshot is worked out on its own and leaves
 * only per-site and per-root totals, so memory is one snapshot's graph. */
#define _GNU_SOURCE /* qsort_r */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hd.h"
#include "hd_short.h"
#include "hs_tool.h"

/* --- roots, the same in every snapshot ------------------------------------ */

typedef struct hd_rkey {
  uint32_t kind, module; /* module: a global's symbolizer handle */
  int32_t tid;
  uint64_t offset;  /* global: its symbol's (or segment's) module offset */
  const char *name; /* mapping: its name */
} hd_rkey;

static int hd_root_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_root *r = &((const hd_diff *)ctx)->roots[id];
  const hd_rkey *k = key;
  return r->kind == k->kind && r->module == k->module && r->tid == k->tid &&
         r->offset == k->offset &&
         (!k->name || (r->name && !strcmp(r->name, k->name)));
}

static uint64_t hd_rkey_hash(const hd_rkey *k) {
  const uint64_t v[4] = {k->kind, k->module, (uint32_t)k->tid, k->offset};
  const uint64_t h = hd_hash(0, v, sizeof v);
  return k->name ? hd_hash(h, k->name, strlen(k->name)) : h;
}

/* A new root: retains nothing in each snapshot with a graph, and has no
 * figure in the others. */
static uint32_t hd_root_new(hd_diff *d, const hd_rkey *k, const hs_root *r,
                            const char *symbol) {
  if (hd_grow(&d->roots, &d->cap_roots, d->n_roots, sizeof *d->roots, 64))
    return UINT32_MAX;
  hd_root *n = &d->roots[d->n_roots];
  *n = (hd_root){k->kind, k->module, symbol, k->offset, k->tid, NULL, r->start,
                 r->end,  NULL,      NULL,   NAN,       0,      0};
  n->name = strdup(r->name ? r->name : "");
  n->bytes = malloc(2 * d->n_snaps * sizeof *n->bytes);
  if (!n->name || !n->bytes) {
    free(n->name);
    free(n->bytes);
    return UINT32_MAX;
  }
  n->blocks = n->bytes + d->n_snaps;
  for (size_t j = 0; j < d->n_snaps; j++) /* 0 where a graph: the build */
    n->bytes[j] = n->blocks[j] = NAN;
  const uint32_t id = (uint32_t)d->n_roots++;
  return hd_map_put(d->root_index, hd_rkey_hash(k), id) ? UINT32_MAX : id;
}

/* The root that the pointer at `from` in root `index` of snapshot k
 * belongs to: a global's by its data symbol. */
static uint32_t hd_root_id(hd_diff *d, size_t k, uint32_t index,
                           uint64_t from) {
  hd_root_desc rd;
  hd_root_describe_in(d, k, index, from, &rd);
  const hs_root *r = rd.root;
  hd_rkey key = {r->kind, 0, 0, 0, NULL};
  if (r->kind == HS_ROOT_GLOBAL) {
    key.module = d->snaps[k].module_handle[r->module];
    key.offset =
        rd.symbol ? rd.offset - rd.symbol_offset : r->start - rd.module->bias;
  } else if (r->kind == HS_ROOT_MAPPING) {
    key.offset = r->start;
    key.name = r->name ? r->name : "";
  } else {
    key.tid = r->tid;
  }
  const uint32_t id =
      hd_map_find(d->root_index, hd_rkey_hash(&key), hd_root_eq, d, &key);
  return id != UINT32_MAX ? id : hd_root_new(d, &key, r, rd.symbol);
}

/* --- one snapshot's dominator tree -----------------------------------------
 */

/* Nodes: 0 the virtual root, 1..L the roots met in this snapshot, then
 * L + 1 + b for block b. Arrays by DFS preorder number (from 1) once the
 * DFS has run. */
typedef struct hd_dom {
  hd_diff *d;
  size_t k; /* the snapshot */
  const hs_snapshot *snap;
  const hs_block *blocks;
  size_t n, L, V, N; /* blocks, roots, nodes, nodes reached */
  uint32_t *root_of; /* per local root: its hd_root id */
  uint32_t *rfirst;  /* local root r's blocks: rblock[rfirst[r] .. */
  uint32_t *rblock;  /* rfirst[r + 1]) */
  uint32_t *dfn;     /* node -> preorder, 0 not reached; later scratch */
  uint32_t *vertex;  /* preorder -> node */
  uint32_t *parent;  /* preorder -> its DFS parent's */
  uint32_t *semi, *label, *anc; /* anc ends as the immediate dominator */
  uint32_t *pfirst, *pred;      /* predecessors, by preorder */
} hd_dom;

static void hd_dom_free(hd_dom *m) {
  free(m->root_of);
  free(m->rfirst);
  free(m->rblock);
  free(m->dfn);
  free(m->vertex);
  free(m->parent);
  free(m->semi);
  free(m->label);
  free(m->anc);
  free(m->pfirst);
  free(m->pred);
  memset(m, 0, sizeof *m);
}

/* Node v's successors: *base + list[i] for i < the count returned; the
 * virtual root's are 1..L (list NULL). */
static size_t hd_succ(const hd_dom *m, uint32_t v, const uint32_t **list,
                      uint32_t *base) {
  *base = (uint32_t)m->L + 1;
  if (v == 0) {
    *list = NULL;
    *base = 1;
    return m->L;
  }
  if (v <= m->L) {
    *list = m->rblock + m->rfirst[v];
    return m->rfirst[v + 1] - m->rfirst[v];
  }
  return hs_snapshot_edges(m->snap, v - m->L - 1, list);
}

static uint32_t hd_succ_at(const uint32_t *list, uint32_t base, size_t i) {
  return base + (list ? list[i] : (uint32_t)i);
}

/* The roots of this snapshot, one node per hd_root, and their blocks. */
static int hd_dom_roots(hd_dom *m) {
  size_t n_edges;
  const hs_root_edge *e = hs_snapshot_root_edges(m->snap, &n_edges);
  uint32_t *local = malloc((m->d->n_roots + n_edges + 1) * sizeof *local);
  uint32_t *edge_root = malloc((n_edges + 1) * sizeof *edge_root);
  m->root_of = malloc((n_edges + 1) * sizeof *m->root_of);
  int rc = local && edge_root && m->root_of ? 0 : HS_ENOMEM;
  for (size_t i = 0; !rc && i < m->d->n_roots + n_edges; i++)
    local[i] = UINT32_MAX;
  for (size_t i = 0; !rc && i < n_edges; i++) {
    /* consecutive pointers of one root range mostly share a symbol */
    const uint32_t id = hd_root_id(m->d, m->k, e[i].root, e[i].from);
    if (id == UINT32_MAX) {
      rc = HS_ENOMEM;
      break;
    }
    if (local[id] == UINT32_MAX) {
      local[id] = (uint32_t)++m->L;
      m->root_of[m->L - 1] = id;
    }
    edge_root[i] = local[id];
  }
  m->rfirst = calloc(m->L + 2, sizeof *m->rfirst);
  m->rblock = malloc((n_edges + 1) * sizeof *m->rblock);
  rc = rc ? rc : m->rfirst && m->rblock ? 0 : HS_ENOMEM;
  /* counting sort: rfirst[r] counts, then ends, then (filled from the
   * back) starts; root r's blocks are rblock[rfirst[r] .. rfirst[r + 1]) */
  for (size_t i = 0; !rc && i < n_edges; i++)
    m->rfirst[edge_root[i]]++;
  for (size_t r = 1; !rc && r <= m->L + 1; r++)
    m->rfirst[r] += m->rfirst[r - 1];
  for (size_t i = n_edges; !rc && i-- > 0;)
    m->rblock[--m->rfirst[edge_root[i]]] = e[i].block;
  free(local);
  free(edge_root);
  return rc;
}

/* Preorder numbers from the virtual root, without recursion: semi and
 * label hold the stack of nodes and their next successor meanwhile. */
static void hd_dom_dfs(hd_dom *m) {
  uint32_t *const stk = m->semi, *const pos = m->label;
  size_t sp = 0;
  m->N = 0;
  m->dfn[0] = (uint32_t)++m->N;
  m->vertex[m->N] = 0;
  m->parent[m->N] = 0;
  stk[sp] = 0, pos[sp++] = 0;
  while (sp) {
    const uint32_t v = stk[sp - 1];
    const uint32_t *list;
    uint32_t base;
    const size_t cnt = hd_succ(m, v, &list, &base);
    if (pos[sp - 1] == cnt) {
      sp--;
      continue;
    }
    const uint32_t w = hd_succ_at(list, base, pos[sp - 1]++);
    if (m->dfn[w])
      continue;
    m->dfn[w] = (uint32_t)++m->N;
    m->vertex[m->N] = w;
    m->parent[m->N] = m->dfn[v];
    stk[sp] = w, pos[sp++] = 0;
  }
}

/* Each reached node's predecessors among reached nodes, by preorder. */
static int hd_dom_preds(hd_dom *m) {
  m->pfirst = calloc(m->N + 2, sizeof *m->pfirst);
  if (!m->pfirst)
    return HS_ENOMEM;
  size_t total = 0;
  for (size_t i = 1; i <= m->N; i++) {
    const uint32_t *list;
    uint32_t base;
    const size_t cnt = hd_succ(m, m->vertex[i], &list, &base);
    for (size_t j = 0; j < cnt; j++)
      m->pfirst[m->dfn[hd_succ_at(list, base, j)] + 1]++;
    total += cnt;
  }
  for (size_t i = 1; i <= m->N + 1; i++)
    m->pfirst[i] += m->pfirst[i - 1];
  m->pred = malloc((total + 1) * sizeof *m->pred);
  if (!m->pred)
    return HS_ENOMEM;
  for (size_t i = 1; i <= m->N; i++) {
    const uint32_t *list;
    uint32_t base;
    const size_t cnt = hd_succ(m, m->vertex[i], &list, &base);
    for (size_t j = 0; j < cnt; j++)
      m->pred[m->pfirst[m->dfn[hd_succ_at(list, base, j)]]++] = (uint32_t)i;
  }
  for (size_t i = m->N + 1; i > 0; i--) /* the fill moved each start on */
    m->pfirst[i] = m->pfirst[i - 1];
  m->pfirst[0] = 0;
  return 0;
}

/* Lengauer-Tarjan's eval with path compression, without recursion (a
 * 10M-block list is a 10M-deep path): the node of least semidominator on
 * v's path up the linked forest. `stk` has room for N nodes. */
static uint32_t hd_eval(hd_dom *m, uint32_t v, uint32_t *stk) {
  uint32_t *const anc = m->anc, *const label = m->label;
  if (!anc[v])
    return v;
  size_t n = 0;
  for (uint32_t x = v; anc[anc[x]]; x = anc[x])
    stk[n++] = x;
  while (n) {
    const uint32_t y = stk[--n], a = anc[y];
    if (m->semi[label[a]] < m->semi[label[y]])
      label[y] = label[a];
    anc[y] = anc[a];
  }
  return label[v];
}

/* Semidominators, then immediate dominators (semi-NCA) into anc. */
static void hd_dom_idom(hd_dom *m) {
  uint32_t *const stk = m->dfn; /* not needed by preorder any more */
  for (uint32_t i = 1; i <= m->N; i++)
    m->semi[i] = m->label[i] = i, m->anc[i] = 0;
  for (uint32_t w = (uint32_t)m->N; w >= 2; w--) {
    for (uint32_t j = m->pfirst[w]; j < m->pfirst[w + 1]; j++) {
      const uint32_t u = hd_eval(m, m->pred[j], stk);
      if (m->semi[u] < m->semi[w])
        m->semi[w] = m->semi[u];
    }
    m->anc[w] = m->parent[w]; /* link */
  }
  m->anc[1] = 0;
  for (uint32_t i = 2; i <= m->N; i++) {
    uint32_t x = m->parent[i];
    while (x > m->semi[i])
      x = m->anc[x];
    m->anc[i] = x;
  }
}

/* --- what each snapshot adds up to ------------------------------------------
 */

/* Per (root, site): the bytes of the site's blocks the root dominates, in
 * the first and the last snapshot. */
typedef struct hd_rskey {
  uint32_t root, site;
} hd_rskey;

static int hd_rsite_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_rsite *r = &((const hd_diff *)ctx)->rsites[id];
  const hd_rskey *k = key;
  return r->root == k->root && r->site == k->site;
}

static int hd_rsite_add(hd_diff *d, uint32_t root, uint32_t site, int last,
                        double bytes) {
  const hd_rskey key = {root, site};
  const uint64_t h = hd_hash(0, &key, sizeof key);
  uint32_t id = hd_map_find(d->rsite_index, h, hd_rsite_eq, d, &key);
  if (id == UINT32_MAX) {
    if (hd_grow(&d->rsites, &d->cap_rsites, d->n_rsites, sizeof *d->rsites, 64))
      return HS_ENOMEM;
    id = (uint32_t)d->n_rsites++;
    d->rsites[id] = (hd_rsite){root, site, 0, 0};
    if (hd_map_put(d->rsite_index, h, id))
      return HS_ENOMEM;
  }
  if (last)
    d->rsites[id].last += bytes;
  else
    d->rsites[id].first += bytes;
  return 0;
}

typedef struct hd_sums {
  uint64_t *bytes;  /* per preorder: retained bytes */
  uint32_t *blocks; /* and blocks */
  uint32_t *top;    /* per preorder: the root node (child of the virtual */
                    /* root) above it */
} hd_sums;

static uint32_t hd_site_at(const hd_dom *m, uint32_t i) {
  const uint32_t v = m->vertex[i];
  if (v <= m->L)
    return UINT32_MAX;
  return m->d->snaps[m->k].stack_site[m->blocks[v - m->L - 1].stack];
}

/* Subtree sums, bottom up: a node's immediate dominator precedes it. */
static void hd_dom_sums(hd_dom *m, hd_sums *s) {
  for (uint32_t i = 1; i <= m->N; i++) {
    const uint32_t v = m->vertex[i];
    s->bytes[i] = v > m->L ? m->blocks[v - m->L - 1].size : 0;
    s->blocks[i] = v > m->L;
    s->top[i] = i == 1 || m->anc[i] == 1 ? i : s->top[m->anc[i]];
  }
  for (uint32_t i = (uint32_t)m->N; i >= 2; i--) {
    s->bytes[m->anc[i]] += s->bytes[i];
    s->blocks[m->anc[i]] += s->blocks[i];
  }
}

/* A site's retained size sums its blocks that no block of the same site
 * dominates: a walk of the dominator tree keeps, per site, how many of the
 * current node's dominators are of that site. Children lists by counting;
 * the walk's stack reuses parent and semi. */
/* What one root dominates, by site: summed in a dense array while the
 * walk is inside the root's subtree (which it visits in one piece), then
 * added to the (root, site) entries once per site. */
typedef struct hd_acc {
  double *bytes; /* per site */
  uint8_t *in;   /* per site: in touched */
  uint32_t *touched, n;
} hd_acc;

static int hd_acc_flush(hd_diff *d, hd_acc *a, uint32_t root, int last) {
  int rc = 0;
  for (uint32_t i = 0; i < a->n; i++) {
    const uint32_t site = a->touched[i];
    if (!rc)
      rc = hd_rsite_add(d, root, site, last, a->bytes[site]);
    a->bytes[site] = 0;
    a->in[site] = 0;
  }
  a->n = 0;
  return rc;
}

static void hd_acc_add(hd_acc *a, uint32_t site, uint64_t size) {
  if (!a->in[site])
    a->in[site] = 1, a->touched[a->n++] = site;
  a->bytes[site] += (double)size;
}

/* Children lists of the dominator tree, by counting. */
static int hd_dom_children(const hd_dom *m, uint32_t **cfirst,
                           uint32_t **child) {
  *cfirst = calloc(m->N + 2, sizeof **cfirst);
  *child = malloc((m->N + 1) * sizeof **child);
  if (!*cfirst || !*child)
    return HS_ENOMEM;
  uint32_t *const f = *cfirst, *const c = *child;
  for (uint32_t i = 2; i <= m->N; i++)
    f[m->anc[i] + 1]++;
  for (size_t i = 1; i <= m->N + 1; i++)
    f[i] += f[i - 1];
  for (uint32_t i = 2; i <= m->N; i++)
    c[f[m->anc[i]]++] = i;
  for (size_t i = m->N + 1; i > 0; i--)
    f[i] = f[i - 1];
  f[0] = 0;
  return 0;
}

static int hd_dom_sites(hd_dom *m, const hd_sums *s, int first, int last) {
  hd_diff *const d = m->d;
  uint32_t *cfirst = NULL, *child = NULL;
  uint32_t *active = calloc(d->n_sites + 1, sizeof *active);
  hd_acc acc = {calloc(d->n_sites + 1, sizeof *acc.bytes),
                calloc(d->n_sites + 1, 1),
                malloc((d->n_sites + 1) * sizeof *acc.touched), 0};
  int rc = hd_dom_children(m, &cfirst, &child);
  rc = rc ? rc : active && acc.bytes && acc.in && acc.touched ? 0 : HS_ENOMEM;
  uint32_t *const stk = m->parent, *const pos = m->semi;
  size_t sp = 0;
  if (!rc)
    stk[sp] = 1, pos[sp++] = cfirst[1];
  while (!rc && sp) {
    const uint32_t v = stk[sp - 1];
    if (pos[sp - 1] == cfirst[v + 1]) {
      const uint32_t site = hd_site_at(m, v);
      if (site != UINT32_MAX)
        active[site]--;
      else if (v != 1 && (first || last)) /* a root's subtree is done */
        rc = hd_acc_flush(d, &acc, m->root_of[m->vertex[v] - 1], last);
      sp--;
      continue;
    }
    const uint32_t w = child[pos[sp - 1]++];
    const uint32_t site = hd_site_at(m, w);
    if (site != UINT32_MAX) {
      if (!active[site]++)
        d->sites[site].retained[m->k] += (double)s->bytes[w];
      if ((first || last) && m->vertex[s->top[w]] <= m->L)
        hd_acc_add(&acc, site, m->blocks[m->vertex[w] - m->L - 1].size);
    }
    stk[sp] = w, pos[sp++] = cfirst[w];
  }
  free(cfirst);
  free(child);
  free(active);
  free(acc.bytes);
  free(acc.in);
  free(acc.touched);
  return rc;
}

static int hd_dom_totals(hd_dom *m) {
  hd_sums s = {malloc((m->N + 1) * sizeof *s.bytes),
               malloc((m->N + 1) * sizeof *s.blocks),
               malloc((m->N + 1) * sizeof *s.top)};
  int rc = s.bytes && s.blocks && s.top ? 0 : HS_ENOMEM;
  if (!rc) {
    hd_dom_sums(m, &s);
    for (uint32_t i = 2; i <= m->N; i++)
      if (m->vertex[i] <= m->L) {
        hd_root *r = &m->d->roots[m->root_of[m->vertex[i] - 1]];
        r->bytes[m->k] = (double)s.bytes[i];
        r->blocks[m->k] = s.blocks[i];
      }
    rc = hd_dom_sites(m, &s, m->k == 0, m->k + 1 == m->d->n_snaps);
  }
  free(s.bytes);
  free(s.blocks);
  free(s.top);
  return rc;
}

static int hd_dom_snapshot(hd_diff *d, size_t k) {
  hd_dom m = {.d = d, .k = k, .snap = d->snaps[k].snap};
  m.blocks = hs_snapshot_blocks(m.snap);
  m.n = hs_snapshot_block_count(m.snap);
  int rc = hd_dom_roots(&m);
  m.V = m.n + m.L + 1;
  if (!rc) {
    m.dfn = calloc(m.V + 1, sizeof *m.dfn);
    m.vertex = malloc((m.V + 1) * sizeof *m.vertex);
    m.parent = malloc((m.V + 1) * sizeof *m.parent);
    m.semi = malloc((m.V + 1) * sizeof *m.semi);
    m.label = malloc((m.V + 1) * sizeof *m.label);
    rc = m.dfn && m.vertex && m.parent && m.semi && m.label ? 0 : HS_ENOMEM;
  }
  if (!rc) {
    hd_dom_dfs(&m);
    rc = hd_dom_preds(&m);
  }
  if (!rc) {
    m.anc = malloc((m.N + 1) * sizeof *m.anc);
    rc = m.anc ? 0 : HS_ENOMEM;
  }
  if (!rc) {
    hd_dom_idom(&m);
    free(m.pred), m.pred = NULL;
    free(m.pfirst), m.pfirst = NULL;
    rc = hd_dom_totals(&m);
  }
  hd_dom_free(&m);
  return rc;
}

/* --- the diff's view
 * ---------------------------------------------------------- */

static int hd_cmp_root(const void *x, const void *y, void *ctx) {
  const hd_diff *d = ctx;
  const hd_root *a = &d->roots[*(const uint32_t *)x],
                *b = &d->roots[*(const uint32_t *)y];
  const size_t l = d->n_snaps - 1;
  const double da = isnan(a->delta_bytes) ? -INFINITY : a->delta_bytes,
               db = isnan(b->delta_bytes) ? -INFINITY : b->delta_bytes;
  if (da != db)
    return da > db ? -1 : 1;
  const double la = isnan(a->bytes[l]) ? -1 : a->bytes[l],
               lb = isnan(b->bytes[l]) ? -1 : b->bytes[l];
  if (la != lb)
    return la > lb ? -1 : 1;
  return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

static int hd_cmp_rsite(const void *x, const void *y) {
  const hd_rsite *a = x, *b = y;
  if (a->root != b->root)
    return a->root < b->root ? -1 : 1;
  const double da = a->last - a->first, db = b->last - b->first;
  if (da != db)
    return da > db ? -1 : 1;
  if (a->last != b->last)
    return a->last > b->last ? -1 : 1;
  return a->site < b->site ? -1 : a->site > b->site;
}

/* Each root's breakdown by site, most growth first, as one run of rsites. */
static void hd_rsites_order(hd_diff *d) {
  if (d->n_rsites > 1)
    qsort(d->rsites, d->n_rsites, sizeof *d->rsites, hd_cmp_rsite);
  hd_map_free(d->rsite_index); /* its ids no longer hold */
  d->rsite_index = NULL;
  for (size_t i = 0; i < d->n_rsites; i++) {
    hd_root *r = &d->roots[d->rsites[i].root];
    if (!r->rs_count++)
      r->rs_first = (uint32_t)i;
  }
}

/* A figure in each snapshot with a graph: 0 where nothing was added. */
static void hd_zero_where_graph(const hd_diff *d, double *v) {
  for (size_t k = 0; k < d->n_snaps; k++)
    if (d->snaps[k].graph && isnan(v[k]))
      v[k] = 0;
}

int hd_retain_snapshot(hd_diff *d, size_t k) {
  hd_snap *s = &d->snaps[k];
  s->graph = hs_snapshot_has_graph(s->snap) && !(s->h->flags & HS_SNAP_SAMPLED);
  if (!s->graph)
    return 0;
  if (!d->root_index)
    d->root_index = hd_map_create();
  if (!d->rsite_index)
    d->rsite_index = hd_map_create();
  if (!d->root_index || !d->rsite_index)
    return HS_ENOMEM;
  for (size_t i = 0; i < d->n_sites; i++)
    d->sites[i].retained[k] = 0;
  for (size_t i = 0; i < d->n_roots; i++)
    d->roots[i].bytes[k] = d->roots[i].blocks[k] = 0;
  return hd_dom_snapshot(d, k);
}

int hd_retain_build(hd_diff *d) {
  const size_t l = d->n_snaps - 1;
  for (size_t k = 0; k < d->n_snaps; k++)
    d->retained_any |= d->snaps[k].graph;
  d->retained_last = d->snaps[l].graph;
  for (size_t i = 0; i < d->n_sites; i++) {
    hd_site *s = &d->sites[i];
    hd_zero_where_graph(d, s->retained);
    s->delta_retained = s->retained[l] - s->retained[0]; /* NAN propagates */
  }
  d->root_order = malloc((d->n_roots + 1) * sizeof *d->root_order);
  if (!d->root_order)
    return HS_ENOMEM;
  for (uint32_t i = 0; i < d->n_roots; i++) {
    hd_root *r = &d->roots[i];
    hd_zero_where_graph(d, r->bytes);
    hd_zero_where_graph(d, r->blocks);
    r->delta_bytes = r->bytes[l] - r->bytes[0];
    d->root_order[i] = i;
  }
  qsort_r(d->root_order, d->n_roots, sizeof *d->root_order, hd_cmp_root, d);
  hd_rsites_order(d);
  return 0;
}

void hd_root_label(const hd_diff *d, const hd_root *r, char *buf, size_t len) {
  const char *name = r->name[0] ? r->name : "?";
  if (r->kind == HS_ROOT_GLOBAL) {
    const char *mod = hs__tool_basename(d->module_paths[r->module]);
    char sym[1024];
    hd_name_simplify(r->symbol, sym, sizeof sym);
    if (r->symbol)
      snprintf(buf, len, "global %s (%s)", sym, mod);
    else
      snprintf(buf, len, "globals of %s+%#llx", mod,
               (unsigned long long)r->offset);
  } else if (r->kind == HS_ROOT_THREAD) {
    snprintf(buf, len, "stack of thread %d (%s)", r->tid, name);
  } else if (r->kind == HS_ROOT_REGISTER) {
    snprintf(buf, len, "registers of thread %d (%s)", r->tid, name);
  } else if (r->kind == HS_ROOT_START) {
    snprintf(buf, len,
             "arguments of threads not started yet, from thread %d (%s)",
             r->tid, name);
  } else {
    snprintf(buf, len, "mapping %#llx-%#llx %s", (unsigned long long)r->start,
             (unsigned long long)r->end, r->name[0] ? r->name : "[anonymous]");
  }
}

void hd_retain_free(hd_diff *d) {
  for (size_t i = 0; i < d->n_roots; i++) {
    free(d->roots[i].name);
    free(d->roots[i].bytes);
  }
  free(d->roots);
  free(d->rsites);
  free(d->root_order);
  hd_map_free(d->root_index);
  hd_map_free(d->rsite_index);
}
