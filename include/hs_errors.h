/* hs_errors.h - the error codes every heapsnap interface returns.
 *
 * One convention throughout: functions return int, 0 on success and a
 * negative code on failure: one of HS_E* below, or -errno for a system
 * call that failed. hs_strerror() (hs_snapshot.h, in libhsformat) turns
 * any of them into a short sentence. This header needs no library: the
 * shim's calls (heapsnap.h) return the same codes. */
#ifndef HS_ERRORS_H
#define HS_ERRORS_H

/* The project's own error codes; system errors are returned as -errno and
 * stay below 4096 in magnitude, so the two ranges never meet. */
#define HS_ERRNO_MAP(XX)                                                       \
  XX(EMAGIC, -5001, "not a heapsnap snapshot (bad magic)")                     \
  XX(EVERSION, -5002, "snapshot format version is newer than this reader")     \
  XX(ETRUNC, -5003, "snapshot is truncated")                                   \
  XX(ECORRUPT, -5004, "snapshot is corrupted")                                 \
  XX(ECHECKSUM, -5005, "snapshot checksum does not match")                     \
  XX(ETOOBIG, -5006, "snapshot declares more data than a reader accepts")      \
  XX(EEMPTY, -5007, "file is empty")                                           \
  XX(ENOSHIM, -5008, "the heapsnap shim is not loaded in this process")        \
  XX(EBUSY, -5009, "this thread is inside the shim (a snapshot under way)")    \
  XX(EINVAL, -5010, "invalid argument")                                        \
  XX(ENOMEM, -5011, "out of memory")                                           \
  XX(ECOMPRESS, -5012, "compression failed")

enum {
#define HS__ERR_ENUM(name, val, msg) HS_##name = (val),
  HS_ERRNO_MAP(HS__ERR_ENUM)
#undef HS__ERR_ENUM
};

#endif /* HS_ERRORS_H */
