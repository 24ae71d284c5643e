// LargeBuffer: an owned, uninitialised byte buffer for the pipeline's big,
// long-lived buffers (a chunk's data and compressed bytes, reused through
// the chunk pool). From 1 MiB up it is mapped on its own, 2 MiB-aligned and
// rounded up to 2 MiB, and advised to the kernel as a transparent huge page
// candidate (MADV_HUGEPAGE): the first write to each 4 KiB page is a page
// fault, and a build touches its pool's buffers fresh every run. On the
// 2-core VM the benchmarks run on a fault costs about 13 µs, so a warm
// rebuild of minbase spent ~13 % of its wall time (~9 % of its CPU) in the
// ~4,400 faults of its chunk buffers; on huge pages that is ~30 faults.
// Where the kernel's THP "defrag" setting lets an advised fault compact
// memory, a host with fragmented memory may pay that instead (unmeasured).
// Where the kernel has no huge pages (THP off, or "never") the advice is
// ignored and the buffer is an ordinary mapping: only the speed differs. Smaller buffers
// come from operator new, and so do all under AddressSanitizer, whose
// redzones must keep catching a write past a chunk's end (a mapping rounded
// up to 2 MiB would hide it). Move-only, like unique_ptr.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define OCIPACK_LARGE_BUFFER_MAPS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OCIPACK_LARGE_BUFFER_MAPS 0
#endif
#endif
#ifndef OCIPACK_LARGE_BUFFER_MAPS
#define OCIPACK_LARGE_BUFFER_MAPS 1
#endif

namespace ocipack {

class LargeBuffer {
 public:
  // Whether big buffers are mappings (false under AddressSanitizer).
  static constexpr bool k_maps = OCIPACK_LARGE_BUFFER_MAPS != 0;
  // From this size up a buffer is its own huge-page-aligned mapping.
  static constexpr size_t k_mapped_from = size_t{1} << 20;
  static constexpr size_t k_huge_page = size_t{2} << 20;

  LargeBuffer() = default;
  // `size` bytes, contents unspecified. Throws std::bad_alloc when the
  // memory cannot be had, as new does.
  explicit LargeBuffer(size_t size);
  LargeBuffer(LargeBuffer&& other) noexcept : m_data(other.m_data), m_mapped(other.m_mapped) {
    other.m_data = nullptr;
    other.m_mapped = 0;
  }
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;
  ~LargeBuffer() { release(); }

  std::byte* get() const { return m_data; }
  explicit operator bool() const { return m_data != nullptr; }
  // The length of the mapping (a multiple of k_huge_page), 0 for a buffer
  // from operator new: for tests.
  size_t mapped_size() const { return m_mapped; }

 private:
  void release() noexcept;
  std::byte* m_data = nullptr;
  size_t m_mapped = 0;  // > 0: m_data is an mmap of this many bytes
};

}  // namespace ocipack
