// run_layer_pipeline: compresses the tar stream of one layer into a
// multi-member gzip blob in parallel, hashing the uncompressed stream
// (diff_id) and the compressed blob (digest) on the way. The TBB flow graph
// that does it lives in build_graph.cc; the stage bodies are the plain
// functions declared here so they can be tested without TBB.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/codec/codec.h"
#include "core/util/digest.h"
#include "core/util/result.h"
#include "core/util/sha256.h"
#include "pipeline/chunk.h"
#include "pipeline/chunker.h"

namespace ocipack {

struct LayerPipelineOptions {
  ChunkingOptions chunking;
  CodecOptions codec;
  int threads = 1;  // worker threads, including the caller's
  // Polled by the producer; when it becomes true the run stops with an error.
  const std::atomic<bool>* cancel = nullptr;
  // Called from the serial sink after each chunk is written (tar bytes and
  // blob bytes so far). Must be cheap; it runs on the pipeline's critical path.
  std::function<void(uint64_t tar_bytes, uint64_t blob_bytes)> on_progress;
};

// Time spent and bytes handled per stage, summed over threads (for --stats).
struct StageStats {
  uint64_t nanoseconds = 0;
  uint64_t bytes = 0;
};

struct PipelineStats {
  StageStats walk;          // directory walk, lstat, xattrs, headers, open
  StageStats read;          // read() of file data into chunk buffers
  StageStats compress;      // all workers together
  StageStats hash_diff_id;  // SHA-256 (and CRC-32) of the uncompressed stream
  StageStats write;         // SHA-256 of the blob + write()
  uint64_t wall_nanoseconds = 0;
};

struct LayerResult {
  Digest digest;             // sha256 of the compressed blob
  Digest diff_id;            // sha256 of the uncompressed tar stream
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t chunks = 0;
  uint64_t chunk_buffers = 0;  // Chunk objects allocated: bounded by in-flight limit
  ChunkerCounters chunker;
  PipelineStats stats;
};

// Stage bodies.
Status compress_chunk(Compressor& compressor, GzipFormat format, Chunk& chunk);
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
