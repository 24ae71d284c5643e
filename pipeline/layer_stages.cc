// The stage bodies of the layer graph (see layer_stages.h).
#include "pipeline/layer_stages.h"

#include <cstring>

#include "core/util/file_io.h"

namespace ocipack {

void StreamWindow::append(std::span<const std::byte> bytes) {
  if (m_capacity == 0) return;
  if (bytes.size() >= m_capacity) {
    m_bytes.assign(bytes.end() - static_cast<std::ptrdiff_t>(m_capacity), bytes.end());
    return;
  }
  m_bytes.insert(m_bytes.end(), bytes.begin(), bytes.end());
  if (m_bytes.size() > m_capacity)
    m_bytes.erase(m_bytes.begin(), m_bytes.end() - static_cast<std::ptrdiff_t>(m_capacity));
}

Result<bool> produce_chunk(TarChunker& chunker, StreamWindow& history, Chunk& chunk) {
  const std::span<const std::byte> before = history.bytes();
  if (history.capacity() > 0) std::memcpy(chunk.dictionary.get(), before.data(), before.size());
  chunk.dictionary_size = before.size();
  OCIPACK_TRY_ASSIGN(const bool more, chunker.fill(chunk));
  if (more) history.append(chunk.bytes());
  return more;
}

void UncompressedHasher::add(const StreamPiece& piece) {
  m_hash.update(piece.bytes);
  m_framing.observe(piece);
  m_size += piece.bytes.size();
}

namespace {
// Compresses each of the chunk's frames on its own (no dictionary: a frame
// stands alone), growing the output buffer first if the frames' bounds
// add up to more than it holds.
Status compress_frames(Compressor& compressor, Chunk& chunk) {
  size_t needed = 0;
  for (size_t start = 0; size_t end : chunk.frame_ends) {
    needed += compressor.bound(end - start);
    start = end;
  }
  if (needed > chunk.compressed_capacity) {
    chunk.compressed = std::make_unique<std::byte[]>(needed);
    chunk.compressed_capacity = needed;
  }
  chunk.compressed_frame_sizes.clear();
  chunk.compressed_size = 0;
  for (size_t start = 0; size_t end : chunk.frame_ends) {
    const std::span<std::byte> output(chunk.compressed.get() + chunk.compressed_size,
                                      chunk.compressed_capacity - chunk.compressed_size);
    OCIPACK_TRY_ASSIGN(const size_t size, compressor.compress(chunk.bytes().subspan(start, end - start), {}, output));
    chunk.compressed_frame_sizes.push_back(size);
    chunk.compressed_size += size;
    start = end;
  }
  return ok_status();
}
}  // namespace

Status compress_chunk(Compressor& compressor, Chunk& chunk) {
  if (!chunk.frame_ends.empty()) return compress_frames(compressor, chunk);
  const std::span<std::byte> output(chunk.compressed.get(), chunk.compressed_capacity);
  OCIPACK_TRY_ASSIGN(chunk.compressed_size, compressor.compress(chunk.bytes(), chunk.dictionary_bytes(), output));
  return ok_status();
}

std::span<const size_t> written_frame_sizes(const Chunk& chunk) {
  if (!chunk.frame_ends.empty()) return chunk.compressed_frame_sizes;
  return {&chunk.compressed_size, 1};
}

Status BlobSink::append(std::span<const std::byte> bytes) {
  m_hash.update(bytes);
  m_size += bytes.size();
  return write_all(m_fd, bytes, m_name);
}

}  // namespace ocipack
