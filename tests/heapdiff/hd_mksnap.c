/* hd_mksnap - writes a snapshot from a small text description, so heapdiff
 * tests can state exactly what each snapshot holds.
 *
 * usage: hd_mksnap SPEC OUT
 * SPEC lines (# starts a comment; numbers are decimal or 0x hex):
 *   exe PATH                  header fields; defaults: /opt/demo/server,
 *   pid N | number N | epoch N   pid 100, number 1, epoch 0,
 *   time SECONDS              time (decimal seconds), rss 0,
 *   start SECONDS             when the process started (default 999999990:
 *                             snapshots with one pid and start are one
 *                             process),
 *   rss BYTES | sampled R     full tracking
 *   module PATH START END BIAS [main|unloaded] [BUILDID-HEX]
 *   stack ADDR...             the next stack (1, 2, ...), innermost first
 *   block ADDR SIZE STACK EPOCH
 *   blocks N ADDR STEP SIZE STACK EPOCH   N blocks, ADDR + i * STEP
 *   root global MODULE START END | root thread TID START END NAME |
 *   root mapping START END NAME | root register TID LEN NAME
 *                             a root of the reachability scan (makes
 *                             the snapshot a scanned one)
 *   registers                 the header says precise mode stopped every
 *                             thread (HS_SNAP_REGISTERS)
 *   attached                  tracking began at an attach (HS_SNAP_ATTACHED)
 *   note TEXT                 the header's scan note
 *   trigger WORD              the header's trigger (default signal)
 *   reach FIRST COUNT none | root R FROM TARGET | block B FROM TARGET
 *                             how blocks FIRST..FIRST+COUNT-1 (in address
 *                             order) were reached; others: not reached
 *   edge root R FROM B | edge block B T...
 *                             the heap graph (HS_SNAP_GRAPH): root R's
 *                             word at FROM points into block B; block B
 *                             points into blocks T... (indexes in address
 *                             order); `graph` alone: a graph, maybe empty
 * Blocks must be given in ascending address order. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_testsnap.h"

#define MAX_ITEMS 4096

typedef struct spec {
  hs_header h;
  hs_module mods[64];
  uint8_t ids[64][64];
  char paths[64][256], exe[256];
  size_t n_mods;
  uint64_t stacks[MAX_ITEMS][16];
  uint32_t depth[MAX_ITEMS];
  size_t n_stacks;
  hs_block *blocks;
  size_t n_blocks, cap_blocks;
  hs_root roots[64];
  char root_names[64][64];
  size_t n_roots;
  hs_reach reach[MAX_ITEMS];
  char note[256], trigger[32];
  uint64_t edges[MAX_ITEMS][18]; /* kind (1 root, 2 block), then numbers */
  uint32_t n_numbers[MAX_ITEMS];
  size_t n_edges;
} spec;

static void add_block(spec *s, uint64_t addr, uint64_t size, uint32_t stack,
                      uint32_t epoch) {
  if (s->n_blocks == s->cap_blocks) {
    s->cap_blocks = s->cap_blocks ? 2 * s->cap_blocks : 1024;
    s->blocks = realloc(s->blocks, s->cap_blocks * sizeof *s->blocks);
  }
  s->blocks[s->n_blocks++] = (hs_block){addr, size, stack, epoch};
  s->h.live_blocks++;
  s->h.live_bytes += size;
}

static size_t parse_hex_id(const char *hex, uint8_t *out) {
  size_t n = 0;
  for (; hex[0] && hex[1] && n < 64; hex += 2)
    sscanf(hex, "%2hhx", &out[n++]);
  return n;
}

static int parse_module(spec *s, char *rest) {
  hs_module *m = &s->mods[s->n_mods];
  char path[256], w1[160] = "", w2[160] = "";
  if (sscanf(rest, "%255s %" SCNi64 " %" SCNi64 " %" SCNi64 " %159s %159s",
             path, &m->start, &m->end, &m->bias, w1, w2) < 4)
    return -1;
  strcpy(s->paths[s->n_mods], path);
  m->path = s->paths[s->n_mods];
  for (const char *w = w1; w; w = w == w1 ? w2 : NULL) {
    if (!strcmp(w, "main"))
      m->flags |= HS_MODULE_MAIN;
    else if (!strcmp(w, "unloaded"))
      m->flags |= HS_MODULE_UNLOADED;
    else if (*w) {
      m->build_id_len = (uint32_t)parse_hex_id(w, s->ids[s->n_mods]);
      m->build_id = s->ids[s->n_mods];
    }
  }
  s->n_mods++;
  return 0;
}

static int parse_stack(spec *s, char *rest) {
  uint32_t d = 0;
  for (char *t = strtok(rest, " \t\n"); t && d < 16; t = strtok(NULL, " \t\n"))
    s->stacks[s->n_stacks][d++] = strtoull(t, NULL, 0);
  s->depth[s->n_stacks++] = d;
  return 0;
}

static int parse_root(spec *s, char *rest) {
  hs_root *r = &s->roots[s->n_roots];
  char kind[16], *name = s->root_names[s->n_roots];
  uint64_t a = 0;
  name[0] = '\0';
  r->name = name;
  s->h.flags |= HS_SNAP_SCANNED;
  if (sscanf(rest, "global %" SCNi64 " %" SCNi64 " %" SCNi64, &a, &r->start,
             &r->end) == 3)
    r->kind = HS_ROOT_GLOBAL, r->module = (uint32_t)a;
  else if (sscanf(rest, "thread %" SCNi64 " %" SCNi64 " %" SCNi64 " %63s", &a,
                  &r->start, &r->end, name) >= 3)
    r->kind = HS_ROOT_THREAD, r->tid = (int32_t)a;
  else if (sscanf(rest, "mapping %" SCNi64 " %" SCNi64 " %63s", &r->start,
                  &r->end, name) >= 2)
    r->kind = HS_ROOT_MAPPING;
  else if (sscanf(rest, "register %" SCNi64 " %" SCNi64 " %63s", &a, &r->end,
                  name) >= 2)
    r->kind = HS_ROOT_REGISTER, r->tid = (int32_t)a, r->start = 0;
  else
    return -1;
  (void)kind;
  s->n_roots++;
  return 0;
}

static int parse_edge(spec *s, char *rest) {
  uint64_t *e = s->edges[s->n_edges];
  uint32_t n = 0;
  char *t = strtok(rest, " \t\n");
  if (!t || s->n_edges == MAX_ITEMS)
    return -1;
  e[0] = !strcmp(t, "root") ? 1 : !strcmp(t, "block") ? 2 : 0;
  while ((t = strtok(NULL, " \t\n")) && n < 17)
    e[1 + n++] = strtoull(t, NULL, 0);
  if (!e[0] || (e[0] == 1 && n != 3) || (e[0] == 2 && n < 1))
    return -1;
  s->n_numbers[s->n_edges++] = n;
  s->h.flags |= HS_SNAP_GRAPH;
  return 0;
}

static void write_graph(hs_testsnap *t, const spec *s) {
  for (size_t i = 0; i < s->n_edges; i++) {
    const uint64_t *e = s->edges[i];
    if (e[0] == 1) {
      hs_testsnap_graph_root(t, (uint32_t)e[1], e[2], (uint32_t)e[3]);
      continue;
    }
    uint32_t targets[16];
    for (uint32_t j = 1; j < s->n_numbers[i]; j++)
      targets[j - 1] = (uint32_t)e[1 + j];
    hs_testsnap_graph_block(t, (uint32_t)e[1], targets, s->n_numbers[i] - 1);
  }
}

static int parse_reach(spec *s, char *rest) {
  uint64_t first, count, index = 0, from = 0, target = 0;
  char kind[16];
  if (sscanf(rest,
             "%" SCNi64 " %" SCNi64 " %15s %" SCNi64 " %" SCNi64 " %" SCNi64,
             &first, &count, kind, &index, &from, &target) < 3 ||
      first + count > MAX_ITEMS)
    return -1;
  const uint32_t k = !strcmp(kind, "root")    ? HS_REACH_ROOT
                     : !strcmp(kind, "block") ? HS_REACH_BLOCK
                                              : HS_REACH_NONE;
  for (uint64_t i = first; i < first + count; i++)
    s->reach[i] = (hs_reach){k, (uint32_t)index, from, target};
  return 0;
}

static int parse_line(spec *s, char *line) {
  char key[32];
  int used = 0;
  uint64_t a, b, c, d, e, f;
  if (sscanf(line, "%31s %n", key, &used) != 1 || key[0] == '#')
    return 0;
  char *rest = line + used;
  if (!strcmp(key, "exe"))
    return sscanf(rest, "%255s", s->exe) == 1 ? 0 : -1;
  if (!strcmp(key, "module"))
    return parse_module(s, rest);
  if (!strcmp(key, "stack"))
    return parse_stack(s, rest);
  if (!strcmp(key, "root"))
    return parse_root(s, rest);
  if (!strcmp(key, "reach"))
    return parse_reach(s, rest);
  if (!strcmp(key, "edge"))
    return parse_edge(s, rest);
  if (!strcmp(key, "graph"))
    return s->h.flags |= HS_SNAP_GRAPH, 0;
  if (!strcmp(key, "registers"))
    return s->h.flags |= HS_SNAP_REGISTERS, 0;
  if (!strcmp(key, "attached"))
    return s->h.flags |= HS_SNAP_ATTACHED, 0;
  if (!strcmp(key, "note")) {
    rest[strcspn(rest, "\n")] = '\0';
    snprintf(s->note, sizeof s->note, "%s", rest);
    return 0;
  }
  if (!strcmp(key, "trigger")) {
    rest[strcspn(rest, "\n")] = '\0';
    snprintf(s->trigger, sizeof s->trigger, "%s", rest);
    s->h.trigger = s->trigger;
    return 0;
  }
  if (!strcmp(key, "time"))
    return (s->h.time_ns = (uint64_t)(strtod(rest, NULL) * 1e9)) ? 0 : -1;
  if (!strcmp(key, "start"))
    return (s->h.start_ns = (uint64_t)(strtod(rest, NULL) * 1e9)) ? 0 : -1;
  if (!strcmp(key, "block") &&
      sscanf(rest, "%" SCNi64 " %" SCNi64 " %" SCNi64 " %" SCNi64, &a, &b, &c,
             &d) == 4)
    return add_block(s, a, b, (uint32_t)c, (uint32_t)d), 0;
  if (!strcmp(key, "blocks") && sscanf(rest,
                                       "%" SCNi64 " %" SCNi64 " %" SCNi64
                                       " %" SCNi64 " %" SCNi64 " %" SCNi64,
                                       &a, &b, &c, &d, &e, &f) == 6) {
    for (uint64_t i = 0; i < a; i++)
      add_block(s, b + i * c, d, (uint32_t)e, (uint32_t)f);
    return 0;
  }
  if (sscanf(rest, "%" SCNi64, &a) != 1)
    return -1;
  if (!strcmp(key, "pid"))
    s->h.pid = (int32_t)a;
  else if (!strcmp(key, "number"))
    s->h.number = (uint32_t)a;
  else if (!strcmp(key, "epoch"))
    s->h.epoch = (uint32_t)a;
  else if (!strcmp(key, "rss"))
    s->h.rss_bytes = a;
  else if (!strcmp(key, "sampled"))
    s->h.sample_bytes = a, s->h.flags |= HS_SNAP_SAMPLED;
  else
    return -1;
  return 0;
}

static int write_spec(const spec *s, const char *path) {
  hs_testsnap t;
  hs_testsnap_create(&t, path);
  hs_testsnap_header(&t, &s->h);
  hs_testsnap_modules(&t, s->mods, s->n_mods);
  for (size_t i = 0; i < s->n_stacks; i++)
    hs_testsnap_stack(&t, s->stacks[i], s->depth[i]);
  hs_testsnap_blocks(&t, s->blocks, s->n_blocks);
  hs_testsnap_roots(&t, s->roots, s->n_roots);
  if (s->n_roots)
    hs_testsnap_reach(&t, s->reach, s->n_blocks);
  write_graph(&t, s);
  return hs_testsnap_close(&t);
}

int main(int argc, char **argv) {
  static spec s;
  static const char *const args[] = {"server"};
  if (argc != 3) {
    fprintf(stderr, "usage: hd_mksnap SPEC OUT\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "r");
  if (!in) {
    perror(argv[1]);
    return 2;
  }
  strcpy(s.exe, "/opt/demo/server");
  s.h = (hs_header){.pid = 100,
                    .ppid = 1,
                    .number = 1,
                    .max_depth = 64,
                    .time_ns = 1000000000000000000ull,
                    .start_ns = 999999990000000000ull,
                    .argc = 1,
                    .argv = args,
                    .trigger = "signal"};
  char line[1024];
  for (int n = 1; fgets(line, sizeof line, in); n++)
    if (parse_line(&s, line)) {
      fprintf(stderr, "%s:%d: cannot parse: %s", argv[1], n, line);
      return 2;
    }
  fclose(in);
  s.h.exe = s.exe;
  s.h.scan_note = s.note;
  const int rc = write_spec(&s, argv[2]);
  if (rc)
    fprintf(stderr, "hd_mksnap: %s: %s\n", argv[2], hs_strerror(rc));
  free(s.blocks);
  return rc ? 1 : 0;
}
