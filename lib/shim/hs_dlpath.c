/* hs_dlpath.c - attach mode: dlopen's search as the program's caller
 * would have it.
 *
 * Attached, dlopen is hooked in the GOT (hs_attach.c), so the C library
 * sees the shim as the caller: it looks for a name without a slash in the
 * shim's RUNPATH (none) instead of the calling module's, and expands
 * $ORIGIN with the shim's folder. A plugin that the program finds only
 * through its own RUNPATH would then fail to load: the program would
 * break. So for such a name the hook does the part of the loader's search
 * that depends on the caller, in the loader's order (elf/dl-load.c):
 *   - the caller without DT_RUNPATH: its DT_RPATH (the executable's own
 *     DT_RPATH and everything after are searched for every caller; the
 *     DT_RPATH of the modules that loaded the caller is not: the chain of
 *     loaders is not public);
 *   - the caller with DT_RUNPATH: LD_LIBRARY_PATH first (found there, the
 *     C library finds it too), then the caller's DT_RUNPATH;
 * and hands dlopen the full path found, unless a module of that name is
 * loaded already (then the name, as given, finds it). $ORIGIN (and
 * ${ORIGIN}) in the name and in those paths is the caller's folder. Only
 * whether a file exists is looked at, not whether it is an ELF object of
 * this machine; a dlmopen namespace is not followed.
 *
 * The search's paths take 12 KiB (three of PATH_MAX): a scratch area the
 * hook maps for the call, not the program's stack, which may be a small
 * thread's. Most calls need none (a full path). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs_shim.h"

/* The folder of the module m, without the final slash: 0, or -1. */
static int hs__origin(const struct link_map *m, char *out, size_t len) {
  ssize_t n;
  if (m->l_name && m->l_name[0] == '/') {
    n = (ssize_t)strlen(m->l_name);
    if ((size_t)n >= len)
      return -1;
    memcpy(out, m->l_name, (size_t)n + 1);
  } else if (!m->l_name || !m->l_name[0]) { /* the executable */
    n = readlink("/proc/self/exe", out, len - 1);
    if (n <= 0)
      return -1;
    out[n] = '\0';
  } else {
    return -1; /* a relative name: the folder is not known */
  }
  char *const slash = strrchr(out, '/');
  *(slash == out ? slash + 1 : slash) = '\0';
  return 0;
}

/* s with a leading $ORIGIN or ${ORIGIN} replaced by origin (NULL: none
 * known), into out; -1 when it does not fit, holds another $, or needs
 * an origin not known. */
static int hs__expand(const char *s, size_t n, const char *origin, char *out,
                      size_t len) {
  size_t skip = 0;
  if (n >= 7 && strncmp(s, "$ORIGIN", 7) == 0)
    skip = 7;
  else if (n >= 9 && strncmp(s, "${ORIGIN}", 9) == 0)
    skip = 9;
  if (memchr(s + skip, '$', n - skip) || (skip && !origin))
    return -1;
  const size_t head = skip ? strlen(origin) : 0;
  if (head + n - skip >= len)
    return -1;
  memcpy(out, origin, head);
  memcpy(out + head, s + skip, n - skip);
  out[head + n - skip] = '\0';
  return 0;
}

/* The first folder of a colon list that holds file: its full path into
 * out, 0; else -1. */
static int hs__search(const char *list, const char *origin, const char *file,
                      hs_dlpath_scratch *s) {
  char *const out = s->path, *const dir = s->dir;
  const size_t len = sizeof s->path;
  while (list && *list) {
    const char *const end = strchrnul(list, ':');
    struct stat st;
    if (end > list &&
        hs__expand(list, (size_t)(end - list), origin, dir, sizeof s->dir) ==
            0 &&
        strlen(dir) + strlen(file) + 2 <= len) {
      strcpy(out, dir);
      strcat(out, "/");
      strcat(out, file);
      if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    }
    list = *end ? end + 1 : end;
  }
  return -1;
}

/* m's dynamic string tag (DT_RPATH, DT_RUNPATH), or NULL. */
static const char *hs__dyn_string(const struct link_map *m, Elf64_Sxword tag) {
  const char *strtab = NULL;
  Elf64_Xword off = 0;
  int has = 0;
  for (const ElfW(Dyn) *d = m->l_ld; d && d->d_tag != DT_NULL; d++) {
    if (d->d_tag == DT_STRTAB)
      strtab =
          (const char *)(d->d_un.d_ptr < m->l_addr ? d->d_un.d_ptr + m->l_addr
                                                   : d->d_un.d_ptr);
    else if (d->d_tag == tag)
      off = d->d_un.d_val, has = 1;
  }
  return has && strtab ? strtab + off : NULL;
}

/* The loader's search for file that depends on the caller m (see above),
 * origin its folder or NULL: 0 with the full path in out, or -1. */
static int hs__caller_search(const struct link_map *m, const char *origin,
                             const char *file, hs_dlpath_scratch *s) {
  const char *const runpath = hs__dyn_string(m, DT_RUNPATH);
  if (!runpath)
    return hs__search(hs__dyn_string(m, DT_RPATH), origin, file, s);
  if (hs__search(getenv("LD_LIBRARY_PATH"), NULL, file, s) == 0)
    return -1; /* the C library finds it there for any caller */
  return hs__search(runpath, origin, file, s);
}

int hs__dlpath_needed(const char *file) {
  return file && (strchr(file, '$') || !strchr(file, '/'));
}

/*! The name dlopen should be given for file, called from caller's code:
 * file itself, or a full path (in s->path) where the caller's own search
 * finds it. already(file): 1 when a module of that name is loaded. */
const char *hs__dlpath(const char *file, const void *caller,
                       hs_dlpath_scratch *s, int (*already)(const char *)) {
  struct link_map *m = NULL;
  Dl_info info;
  if (!hs__dlpath_needed(file) || !caller ||
      !dladdr1(caller, &info, (void **)&m, RTLD_DL_LINKMAP) || !m)
    return file;
  char *const origin = s->origin;
  const int known = hs__origin(m, origin, sizeof s->origin) == 0;
  if (strchr(file, '$')) /* $ORIGIN: the caller's folder */
    return known && hs__expand(file, strlen(file), origin, s->path,
                               sizeof s->path) == 0
               ? s->path
               : file;
  if (already(file) || hs__caller_search(m, known ? origin : NULL, file, s))
    return file;
  return s->path;
}
