// ChunkPool (see chunk_pool.h).
#include "pipeline/chunk_pool.h"

namespace ocipack {

Chunk* ChunkPool::acquire() {
  Chunk* chunk = nullptr;
  if (m_free.try_pop(chunk)) return chunk;
  auto fresh = std::make_unique<Chunk>();
  fresh->data = LargeBuffer(m_capacity);
  fresh->capacity = m_capacity;
  fresh->compressed = LargeBuffer(m_compressed_capacity);
  fresh->compressed_capacity = m_compressed_capacity;
  if (m_history_capacity > 0) fresh->dictionary = std::make_unique_for_overwrite<std::byte[]>(m_history_capacity);
  std::lock_guard lock(m_mutex);
  m_all.push_back(std::move(fresh));
  return m_all.back().get();
}

size_t ChunkPool::allocated() {
  std::lock_guard lock(m_mutex);
  return m_all.size();
}

}  // namespace ocipack
