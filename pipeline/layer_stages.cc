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

void UncompressedHasher::add(std::span<const std::byte> bytes) {
  m_hash.update(bytes);
  m_framing.observe(bytes);
  m_size += bytes.size();
}

Status compress_chunk(Compressor& compressor, Chunk& chunk) {
  const std::span<std::byte> output(chunk.compressed.get(), chunk.compressed_capacity);
  OCIPACK_TRY_ASSIGN(chunk.compressed_size, compressor.compress(chunk.bytes(), chunk.dictionary_bytes(), output));
  return ok_status();
}

Status BlobSink::append(std::span<const std::byte> bytes) {
  m_hash.update(bytes);
  m_size += bytes.size();
  return write_all(m_fd, bytes, m_name);
}

}  // namespace ocipack
