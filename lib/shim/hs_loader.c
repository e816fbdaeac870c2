/* hs_loader.c - what the shim asks of the dynamic loader, safe in a child
 * of fork.
 *
 * The shim lists the loaded modules with dl_iterate_phdr (at each snapshot,
 * and libunwind does it for every stack the fast walk leaves to it), and
 * dl_iterate_phdr holds the loader's dl_load_write_lock while it runs.
 * dlopen and dlclose take that lock too, and glibc 2.36's fork does not
 * reset it in the child (it resets dl_load_lock and dl_load_tls_lock
 * only). A child forked while another thread of the parent held it can
 * never take it again: bare, only that child's own dlopen, dlclose or
 * dl_iterate_phdr would hang; under the shim, its first stack or snapshot
 * did.
 *
 * So the shim never calls into the loader in a child that inherited the
 * lock held:
 * - At start, hs__loader_probe finds where the lock lies: the only mutex
 *   in ld.so's _rtld_global that this thread owns inside a dl_iterate_phdr
 *   callback and not after it (the layout of a pthread mutex is public
 *   ABI; the offset inside _rtld_global is not, so it is looked for, never
 *   assumed).
 * - At each fork (prepare), the modules are captured: every field of
 *   dl_phdr_info, with the names and program headers copied.
 * - In the child, the lock word is read. Free: nothing changes. Held: the
 *   child is "frozen". Its module list can never change again (loading or
 *   unloading needs that lock), so the capture, with every module that was
 *   unloaded between the capture and the fork taken out, answers the
 *   shim's own dl_iterate_phdr calls (hs__busy set) for the child's whole
 *   life. The program's own calls still go to the loader, and hang as
 *   they would without the shim.
 * - When the lock cannot be found (another libc), every child is frozen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "hs_shim.h"

static int (*hs__real_dl_iterate)(int (*)(struct dl_phdr_info *, size_t,
                                          void *),
                                  void *);

/* --- finding the loader's write lock ------------------------------------ */

/* glibc's struct __pthread_mutex_s on x86-64: __lock, __count, __owner,
 * __nusers, __kind (public ABI, bits/struct_mutex.h). */
typedef struct hs__mutex_words {
  int lock;
  unsigned count;
  int owner;
  unsigned nusers;
  int kind;
} hs__mutex_words;

#define HS_PROBE_MAX 8

static struct {
  const char *base; /* _rtld_global */
  size_t size;
  size_t cand[HS_PROBE_MAX];
  int n_cand;
  const _Atomic int *lock; /* the write lock's word, once found */
} hs__probe;

/* Inside the callback, with the write lock held by this thread: every
 * recursive mutex this thread owns is a candidate. */
static int hs__probe_visit(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)info, (void)size, (void)arg;
  const int tid = (int)gettid();
  for (size_t off = 0; off + sizeof(hs__mutex_words) <= hs__probe.size;
       off += 8) {
    const hs__mutex_words *m = (const void *)(hs__probe.base + off);
    if (m->lock != 0 && m->count >= 1 && m->owner == tid &&
        (m->kind & 3) == PTHREAD_MUTEX_RECURSIVE_NP &&
        hs__probe.n_cand < HS_PROBE_MAX)
      hs__probe.cand[hs__probe.n_cand++] = off;
  }
  return 1; /* one look is enough */
}

static void hs__probe_run(void) {
  hs__probe.base = hs__os_symbol_any("_rtld_global");
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  if (!hs__probe.base ||
      !dladdr1(hs__probe.base, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
    return;
  hs__probe.size = sym->st_size;
  hs__real_dl_iterate(hs__probe_visit, NULL);
  /* The write lock is free again now; a lock held around this call (the
   * loader's dl_load_lock, when the shim is loaded by dlopen) is not. */
  const char *found = NULL;
  int n = 0;
  for (int i = 0; i < hs__probe.n_cand; i++) {
    const hs__mutex_words *m =
        (const void *)(hs__probe.base + hs__probe.cand[i]);
    if (m->lock == 0 && m->owner == 0)
      found = (const char *)m, n++;
  }
  if (n == 1)
    hs__probe.lock = (const _Atomic int *)found;
}

/* --- the capture ------------------------------------------------------- */

typedef struct hs__cap_entry {
  struct dl_phdr_info info; /* dlpi_name, dlpi_phdr point into the arena */
} hs__cap_entry;

static struct {
  hs__cap_entry *e;
  size_t n, cap;
  char *arena; /* names and program headers */
  size_t used, arena_cap;
  unsigned long long adds, subs; /* the loader's counts at the capture */
  int valid, overflow;
} hs__cap;

static int hs__frozen; /* a child that inherited the write lock held */

static void *hs__cap_copy(const void *p, size_t len) {
  const size_t at = (hs__cap.used + 7) & ~(size_t)7;
  if (at + len > hs__cap.arena_cap) {
    hs__cap.overflow = 1;
    return NULL;
  }
  memcpy(hs__cap.arena + at, p, len);
  hs__cap.used = at + len;
  return hs__cap.arena + at;
}

static int hs__cap_visit(struct dl_phdr_info *info, size_t size, void *arg) {
  int *first = arg;
  if (*first) {
    *first = 0;
    /* The loader's counts of loads and unloads: unchanged, the list is. */
    if (hs__cap.valid && info->dlpi_adds == hs__cap.adds &&
        info->dlpi_subs == hs__cap.subs)
      return 1;
    hs__cap.valid = 0;
    hs__cap.n = hs__cap.used = 0;
    hs__cap.adds = info->dlpi_adds;
    hs__cap.subs = info->dlpi_subs;
  }
  if (hs__cap.n == hs__cap.cap) {
    hs__cap.overflow = 1;
    return 1;
  }
  hs__cap_entry *const e = &hs__cap.e[hs__cap.n];
  memset(e, 0, sizeof *e);
  memcpy(&e->info, info, size < sizeof e->info ? size : sizeof e->info);
  const char *name = info->dlpi_name ? info->dlpi_name : "";
  e->info.dlpi_name = hs__cap_copy(name, strlen(name) + 1);
  e->info.dlpi_phdr =
      hs__cap_copy(info->dlpi_phdr, info->dlpi_phnum * sizeof(ElfW(Phdr)));
  if (!hs__cap.overflow)
    hs__cap.n++;
  return hs__cap.overflow;
}

/* Room for n modules and their names and headers, 512 bytes each. */
static int hs__cap_reserve(size_t n) {
  hs__os_free(hs__cap.e, hs__cap.cap * sizeof(hs__cap_entry));
  hs__os_free(hs__cap.arena, hs__cap.arena_cap);
  hs__cap.cap = n;
  hs__cap.arena_cap = n * 512;
  hs__cap.e = hs__os_alloc(n * sizeof(hs__cap_entry));
  hs__cap.arena = hs__os_alloc(hs__cap.arena_cap);
  hs__cap.valid = 0;
  if (hs__cap.e && hs__cap.arena)
    return 0;
  hs__cap.cap = hs__cap.arena_cap = 0;
  return HS_ENOMEM;
}

/* In the parent, at fork's prepare step: what dl_iterate_phdr says now.
 * Left as it was when the loader counted no load or unload since. */
static void hs__cap_take(void) {
  for (size_t want = hs__cap.cap ? hs__cap.cap : 256; want <= (1u << 20);
       want *= 4) {
    if (want != hs__cap.cap && hs__cap_reserve(want))
      return;
    int first = 1;
    hs__cap.overflow = 0;
    hs__real_dl_iterate(hs__cap_visit, &first);
    if (!hs__cap.overflow) {
      hs__cap.valid = 1;
      return;
    }
  }
}

/* The lowest address a module maps. */
static uint64_t hs__cap_start(const struct dl_phdr_info *info) {
  uint64_t lo = UINT64_MAX;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_LOAD &&
        info->dlpi_addr + info->dlpi_phdr[i].p_vaddr < lo)
      lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
  return lo;
}

/* In a frozen child: a module captured at prepare is still the one loaded
 * there if the loader's lock-free index (_dl_find_object, kept consistent
 * across fork by design) has an object at its address with its load bias
 * and name. The vDSO is not in that index, and is never unloaded. */
static int hs__cap_still_loaded(const struct dl_phdr_info *info) {
  const uint64_t lo = hs__cap_start(info);
  const uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
  if (vdso && lo == vdso)
    return 1;
  struct dl_find_object obj;
  if (lo == UINT64_MAX || _dl_find_object((void *)lo, &obj) != 0)
    return 0;
  const struct link_map *l = obj.dlfo_link_map;
  return l && l->l_addr == info->dlpi_addr &&
         strcmp(l->l_name ? l->l_name : "", info->dlpi_name) == 0;
}

static void hs__cap_prune(void) {
  size_t kept = 0;
  for (size_t i = 0; i < hs__cap.n; i++)
    if (hs__cap_still_loaded(&hs__cap.e[i].info))
      hs__cap.e[kept++] = hs__cap.e[i];
  hs__cap.n = kept;
}

/* dl_iterate_phdr from the capture: the same fields, in the same order. */
static int hs__cap_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *),
                           void *data) {
  int rc = 0;
  for (size_t i = 0; i < hs__cap.n && rc == 0; i++) {
    struct dl_phdr_info info = hs__cap.e[i].info;
    rc = cb(&info, sizeof info, data);
  }
  return rc;
}

/* --- the interface ------------------------------------------------------ */

static void hs__loader_resolve(void) {
  if (hs__real_dl_iterate)
    return;
  hs__real_dl_iterate =
      (__typeof__(hs__real_dl_iterate))hs__os_symbol_next("dl_iterate_phdr");
}

void hs__loader_init(void) {
  hs__loader_resolve();
  hs__probe_run();
}

int hs__loader_lock_found(void) {
  return hs__probe.lock != NULL;
}

int hs__loader_frozen(void) {
  return hs__frozen;
}

void hs__loader_fork_prepare(void) {
  if (!hs__frozen) /* a frozen child's own fork: the capture stays right */
    hs__cap_take();
}

void hs__loader_fork_child(void) {
  if (hs__frozen)
    return;
  hs__frozen = !hs__probe.lock ||
               atomic_load_explicit(hs__probe.lock, memory_order_relaxed) != 0;
  if (!hs__frozen)
    return;
  if (hs__cap.valid)
    hs__cap_prune();
  else
    hs__cap.n = 0; /* no capture: the shim names no module, and waits on none */
  if (hs__cfg.verbose)
    hs__say("forked while another thread held the loader's lock: this child "
            "lists its %zu modules from a copy made at fork",
            hs__cap.n);
}

/* Every call in the process comes here (the shim is preloaded). */
HS_EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *),
                              void *data) {
  hs__loader_resolve();
  if (HS_UNLIKELY(hs__frozen) && hs__busy)
    return hs__cap_iterate(cb, data);
  return hs__real_dl_iterate(cb, data);
}
