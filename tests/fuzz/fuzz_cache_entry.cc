// libFuzzer target for chunk-cache entries (core/cache/cache_entry.cc and
// entry_check.cc): the bytes a shared remote cache, or anyone who can write
// to a cache directory, hands a build. The first input byte picks the
// mode: bit 0 rewrites the trailing CRC-64 so the parser behind the
// checksum is reached (random bytes would almost never pass it), bit 1
// checks the payload as zstd frames instead of gzip members. The key is
// taken from the entry itself, so the key check passes too. A decoded
// entry must keep its payload inside the input and, when it has frames,
// frame sizes that add up to the payload; then check_entry_payload decodes
// it against a chunk cut from the input (hostile gzip and zstd payloads).
// Either may refuse; crashes, leaks and sanitizer reports are the failures.
// Bit 2 reads the input as a cache pack index instead (pack_index.cc: what
// a writable cache directory hands a build), CRC rewritten likewise: a
// decoded index must keep every record inside its blob and frame sizes
// that add up to the record.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/cache/cache_entry.h"
#include "core/cache/entry_check.h"
#include "core/cache/pack_index.h"
#include "core/codec/crc64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::vector<std::byte> entry(size - 1);
  if (!entry.empty()) std::memcpy(entry.data(), data + 1, entry.size());
  if ((mode & 1) && entry.size() >= 8) {
    const uint64_t crc = ocipack::crc64_iso(0, std::span<const std::byte>(entry).first(entry.size() - 8));
    for (size_t i = 0; i < 8; ++i) entry[entry.size() - 8 + i] = static_cast<std::byte>(crc >> (8 * i));
  }
  if (mode & 4) {
    auto index = ocipack::decode_pack_index(entry);
    if (!index) return 0;
    for (const ocipack::PackRecord& record : index->records) {
      if (record.offset > index->blob_size || record.size > index->blob_size - record.offset) std::abort();
      if (!record.frame_sizes.empty()) {
        uint64_t sum = 0;
        for (size_t frame : record.frame_sizes) sum += frame;
        if (sum != record.size) std::abort();
      }
    }
    return 0;
  }
  std::array<uint8_t, ocipack::Digest::k_size> key_bytes{};
  if (entry.size() >= 8 + key_bytes.size()) std::memcpy(key_bytes.data(), entry.data() + 8, key_bytes.size());
  const ocipack::ChunkKey key{ocipack::Digest(key_bytes)};

  auto decoded = ocipack::decode_cache_entry(entry, key);
  if (!decoded) return 0;
  const std::byte* const begin = entry.data();
  const std::byte* const end = entry.data() + entry.size();
  if (decoded->payload.data() < begin || decoded->payload.data() + decoded->payload.size() > end) std::abort();
  if (!decoded->frame_sizes.empty()) {
    size_t sum = 0;
    for (size_t frame : decoded->frame_sizes) sum += frame;
    if (sum != decoded->payload.size()) std::abort();
  }

  // A chunk to compare with: the input's own bytes, cut into as many
  // frames as the entry claims (at most 64, so one input stays cheap).
  const std::span<const std::byte> chunk(entry);
  const size_t frames = decoded->frame_sizes.size();
  if (frames > 64) return 0;
  std::vector<size_t> frame_ends;
  for (size_t i = 1; i <= frames; ++i) frame_ends.push_back(chunk.size() * i / frames);
  const auto shape = (mode & 2) ? ocipack::CompressedShape::zstd_frame : ocipack::CompressedShape::gzip_member;
  (void)ocipack::check_entry_payload(shape, *decoded, frame_ends, chunk);
  return 0;
}
