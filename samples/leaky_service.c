/* leaky_service - a small "service" with the leaks real services have, to
 * show heapsnap's workflow (scripts/demo). It serves fake requests in a
 * loop and:
 *   - caches every session in a global table that nothing ever trims
 *     (session_new: reachable, growing: a logical leak);
 *   - keeps the last 256 responses in a ring (ring_push: bounded churn);
 *   - parses each request into a buffer it frees (request_parse: no growth);
 *   - loses one formatted log line in ten (log_format: unreachable).
 * usage: leaky_service [--rate N] [--duration SECONDS]
 * Runs until SIGTERM/SIGINT or the duration; prints a summary at the end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct session {
  struct session *next;
  unsigned long id;
  char user[48];
  char *history; /* grows with each request of the session */
} session;

#define BUCKETS 4096
static session **g_sessions; /* the cache nobody trims */
static char *g_ring[256];
static unsigned g_ring_at;
static volatile sig_atomic_t g_stop;

static void on_stop(int sig) {
  g_stop = 1;
}

__attribute__((noinline)) static session *session_new(unsigned long id) {
  session *s = calloc(1, sizeof *s);
  s->id = id;
  snprintf(s->user, sizeof s->user, "user-%lu", id);
  s->history = malloc(200);
  snprintf(s->history, 200, "created");
  return s;
}

__attribute__((noinline)) static session *session_get(unsigned long id) {
  if (!g_sessions)
    g_sessions = calloc(BUCKETS, sizeof *g_sessions);
  session **b = &g_sessions[id % BUCKETS];
  for (session *s = *b; s; s = s->next)
    if (s->id == id)
      return s;
  session *s = session_new(id);
  s->next = *b;
  *b = s;
  return s;
}

__attribute__((noinline)) static char *request_parse(unsigned long n) {
  char *buf = malloc(512 + n % 512);
  snprintf(buf, 512, "GET /item/%lu HTTP/1.1", n);
  return buf;
}

__attribute__((noinline)) static void ring_push(const char *text) {
  free(g_ring[g_ring_at % 256]);
  g_ring[g_ring_at++ % 256] = strdup(text);
}

__attribute__((noinline)) static char *log_format(unsigned long n) {
  char *line = malloc(128);
  snprintf(line, 128, "served request %lu", n);
  return line;
}

static void serve(unsigned long n) {
  char *req = request_parse(n);
  session_get(n); /* every request opens a new session: never trimmed */
  ring_push(req);
  char *line = log_format(n);
  if (n % 10) /* the tenth line is dropped on the floor */
    free(line);
  free(req);
}

static void sleep_ns(long ns) {
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  long rate = 2000;
  double duration = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--rate"))
      rate = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--duration"))
      duration = atof(argv[i + 1]);
  }
  if (rate <= 0 || duration < 0 || argc % 2 == 0) {
    fprintf(stderr, "usage: leaky_service [--rate N] [--duration SECONDS]\n");
    return 2;
  }
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  const long batch = rate / 100 > 0 ? rate / 100 : 1; /* 100 batches/s */
  const long ticks = duration > 0 ? (long)(duration * 100) : -1;
  unsigned long n = 0;
  for (long t = 0; !g_stop && t != ticks; t++) {
    for (long i = 0; i < batch; i++)
      serve(n++);
    sleep_ns(10000000L);
  }
  printf("leaky_service: served %lu requests\n", n);
  return 0;
}
