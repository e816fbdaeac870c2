/* attach_slowdl - a program whose second thread holds the loader's lock:
 * it dlopens attach_slowlib.so, whose constructor (run under that lock)
 * waits until told to go on. An attach meanwhile takes the main thread
 * (waiting in pause) and its dlopen waits behind the lock: the call that
 * does not return in 30 s.
 *
 * usage: attach_slowdl DIR MODULE
 * DIR/stop: the constructor's thread stops the process (raise(SIGSTOP):
 * the signal goes to it, not to a thread attach holds); DIR/go: it
 * returns. stdout: "locked" once the constructor runs. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *attach_slowdl_load(void *module) {
  if (!dlopen(module, RTLD_NOW)) {
    fprintf(stderr, "attach_slowdl: %s\n", dlerror());
    exit(2);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  setenv("ATTACH_SLOWDL_DIR", argv[1], 1);
  pthread_t t;
  if (pthread_create(&t, NULL, attach_slowdl_load, argv[2]) != 0)
    return 1;
  for (;;)
    pause();
}
