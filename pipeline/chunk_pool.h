// ChunkPool: Chunk objects for a run, allocated on first need and recycled,
// so the steady state allocates nothing and the number of chunks ever made
// shows how many were in flight at once (bounded by the graph's limiter).
// Thread-safe: any stage may acquire or release.
#pragma once

#include <oneapi/tbb/concurrent_queue.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "pipeline/chunk.h"

namespace ocipack {

class ChunkPool {
 public:
  // Every chunk gets `capacity` bytes of data, `compressed_capacity` bytes
  // of compressed output and, when `history_capacity` > 0, that many bytes
  // for the stream before it.
  ChunkPool(size_t capacity, size_t compressed_capacity, size_t history_capacity)
      : m_capacity(capacity), m_compressed_capacity(compressed_capacity), m_history_capacity(history_capacity) {}

  // A free chunk (contents unspecified), or a new one.
  Chunk* acquire();
  void release(Chunk* chunk) { m_free.push(chunk); }
  // How many chunks were ever made.
  size_t allocated();

 private:
  size_t m_capacity;
  size_t m_compressed_capacity;
  size_t m_history_capacity;
  tbb::concurrent_queue<Chunk*> m_free;
  std::mutex m_mutex;  // guards m_all
  std::vector<std::unique_ptr<Chunk>> m_all;
};

}  // namespace ocipack
