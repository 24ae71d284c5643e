// The index of a cache pack (issue 15). A cold build that compresses most
// of a layer anew does not write every chunk a second time as an entry
// file: the layer blob it just wrote is hard-linked into the cache as
// DIR/packs/<blob hex>.pack, and DIR/packs/<blob hex>.idx says where each
// of the blob's new chunks lies in it (chunk_cache.h: packs). This file is
// the index's encoding, checked whole before one record of it is used.
//
// Index (binary, little-endian):
//   magic "OCPKIX01" | blob digest (32) | blob size u64 | record count u32 |
//   records | CRC-64/ISO of all the bytes before it (8)
// Record:
//   key (32) | offset u64 | size u64 | compress_nanoseconds u64 |
//   CRC-64/ISO of the chunk's bytes u64 | frame count u32 | frame sizes u64 × count
// A record's bytes must lie inside the blob and its frames (if any) add up
// to its size; the chunk's own CRC is checked on every read, so a pack
// whose blob was changed in place (it is the layout's file too) is caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/cache/cache_entry.h"
#include "core/util/digest.h"
#include "core/util/result.h"

namespace ocipack {

struct PackRecord {
  ChunkKey key;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t compress_nanoseconds = 0;
  uint64_t crc = 0;                 // crc64_iso(0, the chunk's compressed bytes)
  std::vector<size_t> frame_sizes;  // empty: the chunk is one frame
};

struct PackIndex {
  Digest blob;
  uint64_t blob_size = 0;
  std::vector<PackRecord> records;
};

// An index is refused above this size (about 2.5 million one-frame chunks).
inline constexpr uint64_t k_max_pack_index_bytes = uint64_t{256} << 20;

std::vector<std::byte> encode_pack_index(const PackIndex& index);

// Decodes and checks an index (kind corrupt, a few words on what is wrong).
Result<PackIndex> decode_pack_index(std::span<const std::byte> bytes);

}  // namespace ocipack
