// The metadata of a zstd:chunked layer (containers/storage; facts and
// sources in docs/zstd-chunked.md), as pure functions and small builders
// with no I/O and no compression, so each is unit-tested on its own
// (tests/unit/core/layer/zstd_chunked_toc_test.cc):
//  - RollSum: the rolling sum that cuts file contents into chunks where
//    containers/storage's compressor cuts them;
//  - crc64_iso (from core/codec): tar-split's per-file checksum;
//  - toc_json: the table of contents (CRFS-like JSON, version 1);
//  - TarSplitWriter: the tar-split JSON lines (vbatts/tar-split's packer);
//  - skippable_frame, chunked_footer, chunked_annotations: how TOC and
//    tar-split are placed after the data and named to the registry —
//    the current 64-byte footer and both the current (io.github.…) and the
//    legacy (io.containers.…, containers/storage 1.43 = Debian's podman)
//    annotations, so that both generations of readers find the TOC.
// The format that uses them is core/layer/format_zstd_chunked.cc.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/codec/crc64.h"
#include "core/oci/media_types.h"
#include "core/tar/tar_entry.h"
#include "core/util/digest.h"

namespace ocipack::zstd_chunked {

inline constexpr const auto& k_checksum_key = k_annotation_zstd_chunked_checksum;
inline constexpr char k_position_key[] = "io.github.containers.zstd-chunked.manifest-position";
inline constexpr char k_tar_split_key[] = "io.github.containers.zstd-chunked.tarsplit-position";
inline constexpr const auto& k_legacy_checksum_key = k_annotation_zstd_chunked_legacy_checksum;
inline constexpr char k_legacy_position_key[] = "io.containers.zstd-chunked.manifest-position";

inline constexpr uint32_t k_skippable_magic = 0x184D2A50;
inline constexpr size_t k_skippable_header_size = 8;  // magic + 32-bit length
inline constexpr size_t k_footer_size = 64;
inline constexpr char k_footer_magic[] = "GNUlInUx";  // 8 bytes, without the NUL
inline constexpr uint64_t k_manifest_type_crfs = 1;

// The rolling sum of containers/storage's compressor (bup's: a 64-byte
// window, char offset 31), started afresh for every file. A chunk ends
// after a byte where at_split() is true (the low 16 bits of s2 all set:
// 64 KiB chunks on average). roll() takes one byte (the reference, as
// rollsum.go); scan() takes a span and is what the producer runs: the same
// sums, but the byte leaving the window is read from the span itself once
// 64 bytes of it are in, so only a span's first and last 64 bytes touch
// the ring buffer. State carries over from span to span.
class RollSum {
 public:
  RollSum();
  void roll(uint8_t byte) {
    step(m_s1, m_s2, byte, m_window[m_at]);
    m_window[m_at] = byte;
    m_at = (m_at + 1) & (k_window - 1);
  }
  bool at_split() const { return splits(m_s2); }
  // Rolls every byte of `bytes` in and appends to `cuts` each offset
  // (1..bytes.size()) after which at_split() held — exactly what roll()
  // and at_split() byte by byte would find.
  void scan(std::span<const std::byte> bytes, std::vector<size_t>& cuts);

 private:
  static constexpr uint32_t k_window = 64;
  static constexpr uint32_t k_char_offset = 31;
  static constexpr uint32_t k_split_mask = (1u << 16) - 1;
  // One byte in, one out. Static, so scan() keeps the sums in registers
  // (members would make every byte a store and a reload).
  static void step(uint32_t& s1, uint32_t& s2, uint32_t in, uint32_t out) {
    s1 += in - out;
    s2 += s1 - k_window * (out + k_char_offset);
  }
  static bool splits(uint32_t s2) { return (s2 & k_split_mask) == k_split_mask; }
  uint32_t m_s1;
  uint32_t m_s2;
  std::array<uint8_t, k_window> m_window{};  // m_window[m_at] is the oldest byte
  uint32_t m_at = 0;
};

// tar-split's per-file checksum is core/codec's crc64_iso (Go's hash/crc64
// with the ISO table).
using ocipack::crc64_iso;

// One chunk of a file's contents: where its frame starts in the blob,
// where it starts in the file, its size and the SHA-256 of its bytes.
struct TocChunk {
  uint64_t blob_offset = 0;
  uint64_t file_offset = 0;
  uint64_t size = 0;
  Digest digest;
};

// One tar entry as the TOC lists it. For a regular file with contents:
// the SHA-256 of the contents and the blob range of its frames
// [offset, end_offset); chunks when the contents are in more than one.
struct TocEntry {
  TarEntry entry;
  std::optional<Digest> digest;
  uint64_t offset = 0;
  uint64_t end_offset = 0;
  std::vector<TocChunk> chunks;
};

// Whether the TOC can name `entry` exactly: its path, link target and
// xattr names are UTF-8 (JSON cannot hold other bytes; Go's writers put
// U+FFFD in their place, and readers then look for the wrong name).
bool toc_can_name(const TarEntry& entry);

// The TOC JSON: {"version":1,"entries":[…],"tarSplitDigest":"sha256:…"},
// one entry per tar entry plus a "chunk" entry for each chunk after a
// file's first (docs/zstd-chunked.md, "TOC JSON"). Names that are not
// UTF-8 are written with U+FFFD, as Go's encoding/json writes them.
std::string toc_json(std::span<const TocEntry> entries, const Digest& tar_split_digest);

// The tar-split JSON lines, built in stream order: segment() for bytes of
// the tar that are not file contents (headers, padding, trailer), file()
// for each entry (after its segment; crc only when it has contents).
class TarSplitWriter {
 public:
  void segment(std::span<const std::byte> raw);
  void file(const std::string& name, uint64_t size, std::optional<uint64_t> crc);
  const std::string& text() const { return m_text; }

 private:
  std::string m_text;
  uint64_t m_position = 0;
};

// Where the TOC and the tar-split are in the blob: the offsets of their
// compressed bytes (after each skippable frame's 8-byte header), the
// compressed lengths and the uncompressed sizes.
struct ChunkedSections {
  uint64_t toc_offset = 0;
  uint64_t toc_length = 0;
  uint64_t toc_size = 0;
  uint64_t tar_split_offset = 0;
  uint64_t tar_split_length = 0;
  uint64_t tar_split_size = 0;
  bool operator==(const ChunkedSections&) const = default;
};

// A zstd skippable frame around `data` (magic 0x184D2A50, LE length).
std::vector<std::byte> skippable_frame(std::span<const std::byte> data);

// What follows a layer's `data_end` bytes of frames: the compressed TOC
// (`toc_size` bytes uncompressed) and tar-split (`tar_split_size`), each in a
// skippable frame, then the footer in one; `sections` says where they lie.
// The producer writes it, the fuzz target of verify's check builds blobs with it.
struct ChunkedTail {
  std::vector<std::byte> bytes;
  ChunkedSections sections;
};
ChunkedTail chunked_tail(uint64_t data_end, std::span<const std::byte> toc, uint64_t toc_size,
                         std::span<const std::byte> tar_split, uint64_t tar_split_size);

// The 64-byte footer's data: TOC offset, length, size, type 1, tar-split
// offset, length, size (LE u64 each), "GNUlInUx". It goes into a skippable
// frame of its own, the blob's last bytes.
std::array<std::byte, k_footer_size> chunked_footer(const ChunkedSections& sections);
// Reads a footer's data (the blob's last 64 bytes); nullopt if the magic
// or the manifest type is not this format's.
std::optional<ChunkedSections> parse_chunked_footer(std::span<const std::byte> footer);

// The layer descriptor's annotations: the TOC's checksum (SHA-256 of its
// compressed bytes) and position under the current and the legacy keys,
// and the tar-split's position. A layer with an entry the TOC cannot name
// gets none (the format leaves them out): readers then pull it as the
// plain zstd layer it also is, instead of fetching files by wrong names.
std::map<std::string, std::string> chunked_annotations(const ChunkedSections& sections, const Digest& toc_checksum);

}  // namespace ocipack::zstd_chunked
