/* stress_forkhold - a library that makes the next fork happen while
 * another thread holds the dynamic loader's lock, every time.
 *
 * stress_forkdl links it (DT_NEEDED), so its constructor runs before the
 * preloaded shim's and registers its fork handlers first: glibc runs
 * prepare handlers in reverse order, so this prepare handler runs after
 * the shim's, the last thing before the address space is copied. When
 * armed, it has a helper thread enter dl_iterate_phdr (which holds the
 * loader's dl_load_write_lock while its callback runs) and waits until it
 * is inside; the parent's handler lets it go. The child inherits the lock
 * held by a thread it does not have. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

enum { IDLE, ASKED, HOLDING, RELEASE };
static _Atomic int armed, state;
static void *to_close;

static int hold(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)info, (void)size, (void)arg;
  atomic_store(&state, HOLDING);
  while (atomic_load(&state) != RELEASE)
    usleep(100);
  return 1;
}

static void *holder(void *arg) {
  (void)arg;
  for (;;) {
    while (atomic_load(&state) != ASKED)
      usleep(100);
    dl_iterate_phdr(hold, NULL);
    atomic_store(&state, IDLE);
  }
  return NULL;
}

static void prepare(void) {
  if (!atomic_load(&armed))
    return;
  if (to_close) /* unloaded after the shim captured the module list */
    dlclose(to_close), to_close = NULL;
  atomic_store(&state, ASKED);
  while (atomic_load(&state) != HOLDING)
    usleep(100);
}

static void parent(void) {
  if (!atomic_load(&armed))
    return;
  atomic_store(&state, RELEASE);
  while (atomic_load(&state) != IDLE)
    usleep(100);
}

__attribute__((constructor)) static void forkhold_init(void) {
  pthread_atfork(prepare, parent, NULL);
}

/* Arms (1) or disarms (0) the handlers; the helper thread starts once.
 * With a handle, the next fork's prepare handler dlcloses it first. */
void forkhold_arm(int on, void *dlclose_handle) {
  to_close = dlclose_handle;
  static pthread_t t;
  if (on && !t)
    pthread_create(&t, NULL, holder, NULL);
  atomic_store(&armed, on);
}
