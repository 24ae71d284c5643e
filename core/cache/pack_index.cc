// The cache pack index's encoding (pack_index.h): fixed-width little-endian
// with a trailing CRC-64, every record bounded by the blob it indexes.
#include "core/cache/pack_index.h"

#include <array>
#include <cstring>
#include <string_view>

#include "core/codec/crc64.h"

namespace ocipack {

namespace {

constexpr std::string_view k_magic = "OCPKIX01";
constexpr size_t k_header = 8 + Digest::k_size + 8 + 4;  // magic, blob, blob size, count
constexpr size_t k_record_fixed = Digest::k_size + 8 * 4 + 4;
constexpr size_t k_checksum = 8;

void put_le(std::vector<std::byte>& out, uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

uint64_t get_le(std::span<const std::byte> bytes, size_t offset, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | std::to_integer<uint64_t>(bytes[offset + i]);
  return value;
}

void put_digest(std::vector<std::byte>& out, const Digest& digest) {
  for (uint8_t b : digest.bytes()) out.push_back(static_cast<std::byte>(b));
}

Digest get_digest(std::span<const std::byte> bytes, size_t offset) {
  std::array<uint8_t, Digest::k_size> raw{};
  std::memcpy(raw.data(), bytes.data() + offset, raw.size());
  return Digest(raw);
}

}  // namespace

std::vector<std::byte> encode_pack_index(const PackIndex& index) {
  const auto magic = std::as_bytes(std::span(k_magic.data(), k_magic.size()));
  std::vector<std::byte> out(magic.begin(), magic.end());
  put_digest(out, index.blob);
  put_le(out, index.blob_size, 8);
  put_le(out, index.records.size(), 4);
  for (const PackRecord& record : index.records) {
    put_digest(out, record.key.digest);
    put_le(out, record.offset, 8);
    put_le(out, record.size, 8);
    put_le(out, record.compress_nanoseconds, 8);
    put_le(out, record.crc, 8);
    put_le(out, record.frame_sizes.size(), 4);
    for (size_t size : record.frame_sizes) put_le(out, size, 8);
  }
  put_le(out, crc64_iso(0, out), 8);
  return out;
}

Result<PackIndex> decode_pack_index(std::span<const std::byte> bytes) {
  if (bytes.size() > k_max_pack_index_bytes) return corrupt_error("too large");
  if (bytes.size() < k_header + k_checksum) return corrupt_error("truncated");
  if (std::memcmp(bytes.data(), k_magic.data(), k_magic.size()) != 0) return corrupt_error("not a pack index");
  const std::span<const std::byte> body = bytes.first(bytes.size() - k_checksum);
  if (crc64_iso(0, body) != get_le(bytes, body.size(), 8)) return corrupt_error("checksum mismatch");
  PackIndex index;
  index.blob = get_digest(body, 8);
  index.blob_size = get_le(body, 8 + Digest::k_size, 8);
  const uint64_t count = get_le(body, 8 + Digest::k_size + 8, 4);
  if (count > (body.size() - k_header) / k_record_fixed) return corrupt_error("bad record count");
  index.records.reserve(static_cast<size_t>(count));
  size_t at = k_header;
  for (uint64_t i = 0; i < count; ++i) {
    if (body.size() - at < k_record_fixed) return corrupt_error("truncated record");
    PackRecord record;
    record.key.digest = get_digest(body, at);
    record.offset = get_le(body, at + 32, 8);
    record.size = get_le(body, at + 40, 8);
    record.compress_nanoseconds = get_le(body, at + 48, 8);
    record.crc = get_le(body, at + 56, 8);
    const uint64_t frames = get_le(body, at + 64, 4);
    at += k_record_fixed;
    if (record.size == 0 || record.size > k_max_cache_entry_bytes || record.offset > index.blob_size ||
        record.size > index.blob_size - record.offset)
      return corrupt_error("a record outside the blob");
    if (frames > k_max_cache_entry_frames || frames > (body.size() - at) / 8) return corrupt_error("bad frame count");
    uint64_t total = 0;
    for (uint64_t f = 0; f < frames; ++f, at += 8) {
      const uint64_t size = get_le(body, at, 8);
      if (size > record.size) return corrupt_error("bad frame size");
      total += size;
      record.frame_sizes.push_back(static_cast<size_t>(size));
    }
    if (frames > 0 && total != record.size) return corrupt_error("frame sizes do not add up");
    index.records.push_back(std::move(record));
  }
  if (at != body.size()) return corrupt_error("bytes after the last record");
  return index;
}

}  // namespace ocipack
