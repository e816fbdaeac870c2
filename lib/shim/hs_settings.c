/* hs_settings.c - the HEAPSNAP_* variables, read once at start.
 * docs/environment.md is the user's view of this file: keep them in step.
 * A bad value gets one warning and the default; the service runs on. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hs_parse.h"
#include "hs_shim.h"

hs__settings hs__cfg;

static void hs__warn(const char *var, const char *val, const char *expect,
                     const char *dflt) {
  hs__say("%s=%s: expected %s; using %s", var, val, expect, dflt);
}

static uint64_t hs__env_u64(const char *var, uint64_t min, uint64_t max,
                            uint64_t dflt, const char *expect) {
  const char *v = getenv(var);
  uint64_t out = dflt;
  if (v && *v && hs__parse_u64(v, min, max, &out)) {
    char d[24];
    char *p = d + sizeof d;
    *--p = '\0';
    uint64_t x = dflt;
    do
      *--p = (char)('0' + x % 10);
    while ((x /= 10));
    hs__warn(var, v, expect, p);
    out = dflt;
  }
  return out;
}

static void hs__load_signal(void) {
  const char *v = getenv("HEAPSNAP_SIGNAL");
  hs__cfg.signo = SIGUSR2;
  if (v && *v && hs__parse_signal(v, &hs__cfg.signo)) {
    hs__warn("HEAPSNAP_SIGNAL", v,
             "a signal name (USR2, SIGRTMIN+3) or number, or none", "SIGUSR2");
    hs__cfg.signo = SIGUSR2;
  }
}

/* A 0/1 variable; a bad value gets the warning and the default. */
static int hs__env_bool(const char *var, int dflt) {
  const char *v = getenv(var);
  int out = dflt;
  if (v && *v && hs__parse_bool(v, &out)) {
    hs__warn(var, v, "1 or 0 (or yes/no, true/false, on/off)",
             dflt ? "1" : "0");
    out = dflt;
  }
  return out;
}

static void hs__load_flags(void) {
  hs__cfg.at_exit = hs__env_bool("HEAPSNAP_AT_EXIT", 0);
  hs__cfg.verbose = hs__env_bool("HEAPSNAP_VERBOSE", 0);
  hs__cfg.scan = hs__env_bool("HEAPSNAP_SCAN", 1);
  hs__cfg.scan_registers = hs__env_bool("HEAPSNAP_SCAN_REGISTERS", 0);
  hs__cfg.graph = hs__env_bool("HEAPSNAP_GRAPH", 1);
  const char *v = getenv("HEAPSNAP_INTERVAL");
  if (v && *v && hs__parse_seconds(v, &hs__cfg.interval_ns)) {
    hs__warn("HEAPSNAP_INTERVAL", v,
             "seconds (like 10 or 0.5; at least 0.000000001), 0 for off",
             "0 (off)");
    hs__cfg.interval_ns = 0;
  }
}

/* HEAPSNAP_UNWIND: "fast" (the default: cached CFI rules, libunwind where
 * they do not apply) or "libunwind" (every stack from unw_backtrace). */
static void hs__load_unwind(void) {
  const char *v = getenv("HEAPSNAP_UNWIND");
  hs__cfg.unwind_slow = 0;
  if (!v || !*v || strcmp(v, "fast") == 0)
    return;
  if (strcmp(v, "libunwind") == 0)
    hs__cfg.unwind_slow = 1;
  else
    hs__warn("HEAPSNAP_UNWIND", v, "fast or libunwind", "fast");
}

/* HEAPSNAP_SAMPLE_BYTES=R turns sampling on; HEAPSNAP_SAMPLE_SEED makes
 * its choices repeatable. */
static void hs__load_sampling(void) {
  const char *v = getenv("HEAPSNAP_SAMPLE_BYTES");
  hs__cfg.sample_bytes = 0;
  if (v && *v && hs__parse_bytes(v, 1ull << 40, &hs__cfg.sample_bytes)) {
    hs__warn("HEAPSNAP_SAMPLE_BYTES", v,
             "a mean gap in bytes (like 524288 or 512K) up to 1T, 0 for off",
             "0 (every block)");
    hs__cfg.sample_bytes = 0;
  }
  v = getenv("HEAPSNAP_SAMPLE_SEED");
  hs__cfg.sample_seeded = 0;
  if (v && *v) {
    if (hs__parse_u64(v, 0, UINT64_MAX, &hs__cfg.sample_seed) == 0)
      hs__cfg.sample_seeded = 1;
    else
      hs__warn("HEAPSNAP_SAMPLE_SEED", v, "a decimal number", "a random seed");
  }
}

/* The folder is made absolute now, so a later chdir of the program does not
 * move the snapshots. getcwd with a buffer does not allocate. */
static void hs__load_dir(void) {
  const char *v = getenv("HEAPSNAP_DIR");
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd))
    strcpy(cwd, "/tmp");
  if (!v || !*v) {
    strcpy(hs__cfg.dir, cwd);
  } else if (v[0] == '/') {
    if (strlen(v) >= sizeof hs__cfg.dir - 64)
      hs__warn("HEAPSNAP_DIR", v, "a shorter path", cwd), v = cwd;
    strcpy(hs__cfg.dir, v);
  } else if (strlen(cwd) + strlen(v) + 2 < sizeof hs__cfg.dir - 64) {
    strcpy(hs__cfg.dir, cwd);
    strcat(hs__cfg.dir, "/");
    strcat(hs__cfg.dir, v);
  } else {
    hs__warn("HEAPSNAP_DIR", v, "a shorter path", cwd);
    strcpy(hs__cfg.dir, cwd);
  }
}

#ifdef HS_ATTACH
/* Attached, argv[0] may have been overwritten by now (nginx writes its
 * process title there): the kernel's name for the process instead, made
 * whole from the executable's when the kernel cut it at 15 characters. */
static const char *hs__attached_name(char *buf, size_t len) {
  ssize_t n = hs__os_read_file("/proc/self/comm", buf, len);
  while (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  char exe[512];
  const ssize_t e = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n == 15 && e > 0) {
    exe[e] = '\0';
    const char *const base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
    if (strncmp(base, buf, 15) == 0 && strlen(base) < len)
      strcpy(buf, base);
  }
  return n > 0 ? buf : program_invocation_short_name;
}
#endif

/* <name> must be a plain file name component. */
static void hs__load_name(void) {
#ifdef HS_ATTACH
  char comm[256];
  const char *n = hs__attached_name(comm, sizeof comm);
#else
  const char *n = program_invocation_short_name;
#endif
  size_t j = 0;
  for (size_t i = 0; n && n[i] && j + 1 < sizeof hs__cfg.name; i++)
    hs__cfg.name[j++] = (n[i] == '/' || n[i] < ' ') ? '_' : n[i];
  if (j == 0 || (j <= 2 && hs__cfg.name[0] == '.'))
    strcpy(hs__cfg.name, "program"), j = 7;
  hs__cfg.name[j] = '\0';
}

void hs__settings_load(void) {
  hs__load_dir();
  hs__load_name();
  hs__load_signal();
  hs__load_flags();
  hs__cfg.keep = hs__env_u64("HEAPSNAP_KEEP", 0, 1000000000, 0,
                             "a count of files, 0 for all");
  hs__cfg.depth = (uint32_t)hs__env_u64("HEAPSNAP_DEPTH", 1, HS_DEPTH_MAX, 64,
                                        "a depth from 1 to 256");
  hs__cfg.stack_mb =
      hs__env_u64("HEAPSNAP_STACK_MB", 1, 65536, 256, "MiB from 1 to 65536");
  hs__load_unwind();
  hs__load_sampling();
}
