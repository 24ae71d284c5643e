// Tests for core/util/large_buffer.h: a big buffer is its own mapping,
// aligned to and rounded up to a huge page, advised as a huge-page
// candidate, writable to its last byte and unmapped when it goes; a small
// one comes from operator new, and so does every one under
// AddressSanitizer; moving hands the memory over once.
#include "core/util/large_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace ocipack {
namespace {

bool is_mapped(const void* address) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  unsigned char resident = 0;
  void* start = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(address) & ~(page - 1));
  return ::mincore(start, page, &resident) == 0 || errno != ENOMEM;
}

// The smaps record of the mapping that contains `address`: its Size in
// KiB and its VmFlags line (0 and "" when there is none).
struct MappingInfo {
  size_t size_kib = 0;
  std::string vm_flags;
};
MappingInfo mapping_of(const void* address) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  MappingInfo info;
  bool in_it = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long start = 0, end = 0;
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2) {
      if (in_it) break;
      in_it = start <= at && at < end;
      continue;
    }
    if (!in_it) continue;
    if (line.rfind("Size:", 0) == 0) info.size_kib = std::stoul(line.substr(5));
    if (line.rfind("VmFlags:", 0) == 0) info.vm_flags = line;
  }
  return info;
}

TEST(LargeBuffer, BigBufferIsAnAlignedMappingWritableToTheEnd) {
  const size_t size = 2 * LargeBuffer::k_huge_page + 12345;
  LargeBuffer buffer(size);
  ASSERT_TRUE(buffer);
  if (!LargeBuffer::k_maps) {
    // AddressSanitizer: from operator new, so its redzones stay.
    EXPECT_EQ(buffer.mapped_size(), 0u);
    std::memset(buffer.get(), 0xa5, size);
    return;
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.get()) % LargeBuffer::k_huge_page, 0u);
  EXPECT_EQ(buffer.mapped_size(), 3 * LargeBuffer::k_huge_page);
  std::memset(buffer.get(), 0xa5, size);
  buffer.get()[buffer.mapped_size() - 1] = std::byte{7};
  EXPECT_EQ(buffer.get()[size - 1], std::byte{0xa5});
  EXPECT_EQ(buffer.get()[buffer.mapped_size() - 1], std::byte{7});
}

TEST(LargeBuffer, BigBufferIsAdvisedForHugePages) {
  if (!LargeBuffer::k_maps) return;  // AddressSanitizer: no mapping to advise (checked above)
  if (::access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0)
    GTEST_SKIP() << "this kernel has no transparent huge pages: nothing to advise";
  LargeBuffer buffer(LargeBuffer::k_mapped_from);
  const MappingInfo mapping = mapping_of(buffer.get());
  ASSERT_FALSE(mapping.vm_flags.empty()) << "no mapping holds the buffer";
  EXPECT_NE(mapping.vm_flags.find(" hg"), std::string::npos) << mapping.vm_flags;
  // Head and tail of the over-sized mapping were cut off: what is left is
  // the buffer's own mapping (no other advised mapping lives beside it).
  EXPECT_EQ(mapping.size_kib * 1024, buffer.mapped_size());
}

TEST(LargeBuffer, SmallBufferComesFromTheHeap) {
  LargeBuffer buffer(LargeBuffer::k_mapped_from - 1);
  ASSERT_TRUE(buffer);
  EXPECT_EQ(buffer.mapped_size(), 0u);
  std::memset(buffer.get(), 1, LargeBuffer::k_mapped_from - 1);
  LargeBuffer empty(0);
  EXPECT_TRUE(empty);
}

TEST(LargeBuffer, MovingHandsTheMappingOverAndDestructionUnmapsIt) {
  LargeBuffer first(LargeBuffer::k_huge_page);
  std::byte* const memory = first.get();
  LargeBuffer second(std::move(first));
  EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(second.get(), memory);
  LargeBuffer third;
  third = std::move(second);
  EXPECT_EQ(third.get(), memory);
  if (!LargeBuffer::k_maps) return;  // AddressSanitizer: heap memory, which it watches itself
  EXPECT_EQ(third.mapped_size(), LargeBuffer::k_huge_page);
  EXPECT_TRUE(is_mapped(memory));
  third = LargeBuffer(16);
  EXPECT_FALSE(is_mapped(memory));
}

}  // namespace
}  // namespace ocipack
