/* symbols_util.h - helpers for the hd_symbols tests: symbols and build ids
 * read with libelf (independently of libdwfl, which the code under test
 * uses), hand-made hs_module values, and scratch folders. */
#ifndef SYMBOLS_UTIL_H
#define SYMBOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hs_snapshot.h"

#define SYMTEST_MAX_ID 64

/* A module as a snapshot would record it, loaded at bias 0. */
typedef struct symtest_module {
  hs_module mod;
  uint8_t id[SYMTEST_MAX_ID];
} symtest_module;

/*! Finds `name` in the .symtab (else .dynsym) of the ELF file at path.
 * @return : 0 and *value (its st_value) and *size, or -1. */
int symtest_symbol(const char *path, const char *name, uint64_t *value,
                   uint64_t *size);

/* A sized function symbol. */
typedef struct symtest_func {
  uint64_t lo;
  uint64_t hi;
  char *name;
} symtest_func;

/*! Reads the sized STT_FUNC symbols of the .symtab of the ELF file at
 * path, sorted by address, into *out (free with symtest_funcs_free).
 * @return : their number, or -1. */
int symtest_funcs(const char *path, symtest_func **out);
void symtest_funcs_free(symtest_func *f, size_t n);

/*! Finds the section `name` of the ELF file at path.
 * @return : 0 and its *addr and *size, or -1. */
int symtest_section(const char *path, const char *name, uint64_t *addr,
                    uint64_t *size);

/*! Reads the GNU build id note of the ELF file at path.
 * @return : its length (0 when there is none), or -1. */
int symtest_build_id(const char *path, uint8_t *id, size_t cap);

/*! Fills *m for the file at path with the given recorded build id
 * (copied; id_len 0 records none). */
void symtest_module_init(symtest_module *m, const char *path, const uint8_t *id,
                         size_t id_len);

/*! Creates <dir>/.build-id/xx/rest.debug as a symlink to target, for a
 * file whose build id is id. @return : 0 or -1. */
int symtest_link_build_id(const char *dir, const uint8_t *id, size_t len,
                          const char *target);

/*! mkdir -p. @return : 0 or -1. */
int symtest_mkdirs(const char *path);

/*! @return : a new empty folder under $TMPDIR or /tmp (malloc'd), or NULL. */
char *symtest_tmpdir(void);

/*! rm -rf dir, then frees it; accepts NULL. */
void symtest_rmtree(char *dir);

#endif /* SYMBOLS_UTIL_H */
