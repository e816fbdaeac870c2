// e2e_cxx - C++ new/delete and new[]/delete[] are seen (libstdc++'s operator
// new calls malloc), and a std::vector's final buffer is its only block.
#include <vector>

#include "e2e_sites.h"

struct Obj {
  char data[123];
};

static Obj *objs[5];
static char *arrays[3];
static std::vector<int> *vec;

extern "C" __attribute__((noinline)) void site_new() {
  for (auto &o : objs)
    o = new Obj();
  delete objs[0];
  delete objs[1];
  objs[0] = objs[1] = nullptr;
}

extern "C" __attribute__((noinline)) void site_new_array() {
  for (auto &a : arrays)
    a = new char[300];
  delete[] arrays[2];
  arrays[2] = nullptr;
}

extern "C" __attribute__((noinline)) void site_vector() {
  vec = new std::vector<int>(); // 24-byte object, counted below
  for (int i = 0; i < 1000; i++)
    vec->push_back(i);
}

static void write_sites(FILE *f) {
  E2E_SITE(f, site_new, 3, 3 * sizeof(Obj));
  E2E_SITE(f, site_new_array, 2, 2 * 300);
  // the vector object itself, and the buffer it grew into
  E2E_SITE(f, site_vector, 2,
           sizeof(std::vector<int>) + vec->capacity() * sizeof(int));
}

int main() {
  site_new();
  site_new_array();
  site_vector();
  e2e_snapshot(write_sites);
  return 0;
}
