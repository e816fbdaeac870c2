// hd_names_fixture - a shared library whose functions the golden tests'
// snapshots point into (hd_specs.sh finds them with nm), so heapdiff
// symbolizes real C++ names: standard-library templates instantiated here
// (runtime code, by name and by file), the user's own functions, a long
// name for the width tests and two allocation wrappers for --alloc-fn.
// Built -O0 -g: no inlining, each function its own symbol.
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace app {

struct Node {
  std::shared_ptr<Node> other;
};

std::vector<char> cache_insert(int n) {
  return std::vector<char>(n, 'x');
}

std::shared_ptr<Node> make_cycle() {
  return std::make_shared<Node>();
}

namespace detail {
struct RequestRouterWithAVeryLongName {
  std::vector<char> dispatch_request_to_backend_pool(const std::string &route,
                                                     int retries) {
    return cache_insert(static_cast<int>(route.size()) + retries);
  }
};
} // namespace detail

std::vector<char> route(const std::string &r) {
  return detail::RequestRouterWithAVeryLongName()
      .dispatch_request_to_backend_pool(r, 1);
}

} // namespace app

extern "C" void *myalloc_small(size_t n) {
  return std::malloc(n);
}
extern "C" void *myalloc_big(size_t n) {
  return myalloc_small(n);
}
extern "C" void *serve_one(size_t n) {
  return myalloc_big(n);
}
