/* hd_symbols.h - offline symbolization for heapdiff (elfutils libdwfl).
 *
 * Modules come from a snapshot's module table: path as the loader saw it,
 * load bias and GNU build id. Each is looked up on this machine (under
 * --sysroot if given), checked against the recorded build id, and, when
 * its own file has no debug info, completed by separate debug info found
 * by build id (/usr/lib/debug/.build-id/xx/rest.debug, or each --debug-dir)
 * or by .gnu_debuglink. A module that is missing or whose build id differs
 * is never symbolized from the wrong file: its frames stay unknown and the
 * caller shows module+offset.
 *
 * Addresses are module offsets: ELF virtual address = runtime address -
 * load bias. For a return address, the caller passes offset - 1 (the call
 * instruction), so the line is the call's line. Results are cached;
 * every pointer returned lives until hd_symbolizer_free(). */
#ifndef HD_SYMBOLS_H
#define HD_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "hs_snapshot.h"

/* One source-level frame. An address inside inlined code yields several:
 * the inlined callee first (innermost), then each caller it was inlined
 * into, the last one being the real function the address belongs to. */
typedef struct hd_frame {
  const char *function;    /* demangled name; NULL when unknown */
  const char *file;        /* source file; NULL when unknown */
  uint32_t line;           /* 0 when unknown */
  uint32_t inlined;        /* 1: this frame was inlined into the next one */
  const char *system_name; /* the name as linked (mangled), or NULL */
} hd_frame;

/* hd_symbolizer_module_status() */
enum {
  HD_MOD_OK = 0,       /* symbols found (maybe without line info) */
  HD_MOD_MISSING = 1,  /* no file at the path (or under --sysroot) */
  HD_MOD_MISMATCH = 2, /* a file, but its build id is not the recorded one */
  HD_MOD_NOSYMS = 3,   /* the file has neither symbols nor debug info */
  HD_MOD_NOFILE = 4    /* nothing to look for: the vdso, an empty path */
};

typedef struct hd_sym_options {
  const char *sysroot;           /* prefix for module paths, or NULL */
  const char *const *debug_dirs; /* extra debug folders, searched first */
  size_t n_debug_dirs;
} hd_sym_options;

typedef struct hd_symbolizer hd_symbolizer;

/*! Creates a symbolizer. Options are copied.
 * @return : 0 and *out, or a negative code (HS_ENOMEM). */
int hd_symbolizer_create(const hd_sym_options *opt, hd_symbolizer **out);

/*! Releases everything; accepts NULL. */
void hd_symbolizer_free(hd_symbolizer *s);

/*! Registers a module of a snapshot. Modules with the same path and build
 * id (from different snapshots, at different addresses) share one handle.
 * Opening the file is deferred to the first lookup.
 * @return : 0 and *handle, or a negative code. */
int hd_symbolizer_add_module(hd_symbolizer *s, const hs_module *m,
                             uint32_t *handle);

/*! @return : HD_MOD_* for the module (opening it if not done yet); when
 * `why` is not NULL, *why is a short reason for a status other than OK
 * ("not found", "build id differs: file has 1a2b..., snapshot 3c4d..."). */
int hd_symbolizer_module_status(hd_symbolizer *s, uint32_t handle,
                                const char **why);

/*! Symbolizes the module offset `offset`. Sets *frames to an array owned
 * by the symbolizer and returns its length, at least 1; a frame whose
 * function is NULL means unknown. Repeated lookups are served from a
 * cache. */
size_t hd_symbolize(hd_symbolizer *s, uint32_t handle, uint64_t offset,
                    const hd_frame **frames);

/*! Finds the data symbol (a global or static variable) holding module
 * offset `offset`, for naming retainer roots (issue 4).
 * @return : its name and *sym_off the offset into it, or NULL. */
const char *hd_symbolize_data(hd_symbolizer *s, uint32_t handle,
                              uint64_t offset, uint64_t *sym_off);

#endif /* HD_SYMBOLS_H */
