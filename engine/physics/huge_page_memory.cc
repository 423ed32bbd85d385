#include "engine/physics/huge_page_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace physics {
namespace {

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

void* HugePageResource::do_allocate(size_t bytes, size_t alignment) {
  if (alignment > kPageBytes) throw std::bad_alloc();
  const size_t size = RoundUp(bytes == 0 ? 1 : bytes, kPageBytes);
  // Map one page more than asked and trim, so the start is 2 MB-aligned.
  const size_t mapped = size + kPageBytes;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = RoundUp(start, kPageBytes);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + mapped;
  if (end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - (aligned + size));
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, size, MADV_HUGEPAGE);  // best effort: ordinary pages otherwise
  return p;
}

void HugePageResource::do_deallocate(void* p, size_t bytes, size_t /*alignment*/) {
  munmap(p, RoundUp(bytes == 0 ? 1 : bytes, kPageBytes));
}

HugePageArena::HugePageArena() : arena_(HugePageResource::kPageBytes, &pages_) {}

void* HugePageArena::do_allocate(size_t bytes, size_t alignment) {
  return arena_.allocate(bytes, alignment);
}

void HugePageArena::do_deallocate(void* p, size_t bytes, size_t alignment) {
  arena_.deallocate(p, bytes, alignment);
}

}  // namespace physics
