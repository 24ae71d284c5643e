// The layer graph — the one place where stages are wired. Every layer of a
// build runs in ONE TBB flow graph inside ONE task arena, so the cores go
// wherever there is work: a small layer's threads do not idle while a big
// one runs. Read top to bottom, one line per stage:
//
//   read_tar        one serial producer per layer (walk + tar headers + read()
//                   into chunk buffers: produce_chunk); at most `threads`
//                   producers run, the next layer starts when one ends
//     → limit_in_flight   shared by all layers: at most 2 × threads + 2
//                         chunks exist at once (bounded memory)
//     → dispatch          to the chunk's own layer
//     → fan_out ─┬→ compress (parallel: compress_chunk, one reused
//                │   Compressor per worker thread)
//                │     → compressed_in_order (sequencer) → write_blob
//                │       (serial: BlobSink::append, the blob's SHA-256 + write;
//                │       the framing learns each frame's compressed size)
//                └→ tar_in_order (sequencer) → hash_diff_id (serial:
//                      UncompressedHasher, concurrent with compression)
//     → both_done (join on chunk index) → recycle (buffer back to the pool,
//       a token back to limit_in_flight)
//
// With a chunk cache that keys chunks, the two branches become one chain:
//     → fan_out → tar_in_order → hash_diff_id (the diff_id AND each chunk's
//         cache key, in one pass over the bytes: Sha256Pair)
//       → compress (CacheRun::compress: reads the chunk compressed before
//         under that key, else compresses and stores it)
//       → compressed_in_order → write_blob → recycle
// Why: a warm rebuild is bound by SHA-256, and two interleaved SHA-NI lanes
// hash the diff_id and the keys for 1.4× the cost of one instead of 2×. A
// build without a cache keeps the fork: there, hashing beside compression
// (not before it) measured up to 7 % faster for zstd, whose compression is
// fast enough for the serial hash to be felt.
//
// The LayerFormat frames each blob (prologue written when the layer starts,
// epilogue and descriptor annotations after the graph drains), observes the
// uncompressed stream in hash_diff_id and the frames' compressed sizes in
// write_blob, says how much history each chunk gets and, through its
// PayloadCutter, whether frames follow the tar's entries; the graph never
// asks which format it runs.
//
// Chunk order within a layer is restored by that layer's sequencers, so a
// blob is identical for any thread count and any other layers beside it.
// Errors: a stage's error or exception becomes its layer's error (the
// guard at every task boundary) and stops the run: producers stop, later
// stages skip their work but still pass chunks on, so every chunk is
// recycled and the graph drains without cancellation.
#include "pipeline/layer_graph.h"

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <tuple>

#include "pipeline/cache_run.h"
#include "pipeline/chunk_pool.h"
#include "pipeline/first_error.h"
#include "pipeline/layer_stages.h"

namespace ocipack {

namespace {

namespace flow = tbb::flow;
using ChunkPair = std::tuple<Chunk*, Chunk*>;

// What the stages of every layer share during one run.
struct RunState {
  RunState(const LayerFormat& format_, const BuildHooks& hooks_, size_t chunk_capacity, size_t compressed_capacity)
      : format(format_), hooks(hooks_), pool(chunk_capacity, compressed_capacity, format_.history_size()) {}

  bool failed() const { return any_failed.load(std::memory_order_acquire) || errors.failed(); }
  // Adds one written chunk to the build's totals and reports them.
  void report_progress(uint64_t tar_bytes, uint64_t blob_bytes) {
    if (!hooks.on_progress) return;
    std::lock_guard lock(progress_mutex);
    progress.tar_bytes += tar_bytes;
    progress.blob_bytes += blob_bytes;
    hooks.on_progress(progress);
  }

  const LayerFormat& format;
  const BuildHooks& hooks;
  ChunkPool pool;
  tbb::enumerable_thread_specific<std::unique_ptr<Compressor>> compressors;  // made on first use
  std::unique_ptr<CacheRun> cache;          // null: no chunk cache
  std::atomic<bool> any_failed{false};
  FirstError errors;                        // failures outside any one layer (the arena, dispatch)
  std::function<void()> start_next_layer;  // activates the next layer's producer, if any
  std::mutex progress_mutex;               // on_progress is never called concurrently
  Progress progress;
};

// One layer's state during a run, and its stage bodies as the graph calls
// them: each skips its work once the run failed, times itself and turns
// failures into the layer's error.
class LayerRun {
 public:
  LayerRun(size_t index, LayerJob job, const ChunkingOptions& chunking, RunState& run)
      : m_index(index),
        m_job(std::move(job)),
        m_chunking(chunking),
        m_run(run),
        m_history(run.format.history_size()),
        m_framing(run.format.begin_blob()),
        m_hasher(*m_framing, run.cache ? run.cache->key_identity() : std::string()),
        m_sink(m_job.blob_fd, m_job.blob_name, m_job.flush_bytes, m_job.blob_sync) {}

  Chunk* produce(tbb::flow_control& control);
  Chunk* compress(Chunk* chunk);
  Chunk* write(Chunk* chunk);
  Chunk* hash(Chunk* chunk);
  // After the graph: the blob's epilogue and the layer's figures.
  Result<LayerOutcome> finish(uint64_t wall_nanoseconds);
  // After a run that failed or was interrupted: the chunks this layer
  // compressed and wrote so far go to the cache all the same
  // (CacheRun::store_layer, from the unfinished blob).
  void store_unfinished();
  std::optional<Error> error() const { return m_error.get(); }

 private:
  template <typename Body>
  bool guard(Body&& body) {
    if (m_error.guard(std::forward<Body>(body))) return true;
    m_run.any_failed.store(true, std::memory_order_release);
    return false;
  }
  Status start();
  Status next(Chunk*& chunk, bool& more);

  size_t m_index;
  LayerJob m_job;
  ChunkingOptions m_chunking;
  RunState& m_run;
  FirstError m_error;
  std::unique_ptr<TarChunker> m_chunker;  // made when the layer starts
  StreamWindow m_history;
  std::unique_ptr<BlobFraming> m_framing;
  UncompressedHasher m_hasher;
  BlobSink m_sink;
  uint64_t m_next_index = 0;  // chunks produced
  uint64_t m_chunks = 0;      // chunks written
  bool m_ended = false;       // the producer reached the end of the stream
  StageTimer m_compress, m_hash, m_write;
  CacheCounters m_cache;      // added to by the compress workers (atomically)
  std::vector<PackRecord> m_to_store;  // chunks to store in the cache, where they lie in the blob
  std::vector<std::pair<size_t, PackRecord>> m_from_packs;  // chunks read from a pack (which), and the same
};

// The layer's first turn: open its source, write the blob's prologue.
Status LayerRun::start() {
  OCIPACK_TRY_ASSIGN(auto source, m_job.open_source());
  m_chunker = std::make_unique<TarChunker>(std::move(source), m_chunking, m_run.format.make_payload_cutter());
  return m_sink.append(m_framing->prologue());
}

Status LayerRun::next(Chunk*& chunk, bool& more) {
  if (m_run.hooks.cancelled()) return interrupted_error();
  if (m_run.failed()) return ok_status();  // another layer failed: stop quietly
  if (!m_chunker) OCIPACK_TRY(start());
  chunk = m_run.pool.acquire();
  chunk->layer = m_index;
  OCIPACK_TRY_ASSIGN(more, produce_chunk(*m_chunker, m_history, *chunk));
  m_ended = !more;
  return ok_status();
}

Chunk* LayerRun::produce(tbb::flow_control& control) {
  Chunk* chunk = nullptr;
  bool more = false;
  guard([&] { return next(chunk, more); });
  if (more) {
    chunk->index = m_next_index++;
    return chunk;
  }
  if (chunk) m_run.pool.release(chunk);
  control.stop();
  m_run.start_next_layer();
  return nullptr;
}

Chunk* LayerRun::compress(Chunk* chunk) {
  if (m_run.failed()) return chunk;
  guard([&]() -> Status {
    std::unique_ptr<Compressor>& compressor = m_run.compressors.local();
    if (!compressor) {
      OCIPACK_TRY_ASSIGN(compressor, m_run.format.make_compressor());
    }
    auto timing = m_compress.time(chunk->size);
    if (m_run.cache) return m_run.cache->compress(*compressor, *chunk, m_cache);
    return compress_chunk(*compressor, *chunk);
  });
  return chunk;
}

Chunk* LayerRun::write(Chunk* chunk) {
  if (m_run.failed()) return chunk;
  guard([&]() -> Status {
    {
      auto timing = m_write.time(chunk->compressed_size);
      const uint64_t offset = m_sink.size();
      OCIPACK_TRY(m_sink.append(chunk->compressed_bytes()));
      if (m_run.cache && (chunk->cache_store || chunk->cache_pack) && chunk->cache_key) {
        std::vector<size_t> frames;
        if (!chunk->frame_ends.empty()) frames = chunk->compressed_frame_sizes;
        PackRecord record{*chunk->cache_key, offset, chunk->compressed_size, chunk->cache_compress_nanoseconds,
                          chunk->cache_crc, std::move(frames)};
        if (chunk->cache_store) {
          m_to_store.push_back(std::move(record));
        } else {
          m_from_packs.push_back({*chunk->cache_pack, std::move(record)});
        }
      }
    }
    m_framing->observe_written(written_frame_sizes(*chunk));
    ++m_chunks;
    m_run.report_progress(chunk->size, chunk->compressed_size);
    return ok_status();
  });
  return chunk;
}

Chunk* LayerRun::hash(Chunk* chunk) {
  if (m_run.failed()) return chunk;
  guard([&] {
    auto timing = m_hash.time(chunk->size);
    // Keying chunks means the chained graph: compress runs after this.
    // Otherwise compress may be running on this chunk now: leave it alone.
    if (m_hasher.keys_chunks()) {
      chunk->cache_key = m_hasher.add_keyed(chunk->piece());
    } else {
      m_hasher.add(chunk->piece());
    }
  });
  return chunk;
}

Result<LayerOutcome> LayerRun::finish(uint64_t wall_nanoseconds) {
  // Defensive: a graph that drained early (a lost token) must not pass
  // for a complete layer.
  if (!m_ended || m_chunks != m_next_index)
    return io_error("the layer pipeline stopped before the end of the " + m_job.blob_name);
  OCIPACK_TRY_ASSIGN(BlobEpilogue epilogue, m_framing->epilogue(m_hasher.size()));
  OCIPACK_TRY(m_sink.append(epilogue.bytes));
  OCIPACK_TRY(m_sink.settle());
  LayerOutcome outcome;
  LayerResult& result = outcome.result;
  result.compressed_size = m_sink.size();
  result.digest = m_sink.finish();
  if (m_run.cache)
    m_run.cache->store_layer(m_job.blob_fd, result.digest, result.compressed_size, std::move(m_to_store), m_from_packs);
  m_to_store = {};
  m_from_packs = {};
  result.uncompressed_size = m_hasher.size();
  result.diff_id = m_hasher.finish();
  result.chunks = m_chunks;
  result.annotations = std::move(epilogue.annotations);
  result.chunk_buffers = m_run.pool.allocated();
  result.chunker = m_chunker->counters();
  result.stats = {m_chunker->walk_stats(), m_chunker->read_stats(), m_compress.stats(), m_hash.stats(),
                  m_write.stats(), wall_nanoseconds};
  result.cache = m_cache;
  outcome.warnings = m_chunker->warnings();
  return outcome;
}

void LayerRun::store_unfinished() {
  if (!m_run.cache || (m_to_store.empty() && m_from_packs.empty())) return;
  if (!m_sink.settle()) return;  // a failed flush: the blob's bytes are in doubt
  const uint64_t size = m_sink.size();
  m_run.cache->store_layer(m_job.blob_fd, m_sink.finish(), size, std::move(m_to_store), m_from_packs,
                           /*unfinished=*/true);
  m_to_store = {};
  m_from_packs = {};
}

// Where a chunk goes in its layer's order (sequencers, join).
constexpr auto chunk_index = [](Chunk* chunk) -> size_t { return chunk->index; };
constexpr auto chunk_tag = [](Chunk* chunk) { return static_cast<flow::tag_value>(chunk->index); };

// The run's recyclers: one for a chunk that went down one chain, one for the
// pair a fork's join gives.
struct Recyclers {
  flow::function_node<Chunk*>& one;
  flow::function_node<ChunkPair>& pair;
};

// One layer's nodes, wired to each other and to the shared limiter (whose
// `dispatch` feeds fan_out) and recyclers: as one chain when the hash stage
// keys chunks for the cache (`chained`), else as the fork (see the top).
struct LayerNodes {
  LayerNodes(flow::graph& g, LayerRun& layer, flow::limiter_node<Chunk*>& limit_in_flight, Recyclers recycle,
             bool chained)
      : read_tar(g, [&layer](tbb::flow_control& control) { return layer.produce(control); }),
        fan_out(g),
        compress(g, flow::unlimited, [&layer](Chunk* chunk) { return layer.compress(chunk); }),
        compressed_in_order(g, chunk_index),
        write_blob(g, flow::serial, [&layer](Chunk* chunk) { return layer.write(chunk); }),
        tar_in_order(g, chunk_index),
        hash_diff_id(g, flow::serial, [&layer](Chunk* chunk) { return layer.hash(chunk); }),
        both_done(g, chunk_tag, chunk_tag) {
    flow::make_edge(read_tar, limit_in_flight);
    flow::make_edge(fan_out, tar_in_order);
    flow::make_edge(tar_in_order, hash_diff_id);
    flow::make_edge(compress, compressed_in_order);
    flow::make_edge(compressed_in_order, write_blob);
    if (chained) {
      flow::make_edge(hash_diff_id, compress);
      flow::make_edge(write_blob, recycle.one);
    } else {
      flow::make_edge(fan_out, compress);
      flow::make_edge(write_blob, flow::input_port<0>(both_done));
      flow::make_edge(hash_diff_id, flow::input_port<1>(both_done));
      flow::make_edge(both_done, recycle.pair);
    }
  }

  flow::input_node<Chunk*> read_tar;
  flow::broadcast_node<Chunk*> fan_out;
  flow::function_node<Chunk*, Chunk*> compress;
  flow::sequencer_node<Chunk*> compressed_in_order;
  flow::function_node<Chunk*, Chunk*> write_blob;
  flow::sequencer_node<Chunk*> tar_in_order;
  flow::function_node<Chunk*, Chunk*> hash_diff_id;
  flow::join_node<ChunkPair, flow::tag_matching> both_done;
};

// Builds the graph for every layer and runs it to the end. Runs inside the
// arena, so the graph's tasks run on the arena's threads.
void run_graph(RunState& run, std::vector<std::unique_ptr<LayerRun>>& layers, int threads) {
  flow::graph g;
  std::vector<std::unique_ptr<LayerNodes>> nodes;
  flow::limiter_node<Chunk*> limit_in_flight(g, max_chunks_in_flight(threads));
  flow::function_node<Chunk*> dispatch(g, flow::unlimited, [&](Chunk* chunk) {
    run.errors.guard([&] { nodes[chunk->layer]->fan_out.try_put(chunk); });
    return flow::continue_msg();
  });
  flow::function_node<Chunk*> recycle_one(g, flow::unlimited, [&](Chunk* done) {
    run.errors.guard([&] { run.pool.release(done); });
    return flow::continue_msg();
  });
  flow::function_node<ChunkPair> recycle_pair(g, flow::unlimited, [&](const ChunkPair& done) {
    run.errors.guard([&] { run.pool.release(std::get<0>(done)); });
    return flow::continue_msg();
  });
  const bool chained = run.cache && !run.cache->key_identity().empty();
  for (auto& layer : layers)
    nodes.push_back(std::make_unique<LayerNodes>(g, *layer, limit_in_flight, Recyclers{recycle_one, recycle_pair}, chained));
  flow::make_edge(limit_in_flight, dispatch);
  // Only the recycler in use: the decrementer counts its predecessors (a
  // continue_receiver) and would wait for a message from an idle one too.
  if (chained) {
    flow::make_edge(recycle_one, limit_in_flight.decrementer());
  } else {
    flow::make_edge(recycle_pair, limit_in_flight.decrementer());
  }

  std::atomic<size_t> next_layer{0};
  run.start_next_layer = [&] {
    if (const size_t k = next_layer.fetch_add(1); k < nodes.size()) nodes[k]->read_tar.activate();
  };
  for (size_t i = 0; i < std::min(nodes.size(), static_cast<size_t>(threads)); ++i) run.start_next_layer();
  g.wait_for_all();
  run.start_next_layer = nullptr;
}

// The threads a run gets: those asked for, within the process-wide limit
// (TBB's max_allowed_parallelism, which only the program's main raises:
// ThreadAllowance). Asking TBB for more would only make it warn.
int usable_threads(int asked) {
  const auto allowed = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  return static_cast<int>(std::clamp<size_t>(static_cast<size_t>(std::max(1, asked)), 1, std::max<size_t>(1, allowed)));
}

}  // namespace

Result<std::vector<LayerOutcome>> run_layer_graph(const LayerFormat& format, const LayerPipelineOptions& options,
                                                  std::vector<LayerJob> jobs, const BuildHooks& hooks) {
  const int threads = usable_threads(options.threads);
  const size_t capacity = options.chunking.capacity();
  OCIPACK_TRY_ASSIGN(const auto sizing, format.make_compressor());  // only for its bound()
  RunState run(format, hooks, capacity, sizing->bound(capacity));
  OCIPACK_TRY_ASSIGN(run.cache, CacheRun::open(options.cache, format));
  std::vector<std::unique_ptr<LayerRun>> layers;
  for (size_t i = 0; i < jobs.size(); ++i)
    layers.push_back(std::make_unique<LayerRun>(i, std::move(jobs[i]), options.chunking, run));

  StageTimer wall;
  // The layers' ends (CacheRun::store_layer's entry files) run in the same
  // arena as the graph: on --threads threads, no more.
  tbb::task_arena arena(threads);
  {
    auto timing = wall.time();
    run.errors.guard([&] { arena.execute([&] { run_graph(run, layers, threads); }); });
  }
  if (run.failed()) {
    arena.execute([&] {
      for (auto& layer : layers) layer->store_unfinished();
    });
    if (run.cache) run.cache->finish_failed();
  }
  for (auto& layer : layers)
    if (auto error = layer->error()) return *error;
  if (auto error = run.errors.get()) return *error;
  std::vector<LayerOutcome> outcomes;
  Status finished = ok_status();
  arena.execute([&] {
    for (auto& layer : layers) {
      auto outcome = layer->finish(wall.stats().nanoseconds);
      if (!outcome) {
        finished = outcome.error();
        return;
      }
      outcomes.push_back(std::move(*outcome));
    }
  });
  OCIPACK_TRY(finished);
  if (run.cache && !outcomes.empty()) {
    CacheCounters totals;
    for (const LayerOutcome& outcome : outcomes) add_counters(totals, outcome.result.cache);
    for (std::string& warning : run.cache->finish(totals)) outcomes.front().warnings.push_back(std::move(warning));
  }
  return outcomes;
}

}  // namespace ocipack
