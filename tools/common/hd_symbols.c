/* hd_symbols.c - offline symbolization for heapdiff (see hd_symbols.h).
 *
 * One Dwfl per distinct module file, reported at base 0 so that a module
 * offset (ELF virtual address) is the lookup address itself. The file's
 * build id is checked against the snapshot's before elfutils sees it;
 * separate debug info is found by dwfl_standard_find_debuginfo over our
 * own debuginfo_path. libdwfl opens files and finds debug info; lookups
 * go through sorted indexes we build once (compile units, each CU's
 * functions, ELF symbols), since libdwfl's own lookups either need
 * .debug_aranges or scan whole tables. Inlined frames come from a walk
 * down the function's DIE tree along the scopes holding the address.
 * Every result is kept in a cache keyed by (handle, offset), indexed by
 * hd_map.h, and allocated from an arena, so pointers handed out stay valid
 * until hd_symbolizer_free(). Not thread-safe: one thread per symbolizer. */
#define _GNU_SOURCE /* asprintf */
#include "hd_symbols.h"

#include <assert.h>
#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd_map.h"
#include "hs_tool.h"

/* libstdc++'s demangler (cxxabi.h), declared here to stay in C. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len,
                            int *status);

/* Deeper inline chains keep their innermost frames and lose the rest;
 * real C++ reaches a few dozen at most. */
#define HD_MAX_FRAMES ((size_t)128)
#define HD_CHUNK_SIZE ((size_t)64 * 1024)

/* What a result cache entry holds: the low bit of its key's first word. */
#define HD_LOOKUP_CODE 0u /* hd_result: the frames at an offset */
#define HD_LOOKUP_DATA 1u /* hd_dataref: the data symbol at an offset */

/* What a names entry is keyed by: its key's second word. */
#define HD_NAME_MANGLED 0u /* a string-table entry, demangled */
#define HD_NAME_DIE 1u     /* a function DIE's name */
#define HD_NAME_SCOPE 2u   /* a DIE's enclosing named scope (hd__die_scope) */
#define HD_NAME_CUWALK 3u  /* a CU whose scopes are recorded */

typedef struct hd_chunk {
  struct hd_chunk *next;
  size_t used;
  size_t cap;
  max_align_t data[];
} hd_chunk;

/* One cached answer: two key words and a value, never NULL. */
typedef struct hd_entry {
  uint64_t a;
  uint64_t b;
  void *val;
} hd_entry;

/* A cache: its entries in our own array, found through an hd_map index
 * (hd_map.h) of their positions. */
typedef struct hd_cache {
  hd_map *index;
  hd_entry *entries;
  size_t n;
  size_t cap;
} hd_cache;

typedef struct hd_result {
  size_t n;
  hd_frame frames[];
} hd_result;

typedef struct hd_dataref {
  const char *name; /* NULL: no data symbol there */
  uint64_t off;
} hd_dataref;

/* An address range [lo, hi) in an array sorted by lo (hd__ranges_sort),
 * first member of the entries below. */
typedef struct hd_range {
  uint64_t lo;
  uint64_t hi;
  uint64_t maxhi; /* highest hi among this and all earlier entries */
  uint64_t rank;  /* among equal ranges, the highest rank wins */
} hd_range;

/* An ELF symbol (.symtab, else .dynsym) of a module. */
typedef struct hd_symrange {
  hd_range r;
  const char *name;
  int unsized; /* a function symbol without st_size */
} hd_symrange;

/* A code range of a DIE: of a CU (the DIE to search: the split unit for
 * a skeleton), or of a function (one per range: hot and cold parts). */
typedef struct hd_dierange {
  hd_range r;
  Dwarf_Die die;
} hd_dierange;

/* The functions of one CU with code, found once per CU. */
typedef struct hd_cuindex {
  size_t n;
  hd_dierange fns[];
} hd_cuindex;

typedef struct hd_module {
  uint64_t hash; /* of path and build id, to skip most comparisons */
  const char *path;
  const uint8_t *build_id;
  uint32_t build_id_len;
  int opened;
  int status;
  const char *why;
  Dwfl *dwfl;
  Dwfl_Module *mod;
  Dwarf_Addr lo; /* lookup range: the PT_LOAD span */
  Dwarf_Addr hi;
  int cus_loaded;
  hd_dierange *cus; /* compile units, sorted */
  size_t n_cus;
  Dwarf_Addr dwbias; /* DWARF address = offset - dwbias */
  int syms_loaded;
  hd_symrange *code; /* function symbols, sorted */
  size_t n_code;
  hd_symrange *data; /* data symbols, sorted */
  size_t n_data;
} hd_module;

struct hd_symbolizer {
  char *sysroot;        /* NULL, or without a trailing slash */
  char *debuginfo_path; /* pointed to by cb.debuginfo_path */
  Dwfl_Callbacks cb;
  hd_module *mods;
  size_t n_mods;
  size_t cap_mods;
  hd_cache cache; /* (handle << 1 | HD_LOOKUP_*, offset) -> result */
  hd_cache names; /* (mangled name or DIE, HD_NAME_*) -> name or scope */
  int naming;     /* hd__die_name calls under way, against loops */
  hd_cache fnidx; /* (CU DIE address, 0) -> hd_cuindex */
  hd_chunk *chunks;
};

static const hd_frame hd__unknown = {NULL, NULL, 0, 0, NULL};
static const hd_dataref hd__nodata = {NULL, 0};

/* ---- arena: everything handed out lives until hd_symbolizer_free() ---- */

static void *hd__alloc(hd_symbolizer *s, size_t n) {
  const size_t align = sizeof(max_align_t);
  n = (n + align - 1) & ~(align - 1);
  hd_chunk *c = s->chunks;
  if (c != NULL && c->cap - c->used >= n) {
    void *p = (unsigned char *)c->data + c->used;
    c->used += n;
    return p;
  }
  const size_t cap = n > HD_CHUNK_SIZE / 4 ? n : HD_CHUNK_SIZE;
  c = malloc(sizeof *c + cap);
  if (c == NULL)
    return NULL;
  c->cap = cap;
  c->used = n;
  /* A big one-off block goes behind the current chunk, whose free space
   * is still worth using. */
  if (cap == n && s->chunks != NULL) {
    c->next = s->chunks->next;
    s->chunks->next = c;
  } else {
    c->next = s->chunks;
    s->chunks = c;
  }
  return c->data;
}

static char *hd__strdup(hd_symbolizer *s, const char *str) {
  const size_t n = strlen(str) + 1;
  char *p = hd__alloc(s, n);
  if (p != NULL)
    memcpy(p, str, n);
  return p;
}

static const char *hd__printf(hd_symbolizer *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Status reasons: on failure a fixed string, never NULL. */
static const char *hd__printf(hd_symbolizer *s, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  const char *p = hd__strdup(s, buf);
  return p != NULL ? p : "out of memory";
}

/* ---- caches ---- */

static uint64_t hd__mix(uint64_t a, uint64_t b) {
  uint64_t h = a * 0x9e3779b97f4a7c15u ^ b;
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9u;
  h ^= h >> 29;
  return h;
}

static int hd__entry_eq(const void *ctx, uint32_t id, const void *key) {
  const hd_entry *e = &((const hd_cache *)ctx)->entries[id];
  const hd_entry *k = key;
  return e->a == k->a && e->b == k->b;
}

/* @return : the value stored under (a, b), or NULL. */
static void *hd__cache_get(const hd_cache *c, uint64_t a, uint64_t b) {
  const hd_entry key = {a, b, NULL};
  const uint32_t id =
      hd_map_find(c->index, hd__mix(a, b), hd__entry_eq, c, &key);
  return id != UINT32_MAX ? c->entries[id].val : NULL;
}

/* Stores val under (a, b), which hd__cache_get has just not found. Out of
 * memory nothing is kept, and the lookup is made again next time.
 * @return : 0, or HS_ENOMEM. */
static int hd__cache_put(hd_cache *c, uint64_t a, uint64_t b, void *val) {
  assert(val != NULL);
  if (c->n >= UINT32_MAX - 1 || /* UINT32_MAX is hd_map's "no id" */
      hd_grow(&c->entries, &c->cap, c->n, sizeof *c->entries, 1024))
    return HS_ENOMEM;
  c->entries[c->n] = (hd_entry){a, b, val};
  const int err = hd_map_put(c->index, hd__mix(a, b), (uint32_t)c->n);
  if (err == 0)
    c->n++;
  return err;
}

static int hd__cache_init(hd_cache *c) {
  c->index = hd_map_create();
  return c->index != NULL ? 0 : HS_ENOMEM;
}

static void hd__cache_free(hd_cache *c) {
  hd_map_free(c->index);
  free(c->entries);
}

/* ---- sorted ranges ---- */

static int hd__range_cmp(const void *pa, const void *pb) {
  const hd_range *a = pa;
  const hd_range *b = pb;
  if (a->lo != b->lo)
    return a->lo < b->lo ? -1 : 1;
  /* hd__ranges_find takes the last one holding pc: at one address, the
   * smaller range goes last (the more specific), then the higher rank. */
  if (a->hi != b->hi)
    return a->hi < b->hi ? 1 : -1;
  return a->rank < b->rank ? -1 : a->rank > b->rank ? 1 : 0;
}

/* Sets maxhi in n entries of `size` bytes, each starting with an
 * hd_range, already sorted. */
static void hd__ranges_index(void *base, size_t n, size_t size) {
  uint64_t maxhi = 0;
  for (size_t i = 0; i < n; i++) {
    hd_range *r = (hd_range *)((char *)base + i * size);
    maxhi = r->hi > maxhi ? r->hi : maxhi;
    r->maxhi = maxhi;
  }
}

static void hd__ranges_sort(void *base, size_t n, size_t size) {
  if (n == 0)
    return; /* base may be NULL, which qsort does not take */
  qsort(base, n, size, hd__range_cmp);
  hd__ranges_index(base, n, size);
}

static const hd_range *hd__range_at(const void *base, size_t i, size_t size) {
  return (const hd_range *)((const char *)base + i * size);
}

/* @return : the entry holding pc with the highest start, or NULL. */
static const void *hd__ranges_find(const void *base, size_t n, size_t size,
                                   uint64_t pc) {
  size_t lo = 0;
  size_t hi = n;
  while (lo < hi) { /* first entry starting after pc */
    const size_t mid = lo + (hi - lo) / 2;
    if (hd__range_at(base, mid, size)->lo <= pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* maxhi bounds the walk back: nothing earlier reaches past pc. */
  for (size_t i = lo; i-- > 0 && hd__range_at(base, i, size)->maxhi > pc;)
    if (pc < hd__range_at(base, i, size)->hi)
      return hd__range_at(base, i, size);
  return NULL;
}

/* ---- names ---- */

/* Demangles a C++ name once per string-table entry; other names are
 * returned as they are. The result lives as long as the symbolizer. */
static const char *hd__demangle(hd_symbolizer *s, const char *name) {
  if (name == NULL || name[0] != '_' || name[1] != 'Z')
    return name;
  const char *known =
      hd__cache_get(&s->names, (uintptr_t)name, HD_NAME_MANGLED);
  if (known != NULL)
    return known;
  int status = 0;
  char *d = __cxa_demangle(name, NULL, NULL, &status);
  const char *out = d != NULL ? hd__strdup(s, d) : NULL;
  free(d);
  if (out == NULL)
    out = name;
  (void)hd__cache_put(&s->names, (uintptr_t)name, HD_NAME_MANGLED, (void *)out);
  return out;
}

static const char *hd__die_string(Dwarf_Die *die, unsigned attr) {
  Dwarf_Attribute mem;
  return dwarf_formstring(dwarf_attr_integrate(die, attr, &mem));
}

static int hd__is_function(int tag) {
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
         tag == DW_TAG_entry_point;
}

/* Tags that may carry a pc range and hold further scopes. */
static int hd__is_scope(int tag) {
  return hd__is_function(tag) || tag == DW_TAG_lexical_block ||
         tag == DW_TAG_try_block || tag == DW_TAG_catch_block ||
         tag == DW_TAG_with_stmt;
}

/* Tags whose children may hold code without carrying a pc range. */
static int hd__is_container(int tag) {
  return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
         tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
         tag == DW_TAG_module || tag == DW_TAG_interface_type;
}

/* ---- C++ names from scopes ----
 *
 * GCC gives no linkage name to a local lambda's operator() nor to some
 * inlined template instances, and DW_AT_name alone ("operator()") merges
 * unrelated sites. Such a name is rebuilt from the DIE's enclosing scopes
 * as the demangler would print it. libdw has no parent pointer, so each CU
 * is walked once and every function, type and namespace DIE in it is
 * recorded with its nearest enclosing named scope (lexical blocks are seen
 * through). */

#define HD_MAX_NEST 32 /* scopes and type layers followed, at most */

/* A growing string; out of memory it stops growing and `oom` is set. */
typedef struct hd_sb {
  char *p;
  size_t n;
  size_t cap;
  int oom;
} hd_sb;

static void hd__sb_addn(hd_sb *b, const char *str, size_t len) {
  if (b->oom)
    return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->n + len + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, str, len);
  b->n += len;
  b->p[b->n] = '\0';
}

static void hd__sb_add(hd_sb *b, const char *str) {
  hd__sb_addn(b, str, strlen(str));
}

/* @return : the string, copied to the arena, or NULL; b is freed. */
static const char *hd__sb_finish(hd_symbolizer *s, hd_sb *b) {
  const char *out = b->oom || b->p == NULL ? NULL : hd__strdup(s, b->p);
  free(b->p);
  return out;
}

static int hd__is_named_scope(int tag) {
  return tag == DW_TAG_subprogram || hd__is_container(tag);
}

/* Stands for "the CU itself" in the scope map, whose values are never
 * NULL. */
static const char hd__top[] = "top";

/* Records the DIEs below parent with `named` as their scope. */
static void hd__scopes_walk(hd_symbolizer *s, Dwarf_Die *parent,
                            const void *named, int depth) {
  Dwarf_Die child;
  if (depth > 64 || dwarf_child(parent, &child) != 0)
    return;
  do {
    const int tag = dwarf_tag(&child);
    const int named_scope = hd__is_named_scope(tag);
    if (named_scope || tag == DW_TAG_enumeration_type)
      (void)hd__cache_put(&s->names, (uintptr_t)child.addr, HD_NAME_SCOPE,
                          (void *)named);
    if (named_scope && dwarf_haschildren(&child) > 0) {
      Dwarf_Die *copy = hd__alloc(s, sizeof *copy);
      if (copy == NULL)
        return;
      *copy = child;
      hd__scopes_walk(s, copy, copy, depth + 1);
    } else if (hd__is_scope(tag)) {
      hd__scopes_walk(s, &child, named, depth + 1);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

/* The nearest namespace, class or function around die, walking its CU
 * the first time. @return : NULL at the CU's top level or when unknown. */
static const Dwarf_Die *hd__die_scope(hd_symbolizer *s, Dwarf_Die *die) {
  Dwarf_Die cu;
  if (dwarf_diecu(die, &cu, NULL, NULL) == NULL)
    return NULL;
  const uint64_t key = (uintptr_t)cu.addr;
  if (hd__cache_get(&s->names, key, HD_NAME_CUWALK) == NULL) {
    hd__scopes_walk(s, &cu, hd__top, 0);
    (void)hd__cache_put(&s->names, key, HD_NAME_CUWALK, (void *)hd__top);
  }
  const void *p = hd__cache_get(&s->names, (uintptr_t)die->addr, HD_NAME_SCOPE);
  return p == hd__top ? NULL : p;
}

/* The DIE that declares die: its abstract origins and specifications
 * followed to the end, where the name and the enclosing scope are. */
static void hd__die_decl(Dwarf_Die *die, Dwarf_Die *out) {
  *out = *die;
  for (int i = 0; i < HD_MAX_NEST; i++) {
    Dwarf_Attribute mem;
    Dwarf_Attribute *a = dwarf_attr(out, DW_AT_abstract_origin, &mem);
    if (a == NULL)
      a = dwarf_attr(out, DW_AT_specification, &mem);
    if (a == NULL || dwarf_formref_die(a, out) == NULL)
      return;
  }
}

static int hd__is_cxx(Dwarf_Die *die) {
  Dwarf_Die cu;
  if (dwarf_diecu(die, &cu, NULL, NULL) == NULL)
    return 0;
  const int lang = dwarf_srclang(&cu);
  return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
         lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

static int hd__is_artificial(Dwarf_Die *die) {
  Dwarf_Attribute mem;
  bool flag = false;
  return dwarf_formflag(dwarf_attr(die, DW_AT_artificial, &mem), &flag) == 0 &&
         flag;
}

static const char *hd__die_name(hd_symbolizer *s, Dwarf_Die *die);
static void hd__sb_type(hd_symbolizer *s, hd_sb *b, Dwarf_Die *type, int depth);
static void hd__sb_scoped(hd_symbolizer *s, hd_sb *b, Dwarf_Die *die,
                          int depth);

/* GCC's names for base types, in the demangler's words. */
static const char *hd__base_name(const char *name) {
  static const char *const map[][2] = {
      {"long int", "long"},
      {"long unsigned int", "unsigned long"},
      {"short int", "short"},
      {"short unsigned int", "unsigned short"},
      {"long long int", "long long"},
      {"long long unsigned int", "unsigned long long"},
      {"__int128 unsigned", "unsigned __int128"},
      {"_Bool", "bool"},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(name, map[i][0]) == 0)
      return map[i][1];
  return name;
}

/* The DIE's DW_AT_type, or 0 when it has none (void). */
static int hd__die_type(Dwarf_Die *die, Dwarf_Die *out) {
  Dwarf_Attribute mem;
  return dwarf_formref_die(dwarf_attr(die, DW_AT_type, &mem), out) != NULL;
}

/* Appends the type of die (its DW_AT_type), "void" if it has none. */
static void hd__sb_typeof(hd_symbolizer *s, hd_sb *b, Dwarf_Die *die,
                          int depth) {
  Dwarf_Die t;
  if (hd__die_type(die, &t))
    hd__sb_type(s, b, &t, depth + 1);
  else
    hd__sb_add(b, "void");
}

/* What a pointer, reference or qualifier type adds after the type it
 * modifies, as the demangler prints it; NULL for other tags. */
static const char *hd__type_suffix(int tag) {
  switch (tag) {
  case DW_TAG_pointer_type:
    return "*";
  case DW_TAG_reference_type:
    return "&";
  case DW_TAG_rvalue_reference_type:
    return "&&";
  case DW_TAG_const_type:
    return " const";
  case DW_TAG_volatile_type:
    return " volatile";
  default:
    return NULL;
  }
}

/* Appends a type as the demangler prints it: "char const*", typedefs
 * resolved (mangled names hold the type itself), classes qualified. */
static void hd__sb_type(hd_symbolizer *s, hd_sb *b, Dwarf_Die *type,
                        int depth) {
  const char *name = dwarf_diename(type);
  if (depth > HD_MAX_NEST) {
    hd__sb_add(b, "?");
    return;
  }
  const char *suffix = hd__type_suffix(dwarf_tag(type));
  if (suffix) { /* "T*", "T const": the type it modifies, then this */
    hd__sb_typeof(s, b, type, depth);
    hd__sb_add(b, suffix);
    return;
  }
  switch (dwarf_tag(type)) {
  case DW_TAG_base_type:
    hd__sb_add(b, name != NULL ? hd__base_name(name) : "?");
    return;
  case DW_TAG_typedef: {
    Dwarf_Die t;
    if (hd__die_type(type, &t))
      hd__sb_type(s, b, &t, depth + 1);
    else
      hd__sb_add(b, name != NULL ? name : "?");
    return;
  }
  case DW_TAG_class_type:
  case DW_TAG_structure_type:
  case DW_TAG_union_type:
  case DW_TAG_enumeration_type:
    hd__sb_scoped(s, b, type, depth + 1);
    return;
  default:
    hd__sb_add(b, name != NULL ? name : "?");
  }
}

/* Appends the types of fn's declared parameters, "(int, char const*)",
 * and " const" for a method on a const object. */
static void hd__sb_params(hd_symbolizer *s, hd_sb *b, Dwarf_Die *fn,
                          int depth) {
  Dwarf_Die p;
  const char *sep = "";
  int is_const = 0;
  hd__sb_add(b, "(");
  if (dwarf_child(fn, &p) == 0) {
    do {
      const int tag = dwarf_tag(&p);
      if (tag == DW_TAG_unspecified_parameters) {
        hd__sb_add(b, sep);
        hd__sb_add(b, "...");
        sep = ", ";
      }
      if (tag != DW_TAG_formal_parameter)
        continue;
      if (hd__is_artificial(&p)) {
        /* `this`: a pointer, maybe const itself, to the maybe const
         * object */
        Dwarf_Die t;
        int ok = hd__die_type(&p, &t);
        if (ok && dwarf_tag(&t) == DW_TAG_const_type)
          ok = hd__die_type(&t, &t);
        if (ok && dwarf_tag(&t) == DW_TAG_pointer_type)
          is_const |=
              hd__die_type(&t, &t) && dwarf_tag(&t) == DW_TAG_const_type;
        continue;
      }
      hd__sb_add(b, sep);
      hd__sb_typeof(s, b, &p, depth);
      sep = ", ";
    } while (dwarf_siblingof(&p, &p) == 0);
  }
  hd__sb_add(b, is_const ? ") const" : ")");
}

/* A class with no name, or named "<lambda...>", and a child named
 * "<lambda>" (GCC's constructors) or "operator()": a lambda's closure.
 * @return : 0 not one, 1 one, 2 one whose operator() is now in *call. */
static int hd__is_lambda(Dwarf_Die *cls, Dwarf_Die *call) {
  const char *name = dwarf_diename(cls);
  const int tag = dwarf_tag(cls);
  int lambda = name != NULL && strncmp(name, "<lambda", 7) == 0;
  Dwarf_Die c;
  if ((tag != DW_TAG_class_type && tag != DW_TAG_structure_type) ||
      (name != NULL && !lambda))
    return 0;
  if (dwarf_child(cls, &c) != 0)
    return lambda;
  do {
    const char *n = dwarf_diename(&c);
    if (dwarf_tag(&c) != DW_TAG_subprogram || n == NULL)
      continue;
    if (strcmp(n, "operator()") == 0 || strncmp(n, "operator()<", 11) == 0) {
      *call = c;
      return 2;
    }
    lambda |= strcmp(n, "<lambda>") == 0;
  } while (dwarf_siblingof(&c, &c) == 0);
  return lambda;
}

/* Counts the closures in scope before `target`, through lexical blocks
 * but not into other named scopes. @return : 1 when target was reached. */
static int hd__lambda_count(Dwarf_Die *scope, const Dwarf_Die *target,
                            unsigned *n, int depth) {
  Dwarf_Die c;
  Dwarf_Die call;
  if (depth > HD_MAX_NEST || dwarf_child(scope, &c) != 0)
    return 0;
  do {
    if (c.addr == target->addr)
      return 1;
    const int tag = dwarf_tag(&c);
    if (hd__is_lambda(&c, &call))
      (*n)++;
    else if (hd__is_scope(tag) && tag != DW_TAG_subprogram &&
             hd__lambda_count(&c, target, n, depth + 1))
      return 1;
  } while (dwarf_siblingof(&c, &c) == 0);
  return 0;
}

/* "{lambda(int, char const*)#2}": the parameters of its operator(), and
 * its rank among the closures of its scope (GCC numbers them in source
 * order, whatever their parameters; the debug info keeps that order). */
static void hd__sb_lambda(hd_symbolizer *s, hd_sb *b, Dwarf_Die *cls,
                          Dwarf_Die *call, int depth) {
  const Dwarf_Die *scope = hd__die_scope(s, cls);
  unsigned n = 1;
  char num[16];
  hd__sb_add(b, "{lambda");
  if (call != NULL) {
    const size_t at = b->n;
    hd__sb_params(s, b, call, depth);
    /* the closure's own constness is not part of the lambda's name */
    if (!b->oom && b->n - at >= 7 && !strcmp(b->p + b->n - 7, ") const"))
      b->p[b->n -= 6] = '\0';
  } else {
    hd__sb_add(b, "()");
  }
  if (scope != NULL) {
    Dwarf_Die sc = *scope;
    if (hd__lambda_count(&sc, cls, &n, 0)) {
      snprintf(num, sizeof num, "#%u", n);
      hd__sb_add(b, num);
    }
  }
  hd__sb_add(b, "}");
}

/* Appends "scope::" for die's enclosing scope, nothing at the top. */
static void hd__sb_prefix(hd_symbolizer *s, hd_sb *b, Dwarf_Die *die,
                          int depth) {
  const Dwarf_Die *scope = hd__die_scope(s, die);
  if (scope == NULL)
    return;
  Dwarf_Die sc = *scope;
  if (dwarf_tag(&sc) == DW_TAG_subprogram) {
    const char *fn = hd__die_name(s, &sc);
    hd__sb_add(b, fn != NULL ? fn : "?");
  } else {
    hd__sb_scoped(s, b, &sc, depth + 1);
  }
  hd__sb_add(b, "::");
}

/* Appends the qualified name of a namespace, class or enum. */
static void hd__sb_scoped(hd_symbolizer *s, hd_sb *b, Dwarf_Die *die,
                          int depth) {
  Dwarf_Die call;
  const int lambda = hd__is_lambda(die, &call);
  const char *name = dwarf_diename(die);
  if (depth > HD_MAX_NEST) {
    hd__sb_add(b, "?");
    return;
  }
  hd__sb_prefix(s, b, die, depth);
  if (lambda)
    hd__sb_lambda(s, b, die, lambda == 2 ? &call : NULL, depth);
  else if (name != NULL)
    hd__sb_add(b, name);
  else if (dwarf_tag(die) == DW_TAG_namespace)
    hd__sb_add(b, "(anonymous namespace)");
  else
    hd__sb_add(b, "{unnamed type}");
}

/* The name of a C++ function without a linkage name, qualified by its
 * scopes, with its parameters' types. @return : NULL for C, out of
 * memory, or for a function at the top level: extern "C" or main, whose
 * plain name is its symbol's. */
static const char *hd__die_qualified(hd_symbolizer *s, Dwarf_Die *die) {
  Dwarf_Die decl;
  hd__die_decl(die, &decl);
  const char *name = dwarf_diename(&decl);
  if (name == NULL || !hd__is_cxx(&decl) || hd__die_scope(s, &decl) == NULL)
    return NULL;
  hd_sb b = {NULL, 0, 0, 0};
  hd__sb_prefix(s, &b, &decl, 0);
  hd__sb_add(&b, name);
  hd__sb_params(s, &b, &decl, 0);
  return hd__sb_finish(s, &b);
}

/* A function DIE's name, through its abstract origin and specification:
 * the linkage name demangled (C++, with namespace and arguments), else
 * for C++ the name rebuilt from its scopes (hd__die_qualified), else the
 * plain name (C). Kept per DIE: following the origins is a good part
 * of a lookup's cost, and a function's DIE serves many addresses. */
static const char *hd__die_name(hd_symbolizer *s, Dwarf_Die *die) {
  static const char none[] = ""; /* a DIE without a name, in the map */
  const uint64_t key = (uintptr_t)die->addr;
  const char *name = hd__cache_get(&s->names, key, HD_NAME_DIE);
  if (name != NULL)
    return name == none ? NULL : name;
  name = hd__die_string(die, DW_AT_linkage_name);
  if (name == NULL)
    name = hd__die_string(die, DW_AT_MIPS_linkage_name);
  name = hd__demangle(s, name);
  if (name == NULL && s->naming < HD_MAX_NEST) {
    s->naming++; /* a scope's name may need its own scope's */
    name = hd__die_qualified(s, die);
    s->naming--;
  }
  if (name == NULL)
    name = hd__die_string(die, DW_AT_name);
  (void)hd__cache_put(&s->names, key, HD_NAME_DIE,
                      (void *)(name ? name : none));
  return name;
}

/* A function DIE's name as linked (not demangled), for pprof's
 * system_name: the linkage name, else the plain name. */
static const char *hd__die_system_name(Dwarf_Die *die) {
  const char *name = hd__die_string(die, DW_AT_linkage_name);
  if (name == NULL)
    name = hd__die_string(die, DW_AT_MIPS_linkage_name);
  return name != NULL ? name : hd__die_string(die, DW_AT_name);
}

/* ---- opening a module ---- */

static uint64_t hd__module_hash(const char *path, const uint8_t *id,
                                uint32_t id_len) {
  return hd__mix(hd_hash(hd_hash(0, path, strlen(path)), id, id_len), id_len);
}

/* The vdso and the kernel's other pseudo mappings have no file. */
static int hd__is_nofile(const char *path) {
  const char *base = hs__tool_basename(path);
  return path[0] == '\0' || path[0] == '[' ||
         strncmp(base, "linux-vdso", 10) == 0 ||
         strncmp(base, "linux-gate", 10) == 0;
}

static void hd__set(hd_module *m, int status, const char *why) {
  m->status = status;
  m->why = why;
}

/* Opens a regular file without blocking on a FIFO or device node.
 * @return : the descriptor, or -1 with the module marked missing. */
static int hd__open_regular(hd_symbolizer *s, hd_module *m, const char *file) {
  const int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    hd__set(m, HD_MOD_MISSING, hd__printf(s, "%s: %s", file, strerror(errno)));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    hd__set(m, HD_MOD_MISSING, hd__printf(s, "%s: not a regular file", file));
    return -1;
  }
  return fd;
}

static void hd__hex(char *out, size_t cap, const uint8_t *id, size_t len) {
  size_t i = 0;
  for (; i < len && 2 * i + 2 < cap; i++)
    snprintf(out + 2 * i, 3, "%02x", id[i]);
  out[2 * i] = '\0';
}

/* @return : 1 when the file is the ELF file the snapshot saw, else 0 with
 * the module's status set. */
static int hd__check_file(hd_symbolizer *s, hd_module *m, int fd) {
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
    elf_end(elf);
    hd__set(m, m->build_id_len ? HD_MOD_MISMATCH : HD_MOD_NOSYMS,
            "not an ELF file");
    return 0;
  }
  const void *id = NULL;
  const ssize_t len = dwelf_elf_gnu_build_id(elf, &id);
  const int same =
      m->build_id_len == 0 || (len == (ssize_t)m->build_id_len &&
                               memcmp(id, m->build_id, m->build_id_len) == 0);
  if (!same) {
    char file_hex[2 * 64 + 1] = "none";
    char snap_hex[2 * 64 + 1];
    if (len > 0)
      hd__hex(file_hex, sizeof file_hex, id, (size_t)len);
    hd__hex(snap_hex, sizeof snap_hex, m->build_id, m->build_id_len);
    hd__set(m, HD_MOD_MISMATCH,
            hd__printf(s, "build id differs: file has %s, snapshot %s",
                       file_hex, snap_hex));
  }
  elf_end(elf);
  return same;
}

/* Hands fd to a Dwfl of its own, which closes it in dwfl_end(). */
static int hd__report(hd_symbolizer *s, hd_module *m, const char *file,
                      int fd) {
  m->dwfl = dwfl_begin(&s->cb);
  if (m->dwfl == NULL) {
    close(fd);
    hd__set(m, HD_MOD_NOSYMS, hd__printf(s, "%s", dwfl_errmsg(-1)));
    return 0;
  }
  dwfl_report_begin(m->dwfl);
  /* Base 0 with p_vaddr added: bias 0, lookup address = ELF vaddr. */
  m->mod = dwfl_report_elf(m->dwfl, file, file, fd, 0, true);
  dwfl_report_end(m->dwfl, NULL, NULL);
  if (m->mod == NULL) {
    close(fd);
    hd__set(m, HD_MOD_NOSYMS, hd__printf(s, "%s", dwfl_errmsg(-1)));
    return 0;
  }
  dwfl_module_info(m->mod, NULL, &m->lo, &m->hi, NULL, NULL, NULL, NULL);
  return 1;
}

/* Loads symbols and debug info now (debug info search included), so that
 * the status is final. */
static void hd__check_syms(hd_module *m) {
  Dwarf_Addr bias = 0;
  const int nsyms = dwfl_module_getsymtab(m->mod);
  const Dwarf *dw = dwfl_module_getdwarf(m->mod, &bias);
  /* Entry 0 of a symbol table is the null symbol. */
  if (nsyms <= 1 && dw == NULL)
    hd__set(m, HD_MOD_NOSYMS, "no symbols and no debug info");
  else
    hd__set(m, HD_MOD_OK, NULL);
}

static const char *hd__sysroot_path(hd_symbolizer *s, const char *path) {
  if (s->sysroot == NULL)
    return path;
  const size_t n = strlen(s->sysroot) + strlen(path) + 2;
  char *file = hd__alloc(s, n);
  if (file != NULL)
    snprintf(file, n, "%s%s%s", s->sysroot, path[0] == '/' ? "" : "/", path);
  return file;
}

static void hd__module_open(hd_symbolizer *s, hd_module *m) {
  m->opened = 1;
  if (hd__is_nofile(m->path)) {
    hd__set(m, HD_MOD_NOFILE,
            m->path[0] ? "no file (kernel-provided)" : "no path recorded");
    return;
  }
  const char *file = hd__sysroot_path(s, m->path);
  if (file == NULL) {
    hd__set(m, HD_MOD_MISSING, "out of memory");
    return;
  }
  const int fd = hd__open_regular(s, m, file);
  if (fd < 0)
    return;
  if (!hd__check_file(s, m, fd)) {
    close(fd);
    return;
  }
  if (hd__report(s, m, file, fd))
    hd__check_syms(m);
}

static hd_module *hd__module(hd_symbolizer *s, uint32_t handle) {
  if (s == NULL || handle >= s->n_mods)
    return NULL;
  hd_module *m = &s->mods[handle];
  if (!m->opened)
    hd__module_open(s, m);
  return m;
}

/* ---- symbol tables ---- */

/* Which table a symbol goes to: 'c' code, 'd' data, 0 neither. Code needs
 * no size (hand-written assembly often has none); data does. */
static int hd__sym_kind(const GElf_Sym *sym, GElf_Word shndx) {
  const int type = GELF_ST_TYPE(sym->st_info);
  if (shndx == SHN_UNDEF)
    return 0;
  if (type == STT_FUNC || type == STT_GNU_IFUNC)
    return 'c';
  if (sym->st_size > 0 &&
      (type == STT_OBJECT || type == STT_COMMON || type == STT_NOTYPE))
    return 'd';
  return 0;
}

/* Global names win over weak ones, weak over local ones. */
static uint64_t hd__sym_rank(const GElf_Sym *sym) {
  const int bind = GELF_ST_BIND(sym->st_info);
  return bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;
}

/* The end of a function symbol: a sized one's own; one without a size
 * (hand-written assembly) reaches to the next symbol, as libdwfl has it,
 * but not past its section: hd__sym_end gives the section's end and
 * hd__code_extend, on the sorted table, cuts it at the next symbol. */
static uint64_t hd__sym_end(const GElf_Sym *sym, GElf_Addr addr,
                            GElf_Word shndx, Elf *elf, Dwarf_Addr bias) {
  GElf_Shdr mem;
  const GElf_Shdr *sh = NULL;
  if (sym->st_size > 0 || elf == NULL)
    return addr + sym->st_size;
  sh = gelf_getshdr(elf_getscn(elf, shndx), &mem);
  if (sh == NULL || sh->sh_addr + sh->sh_size + bias <= addr)
    return addr;
  return sh->sh_addr + sh->sh_size + bias;
}

static void hd__code_extend(hd_symrange *code, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t next = i + 1;
    while (next < n && code[next].r.lo == code[i].r.lo)
      next++;
    if (code[i].unsized && next < n && code[next].r.lo < code[i].r.hi)
      code[i].r.hi = code[next].r.lo;
  }
}

/* Gives back the unused tail of an array filled to n entries. */
static void *hd__shrink(void *p, size_t n, size_t size) {
  if (n == 0) {
    free(p);
    return NULL;
  }
  void *q = realloc(p, n * size);
  return q != NULL ? q : p;
}

/* libdwfl's dwfl_module_addrinfo scans the whole table when no sized
 * symbol holds the address, and that is most lookups in a module without
 * debug info; so we keep both tables sorted ourselves. Out of memory, a
 * module keeps no symbols. */
static void hd__syms_load(hd_module *m) {
  m->syms_loaded = 1;
  const int nsyms = dwfl_module_getsymtab(m->mod);
  if (nsyms <= 1)
    return;
  m->code = calloc((size_t)nsyms, sizeof *m->code);
  m->data = calloc((size_t)nsyms, sizeof *m->data);
  if (m->code == NULL || m->data == NULL)
    return;
  for (int i = 1; i < nsyms; i++) {
    GElf_Sym sym;
    GElf_Addr addr = 0;
    GElf_Word shndx = 0;
    Elf *elf = NULL;
    Dwarf_Addr bias = 0;
    const char *name =
        dwfl_module_getsym_info(m->mod, i, &sym, &addr, &shndx, &elf, &bias);
    const int kind = name != NULL ? hd__sym_kind(&sym, shndx) : 0;
    const uint64_t end = hd__sym_end(&sym, addr, shndx, elf, bias);
    const hd_symrange r = {
        {addr, end, 0, hd__sym_rank(&sym)}, name, sym.st_size == 0};
    if (kind == 'c')
      m->code[m->n_code++] = r;
    else if (kind == 'd')
      m->data[m->n_data++] = r;
  }
  m->code = hd__shrink(m->code, m->n_code, sizeof *m->code);
  m->data = hd__shrink(m->data, m->n_data, sizeof *m->data);
  if (m->n_code)
    qsort(m->code, m->n_code, sizeof *m->code, hd__range_cmp);
  hd__code_extend(m->code, m->n_code);
  hd__ranges_index(m->code, m->n_code, sizeof *m->code);
  hd__ranges_sort(m->data, m->n_data, sizeof *m->data);
}

/* The ELF symbol holding off, demangled; *raw is its name as linked. */
static const char *hd__elf_name(hd_symbolizer *s, hd_module *m, uint64_t off,
                                const char **raw) {
  if (!m->syms_loaded)
    hd__syms_load(m);
  const hd_symrange *f = hd__ranges_find(m->code, m->n_code, sizeof *f, off);
  *raw = f != NULL ? f->name : NULL;
  return f != NULL ? hd__demangle(s, f->name) : NULL;
}

/* ---- code lookups ---- */

/* Descends from `parent` to the innermost scope holding pc, appending the
 * path (outermost first) to chain[*n]. Only scopes that contain pc and
 * pc-less containers are entered.
 * @return : 1 when a scope holding pc was found below parent. */
static int hd__descend(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *chain,
                       size_t *n, size_t cap) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0)
    return 0;
  do {
    const int tag = dwarf_tag(&child);
    const int container = hd__is_container(tag);
    /* Testing the tag first spares dwarf_haspc's attribute scan on the
     * many variables, parameters and call sites. */
    if (!container && (!hd__is_scope(tag) || dwarf_haspc(&child, pc) <= 0))
      continue;
    if (*n == cap)
      return 1; /* absurdly deep: keep what we have */
    chain[(*n)++] = child;
    if (hd__descend(&chain[*n - 1], pc, chain, n, cap) || !container)
      return 1;
    (*n)--;
  } while (dwarf_siblingof(&child, &child) == 0);
  return 0;
}

static void hd__call_site(Dwarf_Die *inl, const char **file, uint32_t *line) {
  Dwarf_Attribute mem;
  Dwarf_Word val = 0;
  Dwarf_Die cu;
  Dwarf_Files *files = NULL;
  if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &mem), &val) == 0 &&
      dwarf_diecu(inl, &cu, NULL, NULL) != NULL &&
      dwarf_getsrcfiles(&cu, &files, NULL) == 0)
    *file = dwarf_filesrc(files, val, NULL, NULL);
  if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &mem), &val) == 0)
    *line = (uint32_t)val;
}

/* Turns a scope chain (outermost first) into frames, innermost first:
 * each inlined callee, then the function it was inlined into, with the
 * call site of the frame before as its file and line.
 * @return : the number of frames. */
static size_t hd__chain_frames(hd_symbolizer *s, Dwarf_Die *chain, size_t n,
                               hd_frame *out) {
  size_t nf = 0;
  Dwarf_Die *callee = NULL;
  for (size_t i = n; i-- > 0 && nf < HD_MAX_FRAMES;) {
    const int tag = dwarf_tag(&chain[i]);
    if (!hd__is_function(tag))
      continue;
    hd_frame *f = &out[nf++];
    *f = hd__unknown;
    f->function = hd__die_name(s, &chain[i]);
    f->system_name = hd__die_system_name(&chain[i]);
    f->inlined = tag == DW_TAG_inlined_subroutine;
    if (callee != NULL)
      hd__call_site(callee, &f->file, &f->line);
    if (!f->inlined)
      break; /* the real function; anything outside is not a caller */
    callee = &chain[i];
  }
  if (nf > 0)
    out[nf - 1].inlined = 0;
  return nf;
}

typedef struct hd_dievec {
  hd_dierange *v;
  size_t n;
  size_t cap;
} hd_dievec;

/* Adds the code ranges of `ranged` as ranges of `die`. Out of memory, a
 * range is dropped: its code goes unnamed, no more. */
static void hd__die_ranges(hd_dievec *v, Dwarf_Die *ranged,
                           const Dwarf_Die *die) {
  Dwarf_Addr base = 0;
  Dwarf_Addr lo = 0;
  Dwarf_Addr hi = 0;
  ptrdiff_t off = 0;
  while ((off = dwarf_ranges(ranged, off, &base, &lo, &hi)) > 0) {
    if (lo >= hi)
      continue;
    if (hd_grow(&v->v, &v->cap, v->n, sizeof *v->v, 64) != 0)
      return;
    v->v[v->n++] = (hd_dierange){{lo, hi, 0, 0}, *die};
  }
}

/* Indexes the module's compile units by their ranges. libdwfl's own
 * dwfl_module_addrdie and dwfl_module_getsrc need .debug_aranges, which
 * clang does not emit (elfutils before 0.191 does not make up for it). */
static void hd__cus_load(hd_module *m) {
  m->cus_loaded = 1;
  Dwarf *dw = dwfl_module_getdwarf(m->mod, &m->dwbias);
  hd_dievec v = {NULL, 0, 0};
  Dwarf_CU *cu = NULL;
  Dwarf_Die cudie;
  Dwarf_Die subdie;
  uint8_t type = 0;
  while (dw != NULL &&
         dwarf_get_units(dw, cu, &cu, NULL, &type, &cudie, &subdie) == 0) {
    if (type == DW_UT_compile)
      hd__die_ranges(&v, &cudie, &cudie);
    else if (type == DW_UT_skeleton && subdie.addr != NULL)
      hd__die_ranges(&v, &cudie, &subdie);
  }
  hd__ranges_sort(v.v, v.n, sizeof *v.v);
  m->cus = v.v;
  m->n_cus = v.n;
}

/* Collects the code ranges of the functions below parent, through
 * namespaces and classes but not into functions. */
static void hd__cu_collect(hd_dievec *v, Dwarf_Die *parent, int depth) {
  Dwarf_Die child;
  if (depth > 64 || dwarf_child(parent, &child) != 0)
    return;
  do {
    const int tag = dwarf_tag(&child);
    if (tag == DW_TAG_subprogram)
      hd__die_ranges(v, &child, &child);
    else if (hd__is_container(tag))
      hd__cu_collect(v, &child, depth + 1);
  } while (dwarf_siblingof(&child, &child) == 0);
}

/* Finding the function by walking the CU's top level costs as much as the
 * CU has DIEs (460 us a lookup in a CU of 2500 functions; dwarf_getscopes
 * walks it up to three times). So each CU gets, once, a sorted index of its
 * functions' ranges. @return : the index, or NULL out of memory. */
static const hd_cuindex *hd__cu_index(hd_symbolizer *s, Dwarf_Die *cu) {
  const uint64_t key = (uintptr_t)cu->addr;
  hd_cuindex *ix = hd__cache_get(&s->fnidx, key, 0);
  if (ix != NULL)
    return ix;
  hd_dievec v = {NULL, 0, 0};
  hd__cu_collect(&v, cu, 0);
  hd__ranges_sort(v.v, v.n, sizeof *v.v);
  ix = hd__alloc(s, sizeof *ix + v.n * sizeof ix->fns[0]);
  if (ix != NULL) {
    ix->n = v.n;
    if (v.n)
      memcpy(ix->fns, v.v, v.n * sizeof *v.v);
    if (hd__cache_put(&s->fnidx, key, 0, ix) != 0)
      ix = NULL;
  }
  free(v.v);
  return ix;
}

/* The scope chain (outermost first) from the function holding pc down to
 * the innermost scope, made into frames. @return : their number. */
static size_t hd__scope_frames(hd_symbolizer *s, Dwarf_Die *cu, uint64_t pc,
                               hd_frame *out) {
  const hd_cuindex *ix = hd__cu_index(s, cu);
  const hd_dierange *fn =
      ix != NULL ? hd__ranges_find(ix->fns, ix->n, sizeof *fn, pc) : NULL;
  if (fn == NULL)
    return 0;
  Dwarf_Die chain[HD_MAX_FRAMES * 2];
  size_t n = 1;
  chain[0] = fn->die;
  (void)hd__descend(&chain[0], pc, chain, &n, HD_MAX_FRAMES * 2);
  return hd__chain_frames(s, chain, n, out);
}

/* The line table gives the innermost frame its own file and line. */
static void hd__line(Dwarf_Die *cu, uint64_t pc, hd_frame *f) {
  Dwarf_Line *line = dwarf_getsrc_die(cu, pc);
  int lineno = 0;
  f->file = line != NULL ? dwarf_linesrc(line, NULL, NULL) : NULL;
  if (f->file != NULL && dwarf_lineno(line, &lineno) == 0 && lineno > 0)
    f->line = (uint32_t)lineno;
}

/* @return : frames for off (at least 1), in out. */
static size_t hd__code_frames(hd_symbolizer *s, hd_module *m, uint64_t off,
                              hd_frame *out) {
  if (!m->cus_loaded)
    hd__cus_load(m);
  const uint64_t pc = off - m->dwbias;
  const hd_dierange *cu = hd__ranges_find(m->cus, m->n_cus, sizeof *cu, pc);
  Dwarf_Die cudie;
  size_t n = 0;
  if (cu != NULL) {
    cudie = cu->die;
    n = hd__scope_frames(s, &cudie, pc, out);
  }
  if (n == 0) {
    out[0] = hd__unknown;
    n = 1;
  }
  hd_frame *real = &out[n - 1];
  if (real->function == NULL)
    real->function = hd__elf_name(s, m, off, &real->system_name);
  if (cu != NULL)
    hd__line(&cudie, pc, &out[0]);
  return n;
}

static hd_result *hd__resolve(hd_symbolizer *s, hd_module *m, uint64_t off) {
  hd_frame buf[HD_MAX_FRAMES];
  size_t n = 1;
  buf[0] = hd__unknown;
  if (m->status == HD_MOD_OK && off >= m->lo && off < m->hi)
    n = hd__code_frames(s, m, off, buf);
  hd_result *r = hd__alloc(s, sizeof *r + n * sizeof r->frames[0]);
  if (r == NULL)
    return NULL;
  r->n = n;
  memcpy(r->frames, buf, n * sizeof buf[0]);
  return r;
}

size_t hd_symbolize(hd_symbolizer *s, uint32_t handle, uint64_t offset,
                    const hd_frame **frames) {
  const hd_frame *unused = NULL;
  if (frames == NULL)
    frames = &unused;
  *frames = &hd__unknown;
  hd_module *m = hd__module(s, handle);
  if (m == NULL)
    return 1;
  const uint64_t key = (uint64_t)handle << 1 | HD_LOOKUP_CODE;
  hd_result *r = hd__cache_get(&s->cache, key, offset);
  if (r == NULL) {
    r = hd__resolve(s, m, offset);
    if (r == NULL)
      return 1;
    (void)hd__cache_put(&s->cache, key, offset, r);
  }
  *frames = r->frames;
  return r->n;
}

/* ---- data lookups ---- */

static const hd_dataref *hd__data_resolve(hd_symbolizer *s, hd_module *m,
                                          uint64_t off) {
  if (m->status != HD_MOD_OK)
    return &hd__nodata;
  if (!m->syms_loaded)
    hd__syms_load(m);
  const hd_symrange *d = hd__ranges_find(m->data, m->n_data, sizeof *d, off);
  if (d == NULL)
    return &hd__nodata;
  hd_dataref *r = hd__alloc(s, sizeof *r);
  if (r == NULL)
    return NULL;
  r->name = hd__demangle(s, d->name);
  r->off = off - d->r.lo;
  return r;
}

const char *hd_symbolize_data(hd_symbolizer *s, uint32_t handle,
                              uint64_t offset, uint64_t *sym_off) {
  hd_module *m = hd__module(s, handle);
  if (m == NULL)
    return NULL;
  const uint64_t key = (uint64_t)handle << 1 | HD_LOOKUP_DATA;
  const hd_dataref *r = hd__cache_get(&s->cache, key, offset);
  if (r == NULL) {
    r = hd__data_resolve(s, m, offset);
    if (r == NULL)
      return NULL;
    (void)hd__cache_put(&s->cache, key, offset, (void *)r);
  }
  if (r->name != NULL && sym_off != NULL)
    *sym_off = r->off;
  return r->name;
}

/* ---- modules ---- */

static int hd__module_same(const hd_module *a, uint64_t hash, const char *path,
                           const uint8_t *id, uint32_t id_len) {
  return a->hash == hash && a->build_id_len == id_len &&
         strcmp(a->path, path) == 0 &&
         (id_len == 0 || memcmp(a->build_id, id, id_len) == 0);
}

static int hd__module_append(hd_symbolizer *s, const char *path,
                             const uint8_t *id, uint32_t id_len,
                             uint64_t hash) {
  if (hd_grow(&s->mods, &s->cap_mods, s->n_mods, sizeof *s->mods, 16) != 0)
    return HS_ENOMEM;
  hd_module *m = &s->mods[s->n_mods];
  memset(m, 0, sizeof *m);
  m->hash = hash;
  m->path = hd__strdup(s, path);
  m->build_id = id_len ? hd__alloc(s, id_len) : NULL;
  if (m->path == NULL || (id_len && m->build_id == NULL))
    return HS_ENOMEM;
  if (id_len)
    memcpy((uint8_t *)m->build_id, id, id_len);
  m->build_id_len = id_len;
  s->n_mods++;
  return 0;
}

int hd_symbolizer_add_module(hd_symbolizer *s, const hs_module *m,
                             uint32_t *handle) {
  if (s == NULL || m == NULL || handle == NULL)
    return HS_EINVAL;
  const char *path = m->path != NULL ? m->path : "";
  /* A zero-length or absent id means "unknown": the file is not checked. */
  const uint32_t id_len = m->build_id != NULL ? m->build_id_len : 0;
  const uint64_t hash = hd__module_hash(path, m->build_id, id_len);
  for (size_t i = 0; i < s->n_mods; i++) {
    if (hd__module_same(&s->mods[i], hash, path, m->build_id, id_len)) {
      *handle = (uint32_t)i;
      return 0;
    }
  }
  if (s->n_mods >= UINT32_MAX)
    return HS_ENOMEM;
  const int err = hd__module_append(s, path, m->build_id, id_len, hash);
  if (err == 0)
    *handle = (uint32_t)(s->n_mods - 1);
  return err;
}

int hd_symbolizer_module_status(hd_symbolizer *s, uint32_t handle,
                                const char **why) {
  const hd_module *m = hd__module(s, handle);
  const int status = m != NULL ? m->status : HD_MOD_MISSING;
  if (why != NULL)
    *why = m != NULL ? m->why : "no such module handle";
  return status;
}

/* ---- create / free ---- */

/* Relative debug folders are taken from the current directory, since
 * elfutils reads relative entries as subfolders of each module's folder. */
static char *hd__absolute(const char *dir) {
  if (dir[0] == '/')
    return strdup(dir);
  char *cwd = getcwd(NULL, 0);
  char *out = NULL;
  if (cwd != NULL && asprintf(&out, "%s/%s", cwd, dir) < 0)
    out = NULL;
  free(cwd);
  return out;
}

static int hd__path_add(char **path, const char *a, const char *b) {
  char *next = NULL;
  const char *sep = *path != NULL ? ":" : "";
  if (asprintf(&next, "%s%s%s%s", *path ? *path : "", sep, a, b) < 0)
    return HS_ENOMEM;
  free(*path);
  *path = next;
  return 0;
}

/* The debuginfo_path: --debug-dir folders, the sysroot's /usr/lib/debug,
 * the host's, then the module's own folder and its .debug subfolder. The
 * build-id lookup uses the absolute entries, .gnu_debuglink all of them. */
static int hd__debug_path(hd_symbolizer *s, const hd_sym_options *opt) {
  int err = 0;
  for (size_t i = 0; err == 0 && opt && i < opt->n_debug_dirs; i++) {
    const char *dir = opt->debug_dirs[i];
    if (dir == NULL || dir[0] == '\0' || strchr(dir, ':') != NULL)
      return HS_EINVAL; /* ':' separates entries; it cannot be quoted */
    char *abs = hd__absolute(dir);
    err = abs != NULL ? hd__path_add(&s->debuginfo_path, abs, "") : HS_ENOMEM;
    free(abs);
  }
  if (err == 0 && s->sysroot != NULL)
    err = hd__path_add(&s->debuginfo_path, s->sysroot, "/usr/lib/debug");
  if (err == 0)
    err = hd__path_add(&s->debuginfo_path, "/usr/lib/debug::.debug", "");
  return err;
}

static int hd__set_sysroot(hd_symbolizer *s, const char *sysroot) {
  if (sysroot == NULL || sysroot[0] == '\0')
    return 0;
  if (strchr(sysroot, ':') != NULL)
    return HS_EINVAL;
  s->sysroot = strdup(sysroot);
  if (s->sysroot == NULL)
    return HS_ENOMEM;
  size_t n = strlen(s->sysroot);
  while (n > 1 && s->sysroot[n - 1] == '/')
    s->sysroot[--n] = '\0';
  if (strcmp(s->sysroot, "/") == 0) {
    free(s->sysroot);
    s->sysroot = NULL;
  }
  return 0;
}

int hd_symbolizer_create(const hd_sym_options *opt, hd_symbolizer **out) {
  if (out == NULL || (opt && opt->n_debug_dirs && opt->debug_dirs == NULL))
    return HS_EINVAL;
  *out = NULL;
  if (elf_version(EV_CURRENT) == EV_NONE)
    return HS_EINVAL;
  hd_symbolizer *s = calloc(1, sizeof *s);
  if (s == NULL)
    return HS_ENOMEM;
  int err = hd__cache_init(&s->cache);
  if (err == 0)
    err = hd__cache_init(&s->names);
  if (err == 0)
    err = hd__cache_init(&s->fnidx);
  if (err == 0)
    err = hd__set_sysroot(s, opt ? opt->sysroot : NULL);
  if (err == 0)
    err = hd__debug_path(s, opt);
  if (err != 0) {
    hd_symbolizer_free(s);
    return err;
  }
  s->cb.find_elf = dwfl_build_id_find_elf;
  s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
  s->cb.section_address = dwfl_offline_section_address;
  s->cb.debuginfo_path = &s->debuginfo_path;
  *out = s;
  return 0;
}

void hd_symbolizer_free(hd_symbolizer *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_mods; i++) {
    dwfl_end(s->mods[i].dwfl);
    free(s->mods[i].cus);
    free(s->mods[i].code);
    free(s->mods[i].data);
  }
  free(s->mods);
  hd__cache_free(&s->cache);
  hd__cache_free(&s->names);
  hd__cache_free(&s->fnidx);
  while (s->chunks != NULL) {
    hd_chunk *next = s->chunks->next;
    free(s->chunks);
    s->chunks = next;
  }
  free(s->debuginfo_path);
  free(s->sysroot);
  free(s);
}
