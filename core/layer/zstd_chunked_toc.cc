// Implementation of the zstd:chunked metadata (see zstd_chunked_toc.h).
// JSON is written with nlohmann::ordered_json, keys in the order of Go's
// structs (containers/storage FileMetadata, tar-split Entry), so the
// documents read like the ones podman writes.
#include "core/layer/zstd_chunked_toc.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <tuple>
#include <nlohmann/json.hpp>

namespace ocipack::zstd_chunked {

namespace {
using Json = nlohmann::ordered_json;

std::string base64(std::span<const std::byte> bytes) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = std::to_integer<uint32_t>(bytes[i]) << 16 | std::to_integer<uint32_t>(bytes[i + 1]) << 8 |
                       std::to_integer<uint32_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += k_alphabet[(v >> shift) & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = std::to_integer<uint32_t>(bytes[i]) << 16;
    if (rest == 2) v |= std::to_integer<uint32_t>(bytes[i + 1]) << 8;
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += rest == 2 ? k_alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64(const std::string& text) { return base64(std::as_bytes(std::span(text.data(), text.size()))); }

bool is_utf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    if (extra == 4 || (extra > 0 && i + extra >= text.size())) return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

const char* toc_type(EntryType type) {
  switch (type) {
    case EntryType::regular: return "reg";
    case EntryType::hard_link: return "hardlink";
    case EntryType::symlink: return "symlink";
    case EntryType::char_device: return "char";
    case EntryType::block_device: return "block";
    case EntryType::directory: return "dir";
    case EntryType::fifo: return "fifo";
  }
  return "reg";
}

// RFC 3339 in UTC, as Go's time.Time marshals; nullopt outside the years
// Go can write (0–9999).
std::optional<std::string> rfc3339(int64_t seconds) {
  const auto t = static_cast<time_t>(seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) return std::nullopt;
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(text);
}

void put_chunk(Json& json, const TocChunk& chunk) {
  json["offset"] = chunk.blob_offset;
  json["chunkSize"] = chunk.size;
  if (chunk.file_offset != 0) json["chunkOffset"] = chunk.file_offset;
  json["chunkDigest"] = chunk.digest.str();
}

Json entry_json(const TocEntry& toc) {
  const TarEntry& e = toc.entry;
  Json json;
  json["type"] = toc_type(e.type);
  json["name"] = e.path;
  if (!e.link_target.empty()) json["linkName"] = e.link_target;
  if (e.mode != 0) json["mode"] = e.mode;
  if (e.size != 0) json["size"] = e.size;
  // Each also under the key containers/storage 1.43 (Debian's podman 4.3)
  // reads by mistake ("UID", "GID", "ModTime"; its writer uses the lower
  // case, so its own partial pulls lose owners and mtimes). Newer readers
  // fold the case and read the same value twice.
  for (const auto& [key, legacy, value] : {std::tuple{"uid", "UID", e.uid}, std::tuple{"gid", "GID", e.gid}})
    if (value != 0) {
      json[key] = value;
      json[legacy] = value;
    }
  if (auto time = rfc3339(e.mtime)) {
    json["modtime"] = *time;
    json["ModTime"] = *time;
  }
  if (e.dev_major != 0) json["devMajor"] = e.dev_major;
  if (e.dev_minor != 0) json["devMinor"] = e.dev_minor;
  if (!e.xattrs.empty()) {
    Json xattrs = Json::object();
    for (const auto& [name, value] : e.xattrs) xattrs[name] = base64(value);
    json["xattrs"] = std::move(xattrs);
  }
  if (toc.digest) json["digest"] = toc.digest->str();
  if (toc.offset != 0) json["offset"] = toc.offset;
  if (toc.end_offset != 0) json["endOffset"] = toc.end_offset;
  if (toc.chunks.size() > 1) put_chunk(json, toc.chunks.front());
  return json;
}

std::string dump(const Json& json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

void put_le64(std::byte* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>(value >> (8 * i));
}
uint64_t get_le64(const std::byte* in) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = value << 8 | std::to_integer<uint64_t>(in[i]);
  return value;
}
}  // namespace

RollSum::RollSum() : m_s1(k_window * k_char_offset), m_s2(k_window * (k_window - 1) * k_char_offset) {}

// Three parts: the first 64 bytes roll through the ring (the bytes they
// push out are the previous span's); the rest read the leaving byte 64
// back in the span; the ring then takes the span's last bytes after the
// head, oldest at m_at (which slot that is does not matter).
void RollSum::scan(std::span<const std::byte> bytes, std::vector<size_t>& cuts) {
  const uint8_t* in = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  const size_t head = std::min<size_t>(n, k_window);
  for (size_t i = 0; i < head; ++i) {
    roll(in[i]);
    if (at_split()) cuts.push_back(i + 1);
  }
  if (n == head) return;
  uint32_t s1 = m_s1, s2 = m_s2;
  for (size_t i = head; i < n; ++i) {
    step(s1, s2, in[i], in[i - k_window]);
    if (splits(s2)) [[unlikely]] cuts.push_back(i + 1);
  }
  m_s1 = s1;
  m_s2 = s2;
  for (size_t i = std::max<size_t>(head, n - k_window); i < n; ++i) {
    m_window[m_at] = in[i];
    m_at = (m_at + 1) & (k_window - 1);
  }
}

bool toc_can_name(const TarEntry& entry) {
  for (const auto& [name, value] : entry.xattrs)
    if (!is_utf8(name)) return false;
  return is_utf8(entry.path) && is_utf8(entry.link_target);
}

std::string toc_json(std::span<const TocEntry> entries, const Digest& tar_split_digest) {
  Json list = Json::array();
  for (const TocEntry& toc : entries) {
    list.push_back(entry_json(toc));
    for (size_t k = 1; k < toc.chunks.size(); ++k) {
      Json chunk;
      chunk["type"] = "chunk";
      chunk["name"] = toc.entry.path;
      put_chunk(chunk, toc.chunks[k]);
      list.push_back(std::move(chunk));
    }
  }
  Json toc;
  toc["version"] = 1;
  toc["entries"] = std::move(list);
  toc["tarSplitDigest"] = tar_split_digest.str();
  return dump(toc);
}

void TarSplitWriter::segment(std::span<const std::byte> raw) {
  Json line;
  line["type"] = 2;
  line["payload"] = base64(raw);
  line["position"] = m_position++;
  m_text += dump(line);
  m_text += '\n';
}

void TarSplitWriter::file(const std::string& name, uint64_t size, std::optional<uint64_t> crc) {
  Json line;
  line["type"] = 1;
  if (is_utf8(name))
    line["name"] = name;
  else
    line["name_raw"] = base64(name);
  if (size != 0) line["size"] = size;
  if (crc) {
    std::array<std::byte, 8> big_endian{};
    for (int i = 0; i < 8; ++i) big_endian[i] = static_cast<std::byte>(*crc >> (56 - 8 * i));
    line["payload"] = base64(big_endian);
  } else {
    line["payload"] = nullptr;
  }
  line["position"] = m_position++;
  m_text += dump(line);
  m_text += '\n';
}

std::vector<std::byte> skippable_frame(std::span<const std::byte> data) {
  std::vector<std::byte> out(k_skippable_header_size + data.size());
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::byte>(k_skippable_magic >> (8 * i));
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<std::byte>(static_cast<uint32_t>(data.size()) >> (8 * i));
  if (!data.empty()) std::memcpy(out.data() + k_skippable_header_size, data.data(), data.size());
  return out;
}

ChunkedTail chunked_tail(uint64_t data_end, std::span<const std::byte> toc, uint64_t toc_size,
                         std::span<const std::byte> tar_split, uint64_t tar_split_size) {
  ChunkedTail tail;
  ChunkedSections& s = tail.sections;
  s.toc_offset = data_end + k_skippable_header_size;
  s.toc_length = toc.size();
  s.toc_size = toc_size;
  s.tar_split_offset = s.toc_offset + toc.size() + k_skippable_header_size;
  s.tar_split_length = tar_split.size();
  s.tar_split_size = tar_split_size;
  for (const auto& frame : {skippable_frame(toc), skippable_frame(tar_split), skippable_frame(chunked_footer(s))})
    tail.bytes.insert(tail.bytes.end(), frame.begin(), frame.end());
  return tail;
}

std::array<std::byte, k_footer_size> chunked_footer(const ChunkedSections& s) {
  std::array<std::byte, k_footer_size> out{};
  const uint64_t values[] = {s.toc_offset,       s.toc_length,       s.toc_size,      k_manifest_type_crfs,
                             s.tar_split_offset, s.tar_split_length, s.tar_split_size};
  for (size_t i = 0; i < 7; ++i) put_le64(out.data() + 8 * i, values[i]);
  for (size_t i = 0; i < 8; ++i) out[56 + i] = static_cast<std::byte>(k_footer_magic[i]);
  return out;
}

std::optional<ChunkedSections> parse_chunked_footer(std::span<const std::byte> footer) {
  if (footer.size() != k_footer_size) return std::nullopt;
  for (size_t i = 0; i < 8; ++i)
    if (footer[56 + i] != static_cast<std::byte>(k_footer_magic[i])) return std::nullopt;
  if (get_le64(footer.data() + 24) != k_manifest_type_crfs) return std::nullopt;
  const std::byte* p = footer.data();
  return ChunkedSections{get_le64(p), get_le64(p + 8), get_le64(p + 16), get_le64(p + 32), get_le64(p + 40),
                         get_le64(p + 48)};
}

std::map<std::string, std::string> chunked_annotations(const ChunkedSections& s, const Digest& toc_checksum) {
  const std::string position = std::to_string(s.toc_offset) + ":" + std::to_string(s.toc_length) + ":" +
                               std::to_string(s.toc_size) + ":" + std::to_string(k_manifest_type_crfs);
  return {
      {k_checksum_key, toc_checksum.str()},
      {k_position_key, position},
      {k_tar_split_key, std::to_string(s.tar_split_offset) + ":" + std::to_string(s.tar_split_length) + ":" +
                            std::to_string(s.tar_split_size)},
      {k_legacy_checksum_key, toc_checksum.str()},
      {k_legacy_position_key, position},
  };
}

}  // namespace ocipack::zstd_chunked
