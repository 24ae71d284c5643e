// The chunk cache's keys and entries (issue 15): what a compressed chunk is
// stored as, locally (core/cache/chunk_cache.h) and on a remote
// (core/cache/remote_cache.h) — the same bytes in both places.
//
// Key: SHA-256 over the format identity (LayerFormat::cache_identity(): the
// format, codec, codec version, level and every parameter that affects the
// bytes), the chunk's frame ends (zstd:chunked cuts a chunk into frames) and
// the chunk's uncompressed bytes. Equal keys give equal compressed bytes, so
// a hit may replace compression without changing the layer.
//
// Entry (binary, little-endian), checked whole on every read, so a torn,
// truncated or foreign file is never used:
//   magic "OCPKCH02" | key (32) | compress_nanoseconds u64 | frame count u32 |
//   frame sizes u64 × count | payload size u64 | payload | CRC-64/ISO of all
//   the bytes before it (8)
// The checksum finds torn, truncated and bit-flipped entries (what a crash,
// a full disk or a bad transfer leaves); it is a CRC rather than SHA-256
// because a warm build reads every entry, and SHA-256 already bounds it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/digest.h"
#include "core/util/result.h"

namespace ocipack {

struct ChunkKey {
  Digest digest;
  bool operator==(const ChunkKey&) const = default;
};

ChunkKey chunk_cache_key(std::string_view format_identity, std::span<const size_t> frame_ends,
                         std::span<const std::byte> bytes);

// What the key hashes before the chunk's bytes (the identity and the frame
// ends, each length-prefixed, and the chunk's size): chunk_cache_key is
// SHA-256(prefix || bytes), so a stage that hashes the bytes anyway can
// hash the key beside them (pipeline/layer_stages.h: UncompressedHasher).
std::vector<std::byte> chunk_cache_key_prefix(std::string_view format_identity, std::span<const size_t> frame_ends,
                                              size_t size);

// "chunks/ab/<64 hex>": where the entry of `key` lives, below a local
// cache directory and below a remote's URL alike.
std::string cache_entry_path(const ChunkKey& key);

// Entries are refused above this size (a chunk is at most tens of MiB;
// a remote answering more is not a cache entry).
inline constexpr uint64_t k_max_cache_entry_bytes = uint64_t{256} << 20;
inline constexpr size_t k_max_cache_entry_frames = 1 << 20;

// A decoded entry; `payload` and `frame_sizes` point into the decoded buffer.
struct CacheEntryView {
  uint64_t compress_nanoseconds = 0;
  std::vector<size_t> frame_sizes;  // empty: the payload is one frame
  std::span<const std::byte> payload;
  // Read from a pack: which of the loaded ones (ChunkCacheDir::pack_dropped),
  // and the payload's CRC-64 as the pack's index records it.
  std::optional<size_t> pack;
  uint64_t crc = 0;
};

// An encoded entry as three parts, so a caller can write it (writev)
// without copying the payload: head (magic .. payload size), the payload
// (the caller's bytes, not copied) and the checksum.
struct EncodedEntryParts {
  std::vector<std::byte> head;
  std::span<const std::byte> payload;
  std::array<std::byte, 8> checksum{};
  std::array<std::span<const std::byte>, 3> parts() const { return {head, payload, checksum}; }
};
void encode_cache_entry_parts(const ChunkKey& key, std::span<const size_t> frame_sizes, uint64_t compress_nanoseconds,
                              std::span<const std::byte> payload, EncodedEntryParts& out);

// Encodes an entry into `out` (replacing its contents): the parts above, joined.
void encode_cache_entry(const ChunkKey& key, std::span<const size_t> frame_sizes, uint64_t compress_nanoseconds,
                        std::span<const std::byte> payload, std::vector<std::byte>& out);

// Decodes and checks `entry` (magic, key, sizes, checksum). A corrupt
// error (kind corrupt) names what is wrong in a few words; the caller
// names the entry.
Result<CacheEntryView> decode_cache_entry(std::span<const std::byte> entry, const ChunkKey& expected);

}  // namespace ocipack
