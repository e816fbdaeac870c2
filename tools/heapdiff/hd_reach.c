/* hd_reach.c - what holds the growth: per site, the blocks nothing points
 * to any more (unreachable from the scanned roots) and the retainer paths
 * of the others, from the last snapshot's reachability scan.
 *
 * Each block of the last snapshot gets a path node: the chain of hops from
 * a named root down to the block that points at it, built along the scan's
 * breadth-first tree (each block's nearest retainer). Consecutive hops
 * through blocks of one site collapse into one hop with a count, so a
 * 100k-long list is one hop, not 100k paths. Nodes are memoized per block:
 * linear time however deep the chains run. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "hd.h"
#include "hd_short.h"
#include "hs_tool.h"

#define HD_UNDONE UINT32_MAX
#define HD_LOST (UINT32_MAX - 1)

typedef struct hd_pkey {
  uint32_t parent, is_root, what, pad;
  uint64_t where; /* root hops in a module: which global (its offset) */
} hd_pkey;

static int hd_pnode_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_pnode *n = &((const hd_diff *)ctx)->pnodes[id];
  const hd_pkey *k = key;
  return n->parent == k->parent && n->is_root == k->is_root &&
         n->what == k->what && n->where == k->where;
}

/* The node for (parent, hop), made on first use; r is the first pointer
 * seen into the hop's block (for a root hop: out of the root). */
static uint32_t hd_pnode_get(hd_diff *d, const hd_pkey *k, const hs_reach *r) {
  const uint64_t h = hd_hash(0, k, sizeof *k);
  uint32_t id = hd_map_find(d->pnode_index, h, hd_pnode_eq, d, k);
  if (id != UINT32_MAX)
    return id;
  if (hd_grow(&d->pnodes, &d->cap_pnodes, d->n_pnodes, sizeof *d->pnodes, 256))
    return HD_UNDONE;
  id = (uint32_t)d->n_pnodes++;
  d->pnodes[id] = (hd_pnode){k->parent, k->is_root, k->what, 1,
                             r->from,   r->target,  k->where};
  return hd_map_put(d->pnode_index, h, id) ? HD_UNDONE : id;
}

typedef struct hd_walk {
  hd_diff *d;
  const hd_snap *s;
  const hs_reach *reach;
  const hs_block *blocks;
  uint32_t *node; /* per block: path node of its retainer chain */
  uint32_t *run;  /* per block: consecutive same-site hops ending at it */
  uint32_t *todo;
} hd_walk;

static uint32_t hd_site_of_block(const hd_walk *w, uint32_t b) {
  return w->s->stack_site[w->blocks[b].stack];
}

/* A module's data segment holds many globals: blocks held by different
 * ones take different paths. Which global: the data symbol's offset in
 * the module (or the word's own, without symbols). */
static uint64_t hd_global_of(const hd_walk *w, const hs_reach *r) {
  hd_root_desc rd;
  hd_root_describe(w->d, r->index, r->from, &rd);
  if (rd.root->kind == HS_ROOT_REGISTER)
    return r->from; /* which register, likewise */
  return rd.root->kind == HS_ROOT_GLOBAL ? rd.offset - rd.symbol_offset : 0;
}

/* Block b's node, given its retainer's node is known. */
static uint32_t hd_node_of(hd_walk *w, uint32_t b) {
  const hs_reach *r = &w->reach[b];
  if (r->kind == HS_REACH_NONE)
    return HD_LOST;
  if (r->kind == HS_REACH_ROOT) {
    const hd_pkey k = {UINT32_MAX, 1, r->index, 0, hd_global_of(w, r)};
    w->run[b] = 0;
    return hd_pnode_get(w->d, &k, r);
  }
  const uint32_t p = r->index, site = hd_site_of_block(w, p);
  const uint32_t pn = w->node[p];
  if (pn == HD_LOST)
    return HD_LOST; /* the reader refuses this: no node may name it */
  if (pn < w->d->n_pnodes && !w->d->pnodes[pn].is_root &&
      w->d->pnodes[pn].what == site) {
    /* one more block of the same site in a row: the same hop, longer */
    w->run[b] = w->run[p] + 1;
    if (w->run[b] > w->d->pnodes[pn].count)
      w->d->pnodes[pn].count = w->run[b];
    return pn;
  }
  const hd_pkey k = {pn, 0, site, 0, 0};
  w->run[b] = 1;
  return hd_pnode_get(w->d, &k, &w->reach[p]);
}

/* Settles block b and every unsettled retainer above it, top down. The
 * reader refuses retainer cycles; the bound keeps one from overrunning
 * todo all the same. */
static int hd_settle(hd_walk *w, uint32_t b) {
  const size_t most = hs_snapshot_block_count(w->s->snap);
  size_t n = 0;
  for (uint32_t x = b; w->node[x] == HD_UNDONE;) {
    if (n == most)
      return HS_ECORRUPT;
    w->todo[n++] = x;
    if (w->reach[x].kind != HS_REACH_BLOCK)
      break;
    x = w->reach[x].index;
  }
  while (n-- > 0) {
    const uint32_t x = w->todo[n];
    w->node[x] = hd_node_of(w, x);
    if (w->node[x] == HD_UNDONE)
      return HS_ENOMEM;
  }
  return 0;
}

static int hd_cmp_path(const void *x, const void *y) {
  const hd_path *a = x, *b = y;
  if (a->blocks != b->blocks)
    return a->blocks > b->blocks ? -1 : 1;
  return a->node < b->node ? -1 : a->node > b->node;
}

/* Adds block b to its site's paths; a site's paths are few, so a scan of
 * them beats a map. */
static int hd_path_add(hd_walk *w, hd_site *site, uint32_t b) {
  size_t i = 0;
  while (i < site->n_paths && site->paths[i].node != w->node[b])
    i++;
  if (i == site->n_paths) {
    if (hd_grow(&site->paths, &site->cap_paths, site->n_paths,
                sizeof *site->paths, 4))
      return HS_ENOMEM;
    site->paths[site->n_paths++] =
        (hd_path){w->node[b], 0, 0, w->reach[b].from, w->reach[b].target};
  }
  site->paths[i].blocks += 1;
  site->paths[i].bytes += (double)w->blocks[b].size;
  return 0;
}

/* One pass over the blocks puts each reachable block of a listed site on
 * its path; then each site's paths are sorted, most blocks first. */
static int hd_paths(hd_walk *w) {
  hd_diff *const d = w->d;
  uint8_t *growing = calloc(d->n_sites + 1, 1);
  if (!growing)
    return HS_ENOMEM;
  for (size_t i = 0; i < d->n_order; i++)
    growing[d->order[i]] = 1;
  int rc = 0;
  for (size_t b = 0; !rc && b < hs_snapshot_block_count(w->s->snap); b++) {
    const uint32_t s = hd_site_of_block(w, (uint32_t)b);
    if (growing[s] && w->node[b] != HD_LOST)
      rc = hd_path_add(w, &d->sites[s], (uint32_t)b);
  }
  for (size_t i = 0; !rc && i < d->n_order; i++) {
    hd_site *site = &d->sites[d->order[i]];
    if (site->n_paths > 1) /* none: paths is NULL, which qsort may not get */
      qsort(site->paths, site->n_paths, sizeof *site->paths, hd_cmp_path);
  }
  free(growing);
  return rc;
}

static void hd_count_lost(hd_walk *w) {
  const size_t last = w->d->n_snaps - 1;
  for (size_t b = 0; b < hs_snapshot_block_count(w->s->snap); b++)
    if (w->node[b] == HD_LOST) {
      hd_site *site = &w->d->sites[hd_site_of_block(w, (uint32_t)b)];
      site->unreachable_blocks += 1;
      site->unreachable_bytes += (double)w->blocks[b].size;
      if (hd_block_is_new(w->d, last, &w->blocks[b])) {
        site->new_unreachable_blocks += 1;
        site->new_unreachable_bytes += (double)w->blocks[b].size;
      }
    }
}

/* Retainer paths are worked out for the listed sites only (d->order): they
 * are what the report shows. */
int hd_reach_build(hd_diff *d) {
  hd_walk w = {.d = d, .s = &d->snaps[d->n_snaps - 1]};
  w.reach = hs_snapshot_reach(w.s->snap);
  if (!w.reach || (w.s->h->flags & HS_SNAP_SAMPLED))
    return 0;
  d->scanned = 1;
  const size_t n = hs_snapshot_block_count(w.s->snap);
  w.blocks = hs_snapshot_blocks(w.s->snap);
  w.node = malloc((n + 1) * sizeof *w.node);
  w.run = calloc(n + 1, sizeof *w.run);
  w.todo = malloc((n + 1) * sizeof *w.todo);
  d->pnode_index = hd_map_create();
  int rc = w.node && w.run && w.todo && d->pnode_index ? 0 : HS_ENOMEM;
  for (size_t b = 0; !rc && b < n; b++)
    w.node[b] = HD_UNDONE;
  for (size_t b = 0; !rc && b < n; b++)
    rc = hd_settle(&w, (uint32_t)b);
  if (!rc)
    hd_count_lost(&w);
  if (!rc)
    rc = hd_paths(&w);
  free(w.node);
  free(w.run);
  free(w.todo);
  return rc;
}

void hd_reach_free(hd_diff *d) {
  for (size_t i = 0; i < d->n_sites; i++)
    free(d->sites[i].paths);
  free(d->pnodes);
  hd_map_free(d->pnode_index);
}

size_t hd_path_hops(const hd_diff *d, uint32_t node, uint32_t *out,
                    size_t max) {
  size_t n = 0;
  for (uint32_t x = node; x < d->n_pnodes && n < max; x = d->pnodes[x].parent)
    out[n++] = x;
  for (size_t i = 0; i < n / 2; i++) { /* root first */
    const uint32_t t = out[i];
    out[i] = out[n - 1 - i];
    out[n - 1 - i] = t;
  }
  return n;
}

/* x86-64's registers as ptrace gives them (docs/format.md): struct
 * user_regs_struct, then struct user_fpregs_struct. */
#define HD_GREGS 27
#define HD_REGS_X86_64 (HD_GREGS * 8 + 512)
static const char *const hd_gregs[HD_GREGS] = {
    "r15",     "r14",      "r13", "r12", "rbp",    "rbx", "r11",
    "r10",     "r9",       "r8",  "rax", "rcx",    "rdx", "rsi",
    "rdi",     "orig_rax", "rip", "cs",  "eflags", "rsp", "ss",
    "fs_base", "gs_base",  "ds",  "es",  "fs",     "gs"};

const char *hd_register_name(const hs_root *r, uint64_t from, char *buf,
                             size_t len) {
  const uint64_t fp = from - HD_GREGS * 8;
  if (r->end - r->start != HD_REGS_X86_64)
    snprintf(buf, len, "+%" PRIu64, from);
  else if (from < HD_GREGS * 8)
    snprintf(buf, len, "%s", hd_gregs[from / 8]);
  else if (fp >= 32 && fp < 160)
    snprintf(buf, len, "st%" PRIu64, (fp - 32) / 16);
  else if (fp >= 160 && fp < 416)
    snprintf(buf, len, "xmm%" PRIu64, (fp - 160) / 16);
  else
    snprintf(buf, len, "fpu+%" PRIu64, fp);
  return buf;
}

void hd_root_describe(const hd_diff *d, uint32_t index, uint64_t from,
                      hd_root_desc *out) {
  hd_root_describe_in(d, d->n_snaps - 1, index, from, out);
}

void hd_root_describe_in(const hd_diff *d, size_t k, uint32_t index,
                         uint64_t from, hd_root_desc *out) {
  const hd_snap *s = &d->snaps[k];
  const hs_root *r = hs_snapshot_root(s->snap, index);
  *out = (hd_root_desc){r, NULL, 0, NULL, 0};
  if (r->kind != HS_ROOT_GLOBAL)
    return;
  out->module = hs_snapshot_module(s->snap, r->module);
  out->offset = r->start + from - out->module->bias;
  out->symbol = hd_symbolize_data(d->sym, s->module_handle[r->module],
                                  out->offset, &out->symbol_offset);
}

/* "global g_sessions+8 (server)", or by offset without a symbol. */
/* The symbol by its short name, as the report names functions
 * (`app::g_cache`, not `app::g_cache[abi:cxx11]`); JSON keeps it whole. */
static void hd_global_name(const hd_root_desc *rd, char *buf, size_t len) {
  const char *mod = hs__tool_basename(rd->module->path);
  const unsigned long long off = rd->symbol_offset;
  char sym[1024];
  hd_name_simplify(rd->symbol, sym, sizeof sym);
  if (rd->symbol)
    snprintf(buf, len, "global %s%s%.0llu (%s)", sym, off ? "+" : "", off, mod);
  else
    snprintf(buf, len, "global %s+%#llx", mod, (unsigned long long)rd->offset);
}

void hd_root_name(hd_diff *d, const hd_pnode *n, uint64_t from, char *buf,
                  size_t len) {
  hd_root_desc rd;
  hd_root_describe(d, n->what, from, &rd);
  const hs_root *r = rd.root;
  if (r->kind == HS_ROOT_GLOBAL) {
    hd_global_name(&rd, buf, len);
  } else if (r->kind == HS_ROOT_THREAD) {
    snprintf(buf, len, "stack of thread %d (%s)", r->tid,
             r->name[0] ? r->name : "?");
  } else if (r->kind == HS_ROOT_REGISTER) {
    char reg[32];
    snprintf(buf, len, "register %s of thread %d (%s)",
             hd_register_name(r, from, reg, sizeof reg), r->tid,
             r->name[0] ? r->name : "?");
  } else if (r->kind == HS_ROOT_START) {
    snprintf(buf, len,
             "argument of a thread not started yet, from thread %d "
             "(%s)",
             r->tid, r->name[0] ? r->name : "?");
  } else {
    snprintf(buf, len, "mapping %#llx-%#llx %s", (unsigned long long)r->start,
             (unsigned long long)r->end, r->name[0] ? r->name : "[anonymous]");
  }
}
