// Scratch memory of the GEMM paths: row masks and per-thread buffers reused across calls.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "gemm_driver.h"

namespace kb {

// Masks of the valid bits of a row's words (RowLayout::Mask), zero beyond layout.words() up to
// `size` words.
inline std::vector<uint32_t> RowMasks(const RowLayout& layout, int64_t size) {
  std::vector<uint32_t> masks(static_cast<size_t>(size), 0);
  for (int64_t j = 0; j < layout.words(); ++j) masks[j] = layout.Mask(j);
  return masks;
}

// This thread's room for zero-padding corrections (rows x n ints, up to the output's size),
// reused across calls: only the rows that get a correction are written, so a fresh zero-filled
// vector per call (1 MB at 64 x 4096 outputs) was pure cost for a matmul. Work items use the
// buffer of the thread that runs them.
inline std::vector<int32_t>& CorrectionBuffer(int64_t size) {
  thread_local std::vector<int32_t> buffer;
  buffer.resize(static_cast<size_t>(size));
  return buffer;
}

// 64-byte aligned allocations, for buffers read and written with aligned 512-bit accesses.
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t count) {
    void* p = std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};

}  // namespace kb
