// LargeBuffer (see large_buffer.h): mmap a huge page more than needed, cut
// the unaligned head and the tail off, advise MADV_HUGEPAGE.
#include "core/util/large_buffer.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace ocipack {

namespace {

std::byte* map_aligned(size_t length) {
  const size_t span = length + LargeBuffer::k_huge_page;
  void* const raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + LargeBuffer::k_huge_page - 1) & ~(uintptr_t{LargeBuffer::k_huge_page} - 1);
  const size_t head = aligned - start;
  if (head > 0) ::munmap(raw, head);
  if (const size_t tail = span - head - length; tail > 0) ::munmap(reinterpret_cast<void*>(aligned + length), tail);
  // Advice only: EINVAL where the kernel has no transparent huge pages.
  ::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
  return reinterpret_cast<std::byte*>(aligned);
}

}  // namespace

LargeBuffer::LargeBuffer(size_t size) {
  if (k_maps && size >= k_mapped_from) {
    if (size > SIZE_MAX - 2 * k_huge_page) throw std::bad_alloc();
    const size_t length = (size + k_huge_page - 1) / k_huge_page * k_huge_page;
    m_data = map_aligned(length);
    m_mapped = length;
  } else {
    m_data = static_cast<std::byte*>(::operator new(size == 0 ? 1 : size));
  }
}

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& other) noexcept {
  if (this != &other) {
    release();
    m_data = other.m_data;
    m_mapped = other.m_mapped;
    other.m_data = nullptr;
    other.m_mapped = 0;
  }
  return *this;
}

void LargeBuffer::release() noexcept {
  if (m_data == nullptr) return;
  if (m_mapped > 0)
    ::munmap(m_data, m_mapped);
  else
    ::operator delete(m_data);
  m_data = nullptr;
  m_mapped = 0;
}

}  // namespace ocipack
