/* hs_got.c - a loaded module's relocated slots (its GOT), read and written.
 *
 * Two users: attach mode points every module's slots of the allocation
 * API at the shim's hooks (hs_attach.c), and both shims point libunwind's
 * own slots of the four calls that touch its pipe at the shim
 * (hs_unwio.c, hs__unwind_guard). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hs_shim.h"

#if defined(__x86_64__)
#define HS_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define HS_R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define HS_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define HS_R_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

/* glibc relocates the dynamic section's addresses in place; the vdso's
 * (and a module's whose section is read-only) stay relative. */
static uint64_t hs__dyn_addr(const hs__module_view *m, uint64_t v) {
  return v < m->base ? v + m->base : v;
}

static void hs__view_dynamic(hs__module_view *m, const Elf64_Dyn *d) {
  uint64_t jmprel = 0, pltsz = 0, rela = 0, relasz = 0;
  for (; d->d_tag != DT_NULL; d++) {
    if (d->d_tag == DT_SYMTAB)
      m->symtab = (const Elf64_Sym *)hs__dyn_addr(m, d->d_un.d_ptr);
    else if (d->d_tag == DT_STRTAB)
      m->strtab = (const char *)hs__dyn_addr(m, d->d_un.d_ptr);
    else if (d->d_tag == DT_JMPREL)
      jmprel = hs__dyn_addr(m, d->d_un.d_ptr);
    else if (d->d_tag == DT_PLTRELSZ)
      pltsz = d->d_un.d_val;
    else if (d->d_tag == DT_RELA)
      rela = hs__dyn_addr(m, d->d_un.d_ptr);
    else if (d->d_tag == DT_RELASZ)
      relasz = d->d_un.d_val;
  }
  m->rela[0] = (const Elf64_Rela *)jmprel;
  m->n_rela[0] = jmprel ? pltsz / sizeof(Elf64_Rela) : 0;
  m->rela[1] = (const Elf64_Rela *)rela;
  m->n_rela[1] = rela ? relasz / sizeof(Elf64_Rela) : 0;
}

int hs__got_view(const struct dl_phdr_info *info, hs__module_view *m) {
  memset(m, 0, sizeof *m);
  m->base = info->dlpi_addr;
  m->lo = UINT64_MAX;
  const Elf64_Dyn *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *p = &info->dlpi_phdr[i];
    const uint64_t lo = m->base + p->p_vaddr, hi = lo + p->p_memsz;
    if (p->p_type == PT_LOAD) {
      m->lo = lo < m->lo ? lo : m->lo;
      m->hi = hi > m->hi ? hi : m->hi;
    } else if (p->p_type == PT_DYNAMIC) {
      dyn = (const Elf64_Dyn *)lo;
    } else if (p->p_type == PT_GNU_RELRO) {
      m->relro_lo = lo;
      m->relro_hi = hi;
    }
  }
  if (!dyn)
    return -1;
  hs__view_dynamic(m, dyn);
  return m->symtab && m->strtab ? 0 : -1;
}

const char *hs__got_name(const hs__module_view *m, const Elf64_Rela *r) {
#if defined(HS_R_JUMP_SLOT)
  const uint32_t type = ELF64_R_TYPE(r->r_info);
  if (type == HS_R_JUMP_SLOT || type == HS_R_GLOB_DAT)
    return m->strtab + m->symtab[ELF64_R_SYM(r->r_info)].st_name;
#else
  (void)m;
  (void)r;
#endif
  return NULL;
}

int hs__got_lazy_slot(const Elf64_Rela *r) {
#if defined(HS_R_JUMP_SLOT)
  return ELF64_R_TYPE(r->r_info) == HS_R_JUMP_SLOT;
#else
  (void)r;
  return 0;
#endif
}

/* A slot in RELRO is read-only by now: writable for the store, then back.
 * The loader protects RELRO's whole pages only (its start and end
 * rounded down): a slot on the last, partial page shares it with data
 * that stays writable, and must not make it read-only. Stores of an
 * aligned word are atomic: a thread calling through the slot meanwhile
 * gets the old target or the new one. */
void hs__got_store(const hs__module_view *m, uint64_t slot, uint64_t v) {
  const uint64_t mask = ~(uint64_t)(getpagesize() - 1);
  const int ro = slot >= (m->relro_lo & mask) && slot < (m->relro_hi & mask);
  const uint64_t page = slot & mask;
  if (ro && mprotect((void *)page, (size_t)getpagesize(),
                     PROT_READ | PROT_WRITE) != 0)
    return;
  __atomic_store_n((uint64_t *)slot, v, __ATOMIC_RELEASE);
  if (ro)
    mprotect((void *)page, (size_t)getpagesize(), PROT_READ);
}
