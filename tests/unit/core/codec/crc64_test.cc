// Unit tests of CRC-64/ISO (core/codec/crc64.h): the fast CRC (ISA-L's
// folding CRC where built with it) gives Go's check value and equals the
// table CRC at every length up to a few folding blocks, every start
// alignment, any seed, and when chained over pieces.
#include "core/codec/crc64.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_helpers.h"

namespace ocipack {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

using testing::random_bytes;

TEST(Crc64Iso, GivesGosCheckValue) {
  EXPECT_EQ(crc64_iso(0, bytes_of("123456789")), 0xb90956c775a41001ULL);
  EXPECT_EQ(crc64_iso_table(0, bytes_of("123456789")), 0xb90956c775a41001ULL);
  EXPECT_EQ(crc64_iso(0, {}), 0u);
}

TEST(Crc64Iso, MatchesTheTableCrcAtAnyLengthAlignmentAndSeed) {
  const auto data = random_bytes(70000, 5);
  const std::span<const std::byte> all(data);
  std::mt19937_64 rng(11);
  for (size_t length = 0; length <= 600; ++length) {
    const auto piece = all.subspan(rng() % 64, length);
    const uint64_t seed = length % 2 ? rng() : 0;
    ASSERT_EQ(crc64_iso(seed, piece), crc64_iso_table(seed, piece)) << "length " << length;
  }
  for (int round = 0; round < 50; ++round) {
    const size_t start = rng() % 1000;
    const auto piece = all.subspan(start, rng() % (all.size() - start));
    const size_t split = rng() % (piece.size() + 1);
    const uint64_t whole = crc64_iso_table(0, piece);
    ASSERT_EQ(crc64_iso(0, piece), whole) << "round " << round;
    ASSERT_EQ(crc64_iso(crc64_iso(0, piece.first(split)), piece.subspan(split)), whole) << "round " << round;
  }
}

}  // namespace
}  // namespace ocipack
