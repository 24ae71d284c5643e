// Decoding a cache entry's frames against the chunk (entry_check.h).
#include "core/cache/entry_check.h"

#include <cstring>
#include <string>
#include <vector>

#include "core/codec/stream_decoder.h"

namespace ocipack {

namespace {

std::string_view text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void put_le32(std::vector<std::byte>& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

// Whether `frame` decodes to exactly `expected`. A deflate piece (the
// single-member format's chunks) is wrapped into a gzip member of its own —
// header, the piece, the final empty block, CRC-32 and size of `expected` —
// so the gzip decoder checks it too.
bool frame_decodes_to(CompressedShape shape, std::span<const std::byte> frame, std::span<const std::byte> expected) {
  std::vector<std::byte> wrapped;
  if (shape == CompressedShape::deflate_piece) {
    const auto header = gzip_header();
    wrapped.assign(header.begin(), header.end());
    wrapped.insert(wrapped.end(), frame.begin(), frame.end());
    wrapped.insert(wrapped.end(), k_deflate_final_block.begin(), k_deflate_final_block.end());
    put_le32(wrapped, crc32_update(0, expected));
    put_le32(wrapped, static_cast<uint32_t>(expected.size()));
    frame = wrapped;
  }
  auto decoder = make_stream_decoder(shape == CompressedShape::zstd_frame ? Compression::zstd : Compression::gzip);
  if (!decoder) return false;
  size_t at = 0;
  bool same = true;
  const Status fed = (*decoder)->feed(text_of(frame), [&](std::string_view out) {
    same = same && out.size() <= expected.size() - at && std::memcmp(out.data(), expected.data() + at, out.size()) == 0;
    if (same) at += out.size();
  });
  return fed && (*decoder)->finish() && same && at == expected.size();
}

}  // namespace

Status check_entry_payload(CompressedShape shape, const CacheEntryView& entry, std::span<const size_t> frame_ends,
                           std::span<const std::byte> chunk) {
  if (frame_ends.empty())
    return frame_decodes_to(shape, entry.payload, chunk) ? ok_status() : corrupt_error("does not decode to the chunk");
  if (entry.frame_sizes.size() != frame_ends.size()) return corrupt_error("frames do not match the chunk");
  size_t in = 0, out = 0;
  for (size_t i = 0; i < frame_ends.size(); ++i) {
    const size_t size = entry.frame_sizes[i];
    if (size > entry.payload.size() - in || frame_ends[i] < out || frame_ends[i] > chunk.size() ||
        !frame_decodes_to(shape, entry.payload.subspan(in, size), chunk.subspan(out, frame_ends[i] - out)))
      return corrupt_error("frame " + std::to_string(i) + " does not decode to the chunk");
    in += size;
    out = frame_ends[i];
  }
  return ok_status();
}

}  // namespace ocipack
