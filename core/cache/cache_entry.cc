// Keys and the entry encoding of the chunk cache (cache_entry.h). The
// encoding is fixed-width little-endian with a trailing CRC-64, so a reader
// checks an entry completely before trusting one byte of it.
#include "core/cache/cache_entry.h"

#include <cstring>

#include "core/codec/crc64.h"
#include "core/util/sha256.h"

namespace ocipack {

namespace {

constexpr std::string_view k_magic = "OCPKCH02";
constexpr size_t k_fixed_header = 8 + Digest::k_size + 8 + 4;  // magic, key, nanoseconds, frame count

void put_u64(std::vector<std::byte>& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

void put_u32(std::vector<std::byte>& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

uint64_t get_le(std::span<const std::byte> bytes, size_t offset, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | std::to_integer<uint64_t>(bytes[offset + i]);
  return value;
}

constexpr size_t k_checksum_size = 8;

uint64_t checksum_of(std::span<const std::byte> bytes) { return crc64_iso(0, bytes); }

}  // namespace

std::vector<std::byte> chunk_cache_key_prefix(std::string_view format_identity, std::span<const size_t> frame_ends,
                                              size_t size) {
  // Each part is length-prefixed, so no two (identity, frames, bytes) share a preimage.
  std::vector<std::byte> prefix;
  put_u64(prefix, format_identity.size());
  const auto identity = std::as_bytes(std::span(format_identity.data(), format_identity.size()));
  prefix.insert(prefix.end(), identity.begin(), identity.end());
  put_u64(prefix, frame_ends.size());
  for (size_t end : frame_ends) put_u64(prefix, end);
  put_u64(prefix, size);
  return prefix;
}

ChunkKey chunk_cache_key(std::string_view format_identity, std::span<const size_t> frame_ends,
                         std::span<const std::byte> bytes) {
  Sha256 hash;
  hash.update(chunk_cache_key_prefix(format_identity, frame_ends, bytes.size()));
  hash.update(bytes);
  return {hash.finish()};
}

std::string cache_entry_path(const ChunkKey& key) {
  const std::string hex = key.digest.hex();
  return "chunks/" + hex.substr(0, 2) + "/" + hex;
}

void encode_cache_entry_parts(const ChunkKey& key, std::span<const size_t> frame_sizes, uint64_t compress_nanoseconds,
                              std::span<const std::byte> payload, EncodedEntryParts& out) {
  std::vector<std::byte>& head = out.head;
  head.clear();
  const auto magic = std::as_bytes(std::span(k_magic.data(), k_magic.size()));
  head.insert(head.end(), magic.begin(), magic.end());
  for (uint8_t b : key.digest.bytes()) head.push_back(static_cast<std::byte>(b));
  put_u64(head, compress_nanoseconds);
  put_u32(head, static_cast<uint32_t>(frame_sizes.size()));
  for (size_t size : frame_sizes) put_u64(head, size);
  put_u64(head, payload.size());
  out.payload = payload;
  const uint64_t checksum = crc64_iso(checksum_of(head), payload);
  for (size_t i = 0; i < 8; ++i) out.checksum[i] = static_cast<std::byte>(checksum >> (8 * i));
}

void encode_cache_entry(const ChunkKey& key, std::span<const size_t> frame_sizes, uint64_t compress_nanoseconds,
                        std::span<const std::byte> payload, std::vector<std::byte>& out) {
  EncodedEntryParts parts;
  encode_cache_entry_parts(key, frame_sizes, compress_nanoseconds, payload, parts);
  out.clear();
  out.reserve(parts.head.size() + payload.size() + k_checksum_size);
  for (std::span<const std::byte> part : parts.parts()) out.insert(out.end(), part.begin(), part.end());
}

Result<CacheEntryView> decode_cache_entry(std::span<const std::byte> entry, const ChunkKey& expected) {
  if (entry.size() < k_fixed_header + 8 + k_checksum_size) return corrupt_error("truncated");
  if (std::memcmp(entry.data(), k_magic.data(), k_magic.size()) != 0) return corrupt_error("not a cache entry");
  const std::span<const std::byte> body = entry.first(entry.size() - k_checksum_size);
  if (checksum_of(body) != get_le(entry, body.size(), 8)) return corrupt_error("checksum mismatch");
  if (std::memcmp(entry.data() + 8, expected.digest.bytes().data(), Digest::k_size) != 0)
    return corrupt_error("entry of another key");
  CacheEntryView view;
  size_t offset = 8 + Digest::k_size;
  view.compress_nanoseconds = get_le(body, offset, 8);
  const uint64_t frames = get_le(body, offset + 8, 4);
  offset = k_fixed_header;
  if (frames > k_max_cache_entry_frames || body.size() - offset < 8 * frames + 8) return corrupt_error("bad frame count");
  uint64_t frame_total = 0;
  for (uint64_t i = 0; i < frames; ++i, offset += 8) {
    const uint64_t size = get_le(body, offset, 8);
    if (size > body.size()) return corrupt_error("bad frame size");
    view.frame_sizes.push_back(static_cast<size_t>(size));
    frame_total += view.frame_sizes.back();
  }
  const uint64_t payload_size = get_le(body, offset, 8);
  offset += 8;
  if (payload_size != body.size() - offset) return corrupt_error("bad payload size");
  if (frames > 0 && frame_total != payload_size) return corrupt_error("frame sizes do not add up");
  view.payload = body.subspan(offset);
  return view;
}

}  // namespace ocipack
