// Tests for core/cache/entry_check.cc: an entry whose frames decode to the
// chunk passes, for every compressed shape (gzip member, zstd frame, deflate
// piece); an entry holding another chunk's bytes, frames cut elsewhere or a
// damaged frame is refused.
#include "core/cache/entry_check.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ocipack {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

struct Compressed {
  std::vector<std::byte> payload;
  std::vector<size_t> frame_sizes;
};

Compressed compress_frames(CompressedShape shape, CodecKind kind, const std::string& chunk,
                           const std::vector<size_t>& frame_ends) {
  auto compressor = make_compressor(kind, 1, shape);
  EXPECT_TRUE(compressor.ok());
  Compressed out;
  std::vector<size_t> ends = frame_ends.empty() ? std::vector<size_t>{chunk.size()} : frame_ends;
  for (size_t start = 0; size_t end : ends) {
    std::vector<std::byte> buffer((*compressor)->bound(end - start));
    auto size = (*compressor)->compress(bytes_of(chunk).subspan(start, end - start), {}, buffer);
    EXPECT_TRUE(size.ok());
    out.payload.insert(out.payload.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*size));
    if (!frame_ends.empty()) out.frame_sizes.push_back(*size);
    start = end;
  }
  return out;
}

CacheEntryView view_of(const Compressed& c) { return {0, c.frame_sizes, c.payload}; }

TEST(CheckEntryPayload, AcceptsTheChunkAndRefusesAnythingElse) {
  std::mt19937 rng(3);
  std::string chunk(40000, '\0'), other(40000, '\0');
  for (auto& c : chunk) c = static_cast<char>('a' + rng() % 5);
  for (auto& c : other) c = static_cast<char>('a' + rng() % 5);
  struct Case {
    CompressedShape shape;
    CodecKind kind;
  };
  const std::vector<Case> cases = {{CompressedShape::gzip_member, CodecKind::libdeflate},
                                   {CompressedShape::zstd_frame, CodecKind::zstd},
                                   {CompressedShape::deflate_piece, CodecKind::isal}};
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.shape));
    const Compressed whole = compress_frames(c.shape, c.kind, chunk, {});
    EXPECT_TRUE(check_entry_payload(c.shape, view_of(whole), {}, bytes_of(chunk)).ok());
    EXPECT_FALSE(check_entry_payload(c.shape, view_of(whole), {}, bytes_of(other)).ok());
    EXPECT_FALSE(check_entry_payload(c.shape, view_of(whole), {}, bytes_of(chunk).first(39999)).ok());
    Compressed damaged = whole;
    damaged.payload[damaged.payload.size() / 2] ^= std::byte{0x40};
    EXPECT_FALSE(check_entry_payload(c.shape, view_of(damaged), {}, bytes_of(chunk)).ok());

    const std::vector<size_t> ends{100, 25000, 40000};
    const Compressed framed = compress_frames(c.shape, c.kind, chunk, ends);
    EXPECT_TRUE(check_entry_payload(c.shape, view_of(framed), ends, bytes_of(chunk)).ok());
    // The same bytes cut elsewhere: the frames no longer match the chunk's.
    const std::vector<size_t> elsewhere{200, 25000, 40000};
    EXPECT_FALSE(check_entry_payload(c.shape, view_of(framed), elsewhere, bytes_of(chunk)).ok());
    Compressed lying = framed;
    std::swap(lying.frame_sizes[0], lying.frame_sizes[1]);
    EXPECT_FALSE(check_entry_payload(c.shape, view_of(lying), ends, bytes_of(chunk)).ok());
    Compressed short_list = framed;
    short_list.frame_sizes.pop_back();
    EXPECT_FALSE(check_entry_payload(c.shape, view_of(short_list), ends, bytes_of(chunk)).ok());
  }
}

}  // namespace
}  // namespace ocipack
