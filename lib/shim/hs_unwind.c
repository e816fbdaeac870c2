/* hs_unwind.c - walking the stack: unwind rules from the CFI, cached per
 * return address, with libunwind's unw_backtrace as the fallback.
 *
 * To step from a frame to its caller, an unwinder needs the CFA (the
 * caller's stack pointer) and where the return address and the caller's
 * rbp were saved. The compiler writes that down in .eh_frame for every
 * instruction, frame pointer or not. On x86-64 nearly every call site has
 * one of two shapes: CFA = rbp + 16 (a function that keeps a frame
 * pointer) or CFA = rsp + N (one that does not, as Debian builds its
 * libraries), the return address at a fixed offset from the CFA and rbp
 * either untouched or saved at one. The rule of a return address is worked
 * out once, by running its FDE's CFA program up to the call, and kept in a
 * lock-free table: after that a frame costs one lookup and two loads,
 * whether or not the code keeps frame pointers.
 *
 * The walk never guesses. Where the CFI says anything else (a DWARF
 * expression, a signal frame, rbp kept in another register) or there is
 * none (code without unwind tables), it gives up and the caller uses
 * unw_backtrace, which reads the same CFI. A frame pointer chain is never
 * followed through a function that does not keep one: strdup in libc or
 * operator new in libstdc++ are stepped over by their own rsp-based rules.
 * hs_stacks.c also checks every new stack against unw_backtrace once and
 * distrusts a return address where they disagree (hs__unwind_distrust).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "hs_shim.h"

/* The rule of one return address, packed into a word so that readers need
 * no lock: kind (2 bits), CFA from rbp (1), rbp saved (1), the generation
 * it was computed in (16), the CFA offset (20, signed), and the offsets
 * from the CFA of the return address and of the saved rbp (12 each). */
enum { HS_RULE_NONE, HS_RULE_STEP, HS_RULE_END, HS_RULE_UNUSABLE };

typedef struct hs__rule {
  unsigned kind, cfa_rbp, bp_saved;
  int64_t cfa_off, ra_off, bp_off;
} hs__rule;

#define HS_RULES_BITS 16
#define HS_RULES_PROBES 32

typedef struct hs__rule_slot {
  _Atomic uint64_t pc; /* 0 = empty; never changes once set */
  _Atomic uint64_t rule;
} hs__rule_slot;

static hs__rule_slot *hs__rules; /* 1 << HS_RULES_BITS slots, mmap'd */
static _Atomic uint32_t hs__gen; /* advanced when code may be unmapped */
static _Atomic uint64_t hs__mismatches;

static int64_t hs__sext(uint64_t v, unsigned bits) {
  const uint64_t m = 1ull << (bits - 1);
  v &= (1ull << bits) - 1;
  return (int64_t)((v ^ m) - m);
}

static int hs__fits(int64_t v, unsigned bits) {
  return v >= -(1ll << (bits - 1)) && v < (1ll << (bits - 1));
}

static uint64_t hs__rule_pack(const hs__rule *r, uint32_t gen) {
  uint64_t kind = r->kind;
  if (kind == HS_RULE_STEP &&
      (!hs__fits(r->cfa_off, 20) || !hs__fits(r->ra_off, 12) ||
       !hs__fits(r->bp_off, 12)))
    kind = HS_RULE_UNUSABLE;
  if (kind != HS_RULE_STEP)
    return kind | (uint64_t)(gen & 0xffff) << 4;
  return kind | (uint64_t)r->cfa_rbp << 2 | (uint64_t)r->bp_saved << 3 |
         (uint64_t)(gen & 0xffff) << 4 |
         ((uint64_t)r->cfa_off & 0xfffff) << 20 |
         ((uint64_t)r->ra_off & 0xfff) << 40 |
         ((uint64_t)r->bp_off & 0xfff) << 52;
}

/* libunwind makes its thread-specific key at its first walk, and when no
 * key is left it stores each thread's cache under key 0 all the same: the
 * program's, whose value (and the block it held) that overwrote. So the
 * first walk happens here, at start, before the program can take every
 * key (LSan's many_tls_keys test does). */
static void hs__unwind_warm(void) {
  uint64_t f[4];
  (void)hs__unwind_slow(f, 4);
}

/* The rule caches' key (below): its value in a thread is the thread's
 * cache, and its destructor gives the cache back. Without a key (the
 * program took all 1024 first), a thread the wrapper did not start keeps
 * its cache. */
static pthread_key_t hs__tc_key;
static int hs__tc_keyed;

static void hs__tc_key_end(void *value);

int hs__unwind_init(void) {
  if (!hs__rules) {
    hs__rules = hs__os_alloc(sizeof(hs__rule_slot) << HS_RULES_BITS);
    if (hs__unwind_guard() != 0)
      hs__say("libunwind's module not found: its memory checks may use "
              "two of the program's file descriptors");
    hs__unwind_warm();
    /* made at start too, before the program can take every key */
    hs__tc_keyed = pthread_key_create(&hs__tc_key, hs__tc_key_end) == 0;
  }
  return hs__rules ? 0 : HS_ENOMEM;
}

static inline uint64_t hs__rule_home(uint64_t pc) {
  return (pc * 0x9E3779B97F4A7C15ull) >> (64 - HS_RULES_BITS);
}

/* The cached rule of pc in generation gen, or 0. */
static inline uint64_t hs__rule_get_shared(uint64_t pc, uint32_t gen) {
  const uint64_t mask = (1ull << HS_RULES_BITS) - 1;
  uint64_t i = hs__rule_home(pc);
  for (unsigned k = 0; k < HS_RULES_PROBES; k++, i = (i + 1) & mask) {
    const uint64_t at =
        atomic_load_explicit(&hs__rules[i].pc, memory_order_relaxed);
    if (at == pc) {
      const uint64_t r =
          atomic_load_explicit(&hs__rules[i].rule, memory_order_relaxed);
      return ((r >> 4) & 0xffff) == (gen & 0xffff) ? r : 0;
    }
    if (at == 0)
      return 0;
  }
  return 0;
}

/* A full neighbourhood just leaves the rule uncached. */
static void hs__rule_put(uint64_t pc, uint64_t rule) {
  const uint64_t mask = (1ull << HS_RULES_BITS) - 1;
  uint64_t i = hs__rule_home(pc);
  for (unsigned k = 0; k < HS_RULES_PROBES; k++, i = (i + 1) & mask) {
    uint64_t at = atomic_load_explicit(&hs__rules[i].pc, memory_order_relaxed);
    if (at == 0 && atomic_compare_exchange_strong(&hs__rules[i].pc, &at, pc))
      at = pc;
    if (at == pc) {
      atomic_store_explicit(&hs__rules[i].rule, rule, memory_order_relaxed);
      return;
    }
  }
}

/* --- reading .eh_frame_hdr and .eh_frame ---------------------------- */

typedef struct hs__eh_cursor {
  const uint8_t *p, *end;
  int bad;
} hs__eh_cursor;

static uint64_t hs__bytes(hs__eh_cursor *c, unsigned n) {
  uint64_t v = 0;
  if ((size_t)(c->end - c->p) < n) {
    c->bad = 1;
    return 0;
  }
  memcpy(&v, c->p, n); /* little-endian */
  c->p += n;
  return v;
}

static void hs__eh_skip(hs__eh_cursor *c, uint64_t n) {
  if ((uint64_t)(c->end - c->p) < n)
    c->bad = 1, n = (uint64_t)(c->end - c->p);
  c->p += n;
  HS_ASSERT(c->p <= c->end); /* a cursor never passes its end */
}

static uint32_t hs__u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static uint64_t hs__uleb(hs__eh_cursor *c) {
  uint64_t v = 0;
  for (unsigned shift = 0; c->p < c->end; shift += 7) {
    const uint8_t b = *c->p++;
    if (shift < 64)
      v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return v;
  }
  c->bad = 1;
  return 0;
}

static int64_t hs__sleb(hs__eh_cursor *c) {
  uint64_t v = 0;
  for (unsigned shift = 0; c->p < c->end;) {
    const uint8_t b = *c->p++;
    if (shift < 64)
      v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80))
      return shift < 64 && (b & 0x40) ? (int64_t)(v | ~0ull << shift)
                                      : (int64_t)v;
  }
  c->bad = 1;
  return 0;
}

/* A DW_EH_PE_* encoded pointer: absolute, pc-relative or relative to
 * base (datarel); indirect and the rarer bases are refused. */
static uint64_t hs__encoded(hs__eh_cursor *c, uint8_t enc, uint64_t base) {
  const uint64_t at = (uint64_t)c->p;
  uint64_t v = 0;
  switch (enc & 0x0f) {
  case 0x00:
    v = hs__bytes(c, 8);
    break;
  case 0x01:
    v = hs__uleb(c);
    break;
  case 0x02:
    v = hs__bytes(c, 2);
    break;
  case 0x03:
    v = hs__bytes(c, 4);
    break;
  case 0x04:
    v = hs__bytes(c, 8);
    break;
  case 0x09:
    v = (uint64_t)hs__sleb(c);
    break;
  case 0x0a:
    v = (uint64_t)(int16_t)hs__bytes(c, 2);
    break;
  case 0x0b:
    v = (uint64_t)(int32_t)hs__bytes(c, 4);
    break;
  case 0x0c:
    v = hs__bytes(c, 8);
    break;
  default:
    c->bad = 1;
  }
  switch (enc & 0xf0) {
  case 0x00:
    break;
  case 0x10:
    v += at;
    break;
  case 0x30:
    v += base;
    break;
  default:
    c->bad = 1;
  }
  return v;
}

/* The FDE covering pc, from the sorted table of .eh_frame_hdr (the common
 * datarel sdata4 layout only), or NULL. */
static const uint8_t *hs__fde_search(const uint8_t *hdr, uint64_t pc) {
  if (hdr[0] != 1 || hdr[3] != 0x3b)
    return NULL;
  hs__eh_cursor c = {hdr + 4, hdr + 4 + 32, 0};
  hs__encoded(&c, hdr[1], (uint64_t)hdr); /* eh_frame_ptr */
  const uint64_t count = hs__encoded(&c, hdr[2], (uint64_t)hdr);
  if (c.bad || count == 0)
    return NULL;
  const int32_t *t = (const int32_t *)c.p; /* (start, fde) pairs */
  uint64_t lo = 0, hi = count;
  while (hi - lo > 1) { /* the last entry starting at or below pc */
    const uint64_t mid = lo + (hi - lo) / 2;
    if ((uint64_t)hdr + (uint64_t)(int64_t)t[2 * mid] <= pc)
      lo = mid;
    else
      hi = mid;
  }
  if ((uint64_t)hdr + (uint64_t)(int64_t)t[2 * lo] > pc)
    return NULL;
  return hdr + t[2 * lo + 1];
}

/* What the walk needs of a CIE. */
typedef struct hs__cie {
  const uint8_t *ins, *end; /* initial instructions */
  uint64_t code_align;
  int64_t data_align;
  uint8_t fde_enc;
  int has_aug_len;
} hs__cie;

/* Skips one encoded value of a CIE's augmentation data. */
static void hs__eh_skip_encoded(hs__eh_cursor *c, uint8_t enc) {
  const uint8_t size = enc & 0x07;
  if ((enc & 0x0f) == 0x01 || (enc & 0x0f) == 0x09)
    hs__uleb(c);
  else
    hs__bytes(c, size == 2 ? 2 : size == 3 ? 4 : 8);
}

static int hs__cie_parse(const uint8_t *cie, hs__cie *out) {
  const uint32_t len = hs__u32(cie);
  if (len == 0 || len == 0xffffffffu || hs__u32(cie + 4) != 0)
    return -1;
  hs__eh_cursor c = {cie + 8, cie + 4 + len, 0};
  const uint8_t version = (uint8_t)hs__bytes(&c, 1);
  const char *aug = (const char *)c.p;
  const size_t aug_n = strnlen(aug, (size_t)(c.end - c.p));
  c.p += aug_n + 1;
  if ((version != 1 && version != 3) || c.p > c.end)
    return -1;
  out->code_align = hs__uleb(&c);
  out->data_align = hs__sleb(&c);
  const uint64_t ra = version == 1 ? hs__bytes(&c, 1) : hs__uleb(&c);
  out->fde_enc = 0;
  out->has_aug_len = aug[0] == 'z';
  if (aug[0] == 'z') {
    const uint64_t n = hs__uleb(&c);
    if (n > (uint64_t)(c.end - c.p))
      return -1;
    const uint8_t *data_end = c.p + n;
    for (const char *a = aug + 1; *a && !c.bad; a++) {
      if (*a == 'R')
        out->fde_enc = (uint8_t)hs__bytes(&c, 1);
      else if (*a == 'P')
        hs__eh_skip_encoded(&c, (uint8_t)hs__bytes(&c, 1));
      else if (*a == 'L')
        hs__bytes(&c, 1);
      else /* 'S' (a signal frame) or unknown */
        return -1;
    }
    c.p = data_end;
  } else if (aug[0] != '\0') {
    return -1;
  }
  out->ins = c.p;
  out->end = cie + 4 + len;
  return c.bad || ra != 16 || c.p > out->end ? -1 : 0;
}

/* --- running a CFA program -------------------------------------------- */

/* x86-64 DWARF register numbers. */
#define HS_DW_RBP 6
#define HS_DW_RSP 7
#define HS_DW_RA 16

enum { HS_REG_SAME, HS_REG_OFFSET, HS_REG_UNDEF, HS_REG_OTHER };

typedef struct hs__regs {
  uint64_t cfa_reg;
  int64_t cfa_off;
  int cfa_other; /* an expression */
  int bp_how, ra_how, sp_how;
  int64_t bp_off, ra_off;
} hs__regs;

typedef struct hs__cfa_run {
  hs__regs now, init; /* init: after the CIE, for DW_CFA_restore */
  hs__regs saved[8];
  unsigned depth;
  uint64_t loc, target;
  const hs__cie *cie;
  int bad;
} hs__cfa_run;

static void hs__set_reg(hs__regs *s, uint64_t reg, int how, int64_t off) {
  if (reg == HS_DW_RBP)
    s->bp_how = how, s->bp_off = off;
  else if (reg == HS_DW_RA)
    s->ra_how = how, s->ra_off = off;
  else if (reg == HS_DW_RSP)
    s->sp_how = how;
}

static void hs__restore_reg(hs__cfa_run *r, uint64_t reg) {
  if (reg == HS_DW_RBP)
    r->now.bp_how = r->init.bp_how, r->now.bp_off = r->init.bp_off;
  else if (reg == HS_DW_RA)
    r->now.ra_how = r->init.ra_how, r->now.ra_off = r->init.ra_off;
  else if (reg == HS_DW_RSP)
    r->now.sp_how = r->init.sp_how;
}

/* Advances the location; 1 when it passed the target (stop). */
static int hs__advance(hs__cfa_run *r, uint64_t delta) {
  r->loc += delta * r->cie->code_align;
  return r->loc > r->target;
}

static void hs__state(hs__cfa_run *r, int push) {
  if (push && r->depth < 8)
    r->saved[r->depth++] = r->now;
  else if (!push && r->depth > 0)
    r->now = r->saved[--r->depth];
  else
    r->bad = 1;
}

/* The extended opcodes (no operand in the low six bits). Returns 1 to
 * stop: the target was passed, or something the walk cannot follow. */
static int hs__cfa_op(hs__cfa_run *r, hs__eh_cursor *c, uint8_t op) {
  const int64_t da = r->cie->data_align;
  uint64_t reg;
  switch (op) {
  case 0x00:
    return 0; /* nop */
  case 0x02:
    return hs__advance(r, hs__bytes(c, 1));
  case 0x03:
    return hs__advance(r, hs__bytes(c, 2));
  case 0x04:
    return hs__advance(r, hs__bytes(c, 4));
  case 0x05: /* offset_extended */
    reg = hs__uleb(c);
    hs__set_reg(&r->now, reg, HS_REG_OFFSET, (int64_t)hs__uleb(c) * da);
    return 0;
  case 0x06:
    hs__restore_reg(r, hs__uleb(c));
    return 0;
  case 0x07:
    hs__set_reg(&r->now, hs__uleb(c), HS_REG_UNDEF, 0);
    return 0;
  case 0x08:
    hs__set_reg(&r->now, hs__uleb(c), HS_REG_SAME, 0);
    return 0;
  case 0x09: /* register */
    reg = hs__uleb(c);
    hs__uleb(c);
    hs__set_reg(&r->now, reg, HS_REG_OTHER, 0);
    return 0;
  case 0x0a:
    hs__state(r, 1);
    return 0;
  case 0x0b:
    hs__state(r, 0);
    return 0;
  case 0x0c: /* def_cfa */
    r->now.cfa_reg = hs__uleb(c);
    r->now.cfa_off = (int64_t)hs__uleb(c);
    r->now.cfa_other = 0;
    return 0;
  case 0x0d:
    r->now.cfa_reg = hs__uleb(c);
    return 0;
  case 0x0e:
    r->now.cfa_off = (int64_t)hs__uleb(c);
    return 0;
  case 0x0f: /* def_cfa_expression */
    hs__eh_skip(c, hs__uleb(c));
    r->now.cfa_other = 1;
    return 0;
  case 0x10: /* expression */
  case 0x16: /* val_expression */
    reg = hs__uleb(c);
    hs__eh_skip(c, hs__uleb(c));
    hs__set_reg(&r->now, reg, HS_REG_OTHER, 0);
    return 0;
  case 0x11: /* offset_extended_sf */
    reg = hs__uleb(c);
    hs__set_reg(&r->now, reg, HS_REG_OFFSET, hs__sleb(c) * da);
    return 0;
  case 0x12: /* def_cfa_sf */
    r->now.cfa_reg = hs__uleb(c);
    r->now.cfa_off = hs__sleb(c) * da;
    r->now.cfa_other = 0;
    return 0;
  case 0x13:
    r->now.cfa_off = hs__sleb(c) * da;
    return 0;
  case 0x14: /* val_offset */
  case 0x15: /* val_offset_sf */
    reg = hs__uleb(c);
    op == 0x14 ? (void)hs__uleb(c) : (void)hs__sleb(c);
    hs__set_reg(&r->now, reg, HS_REG_OTHER, 0);
    return 0;
  case 0x2e:
    hs__uleb(c);
    return 0; /* GNU_args_size */
  case 0x2f:  /* GNU_negative_offset_extended */
    reg = hs__uleb(c);
    hs__set_reg(&r->now, reg, HS_REG_OFFSET, -(int64_t)hs__uleb(c) * da);
    return 0;
  default:
    r->bad = 1;
    return 1; /* set_loc and anything unknown */
  }
}

/* Runs instructions until the location passes the target or they end. */
static void hs__cfa_exec(hs__cfa_run *r, const uint8_t *p, const uint8_t *end) {
  hs__eh_cursor c = {p, end, 0};
  while (c.p < c.end && !c.bad && !r->bad) {
    const uint8_t op = *c.p++;
    const uint8_t low = op & 0x3f;
    if ((op & 0xc0) == 0x40) {
      if (hs__advance(r, low))
        return;
    } else if ((op & 0xc0) == 0x80) {
      hs__set_reg(&r->now, low, HS_REG_OFFSET,
                  (int64_t)hs__uleb(&c) * r->cie->data_align);
    } else if ((op & 0xc0) == 0xc0) {
      hs__restore_reg(r, low);
    } else if (hs__cfa_op(r, &c, op)) {
      return;
    }
  }
  r->bad |= c.bad;
}

/* The rule in force at the call before return address ra. */
static hs__rule hs__rule_of_regs(const hs__regs *s) {
  hs__rule out = {HS_RULE_UNUSABLE, 0, 0, 0, 0, 0};
  if (s->cfa_other || (s->cfa_reg != HS_DW_RSP && s->cfa_reg != HS_DW_RBP) ||
      s->sp_how != HS_REG_SAME)
    return out;
  if (s->ra_how == HS_REG_UNDEF) {
    out.kind = HS_RULE_END;
    return out;
  }
  if (s->ra_how != HS_REG_OFFSET ||
      (s->bp_how != HS_REG_SAME && s->bp_how != HS_REG_OFFSET))
    return out;
  out.kind = HS_RULE_STEP;
  out.cfa_rbp = s->cfa_reg == HS_DW_RBP;
  out.cfa_off = s->cfa_off;
  out.ra_off = s->ra_off;
  out.bp_saved = s->bp_how == HS_REG_OFFSET;
  out.bp_off = s->bp_off;
  return out;
}

static hs__rule hs__rule_compute(uint64_t ra) {
  const hs__rule unusable = {HS_RULE_UNUSABLE, 0, 0, 0, 0, 0};
#ifdef DLFO_EH_SEGMENT_TYPE
  const uint64_t pc = ra - 1; /* inside the call instruction */
  struct dl_find_object obj;
  if (_dl_find_object((void *)pc, &obj) != 0 || !obj.dlfo_eh_frame)
    return unusable;
  const uint8_t *fde = hs__fde_search(obj.dlfo_eh_frame, pc);
  hs__cie cie;
  if (!fde || hs__cie_parse(fde + 4 - (int32_t)hs__u32(fde + 4), &cie))
    return unusable;
  const uint32_t len = hs__u32(fde);
  if (len == 0 || len == 0xffffffffu)
    return unusable;
  hs__eh_cursor c = {fde + 8, fde + 4 + len, 0};
  const uint64_t start = hs__encoded(&c, cie.fde_enc, 0);
  const uint64_t range = hs__encoded(&c, cie.fde_enc & 0x0f, 0);
  if (cie.has_aug_len)
    hs__eh_skip(&c, hs__uleb(&c));
  if (c.bad || c.p > c.end || pc < start || pc - start >= range)
    return unusable;
  hs__cfa_run r = {.cie = &cie, .loc = 0, .target = UINT64_MAX};
  r.now.ra_how = r.now.bp_how = r.now.sp_how = HS_REG_SAME;
  hs__cfa_exec(&r, cie.ins, cie.end); /* the CIE's: no advances */
  r.init = r.now;
  r.loc = start;
  r.target = pc;
  hs__cfa_exec(&r, c.p, c.end);
  return r.bad ? unusable : hs__rule_of_regs(&r.now);
#else
  (void)ra;
  return unusable;
#endif
}

static uint64_t hs__rule_learn(uint64_t pc, uint32_t gen) {
  const hs__rule r = hs__rule_compute(pc);
  const uint64_t packed = hs__rule_pack(&r, gen);
  hs__rule_put(pc, packed);
  return packed;
}

/* Each thread keeps the rules it used last in a small cache: two pages,
 * where the shared table spreads a program's few hot return addresses
 * over as many pages. Its rules carry no generation: the whole
 * cache is dropped when the generation moves. An entry whose rule is the
 * frame-pointer one has HS_TC_FP set in its pc (a return address never
 * has bit 63), so the walk's common case is one load and one compare. */
#ifndef HS_TCACHE_BITS
#define HS_TCACHE_BITS 8
#endif
#define HS_TC_FP (1ull << 63)
/* An entry whose rule is another step with the return address at CFA - 8
 * (nearly every x86-64 function without a frame pointer) has HS_TC_RA8
 * set in its pc (nor does a return address have bit 62): the walk's inner
 * loop steps it without looking at the rule's kind or the return
 * address's offset. */
#define HS_TC_RA8 (1ull << 62)
#define HS_RULE_RA_AT(r) (((r) >> 40) & 0xfff)
/* The pcs first, then the rules: the walk's common case reads pc[] only,
 * indexed by 8 (one addressing mode, no shift and add). Each slot has a
 * second way (pc2, rule2), looked at out of line, where the rule a new
 * one pushed out goes: two hot return addresses that share a slot (in a
 * walk of 25 frames through a few dozen return addresses, not rare) would
 * otherwise push each other out at every walk, and each time the rule
 * came from the shared table. */
typedef struct hs__tcache {
  uint64_t pc[1u << HS_TCACHE_BITS], rule[1u << HS_TCACHE_BITS];
  uint64_t pc2[1u << HS_TCACHE_BITS], rule2[1u << HS_TCACHE_BITS];
  /* each return address's id (hs__stack_pc_id), 0 for none */
  uint16_t id[1u << HS_TCACHE_BITS], id2[1u << HS_TCACHE_BITS];
} hs__tcache;
/* The cache is not in static TLS: glibc carves static TLS out of each
 * thread's stack, and 9 KiB of it left a thread created with a 16 KiB
 * stack about 2 KiB. Each thread takes one from a pool of mappings at its
 * first walk (hs__tc_renew) and gives it back when its function ends
 * (hs__unwind_thread_end, from the pthread_create wrapper) or, for a
 * thread the wrapper did not start (an attached process's, one started
 * while the wrapper's slots were taken), when glibc runs its thread-
 * specific destructors (hs__tc_key). The TLS holds a pointer, which costs
 * the walk no more than the cache's own address did. */
static __thread hs__tcache *hs__tcp __attribute__((tls_model("initial-exec")));
/* The generation the cache was filled in; none at first, so that the
 * first walk takes a cache. */
static __thread uint32_t hs__tcache_gen
    __attribute__((tls_model("initial-exec"))) = UINT32_MAX;
static __thread int hs__tc_taking __attribute__((tls_model("initial-exec")));
/* The cache of a thread that has none (its function ended, or no memory
 * for one): always empty, never written (hs__rule_slow, hs__tc_renew), so
 * every frame takes its rule from the shared table. Slower, and right. */
static const hs__tcache hs__tc_none;
#define HS_TC_NONE ((hs__tcache *)&hs__tc_none)

/* The pool: chunks of 64 caches, mapped as threads need them (a chunk is
 * reserved address space: only the caches in use are ever touched), and a
 * bit a cache for "in use". Taken and given back with atomics alone, so a
 * child of fork finds it whole. */
#define HS_TC_CHUNK 64
#define HS_TC_CHUNKS 1024 /* 65,536 threads with a cache at once */
static _Atomic(hs__tcache *) hs__tc_chunk[HS_TC_CHUNKS];
static _Atomic uint64_t hs__tc_used[HS_TC_CHUNKS];

static hs__tcache *hs__tc_take(void) {
  for (int c = 0; c < HS_TC_CHUNKS; c++) {
    hs__tcache *ch =
        atomic_load_explicit(&hs__tc_chunk[c], memory_order_acquire);
    if (!ch) {
      hs__tcache *const fresh = hs__os_alloc(sizeof *ch * HS_TC_CHUNK);
      if (!fresh)
        return NULL;
      if (atomic_compare_exchange_strong(&hs__tc_chunk[c], &ch, fresh))
        ch = fresh;
      else /* another thread mapped this chunk first: ch is its */
        hs__os_free(fresh, sizeof *ch * HS_TC_CHUNK);
    }
    uint64_t used = atomic_load(&hs__tc_used[c]);
    while (~used) {
      const int b = __builtin_ctzll(~used);
      if (atomic_compare_exchange_weak(&hs__tc_used[c], &used,
                                       used | 1ull << b))
        return &ch[b];
    }
  }
  return NULL;
}

/* The chunk and bit of tc; -1 when it is not from the pool. */
static int hs__tc_home(const hs__tcache *tc, int *bit) {
  for (int c = 0; c < HS_TC_CHUNKS; c++) {
    const hs__tcache *const ch =
        atomic_load_explicit(&hs__tc_chunk[c], memory_order_acquire);
    if (!ch)
      break;
    if (tc >= ch && tc < ch + HS_TC_CHUNK) {
      *bit = (int)(tc - ch);
      return c;
    }
  }
  return -1;
}

/* This thread's cache, emptied for generation gen: taken from the pool at
 * the thread's first walk. A signal handler that allocates while its
 * thread is taking one walks with none. */
static __attribute__((noinline, cold)) hs__tcache *hs__tc_renew(uint32_t gen) {
  if (hs__tc_taking)
    return HS_TC_NONE;
  if (!hs__tcp) {
    hs__tc_taking = 1;
    hs__tcache *const tc = hs__tc_take();
    hs__tcp = tc ? tc : HS_TC_NONE;
    if (tc && hs__tc_keyed) {
      /* glibc may allocate the thread's array of keys 32-63 here: the
       * program's, which must be tracked (its values are roots), as
       * libunwind's are (HS_BUSY_WALK); a nested walk gets no cache */
      const int was_busy = hs__busy;
      hs__busy = was_busy ? was_busy : HS_BUSY_WALK;
      (void)pthread_setspecific(hs__tc_key, tc);
      hs__busy = was_busy;
    }
    hs__tc_taking = 0;
  }
  if (hs__tcp != HS_TC_NONE)
    memset(hs__tcp, 0, sizeof *hs__tcp);
  hs__tcache_gen = gen;
  return hs__tcp;
}

int hs__unwind_caches_used(void) {
  int n = 0;
  for (int c = 0; c < HS_TC_CHUNKS; c++)
    n += __builtin_popcountll(atomic_load(&hs__tc_used[c]));
  return n;
}

void hs__unwind_thread_end(void) {
  hs__tcache *const tc = hs__tcp;
  int bit = 0;
  const int c = tc && tc != HS_TC_NONE ? hs__tc_home(tc, &bit) : -1;
  /* what the thread allocates after this (its thread_local destructors,
   * its keys') walks with no cache */
  hs__tcp = HS_TC_NONE;
  if (c >= 0)
    atomic_fetch_and(&hs__tc_used[c], ~(1ull << bit));
}

/* glibc calls it in an ending thread whose key value is set: the thread
 * is the cache's own, so hs__tcp is the value (or already given back). */
static void hs__tc_key_end(void *value) {
  (void)value;
  hs__unwind_thread_end();
}

#define HS_RULE_GEN_MASK (0xffffull << 4)

/* The rule of a frame that keeps a frame pointer: CFA = rbp + 16, the
 * return address at CFA - 8, the caller's rbp at CFA - 16. */
#define HS_RULE_FP                                                             \
  (HS_RULE_STEP | 1ull << 2 | 1ull << 3 | 16ull << 20 |                        \
   ((uint64_t)-8 & 0xfff) << 40 | ((uint64_t)-16 & 0xfff) << 52)

/* The low bits of a return address as they are: they fall anywhere in
 * the code, so they spread as well as a hash of them (measured on the
 * benchmark: no more rules from the shared table), and the walk's common
 * case saves two instructions a frame. */
static inline uint32_t hs__tc_slot(uint64_t pc) {
  return (uint32_t)pc & ((1u << HS_TCACHE_BITS) - 1);
}

/* The return address a cache word holds, its flags taken off. */
static inline uint64_t hs__tc_pc(uint64_t word) {
  return word & ~(HS_TC_FP | HS_TC_RA8);
}

/* The rule of pc, generation bits cleared, from the shared table or
 * worked out, and put in this thread's cache. */
static __attribute__((noinline)) uint64_t
hs__rule_slow(hs__tcache *tc, uint64_t pc, uint32_t gen, int cold) {
  const uint32_t i = hs__tc_slot(pc);
  if (hs__tc_pc(tc->pc2[i]) == pc) /* pc is never 0 */
    return tc->rule2[i];
  uint64_t r = hs__rule_get_shared(pc, gen);
  if (!r)
    r = hs__rule_learn(pc, gen);
  r &= ~HS_RULE_GEN_MASK;
  if (pc >> HS_PC_ID_SHIFT) /* not a user-space address: never cached, */
    return r;               /* so the walk's ids are the frames' own */
  if (HS_UNLIKELY(tc == HS_TC_NONE))
    return r;
  if (cold) {
    /* The shim's own frames below a capture (walked only when a new stack
     * is captured) go to the second way: in the first they took the slot
     * for good from a return address every walk then found out of line
     * (start_thread's, behind hs__record's: a call a walk). */
    tc->pc2[i] = pc;
    tc->rule2[i] = r;
    tc->id2[i] = (uint16_t)hs__stack_pc_id(pc);
    return r;
  }
  tc->pc2[i] = tc->pc[i];
  tc->rule2[i] = tc->rule[i];
  tc->id2[i] = tc->id[i];
  tc->id[i] = (uint16_t)hs__stack_pc_id(pc);
  tc->pc[i] =
      r == HS_RULE_FP ? pc | HS_TC_FP
      : (r & 3) == HS_RULE_STEP && HS_RULE_RA_AT(r) == ((uint64_t)-8 & 0xfff)
          ? pc | HS_TC_RA8
          : pc;
  tc->rule[i] = r;
  return r;
}

/* pc's id from this thread's cache, where hs__step just looked it up; 0
 * if it is not there. */
static inline uint64_t hs__tc_id(const hs__tcache *tc, uint64_t pc) {
  const uint32_t i = hs__tc_slot(pc);
  if (hs__tc_pc(tc->pc[i]) == pc)
    return tc->id[i];
  if (hs__tc_pc(tc->pc2[i]) == pc)
    return tc->id2[i];
  /* with no cache, the id a cache would hold, so the stack is found */
  return HS_UNLIKELY(tc == HS_TC_NONE) ? hs__stack_pc_id(pc) : 0;
}

/* A walk in progress: the frame of return address pc, its stack pointer
 * sp (its CFA, once stepped) and rbp; lo is where the walk started. */
typedef struct hs__walk {
  uint64_t pc, sp, bp, lo;
  hs__tcache *tc;
  uint32_t gen;
} hs__walk;

/* The step of a rule of kind HS_RULE_STEP other than the frame pointer's:
 * the CFA from rsp or rbp, the return address (at CFA + ra, the rule's
 * offset: a constant where the caller knows it) and rbp saved near it. */
static inline __attribute__((always_inline)) int
hs__step_cfa(hs__walk *w, uint64_t r, int64_t ra) {
  const uint64_t cfa =
      ((r & 4) ? w->bp : w->sp) + (uint64_t)hs__sext(r >> 20, 20);
  /* frames only ever go up; a wild value means a stack we cannot read */
  if (cfa <= w->sp || cfa - w->lo > (1ull << 30) || (cfa & 7))
    return -1;
  w->pc = *(const uint64_t *)(cfa + (uint64_t)ra);
  if (r & 8)
    w->bp = *(const uint64_t *)(cfa + (uint64_t)hs__sext(r >> 52, 12));
  w->sp = cfa;
  return w->pc != 0;
}

/* Steps from w->pc's frame to its caller's: 1 when there is one, 0 at the
 * outermost frame, -1 when its CFI is not one the walk follows.
 *
 * A frame whose rule is the frame-pointer one steps through rbp: the next
 * loads depend on rbp alone, so they run ahead while the rule is checked. */
static inline __attribute__((always_inline)) int hs__step(hs__walk *w,
                                                          int cold) {
  const uint64_t pc = w->pc;
  const uint32_t i = hs__tc_slot(pc);
  const uint64_t at = w->tc->pc[i];
  const uint64_t r = HS_LIKELY(at == (pc | HS_TC_FP)) ? HS_RULE_FP
                     : (at & ~HS_TC_RA8) == pc
                         ? w->tc->rule[i]
                         : hs__rule_slow(w->tc, pc, w->gen, cold);
  if (HS_LIKELY(r == HS_RULE_FP)) {
    /* rbp lies in the frame, at or above its stack pointer */
    if (HS_UNLIKELY(w->bp - w->sp >= (1ull << 30)))
      return -1;
    const uint64_t *const bp = (const uint64_t *)w->bp;
    w->pc = bp[1];
    w->sp = w->bp + 16;
    w->bp = bp[0];
  } else {
    if ((r & 3) == HS_RULE_END)
      return 0;
    if ((r & 3) != HS_RULE_STEP)
      return -1;
    return hs__step_cfa(w, r, hs__sext(r >> 40, 12));
  }
  return w->pc != 0;
}

/* The walk from the frame at fp, whose return address is pc: see
 * hs__unwind_fast_hashed. Inlined into each of its two callers, so that
 * frame 0 is the caller's own return address. */
static inline __attribute__((always_inline)) int
hs__walk_from(const uint64_t *fp, uint64_t pc, uint64_t *out, int max,
              uint64_t skip_lo, uint64_t skip_hi, uint32_t depth, int *first,
              uint64_t *hash, int ids) {
  hs__walk w = {pc,      (uint64_t)(fp + 2),
                fp[0],   (uint64_t)(fp + 2),
                hs__tcp, atomic_load_explicit(&hs__gen, memory_order_relaxed)};
  if (HS_UNLIKELY(hs__tcache_gen != w.gen))
    w.tc = hs__tc_renew(w.gen);
  /* Kept in a register: without this the compiler loads the cache's
   * address from the TLS again at every frame. */
  __asm__("" : "+r"(w.tc));
  int n = 0, more = 1;
  while (n < max && w.pc - skip_lo < skip_hi - skip_lo) {
    out[n++] = w.pc;
    more = hs__step(&w, 1); /* the shim's own frames */
    if (more <= 0)
      break;
  }
  *first = n;
  const int end = (uint32_t)(max - n) > depth ? n + (int)depth : max;
  uint64_t h = HS_STACK_HASH_SEED;
  uint64_t *o = out + n, *const o_end = out + end;
  /* The common frames (a rule in the cache: the frame pointer's, rbp
   * sane, or another step) are stepped by the inner loop with the fewest
   * instructions, so that it runs at the speed of its chain of loads
   * through the stack; any other frame goes out to hs__step. Written with
   * gotos: as one loop with a flag, GCC kept the flag in a register and
   * tested it at every frame. */
  while (more > 0) {
    while (o < o_end) {
      const uint64_t at = w.pc;
      h = hs__stack_hash_step(h, at);
      const uint32_t i = hs__tc_slot(at);
      /* With ids, a frame is stored with its id above its 48 bits: the id
       * of the rule cache's entry, right when the entry is at's (the
       * cases below), and put right after hs__step otherwise. */
      *o++ = ids ? at | (uint64_t)w.tc->id[i] << HS_PC_ID_SHIFT : at;
      const uint64_t key = w.tc->pc[i] ^ at; /* its HS_TC_ tag, if cached */
      if (HS_LIKELY(key == HS_TC_FP) && HS_LIKELY(w.bp - w.sp < (1ull << 30))) {
        const uint64_t *const bp = (const uint64_t *)w.bp;
        w.pc = bp[1];
        w.sp = w.bp + 16;
        w.bp = bp[0];
      } else if (key == HS_TC_RA8) {
        if (HS_UNLIKELY(hs__step_cfa(&w, w.tc->rule[i], -8) < 0)) {
          more = -1;
          goto done;
        }
      } else {
        goto other;
      }
      if (HS_UNLIKELY(!w.pc)) {
        more = 0; /* the outermost frame */
        goto done;
      }
    }
    break; /* the depth limit */
  other:
    more = hs__step(&w, 0);
    if (ids)
      o[-1] = (o[-1] & HS_PC_MASK) | hs__tc_id(w.tc, o[-1] & HS_PC_MASK)
                                         << HS_PC_ID_SHIFT;
  }
done:
  n = (int)(o - out);
  *hash = hs__stack_hash_end(h, (uint32_t)(n - *first));
  return more < 0 ? -1 : n;
}

/* The frames of the caller and up, as unw_backtrace numbers them (out[0]
 * is this function's return address), all kept, the hash unused. */
__attribute__((noinline)) int hs__unwind_fast(uint64_t *out, int max) {
  int first;
  uint64_t hash;
  return hs__walk_from(__builtin_frame_address(0),
                       (uint64_t)__builtin_return_address(0), out, max, 0, 0,
                       (uint32_t)max, &first, &hash, 0);
}

__attribute__((noinline)) int hs__unwind_fast_hashed(uint64_t *out, int max,
                                                     uint64_t skip_lo,
                                                     uint64_t skip_hi,
                                                     uint32_t depth, int *first,
                                                     uint64_t *hash) {
  return hs__walk_from(__builtin_frame_address(0),
                       (uint64_t)__builtin_return_address(0), out, max, skip_lo,
                       skip_hi, depth, first, hash, 0);
}

__attribute__((noinline)) int
hs__unwind_fast_from(const void *fp, uint64_t pc, uint64_t *out, int max,
                     uint64_t skip_lo, uint64_t skip_hi, uint32_t depth,
                     int *first, uint64_t *hash) {
  return hs__walk_from(fp, pc, out, max, skip_lo, skip_hi, depth, first, hash,
                       1);
}

/* libunwind takes locks of its own (its register-state cache, its memory
 * pool): every call goes through a gate, so that no thread is inside when
 * fork copies the address space. A child forked while another thread held
 * one hung at its first stack that needed libunwind. */
static hs__gate hs__unw_gate;
static __thread int hs__unw_inside;
/* In a child forked while another thread was inside libunwind anyway (a
 * gate's wait ran out): its locks may be held for good, so this process
 * never calls it, and keeps the fast walk's stacks alone. */
static int hs__unw_off;

void hs__unwind_fork_prepare(void) {
  hs__gate_close(&hs__unw_gate, hs__unw_inside);
}
void hs__unwind_fork_parent(void) {
  hs__gate_open(&hs__unw_gate);
}
void hs__unwind_fork_child(void) {
  /* the parent's other threads, whose caches were in use, are not here */
  int bit = 0;
  const int own = hs__tcp ? hs__tc_home(hs__tcp, &bit) : -1;
  for (int c = 0; c < HS_TC_CHUNKS; c++)
    atomic_store(&hs__tc_used[c], c == own ? 1ull << bit : 0);
  if (hs__gate_reset(&hs__unw_gate, hs__unw_inside) && !hs__unw_off) {
    hs__unw_off = 1;
    hs__say("forked while another thread was inside libunwind: this "
            "child's stacks come from the fast walk alone");
  }
}

int hs__unwind_usable(void) {
  return !hs__unw_off;
}

/* unw_backtrace, numbered like hs__unwind_fast: its own frame dropped. */
__attribute__((noinline)) int hs__unwind_slow(uint64_t *out, int max) {
  if (hs__unw_off || max <= 0)
    return 0;
  /* sized by the caller's depth: a thread's stack may be small */
  const int cap = max < HS_DEPTH_MAX + 15 ? max + 1 : HS_DEPTH_MAX + 16;
  void *raw[cap];
  hs__gate_enter(&hs__unw_gate);
  hs__unw_inside = 1;
  const int n = unw_backtrace(raw, cap) - 1;
  hs__unw_inside = 0;
  hs__gate_leave(&hs__unw_gate);
  for (int i = 0; i < n; i++)
    out[i] = (uint64_t)raw[i + 1];
  __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
  return n > 0 ? n : 0;
}

/* A new generation, so that no thread's cache keeps the old rule; the
 * others are worked out again as they are met. */
/* A new generation; never UINT32_MAX, the one a new thread's cache has
 * (hs__tcache_gen), so that its first walk always takes a cache. */
static uint32_t hs__gen_next(void) {
  uint32_t gen = atomic_fetch_add(&hs__gen, 1) + 1;
  if (gen == UINT32_MAX)
    gen = atomic_fetch_add(&hs__gen, 1) + 1;
  return gen;
}

void hs__unwind_distrust(uint64_t pc) {
  const uint32_t gen = hs__gen_next();
  const hs__rule bad = {HS_RULE_UNUSABLE, 0, 0, 0, 0, 0};
  hs__rule_put(pc, hs__rule_pack(&bad, gen));
  atomic_fetch_add(&hs__mismatches, 1);
}

uint64_t hs__unwind_mismatches(void) {
  return atomic_load(&hs__mismatches);
}

void hs__unwind_flush(void) {
  (void)hs__gen_next();
}

int hs__unwind_rule(uint64_t ra, int64_t *cfa_off, int *cfa_rbp) {
  const hs__rule r = hs__rule_compute(ra);
  *cfa_off = r.cfa_off;
  *cfa_rbp = (int)r.cfa_rbp;
  return (int)r.kind;
}
