/* hs_status.c - the status file's path rule and its reader (hs_status.h),
 * shared by the shim (which writes the file) and the tools. */
#include "hs_status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int hs_status_folder(char *buf, size_t len, const char *root, const char *base,
                     unsigned uid) {
  const int n = snprintf(buf, len, "%s%s/heapsnap-%u", root, base, uid);
  return n < 0 || (size_t)n >= len ? HS_EINVAL : 0;
}

/* One read of the whole file. @return : 0, HS_ETRUNC or -errno. */
static int hs__status_pread(int fd, hs_status *out) {
  size_t got = 0;
  while (got < sizeof *out) {
    const ssize_t r =
        pread(fd, (char *)out + got, sizeof *out - got, (off_t)got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    if (r == 0)
      return HS_ETRUNC;
    got += (size_t)r;
  }
  return 0;
}

/* The shim makes seq odd before it writes and even after: a copy read
 * between two equal even values is whole. A writer never stalls for long,
 * so a few tries are enough; a copy still torn after them is used as it
 * is (every field is checked by its reader anyway). */
int hs_status_read(const char *path, hs_status *out) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  int rc = 0;
  for (int tries = 0; tries < 100; tries++) {
    if ((rc = hs__status_pread(fd, out)))
      break;
    const uint32_t seq = out->seq;
    uint32_t again;
    if (pread(fd, &again, sizeof again, offsetof(hs_status, seq)) !=
        (ssize_t)sizeof again)
      break;
    if (!(seq & 1) && seq == again)
      break;
    usleep(100);
  }
  close(fd);
  if (rc)
    return rc;
  if (memcmp(out->magic, HS_STATUS_MAGIC, 8) != 0 ||
      out->size != HS_STATUS_SIZE)
    return HS_EMAGIC;
  out->name[sizeof out->name - 1] = '\0';
  out->program[sizeof out->program - 1] = '\0';
  out->dir[sizeof out->dir - 1] = '\0';
  return 0;
}

/* The command name (field 2) is in parentheses and may hold anything,
 * spaces and parentheses included: the fields start after the last ')'. */
int hs_status_start_of(const char *stat, uint64_t *out) {
  const char *p = strrchr(stat, ')');
  if (!p)
    return HS_EINVAL;
  for (int field = 2; field < 22; field++) {
    p = strchr(p + 1, ' ');
    if (!p)
      return HS_EINVAL;
  }
  uint64_t v = 0;
  int digits = 0;
  for (p++; *p >= '0' && *p <= '9'; p++, digits++)
    v = v * 10 + (uint64_t)(*p - '0');
  if (!digits)
    return HS_EINVAL;
  *out = v;
  return 0;
}
