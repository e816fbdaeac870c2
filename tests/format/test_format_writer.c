/* test_format_writer.c - the writer's contract: it refuses misordered and
 * invalid calls without leaving a trace, takes all its memory (and zstd's)
 * from the ZSTD_customMem it is given and returns all of it, never calls
 * malloc itself, survives allocation failure at every point, and reports
 * write errors as -errno. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "format_testutil.h"

/* ------------------------------------------------------------------ */
/* libc allocation calls made by code linked into this program (the
 * writer included: it is a static library), counted while `watching`.
 * Linked with -Wl,--wrap=malloc,... */

static int watching;
static size_t libc_calls;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

void *__wrap_malloc(size_t n) {
  libc_calls += watching;
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  libc_calls += watching;
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  libc_calls += watching;
  return __real_realloc(p, n);
}
void __wrap_free(void *p) {
  libc_calls += watching && p;
  __real_free(p);
}

/* ------------------------------------------------------------------ */
/* a counting allocator that can be told to fail */

typedef struct counting {
  size_t allocs, frees;
  size_t live_bytes;
  size_t fail_at; /* the allocation with this number fails (1-based) */
} counting;

static void *count_alloc(void *opaque, size_t size) {
  counting *const c = opaque;
  if (++c->allocs == c->fail_at) {
    c->allocs--; /* not made, so never freed */
    return NULL;
  }
  size_t *const p = __real_malloc(size + 16);
  assert_non_null(p);
  p[0] = size;
  c->live_bytes += size;
  return (char *)p + 16;
}

static void count_free(void *opaque, void *ptr) {
  counting *const c = opaque;
  if (!ptr)
    return;
  size_t *const p = (size_t *)((char *)ptr - 16);
  c->frees++;
  c->live_bytes -= p[0];
  __real_free(p);
}

static ZSTD_customMem count_mem(counting *c) {
  return (ZSTD_customMem){count_alloc, count_free, c};
}

/* ------------------------------------------------------------------ */

static int devnull(void) {
  const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  return fd;
}

/* Writes a small snapshot, stopping at the first error. */
static int write_small(hs__writer *w) {
  const uint64_t f[] = {1, 2, 3};
  const hs_module m = {0x1000, 0x2000, 0, 0, 0, NULL, "/x"};
  hs_header h = fmt_small_header;
  h.live_blocks = 2;
  h.live_bytes = 30;
  HS__TRY(hs__writer_header(w, &h));
  HS__TRY(hs__writer_module(w, &m));
  HS__TRY(hs__writer_stack(w, f, 3));
  HS__TRY(hs__writer_block(w, &(hs_block){0x10, 10, 1, 0}));
  HS__TRY(hs__writer_block(w, &(hs_block){0x20, 20, 0, 0}));
  return hs__writer_finish(w);
}

static void test_create_args(void **state) {
  hs__writer *w = (hs__writer *)1;
  assert_int_equal(hs__writer_create(1, ZSTD_defaultCMem, 0, &w), HS_EINVAL);
  assert_null(w);
  assert_int_equal(hs__writer_create(1, ZSTD_defaultCMem, 20, &w), HS_EINVAL);
  assert_int_equal(hs__writer_create(-1, ZSTD_defaultCMem, 1, &w), HS_EINVAL);
  assert_int_equal(hs__writer_create(1, ZSTD_defaultCMem, 1, NULL), HS_EINVAL);
  counting c = {0};
  ZSTD_customMem half = {count_alloc, NULL, &c};
  assert_int_equal(hs__writer_create(1, half, 1, &w), HS_EINVAL);
  hs__writer_free(NULL);
}

/* Every call out of order is refused; nothing of it reaches the file, so
 * the snapshot written around the refusals reads back as if they had not
 * been made. */
static int misordered_fill(hs__writer *w, void *ctx) {
  const uint64_t f[] = {0x401000};
  const hs_module m = {0x400000, 0x500000, 0, HS_MODULE_MAIN, 0, NULL, "/t"};
  const hs_block b1 = {0x1000, 16, 1, 0}, b2 = {0x2000, 32, 0, 1};
  hs_header h = fmt_small_header;
  h.live_blocks = 2;
  h.live_bytes = 48;
  assert_int_equal(hs__writer_module(w, &m), HS_EINVAL);
  assert_int_equal(hs__writer_stack(w, f, 1), HS_EINVAL);
  assert_int_equal(hs__writer_block(w, &b1), HS_EINVAL);
  assert_int_equal(hs__writer_finish(w), HS_EINVAL);
  assert_int_equal(hs__writer_header(w, &h), 0);
  assert_int_equal(hs__writer_header(w, &h), HS_EINVAL);
  assert_int_equal(hs__writer_module(w, &m), 0);
  assert_int_equal(hs__writer_block(w, &b1), HS_EINVAL); /* no stack 1 yet */
  assert_int_equal(hs__writer_stack(w, f, 1), 0);
  assert_int_equal(hs__writer_module(w, &m), HS_EINVAL);
  assert_int_equal(hs__writer_block(w, &(hs_block){0x1000, 1, 2, 0}),
                   HS_EINVAL); /* stack 2 does not exist */
  assert_int_equal(hs__writer_block(w, &b1), 0);
  assert_int_equal(hs__writer_block(w, &b1), HS_EINVAL); /* same address */
  assert_int_equal(hs__writer_block(w, &(hs_block){0xfff, 1, 0, 0}),
                   HS_EINVAL); /* lower address */
  assert_int_equal(hs__writer_stack(w, f, 1), HS_EINVAL);
  assert_int_equal(hs__writer_module(w, &m), HS_EINVAL);
  assert_int_equal(hs__writer_finish(w), HS_EINVAL); /* a block missing */
  assert_int_equal(hs__writer_block(w, &b2), 0);
  assert_int_equal(hs__writer_finish(w), 0);
  assert_int_equal(hs__writer_finish(w), HS_EINVAL);
  assert_int_equal(hs__writer_block(w, &(hs_block){0x3000, 0, 0, 0}),
                   HS_EINVAL);
  return 0;
}

static void test_misordered(void **state) {
  fmt_buf file;
  assert_int_equal(fmt_write(misordered_fill, NULL, 1, &file), 0);
  hs_snapshot *s;
  assert_int_equal(hs_snapshot_load(file.data, file.len, &s), 0);
  assert_int_equal(hs_snapshot_module_count(s), 1);
  assert_int_equal(hs_snapshot_stack_count(s), 2);
  assert_int_equal(hs_snapshot_block_count(s), 2);
  assert_int_equal(hs_snapshot_blocks(s)[1].addr, 0x2000);
  hs_snapshot_free(s);
  fmt_buf_free(&file);
}

/* Values a reader would refuse are refused at the source. */
static void test_invalid_items(void **state) {
  hs__writer *w;
  const int fd = devnull();
  assert_int_equal(hs__writer_create(fd, ZSTD_defaultCMem, 1, &w), 0);
  hs_header h = fmt_small_header;
  assert_int_equal(hs__writer_header(w, NULL), HS_EINVAL);
  h.argv = NULL;
  assert_int_equal(hs__writer_header(w, &h), HS_EINVAL);
  h.argc = HS__MAX_ARGC + 1;
  assert_int_equal(hs__writer_header(w, &h), HS_EINVAL);
  h = fmt_small_header;
  char *const big = calloc(HS__MAX_STRING + 2, 1);
  memset(big, 'a', HS__MAX_STRING + 1);
  h.trigger = big;
  assert_int_equal(hs__writer_header(w, &h), HS_EINVAL);
  h = fmt_small_header;
  assert_int_equal(hs__writer_header(w, &h), 0);
  assert_int_equal(hs__writer_module(w, NULL), HS_EINVAL);
  assert_int_equal(hs__writer_module(w, &(hs_module){2, 1, 0, 0, 0, NULL, ""}),
                   HS_EINVAL); /* end < start */
  assert_int_equal(hs__writer_module(w, &(hs_module){1, 2, 0, 0, 4, NULL, ""}),
                   HS_EINVAL); /* build id bytes missing */
  assert_int_equal(hs__writer_module(w, &(hs_module){1, 2, 0, 0, 0, NULL, big}),
                   HS_EINVAL);
  static uint64_t frames[HS__MAX_DEPTH + 1];
  assert_int_equal(hs__writer_stack(w, frames, HS__MAX_DEPTH + 1), HS_EINVAL);
  assert_int_equal(hs__writer_stack(w, NULL, 1), HS_EINVAL);
  assert_int_equal(hs__writer_stack(w, frames, HS__MAX_DEPTH), 0);
  assert_int_equal(hs__writer_block(w, NULL), HS_EINVAL);
  assert_int_equal(hs__writer_block(w, &(hs_block){1, UINT64_MAX, 0, 0}), 0);
  assert_int_equal(hs__writer_block(w, &(hs_block){2, 1, 0, 0}),
                   HS_EINVAL); /* live_bytes would overflow */
  hs__writer_free(w);
  close(fd);
  free(big);
}

/* Every byte comes from the custom allocator and goes back to it; libc's
 * allocator is never called, by the writer or by zstd on its behalf. */
static void test_custom_memory(void **state) {
  counting c = {0};
  hs__writer *w;
  const int fd = devnull();
  watching = 1;
  libc_calls = 0;
  assert_int_equal(hs__writer_create(fd, count_mem(&c), 3, &w), 0);
  assert_int_equal(write_small(w), 0);
  hs__writer_free(w);
  watching = 0;
  close(fd);
  assert_int_equal(libc_calls, 0);
  assert_true(c.allocs >= 2); /* the writer, and zstd's context */
  assert_int_equal(c.allocs, c.frees);
  assert_int_equal(c.live_bytes, 0);
}

/* libuv's out-of-memory loop: fail allocation 1, 2, 3, ... until the
 * whole snapshot goes through. Each attempt fails cleanly with
 * HS_ENOMEM and returns every byte it got. */
static void test_out_of_memory(void **state) {
  const int fd = devnull();
  size_t failures = 0;
  for (size_t n = 1;; n++) {
    counting c = {.fail_at = n};
    hs__writer *w = NULL;
    int err = hs__writer_create(fd, count_mem(&c), 1, &w);
    if (!err)
      err = write_small(w);
    hs__writer_free(w);
    assert_int_equal(c.allocs, c.frees);
    assert_int_equal(c.live_bytes, 0);
    if (err == 0)
      break;
    assert_int_equal(err, HS_ENOMEM);
    failures++;
  }
  assert_true(failures >= 2);
  close(fd);
}

/* A full disk comes back as -ENOSPC, and stays: the stream is broken. */
static void test_disk_full(void **state) {
  const int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    skip();
  hs__writer *w;
  assert_int_equal(hs__writer_create(fd, ZSTD_defaultCMem, 1, &w), 0);
  hs_header h = fmt_small_header;
  h.live_blocks = h.live_bytes = 0;
  assert_int_equal(hs__writer_header(w, &h), -ENOSPC);
  assert_int_equal(hs__writer_stack(w, NULL, 0), -ENOSPC);
  assert_int_equal(hs__writer_finish(w), -ENOSPC);
  hs__writer_free(w);
  close(fd);
}

/* Output goes through write(2) on the descriptor given: a read-only one
 * gives -EBADF, first noticed when the preamble goes out. */
static void test_bad_fd(void **state) {
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  hs__writer *w;
  assert_int_equal(hs__writer_create(fd, ZSTD_defaultCMem, 1, &w), 0);
  assert_int_equal(write_small(w), -EBADF);
  hs__writer_free(w);
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_args),
      cmocka_unit_test(test_misordered),
      cmocka_unit_test(test_invalid_items),
      cmocka_unit_test(test_custom_memory),
      cmocka_unit_test(test_out_of_memory),
      cmocka_unit_test(test_disk_full),
      cmocka_unit_test(test_bad_fd),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
