/* stress_sigre - a signal handler that calls signal() and sigaction(), as
 * SysV-style code re-arms its handler, while the interrupted thread is
 * inside those same calls (the program sets SIGPIPE around each write, as
 * libcurl does per transfer). The shim's hooks of these calls take a lock:
 * a handler run in the thread that held it waited on it for good.
 *
 * A 100 us interval timer; the main thread sets and restores SIGPIPE's
 * disposition ROUNDS times, with sigaction and with signal. The handler
 * re-arms itself by turns with signal and with sigaction, and sets the
 * snapshot signal's disposition to its default (the shim's own branch).
 * Prints "done ROUNDS" and whether the handler ran; deterministic. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t ticks;

static void on_alarm(int sig) {
  if (ticks++ & 1) {
    signal(sig, on_alarm);
  } else {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(sig, &sa, NULL);
  }
  signal(SIGUSR2, SIG_DFL); /* the snapshot signal: the program's view */
}

int main(int argc, char **argv) {
  const long rounds = argc > 1 ? atol(argv[1]) : 100000;
  struct sigaction ign, old, alarm;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  memset(&alarm, 0, sizeof alarm);
  alarm.sa_handler = on_alarm;
  sigaction(SIGALRM, &alarm, NULL);
  struct itimerval every = {{0, 100}, {0, 100}}, stop = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &every, NULL);
  for (long i = 0; i < rounds; i++) {
    sigaction(SIGPIPE, &ign, &old);
    sigaction(SIGPIPE, &old, NULL);
    signal(SIGPIPE, signal(SIGPIPE, SIG_IGN));
  }
  setitimer(ITIMER_REAL, &stop, NULL);
  printf("done %ld, the handler ran: %d\n", rounds, ticks > 0);
  return 0;
}
