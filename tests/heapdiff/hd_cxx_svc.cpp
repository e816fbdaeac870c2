// hd_cxx_svc - a C++17 service with known leaks, built -O2 -g
// -fomit-frame-pointer as users build theirs, run under the shim (three API
// snapshots). hd_cxx.sh checks heapdiff names every growing site by an
// app:: origin, in 100 columns:
//   app::cache_insert  an unordered_map<string, vector<char>> never trimmed
//   app::handle        `new Request`, the pointer dropped: lost
//   app::log_line      a deque bounded at 100 strings: not growing
//   app::make_cycle    two shared_ptr nodes pointing at each other (two
//                      make_shared calls on two lines): lost
// usage: hd_cxx_svc (writes the snapshot paths on stdout)
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "heapsnap.h"

namespace app {

struct Request {
  char body[200];
  int id;
};

struct Node {
  std::shared_ptr<Node> other;
  char payload[64];
};

std::unordered_map<std::string, std::vector<char>> g_cache;
std::deque<std::string> g_log;
Request *volatile g_last; // only the last request stays reachable

__attribute__((noinline)) void cache_insert(int i) {
  g_cache[std::string("key-with-a-long-name-") + std::to_string(i)] =
      std::vector<char>(300 + i % 7, 'x');
}

__attribute__((noinline)) void handle(int i) {
  Request *r = new Request();
  r->id = i;
  g_last = r; // the one before is dropped, never deleted
}

__attribute__((noinline)) void log_line(int i) {
  g_log.push_back("a log line long enough not to be stored inline: " +
                  std::to_string(i));
  if (g_log.size() > 100)
    g_log.pop_front();
}

__attribute__((noinline)) void make_cycle() {
  auto a = std::make_shared<Node>();
  auto b = std::make_shared<Node>();
  a->other = b;
  b->other = a;
}

__attribute__((noinline)) void serve(int n, int &next) {
  for (int k = 0; k < n; k++, next++) {
    cache_insert(next);
    handle(next);
    log_line(next);
    if (next % 10 == 0)
      make_cycle();
  }
}

} // namespace app

int main() {
  static char paths[3][4096];
  int next = 0;
  for (int snap = 0; snap < 3; snap++) {
    app::serve(200, next); // the deque is full from the first snapshot on
    if (hs_snapshot_take(paths[snap], sizeof paths[snap]) != 0) {
      std::fprintf(stderr, "hd_cxx_svc: no snapshot (not under the shim?)\n");
      return 1;
    }
  }
  // printed at the end: stdout's buffer is no site between snapshots
  std::printf("%s\n%s\n%s\n", paths[0], paths[1], paths[2]);
  return 0;
}
