#include "engine/loop/counting_new.h"

#include <atomic>
#include <cstdlib>
#include <new>

// Counts heap allocations so a test can prove a steady-state loop tick makes none.
// The replacement pairs malloc/free itself; GCC cannot see that and warns.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<int64_t> g_allocations{0};
void* CountedAlloc(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace
// Every form is replaced, so memory from any `new` reaches the matching free
// (ASan checks the pairing).
void* operator new(size_t n) { return CountedAlloc(n); }
void* operator new[](size_t n) { return CountedAlloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& tag) noexcept { return operator new(n, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace physics::loop::testing {

int64_t AllocationsSoFar() { return g_allocations.load(); }

}  // namespace physics::loop::testing
