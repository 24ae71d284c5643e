// run_layer_pipeline: compresses the tar stream of one layer into a
// multi-member gzip blob in parallel, hashing the uncompressed stream
// (diff_id) and the compressed blob (digest) on the way. The TBB flow graph
// that does it lives in build_graph.cc; the stage bodies are the plain
// functions declared here so they can be tested without TBB.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/codec.h"
#include "core/digest.h"
#include "core/result.h"
#include "core/sha256.h"
#include "pipeline/chunk.h"
#include "pipeline/chunker.h"

namespace ocipack {

struct LayerPipelineOptions {
  ChunkingOptions chunking;
  CodecOptions codec;
  int threads = 1;  // worker threads, including the caller's
  // Polled by the producer; when it becomes true the run stops with an error.
  const std::atomic<bool>* cancel = nullptr;
};

struct LayerResult {
  Digest digest;             // sha256 of the compressed blob
  Digest diff_id;            // sha256 of the uncompressed tar stream
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t chunks = 0;
  uint64_t chunk_buffers = 0;  // Chunk objects allocated: bounded by in-flight limit
  ChunkerCounters chunker;
};

// Stage bodies.
Status compress_chunk(Compressor& compressor, Chunk& chunk);
Status append_compressed(int blob_fd, const std::string& blob_name, Sha256& blob_hash,
                         const Chunk& chunk);

// Runs the whole layer through the graph, appending the blob to `blob_fd`.
// The first error of any stage stops the producer; the graph drains and the
// error is returned (the caller discards the partial blob).
Result<LayerResult> run_layer_pipeline(TarChunker& chunker, const LayerPipelineOptions& options,
                                       int blob_fd, const std::string& blob_name);

// The chunk limit for a thread count: about 2 × threads + 2 chunks in flight.
inline size_t max_chunks_in_flight(int threads) { return 2 * static_cast<size_t>(threads) + 2; }

}  // namespace ocipack
