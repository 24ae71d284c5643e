// Tests for core/cache/cache_entry.cc: keys separate everything that changes
// a chunk's compressed bytes (identity, frame ends, bytes — and are not
// fooled by moving bytes between the parts); entries round-trip, and every
// kind of damage (a flipped bit anywhere, truncation, extension, another
// key's entry, lying frame sizes) is refused.
#include "core/cache/cache_entry.h"

#include <gtest/gtest.h>

#include "core/codec/crc64.h"

#include <string>
#include <vector>

namespace ocipack {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

TEST(ChunkCacheKey, DependsOnIdentityFramesAndBytes) {
  const std::vector<size_t> none, frames{3, 6};
  const ChunkKey base = chunk_cache_key("gzip 6", none, bytes_of("abcdef"));
  EXPECT_EQ(base, chunk_cache_key("gzip 6", none, bytes_of("abcdef")));
  EXPECT_NE(base, chunk_cache_key("gzip 7", none, bytes_of("abcdef")));
  EXPECT_NE(base, chunk_cache_key("gzip 6", frames, bytes_of("abcdef")));
  EXPECT_NE(base, chunk_cache_key("gzip 6", none, bytes_of("abcdeg")));
  // Moving a byte from the identity to the data is another key.
  EXPECT_NE(chunk_cache_key("gzip 6a", none, bytes_of("bc")), chunk_cache_key("gzip 6", none, bytes_of("abc")));
  EXPECT_EQ(cache_entry_path(base).substr(0, 10), "chunks/" + base.digest.hex().substr(0, 2) + "/");
  EXPECT_EQ(cache_entry_path(base).size(), 10u + 64u);
}

TEST(CacheEntry, RoundTripsWithAndWithoutFrames) {
  const ChunkKey key = chunk_cache_key("id", {}, bytes_of("chunk"));
  std::vector<std::byte> encoded;
  encode_cache_entry(key, {}, 1234, bytes_of("compressed"), encoded);
  auto view = decode_cache_entry(encoded, key);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->compress_nanoseconds, 1234u);
  EXPECT_TRUE(view->frame_sizes.empty());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(view->payload.data()), view->payload.size()), "compressed");

  const std::vector<size_t> frames{4, 0, 6};
  encode_cache_entry(key, frames, 5, bytes_of("compressed"), encoded);
  view = decode_cache_entry(encoded, key);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->frame_sizes, frames);
}

// The parts form (written with writev) is the same bytes: its head, the
// payload itself (not a copy) and a CRC-64 of all the bytes before it.
TEST(CacheEntry, PartsAreTheEntryWithoutCopyingThePayload) {
  const ChunkKey key = chunk_cache_key("id", {}, bytes_of("chunk"));
  const std::string payload(100000, 'p');
  const std::vector<size_t> frames{40000, 60000};
  EncodedEntryParts parts;
  encode_cache_entry_parts(key, frames, 77, bytes_of(payload), parts);
  EXPECT_EQ(parts.payload.data(), bytes_of(payload).data());
  std::vector<std::byte> joined;
  for (auto part : parts.parts()) joined.insert(joined.end(), part.begin(), part.end());
  std::vector<std::byte> whole;
  encode_cache_entry(key, frames, 77, bytes_of(payload), whole);
  EXPECT_EQ(joined, whole);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) stored = stored << 8 | std::to_integer<uint64_t>(joined[joined.size() - 8 + i]);
  EXPECT_EQ(stored, crc64_iso_table(0, std::span(joined).first(joined.size() - 8)));
  auto view = decode_cache_entry(joined, key);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->frame_sizes, frames);
  EXPECT_EQ(view->payload.size(), payload.size());
}

TEST(CacheEntry, EveryDamageIsRefused) {
  const ChunkKey key = chunk_cache_key("id", {}, bytes_of("chunk"));
  std::vector<std::byte> good;
  const std::vector<size_t> frames{4, 6};
  encode_cache_entry(key, frames, 99, bytes_of("compressed"), good);
  for (size_t i = 0; i < good.size(); ++i) {  // a flipped bit anywhere
    std::vector<std::byte> bad = good;
    bad[i] ^= std::byte{0x10};
    EXPECT_FALSE(decode_cache_entry(bad, key).ok()) << "byte " << i;
  }
  for (size_t size = 0; size < good.size(); ++size) {  // every truncation
    EXPECT_FALSE(decode_cache_entry(std::span(good).first(size), key).ok()) << "size " << size;
  }
  std::vector<std::byte> longer = good;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(decode_cache_entry(longer, key).ok());
  const ChunkKey other = chunk_cache_key("id", {}, bytes_of("other"));
  auto wrong_key = decode_cache_entry(good, other);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error().kind, ErrorKind::corrupt);
  // A well-formed entry whose frame sizes do not add up to its payload.
  std::vector<std::byte> lying;
  encode_cache_entry(key, std::vector<size_t>{4, 7}, 99, bytes_of("compressed"), lying);
  EXPECT_FALSE(decode_cache_entry(lying, key).ok());
  const std::string text = "<html>not found</html>";
  EXPECT_FALSE(decode_cache_entry(bytes_of(text), key).ok());
}

}  // namespace
}  // namespace ocipack
