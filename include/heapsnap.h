/* heapsnap.h - the calls a program may make to the heapsnap shim.
 *
 * A program that includes this header links and runs whether or not
 * libheapsnap.so is preloaded: the shim's entry point is a weak reference,
 * resolved by the dynamic loader only when the shim is there. Nothing to
 * link against. Build position-independent (the default on Debian) so the
 * weak reference goes through the GOT. */
#ifndef HEAPSNAP_H
#define HEAPSNAP_H

#include <stddef.h>

#include "hs_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by the shim only. */
extern int hs_snapshot_now(char *path, size_t path_len) __attribute__((weak));

/*! hs_snapshot_take() :
 * Takes a heap snapshot now, in the calling thread, and writes it to the
 * snapshot folder like any other trigger (trigger "api").
 * If `path` is not NULL, the file's absolute path is copied into it
 * (NUL-terminated, cut to path_len - 1 bytes).
 * @return : 0 on success; HS_ENOSHIM when the shim is not loaded;
 *           HS_EBUSY, at once, from a signal handler that interrupted this
 *           thread inside the shim (its own snapshot, or an allocation);
 *           another negative code (hs_errors.h) when the snapshot could not
 *           be written. */
static inline int hs_snapshot_take(char *path, size_t path_len) {
  if (!hs_snapshot_now)
    return HS_ENOSHIM;
  return hs_snapshot_now(path, path_len);
}

/*! hs_shim_active() : @return 1 when the shim is loaded, else 0. */
static inline int hs_shim_active(void) {
  return hs_snapshot_now ? 1 : 0;
}

/* The names of heapsnap 0.1, kept so that programs written against them
 * still build; they are the calls above under another prefix. */
static inline int heapsnap_snapshot(char *path, size_t path_len) {
  return hs_snapshot_take(path, path_len);
}
static inline int heapsnap_active(void) {
  return hs_shim_active();
}

#ifdef __cplusplus
}
#endif
#endif /* HEAPSNAP_H */
