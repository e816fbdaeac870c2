/* hd_out.c - writing heapdiff's output files (--html, --pprof): gzip in
 * memory, and a regular file written whole or not at all (a device or a
 * pipe is written into, a symbolic link's file replaced, the link kept). */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hd.h"
#include "hs_tool.h"

int hd_gzip(const void *in, size_t n, int level, uint8_t **out, size_t *len) {
  z_stream z = {0};
  *out = NULL;
  if (n > UINT32_MAX / 2) /* zlib counts in uInt */
    return HS_ENOMEM;
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    return HS_ENOMEM;
  const size_t cap = deflateBound(&z, (uLong)n) + 32;
  *out = malloc(cap);
  z.next_in = (Bytef *)in, z.avail_in = (uInt)n;
  z.next_out = *out, z.avail_out = (uInt)cap;
  const int zrc = *out ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
  *len = cap - z.avail_out;
  deflateEnd(&z);
  if (zrc == Z_STREAM_END)
    return 0;
  free(*out);
  *out = NULL;
  return HS_ENOMEM;
}

/* put() into a new temporary file `tmp`, with the mode a new file gets
 * (the umask's), flushed to disk. */
static int hd_save_tmp(char *tmp, int (*put)(FILE *, void *), void *ctx) {
  const int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return -errno;
  FILE *out = fdopen(fd, "w");
  if (!out) {
    const int err = -errno;
    close(fd), unlink(tmp);
    return err;
  }
  const mode_t mask = umask(0);
  umask(mask);
  int rc = fchmod(fd, 0666 & ~mask) ? -errno : put(out, ctx);
  if (fflush(out) && (!rc || rc == HS_EINVAL || rc == -EIO))
    rc = -errno; /* the write's own reason: put() says only that one failed */
  if (!rc && fsync(fd))
    rc = -errno;
  if (fclose(out) && !rc)
    rc = -errno;
  if (rc)
    unlink(tmp);
  return rc;
}

/* put() straight into what path names, which exists and is no regular
 * file: a device (/dev/null, /dev/stdout), a pipe. Renaming a file over
 * it would replace it. */
static int hd_save_into(const char *path, int (*put)(FILE *, void *),
                        void *ctx) {
  FILE *out = fopen(path, "we");
  if (!out)
    return -errno;
  int rc = put(out, ctx);
  if (fflush(out) && (!rc || rc == HS_EINVAL || rc == -EIO))
    rc = -errno; /* the write's own reason, as above */
  if (fclose(out) && !rc)
    rc = -errno;
  return rc;
}

/* A regular file: a temporary one beside it, renamed over it when whole.
 * Through a symbolic link, the file it names (the link stays). */
static int hd_save_file(const char *path, int (*put)(FILE *, void *),
                        void *ctx) {
  char *const real = realpath(path, NULL); /* NULL: a new file */
  const char *const at = real ? real : path;
  const size_t n = strlen(at) + 16;
  char *tmp = malloc(n);
  int rc = tmp ? 0 : HS_ENOMEM;
  if (!rc) {
    snprintf(tmp, n, "%s.tmp.XXXXXX", at);
    rc = hd_save_tmp(tmp, put, ctx);
  }
  if (!rc && rename(tmp, at)) {
    rc = -errno;
    unlink(tmp);
  }
  free(tmp);
  free(real);
  return rc;
}

int hd_save(const char *path, const char *what, int (*put)(FILE *, void *),
            void *ctx) {
  struct stat st;
  int rc;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    rc = -EISDIR;
  else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    rc = hd_save_into(path, put, ctx);
  else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
           stat(path, &st) != 0) /* a link to no file yet: write through */
    rc = hd_save_into(path, put, ctx);
  else
    rc = hd_save_file(path, put, ctx);
  if (rc)
    hs__tool_error(NULL, "%s: cannot write the %s: %s", path, what,
                   hs_strerror(rc == HS_EINVAL ? -EIO : rc));
  return rc ? HS__TOOL_EFAIL : 0;
}
