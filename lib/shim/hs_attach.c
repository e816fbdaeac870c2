/* hs_attach.c - attach mode: the shim loaded into a running process.
 *
 * Built into libheapsnap-attach.so only (lib/shim/CMakeLists.txt), never
 * into the preloaded libheapsnap.so. `heapsnap attach` loads the library
 * with dlopen (RTLD_LOCAL: it interposes nothing) from a thread it stopped
 * at a safe point, then calls hs_attach_start. Interception is by the
 * GOT: in every loaded module, each relocated slot (JUMP_SLOT, GLOB_DAT)
 * of the allocation API that holds the definition every module binds to
 * (the allocator's, kept as hs__real) or is still unresolved (lazy
 * binding: it points into the module's own PLT) is pointed at the shim's
 * hook, and its old value kept. The exec family and posix_spawn are
 * hooked too (hs_exec.c): a new program must not inherit the shim's
 * signal ignored. dlopen is hooked the same way, so modules
 * loaded later are patched as soon as they are in; modules the C library
 * loads by itself (NSS, gconv) are patched at the next dlopen, dlclose or
 * snapshot. hs_attach_stop puts every kept value back.
 *
 * The library stays loaded (-z nodelete), and with it the hooks a thread
 * may still be running when the slots are restored. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hs_shim.h"

void *reallocarray(void *p, size_t n, size_t m);
void *mallocx(size_t n, int flags);
void *rallocx(void *p, size_t n, int flags);
size_t xallocx(void *p, size_t n, size_t extra, int flags);
size_t sallocx(const void *p, int flags);
void dallocx(void *p, int flags);
void sdallocx(void *p, size_t n, int flags);
size_t nallocx(size_t n, int flags);
void *pvalloc(size_t n);
void *valloc(size_t n);
void *memalign(size_t align, size_t n);
size_t malloc_usable_size(void *p);

static void *hs__dlopen_hook(const char *file, int mode);

/* The API the preloaded shim interposes (its allocation part and
 * dl_iterate_phdr), dlopen added. The library is linked -Bsymbolic-functions,
 * so each name here is the shim's own hook. real: the definition the slots
 * held, from the global scope. */
typedef struct hs__hook {
  const char *name;
  void *hook;
  void *real;
  void *alias; /* a non-PIE executable's PLT entry standing for real */
} hs__hook;

static hs__hook hs__hooks[] = {
    {"malloc", (void *)malloc, NULL, NULL},
    {"free", (void *)free, NULL, NULL},
    {"calloc", (void *)calloc, NULL, NULL},
    {"realloc", (void *)realloc, NULL, NULL},
    {"reallocarray", (void *)reallocarray, NULL, NULL},
    {"posix_memalign", (void *)posix_memalign, NULL, NULL},
    {"aligned_alloc", (void *)aligned_alloc, NULL, NULL},
    {"memalign", (void *)memalign, NULL, NULL},
    {"valloc", (void *)valloc, NULL, NULL},
    {"pvalloc", (void *)pvalloc, NULL, NULL},
    {"malloc_usable_size", (void *)malloc_usable_size, NULL, NULL},
    {"mallocx", (void *)mallocx, NULL, NULL},
    {"rallocx", (void *)rallocx, NULL, NULL},
    {"xallocx", (void *)xallocx, NULL, NULL},
    {"sallocx", (void *)sallocx, NULL, NULL},
    {"dallocx", (void *)dallocx, NULL, NULL},
    {"sdallocx", (void *)sdallocx, NULL, NULL},
    {"nallocx", (void *)nallocx, NULL, NULL},
    /* libunwind's lock restores the mask through these: the C library's
     * would unblock signal 32 in glibc's SIGEV_THREAD timer thread */
    {"sigprocmask", (void *)hs__attach_sigprocmask, NULL, NULL},
    {"pthread_sigmask", (void *)hs__attach_pthread_sigmask, NULL, NULL},
    /* a new alternate stack, which hs__stack_room keeps per thread */
    {"sigaltstack", (void *)sigaltstack, NULL, NULL},
    /* the calls that start a program (hs_exec.c): it must not inherit the
     * shim's signal ignored where the program left it default */
    {"execve", (void *)execve, NULL, NULL},
    {"execv", (void *)execv, NULL, NULL},
    {"execvp", (void *)execvp, NULL, NULL},
    {"execvpe", (void *)execvpe, NULL, NULL},
    {"execl", (void *)execl, NULL, NULL},
    {"execlp", (void *)execlp, NULL, NULL},
    {"execle", (void *)execle, NULL, NULL},
    {"fexecve", (void *)fexecve, NULL, NULL},
    {"execveat", (void *)execveat, NULL, NULL},
    {"posix_spawn", (void *)posix_spawn, NULL, NULL},
    {"posix_spawnp", (void *)posix_spawnp, NULL, NULL},
    {"dlclose", (void *)dlclose, NULL, NULL},
    /* the preloaded shim's too: libunwind's calls in a child of fork whose
     * parent had the loader's lock held must be answered from the copy
     * (hs_loader.c), or the child's first tracked allocation hangs */
    {"dl_iterate_phdr", (void *)dl_iterate_phdr, NULL, NULL},
    {"dlopen", (void *)hs__dlopen_hook, NULL, NULL},
};
#define HS_HOOKS (sizeof hs__hooks / sizeof *hs__hooks)
#define HS_HOOK_DLOPEN (HS_HOOKS - 1)
#define HS_HOOK_ITERATE (HS_HOOKS - 2)

/* One slot rewritten, and what it held. */
typedef struct hs__patch {
  uint64_t slot, old;
} hs__patch;

#define HS_PATCH_MAX 65536
static hs__patch *hs__patches;
static size_t hs__n_patches;
static pthread_mutex_t hs__patch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t hs__patch_holder; /* 0 when free; for fork's prepare */
static int hs__patching; /* 1 while attached: the dlopen hook patches */
static uint64_t hs__self_base;
static uint64_t hs__n_skipped; /* slots that held another target */

/* A module to patch: not the shim itself. */
static int hs__view(const struct dl_phdr_info *info, hs__module_view *m) {
  return hs__got_view(info, m) != 0 || m->base == hs__self_base ? -1 : 0;
}

/* The hook a relocation's symbol names, or -1. */
static int hs__hook_of(const hs__module_view *m, const Elf64_Rela *r) {
  const char *name = hs__got_name(m, r);
  if (!name)
    return -1;
  if (name[0] != 'm' && name[0] != 'f' && name[0] != 'c' && name[0] != 'r' &&
      name[0] != 'p' && name[0] != 'a' && name[0] != 'v' && name[0] != 'x' &&
      name[0] != 's' && name[0] != 'd' && name[0] != 'n' && name[0] != 'e')
    return -1;
  for (size_t i = 0; i < HS_HOOKS; i++)
    if (hs__hooks[i].real && strcmp(name, hs__hooks[i].name) == 0)
      return (int)i;
  return -1;
}

static void hs__keep(uint64_t slot, uint64_t old) {
  for (size_t i = 0; i < hs__n_patches; i++)
    if (hs__patches[i].slot == slot) {
      hs__patches[i].old = old; /* a module loaded where one was */
      return;
    }
  if (hs__n_patches < HS_PATCH_MAX)
    hs__patches[hs__n_patches++] = (hs__patch){slot, old};
}

static uint64_t hs__kept(uint64_t slot, uint64_t dflt) {
  for (size_t i = 0; i < hs__n_patches; i++)
    if (hs__patches[i].slot == slot)
      return hs__patches[i].old;
  return dflt;
}

/* A JUMP_SLOT not bound yet (lazy binding) points at its PLT entry's
 * push of the relocation index (after an endbr64 with IBT): inside its
 * own module, and nothing else does (a module's own definition there,
 * bound -Bsymbolic, must be left alone). */
static int hs__lazy(const hs__module_view *m, const Elf64_Rela *r, uint64_t v) {
  if (!hs__got_lazy_slot(r) || v < m->lo || v + 8 > m->hi)
    return 0;
  const unsigned char *c = (const unsigned char *)v;
  if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
    c += 4;
  return c[0] == 0x68; /* push imm32 */
}

/* One slot: to the hook (restore 0) or back (restore 1). */
static void hs__patch_slot(const hs__module_view *m, const Elf64_Rela *r, int h,
                           int restore) {
  const uint64_t slot = m->base + r->r_offset;
  const uint64_t v = __atomic_load_n((uint64_t *)slot, __ATOMIC_ACQUIRE);
  const uint64_t hook = (uint64_t)hs__hooks[h].hook;
  if (restore) {
    if (v == hook)
      hs__got_store(m, slot, hs__kept(slot, (uint64_t)hs__hooks[h].real));
    return;
  }
  if (v == hook)
    return;
  if (v != (uint64_t)hs__hooks[h].real && v != (uint64_t)hs__hooks[h].alias &&
      !hs__lazy(m, r, v)) {
    hs__n_skipped++; /* bound elsewhere (symbolic, deep-bound): left */
    return;
  }
  if (hs__n_patches >= HS_PATCH_MAX)
    return;
  hs__keep(slot, v);
  hs__got_store(m, slot, hook);
}

/* The patch lock, its holder known: a fork from a signal handler that
 * interrupted a pass on this thread must not wait on it. */
static void hs__patch_enter(void) {
  pthread_mutex_lock(&hs__patch_lock);
  __atomic_store_n(&hs__patch_holder, pthread_self(), __ATOMIC_RELAXED);
}

static void hs__patch_leave(void) {
  __atomic_store_n(&hs__patch_holder, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&hs__patch_lock);
}

/* fork (hs_init.c's handlers, before the loader's capture): no pass is
 * under way while the process is copied, so the child's slots are all
 * hooked or all put back, and its dlopen hook and snapshots do not wait
 * on a lock whose holder is not there. */
static int hs__fork_took_patch_lock;

void hs__attach_fork_prepare(void) {
  hs__fork_took_patch_lock =
      __atomic_load_n(&hs__patch_holder, __ATOMIC_RELAXED) != pthread_self();
  if (hs__fork_took_patch_lock)
    hs__patch_enter();
}

void hs__attach_fork_parent(void) {
  if (hs__fork_took_patch_lock)
    hs__patch_leave();
}

void hs__attach_fork_child(void) {
  hs__patch_holder = 0;
  pthread_mutex_init(&hs__patch_lock, NULL);
}

/* Which slots one pass over the modules touches. */
typedef struct hs__pass {
  int restore; /* 1: back to what they held */
  int iterate; /* 1: dl_iterate_phdr's slots only; 0: every other */
} hs__pass;

static int hs__patch_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  const hs__pass *pass = arg;
  hs__module_view m;
  if (hs__view(info, &m) != 0)
    return 0;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < m.n_rela[k]; i++) {
      const int h = hs__hook_of(&m, &m.rela[k][i]);
      if (h >= 0 && (h == HS_HOOK_ITERATE) == pass->iterate)
        hs__patch_slot(&m, &m.rela[k][i], h, pass->restore);
    }
  return 0;
}

/* Every module loaded now. The loader's dl_iterate_phdr (not the shim's,
 * which a child of fork may answer from a copy) holds its lock meanwhile,
 * so no module comes or goes under the pass.
 *
 * dl_iterate_phdr's slots are hooked before any allocation slot and put
 * back after all of them: whenever a hook can run, libunwind's calls to
 * the loader come to the shim's dl_iterate_phdr, which a child forked
 * while another thread held the loader's lock answers from the copy taken
 * at fork (hs_loader.c). Called straight, the loader would wait forever on
 * that lock: the one known hang of issue 17. */
static void hs__patch_all(int restore) {
  static int (*iterate)(int (*)(struct dl_phdr_info *, size_t, void *), void *);
  if (!iterate)
    iterate = (__typeof__(iterate))hs__os_symbol_next("dl_iterate_phdr");
  if (!iterate)
    return;
  hs__pass pass = {restore, !restore};
  iterate(hs__patch_cb, &pass);
  pass.iterate = restore;
  iterate(hs__patch_cb, &pass);
}

/* Modules loaded since the last pass: the C library's own loads (NSS,
 * gconv) are met here, before each snapshot. */
void hs__attach_refresh(void) {
  hs__patch_enter();
  if (hs__patching)
    hs__patch_all(0);
  hs__patch_leave();
}

static void *hs__real_dlopen(const char *file, int mode) {
  void *(*const real)(const char *, int) =
      (void *(*)(const char *, int))hs__hooks[HS_HOOK_DLOPEN].real;
  return real(file, mode);
}

/* 1 when a module that name finds is loaded already (hs__dlpath). */
static int hs__dl_loaded(const char *file) {
  void *const h = hs__real_dlopen(file, RTLD_NOLOAD | RTLD_LAZY);
  if (h)
    hs__real.dlclose(h);
  return h != NULL;
}

/* noinline: the return address is the program's call, which dlopen's
 * search depends on (hs_dlpath.c). Its paths go to a mapping of their
 * own; without one, the C library searches as it would for the shim. */
__attribute__((noinline)) static void *hs__dlopen_hook(const char *file,
                                                       int mode) {
  hs_dlpath_scratch *const s =
      hs__dlpath_needed(file) ? hs__os_alloc(sizeof *s) : NULL;
  const char *const name =
      s ? hs__dlpath(file, __builtin_return_address(0), s, hs__dl_loaded)
        : file;
  void *const h = hs__real_dlopen(name, mode);
  const int saved = errno;
  hs__os_free(s, sizeof *s);
  const int was_busy = hs__busy;
  hs__busy = HS_BUSY;
  hs__attach_refresh();
  hs__busy = was_busy;
  errno = saved;
  return h;
}

/* --- which definition the modules bound to ------------------------------ */

#define HS_MODS_MAX 1024
typedef struct hs__mods {
  size_t n;
  uint64_t lo[HS_MODS_MAX], hi[HS_MODS_MAX];
  char name[HS_MODS_MAX][256];
} hs__mods;

static int hs__mods_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  hs__mods *m = arg;
  if (m->n == HS_MODS_MAX)
    return 1;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *p = &info->dlpi_phdr[i];
    if (p->p_type != PT_LOAD)
      continue;
    const uint64_t a = info->dlpi_addr + p->p_vaddr;
    lo = a < lo ? a : lo;
    hi = a + p->p_memsz > hi ? a + p->p_memsz : hi;
  }
  m->lo[m->n] = lo;
  m->hi[m->n] = hi;
  snprintf(m->name[m->n], sizeof m->name[0], "%s",
           info->dlpi_name ? info->dlpi_name : "");
  m->n++;
  return 0;
}

static size_t hs__mod_of(const hs__mods *m, uint64_t a) {
  for (size_t i = 0; i < m->n; i++)
    if (a >= m->lo[i] && a < m->hi[i])
      return i;
  return SIZE_MAX;
}

/* A PLT entry: jmp *GOT(%rip), after an endbr64 and a bnd prefix maybe. */
static int hs__is_plt(const unsigned char *c) {
  if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
    c += 4;
  if (c[0] == 0xf2)
    c++;
  return c[0] == 0xff && c[1] == 0x25;
}

/* The first module after the executable, in load order, that defines
 * name itself (dlsym on its own handle, the address inside it). */
static void *hs__first_library_definition(const hs__mods *m, const char *name) {
  for (size_t i = 1; i < m->n; i++) {
    if (!m->name[i][0] || hs__mod_of(m, hs__self_base) == i)
      continue;
    void *const h = dlopen(m->name[i], RTLD_NOLOAD | RTLD_LAZY);
    void *const f = h ? dlsym(h, name) : NULL;
    if (h)
      dlclose(h);
    if (f && hs__mod_of(m, (uint64_t)f) == i)
      return f;
  }
  return NULL;
}

static hs__mods *hs__the_mods;

/* hs__attach_symbol's answer, with alias: what the global scope gives
 * when that is a non-PIE executable's PLT entry (its canonical address,
 * which modules' GLOB_DAT slots hold), else NULL. */
static void *hs__definition(const char *name, void **alias) {
  *alias = NULL;
  Dl_info di;
  if (!hs__self_base && dladdr((void *)hs__definition, &di))
    hs__self_base = (uint64_t)di.dli_fbase;
  if (!hs__the_mods && !(hs__the_mods = hs__os_alloc(sizeof(hs__mods))))
    return NULL;
  hs__mods *const m = hs__the_mods;
  m->n = 0;
  int (*iterate)(int (*)(struct dl_phdr_info *, size_t, void *), void *) =
      (__typeof__(iterate))hs__os_symbol_next("dl_iterate_phdr");
  if (iterate)
    iterate(hs__mods_cb, m);
  void *const g = hs__os_symbol_any(name);
  const size_t in = g ? hs__mod_of(m, (uint64_t)g) : SIZE_MAX;
  if (!g || hs__mod_of(m, hs__self_base) == in)
    return NULL; /* only the shim has it (mallocx without jemalloc) */
  if (in != 0 || !hs__is_plt(g))
    return g;
  *alias = g;
  return hs__first_library_definition(m, name);
}

void *hs__attach_symbol(const char *name) {
  void *alias;
  return hs__definition(name, &alias);
}

static void hs__resolve_hooks(void) {
  hs__resolve();
  for (size_t i = 0; i < HS_HOOKS; i++)
    hs__hooks[i].real = hs__definition(hs__hooks[i].name, &hs__hooks[i].alias);
}

/* The settings `heapsnap attach` gives; the rest from the process's
 * environment, as a preloaded shim would read them. */
static void hs__attach_settings(const char *dir, uint64_t interval_ns,
                                uint64_t sample_bytes, int scan) {
  hs__settings_load();
  if (dir && dir[0] == '/' && strlen(dir) < sizeof hs__cfg.dir - 64)
    strcpy(hs__cfg.dir, dir);
  hs__cfg.interval_ns = interval_ns;
  hs__cfg.sample_bytes = sample_bytes;
  hs__cfg.scan = scan;
  hs__cfg.at_exit = 0;
}

/*! Called by `heapsnap attach` in a thread it stopped at a safe point,
 * after its dlopen of this library. dir: the snapshot folder (absolute);
 * main_tp: the main thread's thread pointer (its TLS is a root), or 0.
 * @return : 0 once tracking is on; HS_EBUSY when already attached; or a
 * negative code (the process's stderr says why). */
HS_EXPORT int hs_attach_start(const char *dir, uint64_t interval_ns,
                              uint64_t sample_bytes, int scan,
                              uint64_t main_tp) {
  if (hs__tracking)
    return HS_EBUSY;
  hs__busy = HS_BUSY;
  static int once, sampled, before;
  if (!once) {
    hs__resolve_hooks();
    hs__loader_init();
    hs__exec_init(); /* now: an exec may come from a child of vfork */
    hs__patches = hs__os_alloc(HS_PATCH_MAX * sizeof *hs__patches);
    once = 1;
  }
  hs__attach_settings(dir, interval_ns, sample_bytes, scan);
  hs__scan_main_tls_at(main_tp);
  int rc = hs__patches ? 0 : HS_ENOMEM;
  if (rc == 0 && (rc = hs__shim_start()) == 0) {
    if (before) /* what a former attach left; fresh tables are empty */
      hs__table_clear();
    before = 1;
    hs__sample_clear(sampled);
    sampled = hs__cfg.sample_bytes != 0;
    hs__tracking = 1;
    hs__alt_stacks_forget(); /* set while detached, not seen */
    hs__patch_enter();
    hs__patching = 1;
    hs__patch_all(0);
    hs__patch_leave();
  }
  hs__busy = 0;
  return rc;
}

/*! Called by `heapsnap detach`: every slot back to what it held, the
 * shim's thread ended, the status file removed, tracking off.
 * @return : 0, or HS_ENOSHIM when not attached. */
HS_EXPORT int hs_attach_stop(void) {
  if (!hs__tracking)
    return HS_ENOSHIM;
  hs__busy = HS_BUSY;
  hs__patch_enter();
  hs__patching = 0;
  hs__patch_all(1);
  hs__n_patches = 0;
  hs__patch_leave();
  hs__tracking = 0;
  hs__trigger_end();
  hs__status_close();
  hs__busy = 0;
  return 0;
}

/*! How many slots held a target other than the global definition and
 * were left alone (tests, `heapsnap attach`'s line). */
HS_EXPORT uint64_t hs_attach_skipped(void) {
  return hs__n_skipped;
}
