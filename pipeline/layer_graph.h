// run_layer_graph: compresses the tar streams of a build's layers into
// their blobs, all layers at once in ONE TBB arena, hashing each
// uncompressed stream (diff_id) and each blob (digest) on the way. The
// graph is wired in layer_graph.cc; its stage bodies are the plain
// functions of layer_stages.h; the blob encoding is the LayerFormat's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cache/chunk_cache.h"
#include "core/codec/codec.h"
#include "core/layer/layer_format.h"
#include "core/tar/rootfs_walk.h"
#include "core/util/digest.h"
#include "core/util/result.h"
#include "pipeline/blob_flusher.h"
#include "pipeline/build_hooks.h"
#include "pipeline/chunker.h"
#include "pipeline/stage_clock.h"

namespace ocipack {

// The chunk cache (issue 15; core/cache): where compressed chunks are kept
// between builds. Plain data; empty dir = no cache.
struct ChunkCacheOptions {
  std::string dir;                                // field "cache.dir"
  uint64_t max_bytes = k_default_cache_max_bytes;  // pruned to this after a build that stored entries
  std::string remote_url;                         // field "cache.remote"; needs dir
  long remote_timeout_ms = 15000;                 // per remote request
  // A layer whose chunks to store are at least this many bytes and 3/4 of
  // its blob is stored as a pack (chunk_cache.h), not as entry files.
  uint64_t pack_min_bytes = uint64_t{32} << 20;
};

// How layers are cut and compressed (BuildOptions::layer). Plain data.
struct LayerPipelineOptions {
  ChunkingOptions chunking;
  CodecOptions codec;
  int threads = 1;  // worker threads for the whole build, including the caller's
  ChunkCacheOptions cache;
};

// What the chunk cache did for one layer.
struct CacheCounters {
  uint64_t hits = 0;         // chunks read from the cache (local or remote)
  uint64_t remote_hits = 0;  // of those, from the remote
  uint64_t misses = 0;       // compressed, then stored
  uint64_t corrupt = 0;      // entries refused and recomputed
  uint64_t bypassed = 0;     // compressed without the cache: the format's chunks are not self-contained
  uint64_t saved_nanoseconds = 0;  // compression time the hits saved, as their entries recorded it
};

struct PipelineStats {
  StageStats walk;          // directory walk, lstat, xattrs, headers, open
  StageStats read;          // read() of file data into chunk buffers
  StageStats compress;      // all workers together
  StageStats hash_diff_id;  // SHA-256 (and what the format observes) of the uncompressed stream
  StageStats write;         // SHA-256 of the blob + write()
  // The run of the graph, which builds every layer of the build at once.
  uint64_t wall_nanoseconds = 0;
};

struct LayerResult {
  Digest digest;             // sha256 of the compressed blob
  Digest diff_id;            // sha256 of the uncompressed tar stream
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t chunks = 0;
  std::map<std::string, std::string> annotations;  // for the layer's descriptor, from its format
  uint64_t chunk_buffers = 0;  // Chunk objects the run allocated: bounded by the in-flight limit
  ChunkerCounters chunker;
  PipelineStats stats;
  CacheCounters cache;
};

// One layer to build: where its entries come from and where its blob goes.
struct LayerJob {
  // Opens the layer's entry source. Called once, by the layer's producer
  // when the layer starts, so slow openings (a delta's diff, a tar's
  // spooling) run in parallel with the other layers' compression.
  std::function<Result<std::unique_ptr<EntrySource>>()> open_source;
  int blob_fd = -1;
  std::string blob_name;  // for error messages
  // The blob is flushed in the background every flush_bytes (BlobSink);
  // tests shrink it and give a sync that fails.
  uint64_t flush_bytes = k_blob_flush_bytes;
  BlobFlusher::SyncFunction blob_sync = nullptr;  // nullptr: fdatasync
};

struct LayerOutcome {
  LayerResult result;
  // The source's notes on skipped entries; the first layer's also carry
  // the run's notes on the cache (corrupt entries, a remote that failed).
  std::vector<std::string> warnings;
};

// Runs every job through the graph in one arena of options.threads
// threads (at most as many as TBB allows the process: see
// pipeline/thread_allowance.h); at most max_chunks_in_flight(threads)
// chunks exist at once,
// whatever the number of layers. Outcomes come back in job order. The
// first error (or the cancel hook) stops every layer; the error of the
// lowest-numbered failing layer is returned and the caller discards the
// partial blobs. `format` must come from resolve_layer_format(options.codec).
Result<std::vector<LayerOutcome>> run_layer_graph(const LayerFormat& format, const LayerPipelineOptions& options,
                                                  std::vector<LayerJob> jobs, const BuildHooks& hooks = {});

// The chunk limit for a thread count: about 2 × threads + 2 chunks in flight.
inline size_t max_chunks_in_flight(int threads) { return 2 * static_cast<size_t>(threads) + 2; }

}  // namespace ocipack
