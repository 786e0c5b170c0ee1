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

// Zero-padding corrections of rows [m0, m0 + rows) of `a` (RowSource::Corrections), in this
// thread's buffer, valid until its next call: `padded` >= rows pointers (row r's [n] ints or
// nullptr), or nullptr when no row has one. A work item uses those of the thread that runs it;
// corrections made once per call before the items (on the calling thread) stay valid while the
// items read them.
inline const int32_t* const* RowCorrections(const RowSource& a, int64_t m0, int64_t rows,
                                             int64_t padded) {
  thread_local std::vector<const int32_t*> corr;
  corr.assign(static_cast<size_t>(padded), nullptr);
  const bool any = a.Corrections(m0, rows, corr.data());
  return any ? corr.data() : nullptr;
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
