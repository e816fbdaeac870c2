// symbols_target_cxx.cpp - C++ test input for hd_symbols: a member
// function in a namespace, whose demangled name the test checks, and a
// namespaced global. Built at -O0 so the entry address carries the line
// of the signature, marked below for tests/symbols/CMakeLists.txt.
namespace ns {

int registry[16];

struct Widget {
  int size;
  int grow(int by);
};

int Widget::grow(int by) { // @mark grow_line
  size += by;
  registry[size & 15]++;
  return size;
}

} // namespace ns

// Keeps the member function in the library whatever the optimizer thinks.
extern "C" int symt_cxx_grow(int by) {
  ns::Widget w{1};
  return w.grow(by);
}
