/* attach_static - a statically linked program that sleeps: heapsnap
 * attach must refuse it in one line (attach_refuse.sh). */
#include <time.h>

int main(void) {
  const struct timespec ts = {0, 50000000};
  for (int i = 0; i < 1200; i++) /* a minute at most */
    nanosleep(&ts, NULL);
  return 0;
}
