/* attach_fpu - one thread, always running its own code, with four
 * running sums kept in vector registers: `heapsnap attach` can only take
 * it while it runs (no thread waits in a system call), in the middle of
 * the sums. The calls made in it (dlopen, the shim's start, its stop)
 * use the vector registers themselves; if the thread came back without
 * its own, a sum is wrong.
 *
 * usage: attach_fpu READY STOP: writes READY once running, stops when the
 * file STOP exists (looked for every 2^24 steps).
 * stdout at the end: "sums right after N steps", or the first wrong sum. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  FILE *f = fopen(argv[1], "w");
  if (!f)
    return 2;
  fclose(f);
  double a = 0, b = 0, c = 0, d = 0;
  uint64_t i = 0;
  for (;;) {
    for (int k = 0; k < (1 << 24); k++, i++) {
      a += 1.0;
      b += 2.0;
      c += 0.5;
      d -= 3.0;
      /* each sum stays in a vector register, never spilled */
      __asm__ volatile("" : "+x"(a), "+x"(b), "+x"(c), "+x"(d));
    }
    if (access(argv[2], F_OK) == 0)
      break;
  }
  const double n = (double)i;
  const double want[4] = {n, 2 * n, n / 2, -3 * n}, got[4] = {a, b, c, d};
  for (int k = 0; k < 4; k++)
    if (got[k] != want[k]) {
      printf("sum %d is %.17g after %llu steps, not %.17g\n", k, got[k],
             (unsigned long long)i, want[k]);
      return 1;
    }
  printf("sums right after %llu steps\n", (unsigned long long)i);
  return 0;
}
