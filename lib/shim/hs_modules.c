/* hs_modules.c - every module the process has loaded, so a snapshot can be
 * symbolized offline: path, address range, load bias and GNU build id.
 *
 * Refreshed with dl_iterate_phdr at each snapshot and just before each
 * dlclose (the interposed dlclose calls in), so a library unloaded between
 * two snapshots is still known, flagged HS_MODULE_UNLOADED. Entries and
 * paths live in mmap'd memory; never called with a table lock held
 * (dl_iterate_phdr takes the loader's lock; hs_loader.c makes that call
 * safe in a child of fork). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hs_shim.h"

#define HS_MODULES_MAX 8192
#define HS_PATHS_BYTES (2u << 20)
#define HS_BUILD_ID_MAX 64

typedef struct hs__mod {
  uint64_t start, end, bias;
  uint32_t flags, build_id_len;
  uint32_t path_off, seen;
  uint32_t load_gen, unload_gen; /* its life; unload_gen 0 while loaded */
  uint8_t build_id[HS_BUILD_ID_MAX];
} hs__mod;

static struct {
  pthread_mutex_t lock;
  hs__mod *mods;
  size_t count;
  char *paths;
  size_t paths_used;
  char exe[PATH_MAX];
} hs__mt = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int hs__modules_alloc(void) {
  if (hs__mt.mods)
    return 0;
  hs__mt.mods = hs__os_alloc(HS_MODULES_MAX * sizeof(hs__mod));
  hs__mt.paths = hs__os_alloc(HS_PATHS_BYTES);
  if (!hs__mt.mods || !hs__mt.paths)
    return HS_ENOMEM;
  const ssize_t n = readlink("/proc/self/exe", hs__mt.exe, PATH_MAX - 1);
  hs__mt.exe[n > 0 ? n : 0] = '\0';
  return 0;
}

/* Copies the NT_GNU_BUILD_ID note of a loaded object, if it has one. */
static void hs__build_id(const struct dl_phdr_info *info, hs__mod *m) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE)
      continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
    const char *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      const char *name = p + sizeof *nh;
      const char *desc = name + ((nh->n_namesz + 3) & ~3u);
      if (desc + nh->n_descsz > end)
        break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
          memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= HS_BUILD_ID_MAX) {
        memcpy(m->build_id, desc, nh->n_descsz);
        m->build_id_len = nh->n_descsz;
        return;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
}

static void hs__phdr_range(const struct dl_phdr_info *info, uint64_t *lo,
                           uint64_t *hi, int exec_only) {
  *lo = UINT64_MAX;
  *hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || (exec_only && !(ph->p_flags & PF_X)))
      continue;
    const uint64_t a = info->dlpi_addr + ph->p_vaddr;
    if (a < *lo)
      *lo = a;
    if (a + ph->p_memsz > *hi)
      *hi = a + ph->p_memsz;
  }
}

static const char *hs__mod_path(const struct dl_phdr_info *info, size_t idx) {
  if (idx == 0 || !info->dlpi_name)
    return hs__mt.exe; /* the first object is the executable */
  return info->dlpi_name;
}

/* The latest entry for this file at this place (an entry per life of it
 * when another module held its range in between: hs__mod_revivable). */
static hs__mod *hs__mod_find(uint64_t start, uint64_t bias, const char *path) {
  for (size_t i = hs__mt.count; i-- > 0;) {
    hs__mod *m = &hs__mt.mods[i];
    if (m->start == start && m->bias == bias &&
        strcmp(hs__mt.paths + m->path_off, path) == 0)
      return m;
  }
  return NULL;
}

/* An unloaded entry loaded again at the same place stays one entry (one
 * life from its first load on), unless another module was loaded over
 * its range since it was unloaded: then a stack's generation must tell
 * them apart, and the new load gets an entry of its own. */
static int hs__mod_revivable(const hs__mod *m) {
  for (size_t i = 0; i < hs__mt.count; i++) {
    const hs__mod *c = &hs__mt.mods[i];
    if (c != m && c->start < m->end && m->start < c->end &&
        c->load_gen >= m->unload_gen)
      return 0;
  }
  return 1;
}

static hs__mod *hs__mod_add(const struct dl_phdr_info *info, const char *path,
                            uint64_t lo, uint64_t hi) {
  const size_t len = strlen(path) + 1;
  if (hs__mt.count == HS_MODULES_MAX ||
      hs__mt.paths_used + len > HS_PATHS_BYTES)
    return NULL;
  hs__mod *m = &hs__mt.mods[hs__mt.count++];
  memset(m, 0, sizeof *m);
  m->start = lo;
  m->end = hi;
  m->bias = info->dlpi_addr;
  m->path_off = (uint32_t)hs__mt.paths_used;
  memcpy(hs__mt.paths + hs__mt.paths_used, path, len);
  hs__mt.paths_used += len;
  hs__build_id(info, m);
  return m;
}

/* --- load generations ---------------------------------------------------
 * The generation goes up by one each time the shim sees a module
 * unloaded, and each of those unloads is logged: a stack recorded in an
 * earlier generation is the same stack now only if none of its frames lay
 * in a module unloaded since (hs__modules_unloaded_since); the snapshot
 * records each module's life and each stack's generation (section GENS),
 * so heapdiff names a frame after the module that held its address when
 * the stack was recorded, even where another library came later. A ring:
 * a stack older than the log is taken as a new one. */
#define HS_UNLOADS 4096

typedef struct hs__unload {
  _Atomic uint32_t gen; /* 0 while being written */
  uint64_t lo, hi;
} hs__unload;

static _Atomic uint32_t hs__gen_now;
static hs__unload hs__unloads[HS_UNLOADS];

uint32_t hs__modules_log_unload(uint64_t lo, uint64_t hi) {
  const uint32_t gen = atomic_load(&hs__gen_now) + 1;
  hs__unload *const u = &hs__unloads[gen % HS_UNLOADS];
  atomic_store(&u->gen, 0);
  u->lo = lo;
  u->hi = hi;
  atomic_store(&u->gen, gen);
  atomic_store(&hs__gen_now, gen); /* the entry first, then the generation */
  return gen;
}

uint32_t hs__modules_gen(void) {
  return atomic_load_explicit(&hs__gen_now, memory_order_acquire);
}

int hs__modules_unloaded_since(uint32_t from, uint32_t to, const uint64_t *f,
                               uint32_t depth) {
  if (to - from >= HS_UNLOADS)
    return 1; /* older than the log: assume the worst */
  for (uint32_t g = from + 1; g != to + 1; g++) {
    const hs__unload *const u = &hs__unloads[g % HS_UNLOADS];
    const uint64_t lo = u->lo, hi = u->hi;
    if (atomic_load(&u->gen) != g)
      return 1; /* overwritten under us */
    for (uint32_t i = 0; i < depth; i++)
      if (f[i] > lo && f[i] <= hi) /* a return address: the call is before */
        return 1;
  }
  return 0;
}

static int hs__mod_visit(struct dl_phdr_info *info, size_t size, void *arg) {
  size_t *idx = arg;
  uint64_t lo, hi;
  hs__phdr_range(info, &lo, &hi, 0);
  const char *path = hs__mod_path(info, (*idx)++);
  if (lo >= hi)
    return 0;
  hs__mod *m = hs__mod_find(lo, info->dlpi_addr, path);
  if (m && (m->flags & HS_MODULE_UNLOADED) && !hs__mod_revivable(m))
    m = NULL;
  if (!m && (m = hs__mod_add(info, path, lo, hi)))
    m->load_gen = atomic_load(&hs__gen_now);
  if (m) {
    m->seen = 1;
    m->unload_gen = 0;
    m->flags =
        (m->flags & ~HS_MODULE_UNLOADED) | (*idx == 1 ? HS_MODULE_MAIN : 0);
  }
  return 0;
}

void hs__modules_refresh(void) {
  pthread_mutex_lock(&hs__mt.lock);
  if (hs__modules_alloc() == 0) {
    for (size_t i = 0; i < hs__mt.count; i++)
      hs__mt.mods[i].seen = 0;
    size_t idx = 0;
    dl_iterate_phdr(hs__mod_visit, &idx);
    for (size_t i = 0; i < hs__mt.count; i++) {
      hs__mod *const m = &hs__mt.mods[i];
      if (m->seen || (m->flags & HS_MODULE_UNLOADED))
        continue;
      m->flags |= HS_MODULE_UNLOADED;
      m->unload_gen = hs__modules_log_unload(m->start, m->end);
    }
  }
  pthread_mutex_unlock(&hs__mt.lock);
}

size_t hs__modules_count(void) {
  return hs__mt.count;
}

typedef struct hs__data_query {
  hs__range *out;
  uint32_t *module;
  size_t n, max, idx;
} hs__data_query;

static int hs__data_visit(struct dl_phdr_info *info, size_t size, void *arg) {
  hs__data_query *q = arg;
  uint64_t lo, hi;
  hs__phdr_range(info, &lo, &hi, 0);
  const hs__mod *m =
      hs__mod_find(lo, info->dlpi_addr, hs__mod_path(info, q->idx++));
  for (int i = 0; m && i < info->dlpi_phnum && q->n < q->max; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
      continue;
    const uint64_t a = info->dlpi_addr + ph->p_vaddr;
    q->out[q->n] = (hs__range){a, a + ph->p_memsz};
    q->module[q->n++] = (uint32_t)(m - hs__mt.mods);
  }
  return 0;
}

size_t hs__modules_data(hs__range *out, uint32_t *module, size_t max) {
  hs__data_query q = {out, module, 0, max, 0};
  pthread_mutex_lock(&hs__mt.lock);
  if (hs__mt.mods)
    dl_iterate_phdr(hs__data_visit, &q);
  pthread_mutex_unlock(&hs__mt.lock);
  return q.n;
}

int hs__modules_is_libc(uint32_t module) {
  if (module >= hs__mt.count)
    return 0;
  const char *p = hs__mt.paths + hs__mt.mods[module].path_off;
  const char *base = strrchr(p, '/');
  return strncmp(base ? base + 1 : p, "libc.so", 7) == 0;
}

void hs__modules_life(size_t i, uint32_t *load, uint32_t *unload) {
  *load = hs__mt.mods[i].load_gen;
  *unload = hs__mt.mods[i].unload_gen;
}

void hs__modules_get(size_t i, hs_module *out) {
  const hs__mod *m = &hs__mt.mods[i];
  out->start = m->start;
  out->end = m->end;
  out->bias = m->bias;
  out->flags = m->flags;
  out->build_id_len = m->build_id_len;
  out->build_id = m->build_id;
  out->path = hs__mt.paths + m->path_off;
}

typedef struct hs__text_query {
  uint64_t fn, lo, hi;
} hs__text_query;

static int hs__text_visit(struct dl_phdr_info *info, size_t size, void *arg) {
  hs__text_query *q = arg;
  uint64_t lo, hi;
  hs__phdr_range(info, &lo, &hi, 1);
  if (q->fn >= lo && q->fn < hi) {
    q->lo = lo;
    q->hi = hi;
    return 1;
  }
  return 0;
}

int hs__modules_text_of(const void *fn, uint64_t *lo, uint64_t *hi) {
  hs__text_query q = {(uint64_t)fn, 0, 0};
  if (!dl_iterate_phdr(hs__text_visit, &q))
    return HS_EINVAL;
  *lo = q.lo;
  *hi = q.hi;
  return 0;
}

void hs__modules_lock(void) {
  pthread_mutex_lock(&hs__mt.lock);
}
void hs__modules_unlock(void) {
  pthread_mutex_unlock(&hs__mt.lock);
}
void hs__modules_reinit_child(void) {
  pthread_mutex_init(&hs__mt.lock, NULL);
}
