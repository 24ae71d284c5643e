// Chunk: the unit of work flowing through the pipeline — a slice of the tar
// stream and, after compression, the bytes its layer format made of it. Buffers are allocated once
// per Chunk and reused through ChunkPool, so steady state does no allocation;
// the big ones are LargeBuffers (huge pages where the kernel has them: see
// core/util/large_buffer.h).
// A Chunk is owned by exactly one stage at a time (the graph hands the pointer
// along), except between the fork and the join of a build without a chunk
// cache, where the compress path and the diff_id path only read `data` and
// only the compress path writes `compressed`. With a cache that keys
// chunks the stages form one chain (hash, then compress), see layer_graph.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/cache/cache_entry.h"
#include "core/layer/layer_format.h"
#include "core/util/large_buffer.h"

namespace ocipack {

struct Chunk {
  size_t layer = 0;    // which of the run's layers it belongs to
  uint64_t index = 0;  // position in its layer's stream: sequencers restore this order

  LargeBuffer data;
  size_t capacity = 0;
  size_t size = 0;

  // When the layer format wants history (the single-member format with a
  // dictionary): the ≤ 32 KiB of stream before `data`, copied in by the
  // producer (the previous chunk may already be recycled).
  std::unique_ptr<std::byte[]> dictionary;
  size_t dictionary_size = 0;

  // Only for formats whose frames follow the tar's entries (LayerFormat::
  // make_payload_cutter): where the chunk's frames end (offsets into data,
  // ascending, the last == size) and the entries whose headers start in
  // it, set by the producer; the compressed size of each frame, set by
  // compress_chunk. Empty otherwise: the chunk is one frame. Cleared, not
  // freed, when the chunk is reused.
  std::vector<size_t> frame_ends;
  std::vector<StreamEntry> entries;
  std::vector<size_t> compressed_frame_sizes;

  // With a chunk cache: the chunk's key (chunk_cache_key), computed by the
  // diff_id stage beside the diff_id (UncompressedHasher::add_keyed), so the
  // compress stage after it never hashes the bytes again. Set for every
  // chunk of a run whose cache keys chunks; never set (nor read) otherwise.
  std::optional<ChunkKey> cache_key;
  // Set by the compress stage when the chunk's compressed bytes are to be
  // stored in the local cache once the layer's blob is finished (a miss, or
  // a remote hit): the time compressing took and the CRC-64 of the bytes.
  // The write stage records where they land in the blob (CacheRun::store_layer).
  bool cache_store = false;
  uint64_t cache_compress_nanoseconds = 0;
  uint64_t cache_crc = 0;
  // Read from a loaded pack (which one; the time and CRC above are its
  // index's): stored again if that pack is found damaged later in the run.
  std::optional<size_t> cache_pack;

  // The compressed bytes are compressed_size bytes at compressed_offset:
  // compress_chunk writes them at 0; a cache hit reads its whole entry into
  // this buffer and leaves the payload where it lies, after the entry's
  // head (no copy).
  LargeBuffer compressed;
  size_t compressed_capacity = 0;
  size_t compressed_offset = 0;
  size_t compressed_size = 0;

  std::span<const std::byte> bytes() const { return {data.get(), size}; }
  std::span<const std::byte> dictionary_bytes() const { return {dictionary.get(), dictionary_size}; }
  std::span<const std::byte> compressed_bytes() const { return {compressed.get() + compressed_offset, compressed_size}; }
  StreamPiece piece() const { return {bytes(), entries, frame_ends}; }
};

}  // namespace ocipack
