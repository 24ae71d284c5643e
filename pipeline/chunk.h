// Chunk: the unit of work flowing through the pipeline — a slice of the tar
// stream and, after compression, the bytes its layer format made of it. Buffers are allocated once
// per Chunk and reused through ChunkPool, so steady state does no allocation.
// A Chunk is owned by exactly one stage at a time (the graph hands the pointer
// along), except between the broadcast and the join, where the compress path
// and the diff_id path only read `data` and only the compress path writes
// `compressed`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace ocipack {

struct Chunk {
  size_t layer = 0;    // which of the run's layers it belongs to
  uint64_t index = 0;  // position in its layer's stream: sequencers restore this order

  std::unique_ptr<std::byte[]> data;
  size_t capacity = 0;
  size_t size = 0;

  // When the layer format wants history (the single-member format with a
  // dictionary): the ≤ 32 KiB of stream before `data`, copied in by the
  // producer (the previous chunk may already be recycled).
  std::unique_ptr<std::byte[]> dictionary;
  size_t dictionary_size = 0;

  std::unique_ptr<std::byte[]> compressed;
  size_t compressed_capacity = 0;
  size_t compressed_size = 0;

  std::span<const std::byte> bytes() const { return {data.get(), size}; }
  std::span<const std::byte> dictionary_bytes() const { return {dictionary.get(), dictionary_size}; }
  std::span<const std::byte> compressed_bytes() const { return {compressed.get(), compressed_size}; }
};

}  // namespace ocipack
