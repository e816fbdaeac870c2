/* symbols_util.c - helpers for the hd_symbols tests (see symbols_util.h). */
#define _GNU_SOURCE /* nftw flags */
#include "symbols_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static Elf *symtest_open(const char *path, int *fd) {
  elf_version(EV_CURRENT);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return NULL;
  Elf *elf = elf_begin(*fd, ELF_C_READ, NULL);
  if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
    elf_end(elf);
    close(*fd);
    return NULL;
  }
  return elf;
}

static void symtest_close(Elf *elf, int fd) {
  elf_end(elf);
  close(fd);
}

/* @return : 0 when section scn of type `type` holds `name`. */
static int symtest_symbol_in(Elf_Scn *scn, const GElf_Shdr *sh,
                             const char *name, Elf *elf, GElf_Sym *out) {
  Elf_Data *data = elf_getdata(scn, NULL);
  const size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
  for (size_t i = 0; data != NULL && i < n; i++) {
    GElf_Sym sym;
    if (gelf_getsym(data, (int)i, &sym) == NULL)
      continue;
    const char *s = elf_strptr(elf, sh->sh_link, sym.st_name);
    if (s != NULL && strcmp(s, name) == 0) {
      *out = sym;
      return 0;
    }
  }
  return -1;
}

static int symtest_symbol_type(Elf *elf, Elf64_Word type, const char *name,
                               GElf_Sym *out) {
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == type &&
        symtest_symbol_in(scn, &sh, name, elf, out) == 0)
      return 0;
  }
  return -1;
}

int symtest_symbol(const char *path, const char *name, uint64_t *value,
                   uint64_t *size) {
  int fd;
  Elf *elf = symtest_open(path, &fd);
  if (elf == NULL)
    return -1;
  GElf_Sym sym;
  int err = symtest_symbol_type(elf, SHT_SYMTAB, name, &sym);
  if (err != 0)
    err = symtest_symbol_type(elf, SHT_DYNSYM, name, &sym);
  if (err == 0) {
    *value = sym.st_value;
    *size = sym.st_size;
  }
  symtest_close(elf, fd);
  return err;
}

static int symtest_func_cmp(const void *pa, const void *pb) {
  const symtest_func *a = pa;
  const symtest_func *b = pb;
  return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* @return : the number of sized functions of one symbol table, or -1. */
static int symtest_funcs_in(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
                            symtest_func *out) {
  Elf_Data *data = elf_getdata(scn, NULL);
  const size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
  int count = 0;
  for (size_t i = 0; data != NULL && i < n; i++) {
    GElf_Sym sym;
    if (gelf_getsym(data, (int)i, &sym) == NULL ||
        GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0 ||
        sym.st_shndx == SHN_UNDEF)
      continue;
    const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
    out[count].name = strdup(name ? name : "");
    if (out[count].name == NULL)
      return -1;
    out[count].lo = sym.st_value;
    out[count++].hi = sym.st_value + sym.st_size;
  }
  return count;
}

int symtest_funcs(const char *path, symtest_func **out) {
  int fd;
  Elf *elf = symtest_open(path, &fd);
  if (elf == NULL)
    return -1;
  int count = -1;
  Elf_Scn *scn = NULL;
  while (count < 0 && (scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB ||
        sh.sh_entsize == 0)
      continue;
    *out = calloc(sh.sh_size / sh.sh_entsize + 1, sizeof **out);
    count = *out ? symtest_funcs_in(elf, scn, &sh, *out) : -1;
  }
  symtest_close(elf, fd);
  if (count > 0)
    qsort(*out, (size_t)count, sizeof **out, symtest_func_cmp);
  return count;
}

void symtest_funcs_free(symtest_func *f, size_t n) {
  for (size_t i = 0; f != NULL && i < n; i++)
    free(f[i].name);
  free(f);
}

int symtest_section(const char *path, const char *name, uint64_t *addr,
                    uint64_t *size) {
  int fd;
  Elf *elf = symtest_open(path, &fd);
  size_t shstrndx = 0;
  if (elf == NULL)
    return -1;
  int err = elf_getshdrstrndx(elf, &shstrndx) == 0 ? -1 : -2;
  Elf_Scn *scn = NULL;
  while (err == -1 && (scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    const char *s = gelf_getshdr(scn, &sh) != NULL
                        ? elf_strptr(elf, shstrndx, sh.sh_name)
                        : NULL;
    if (s != NULL && strcmp(s, name) == 0) {
      *addr = sh.sh_addr;
      *size = sh.sh_size;
      err = 0;
    }
  }
  symtest_close(elf, fd);
  return err == 0 ? 0 : -1;
}

/* @return : the build id's length from one note section, or 0. */
static int symtest_note_id(Elf_Scn *scn, uint8_t *id, size_t cap) {
  Elf_Data *data = elf_getdata(scn, NULL);
  size_t off = 0;
  size_t name_off;
  size_t desc_off;
  GElf_Nhdr nh;
  while (data != NULL &&
         (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
    const char *owner = (const char *)data->d_buf + name_off;
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
        memcmp(owner, "GNU", 4) == 0 && nh.n_descsz <= cap) {
      memcpy(id, (const char *)data->d_buf + desc_off, nh.n_descsz);
      return (int)nh.n_descsz;
    }
  }
  return 0;
}

int symtest_build_id(const char *path, uint8_t *id, size_t cap) {
  int fd;
  Elf *elf = symtest_open(path, &fd);
  if (elf == NULL)
    return -1;
  int len = 0;
  Elf_Scn *scn = NULL;
  while (len == 0 && (scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_NOTE)
      len = symtest_note_id(scn, id, cap);
  }
  symtest_close(elf, fd);
  return len;
}

void symtest_module_init(symtest_module *m, const char *path, const uint8_t *id,
                         size_t id_len) {
  memset(m, 0, sizeof *m);
  if (id_len > SYMTEST_MAX_ID)
    id_len = SYMTEST_MAX_ID;
  if (id_len)
    memcpy(m->id, id, id_len);
  m->mod.start = 0x7f0000000000u;
  m->mod.end = 0x7f0000100000u;
  m->mod.bias = 0;
  m->mod.build_id = m->id;
  m->mod.build_id_len = (uint32_t)id_len;
  m->mod.path = path;
}

int symtest_mkdirs(const char *path) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return -1;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return -1;
    *p = '/';
  }
  return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int symtest_link_build_id(const char *dir, const uint8_t *id, size_t len,
                          const char *target) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/.build-id/%02x", dir, id[0]);
  if (len < 2 || symtest_mkdirs(path) != 0)
    return -1;
  n += snprintf(path + n, sizeof path - (size_t)n, "/");
  for (size_t i = 1; i < len; i++)
    n += snprintf(path + n, sizeof path - (size_t)n, "%02x", id[i]);
  snprintf(path + n, sizeof path - (size_t)n, ".debug");
  return symlink(target, path);
}

char *symtest_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  char *dir = NULL;
  if (asprintf(&dir, "%s/hdsym.XXXXXX", base && *base ? base : "/tmp") < 0)
    return NULL;
  if (mkdtemp(dir) == NULL) {
    free(dir);
    return NULL;
  }
  return dir;
}

static int symtest_rm_one(const char *path, const struct stat *st, int flag,
                          struct FTW *ftw) {
  return remove(path);
}

void symtest_rmtree(char *dir) {
  if (dir != NULL)
    nftw(dir, symtest_rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}
