/* e2e_keyslib - takes pthread keys 0 to 31 in its constructor, which runs
 * before the preloaded shim's (e2e_reach links it): the keys libunwind
 * and the program create next are 32 and up, whose values glibc keeps in
 * a second-level array it allocates at a thread's first use. */
#include <pthread.h>

static int taken;

int e2e_keyslib_taken(void) {
  return taken;
}

__attribute__((constructor)) static void e2e_keyslib_init(void) {
  pthread_key_t k;
  while (taken < 32 && pthread_key_create(&k, NULL) == 0)
    taken++;
}
