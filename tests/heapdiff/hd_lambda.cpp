// hd_lambda - two local lambdas in two namespaces, inlined at -O2 -g: GCC
// gives their operator() no linkage name, only DW_AT_name "operator()".
// hd_lambda.sh checks that heapdiff names each site by its own lambda
// (net::on_read::{lambda()#1}::operator(), db::on_query::{...}) and that
// --group-by function keeps the two apart, each with its own bytes:
//   net::on_read   100 strings of 101..103 chars per interval
//   db::on_query   100 strings of 501..503 chars per interval
// Fixed global arrays hold the strings: no vector growth joins the sites,
// and the blocks stay reachable.
// usage: hd_lambda (writes the three snapshot paths on stdout)
#include <cstdio>
#include <string>

#include "heapsnap.h"

std::string *g_a[300];
std::string *g_b[300];
int n_a;
int n_b;

namespace net {
__attribute__((noinline)) void on_read(int i) {
  auto f = [&]() { g_a[n_a++] = new std::string(100 + i % 3, 'a'); };
  f();
}
} // namespace net

namespace db {
__attribute__((noinline)) void on_query(int i) {
  auto f = [&]() { g_b[n_b++] = new std::string(500 + i % 3, 'b'); };
  f();
}
} // namespace db

int main() {
  static char paths[3][4096];
  for (int snap = 0; snap < 3; snap++) {
    for (int i = 0; i < 100; i++) {
      net::on_read(i);
      db::on_query(i);
    }
    if (hs_snapshot_take(paths[snap], sizeof paths[snap]) != 0) {
      std::fprintf(stderr, "hd_lambda: no snapshot (not under the shim?)\n");
      return 1;
    }
  }
  // printed at the end: stdout's buffer is no site between snapshots
  std::printf("%s\n%s\n%s\n", paths[0], paths[1], paths[2]);
  return 0;
}
