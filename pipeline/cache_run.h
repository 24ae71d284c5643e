// CacheRun: the chunk cache during one run of the layer graph (issue 15).
// It owns what the workers share — the local store, the format's identity,
// one CacheWorker (entry buffer, remote connection) per thread, the
// switches that turn the remote or local stores off after their first
// failure, and the run's cache warnings — and, after each layer, stores the
// chunks it compressed (store_layer: a pack of the blob, or entry files),
// and after the run records the build's figures in the store and prunes it
// to its size limit. The
// per-chunk logic is compress_with_cache (layer_stages.h); this class only
// adds what needs threads: thread-local workers, atomics and a mutex.
#pragma once

#include <oneapi/tbb/enumerable_thread_specific.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/cache/chunk_cache.h"
#include "core/layer/layer_format.h"
#include "pipeline/layer_graph.h"
#include "pipeline/layer_stages.h"

namespace ocipack {

class CacheRun {
 public:
  // Opens the cache of `options` (nullptr when options.dir is empty). A
  // format without a cache identity gets a CacheRun that only counts the
  // chunks it bypasses.
  static Result<std::unique_ptr<CacheRun>> open(const ChunkCacheOptions& options, const LayerFormat& format);

  // The compress stage of one chunk, with the cache; adds to `counters`
  // (the chunk's layer's, updated atomically).
  Status compress(Compressor& compressor, Chunk& chunk, CacheCounters& counters);

  // After a layer's blob is finished (all `size` bytes in `blob_fd`, whose
  // digest is `digest`): stores the chunks the compress stage marked
  // (Chunk::cache_store), whose places in the blob are `records`. As a
  // pack when they are most of the blob (options.pack_min_bytes and 3/4 of
  // it: a cold build), else — or when no pack can be made: the cache on
  // another file system — as entry files read back from the blob. Store
  // failures are notes, as during the run. `unfinished`: the run failed or
  // was interrupted, so this must be quick: a pack of any size when the
  // chunks are 3/4 of what was written, else entries only up to
  // options.pack_min_bytes of them (else nothing is stored).
  // `from_packs`: the chunks read from a loaded pack (which one) and where
  // they lie in this blob; those of a pack found damaged during the run are
  // stored with the others.
  void store_layer(int blob_fd, const Digest& digest, uint64_t size, std::vector<PackRecord> records,
                   const std::vector<std::pair<size_t, PackRecord>>& from_packs, bool unfinished = false);

  // The identity chunk keys are made with (the diff_id stage hashes them:
  // UncompressedHasher), or empty when this format bypasses the cache.
  std::string key_identity() const { return m_use ? m_use->identity : std::string(); }

  // After the run: records the build's totals in the store, prunes it if
  // this run stored entries, and returns the run's warnings.
  std::vector<std::string> finish(const CacheCounters& totals);
  // After a run that failed or was interrupted, once store_layer kept what
  // it wrote: adds that to the store's size and prunes it if over the
  // limit (no record in the builds log; the warnings go unsaid behind the
  // run's error).
  void finish_failed() { account_stored(); }

 private:
  CacheRun(const ChunkCacheOptions& options, ChunkCacheDir dir, const LayerFormat& format);
  void note(const std::string& warning);
  // A local store failed: a note; unless only that entry's place was
  // blocked (`blocked`), local storing stops for the rest of the run.
  void store_failed(const std::string& problem, bool blocked);
  void account_stored();  // what this run stored: DIR/usage, and prune
  CacheWorker& worker();

  ChunkCacheOptions m_options;
  ChunkCacheDir m_dir;
  std::optional<ChunkCacheUse> m_use;  // empty: bypassed
  tbb::enumerable_thread_specific<CacheWorker> m_workers;
  std::atomic<bool> m_remote_on{false};
  std::atomic<bool> m_remote_put_on{false};
  std::atomic<bool> m_store_on{true};
  std::atomic<uint64_t> m_stored_bytes{0}, m_stored_entries{0};  // what this run added to the store
  std::mutex m_warnings_mutex;
  std::vector<std::string> m_warnings;
  size_t m_corrupt_notes = 0;
};

// Adds `add` to `into` field by field (atomic per field: workers add concurrently).
void add_counters(CacheCounters& into, const CacheCounters& add);

}  // namespace ocipack
