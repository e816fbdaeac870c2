/* stress_ownerlib - installs a SIGUSR2 handler from its constructor, which
 * runs before the preloaded shim's (stress_owner links it), when
 * STRESS_OWNER_EARLY=1. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void stress_owner_got(void);

static void on_usr2(int sig) {
  (void)sig;
  stress_owner_got();
}

static int installed;

/* 1 when the constructor installed the handler. */
int stress_ownerlib_installed(void) {
  return installed;
}

__attribute__((constructor)) static void stress_ownerlib_init(void) {
  const char *v = getenv("STRESS_OWNER_EARLY");
  if (!v || strcmp(v, "1") != 0)
    return;
  installed = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);
}
