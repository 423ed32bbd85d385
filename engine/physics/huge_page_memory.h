// Memory for many windows on 2 MB pages (transparent huge pages, asked for
// with madvise): at 1 000 symbols the windows span ~40 MB, which on 4 KB
// pages is ~10 000 pages, far more than the TLB holds, so nearly every page a
// loop tick touches costs a page walk (docs/engine.md, "Memory").
// Not thread-safe: owned by the thread that creates the windows.
#ifndef PHYSICS_ENGINE_PHYSICS_HUGE_PAGE_MEMORY_H_
#define PHYSICS_ENGINE_PHYSICS_HUGE_PAGE_MEMORY_H_

#include <cstddef>
#include <memory_resource>

namespace physics {

// Allocates from 2 MB-aligned anonymous mappings marked MADV_HUGEPAGE, each
// request rounded up to whole 2 MB pages; returns them to the system when
// deallocated. Meant as the upstream of a std::pmr::monotonic_buffer_resource
// (HugePageArena), not for small allocations. Where the kernel has no
// transparent huge pages (or madvise fails) the memory is ordinary pages.
class HugePageResource final : public std::pmr::memory_resource {
 public:
  static constexpr size_t kPageBytes = size_t{2} << 20;

 private:
  void* do_allocate(size_t bytes, size_t alignment) override;
  void do_deallocate(void* p, size_t bytes, size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

// Carves windows out of 2 MB pages, from ever larger mappings (2 MB
// first). Memory is handed back only when the arena is destroyed, so it
// must outlive every window allocated from it. E.g.
//   HugePageArena arena;
//   Window w(1000, &arena);
class HugePageArena final : public std::pmr::memory_resource {
 public:
  HugePageArena();
  HugePageArena(const HugePageArena&) = delete;
  HugePageArena& operator=(const HugePageArena&) = delete;

 private:
  void* do_allocate(size_t bytes, size_t alignment) override;
  void do_deallocate(void* p, size_t bytes, size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  HugePageResource pages_;
  std::pmr::monotonic_buffer_resource arena_;
};

}  // namespace physics

#endif  // PHYSICS_ENGINE_PHYSICS_HUGE_PAGE_MEMORY_H_
