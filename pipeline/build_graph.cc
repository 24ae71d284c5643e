// The layer pipeline's TBB flow graph — the one place where stages are wired.
// Read top to bottom, one line per stage:
//
//   read_tar (serial producer: walk + tar headers + read() into chunk buffers)
//     → limit_in_flight (at most 2 × threads + 2 chunks exist: bounded memory)
//     → fan_out ─┬→ compress (parallel, one reused Compressor per worker)
//                │     → compressed_in_order (sequencer) → write_blob (serial:
//                │       SHA-256 of the blob + append to the blob file)
//                └→ tar_in_order (sequencer) → hash_diff_id (serial: SHA-256 of
//                      the uncompressed stream, concurrent with compression)
//     → both_done (join on chunk index) → recycle (buffer back to the pool,
//       and a token back to limit_in_flight)
//
// In the single-member gzip format the blob is framed around the graph: the
// gzip header is written before it runs, each chunk is a non-final piece of
// one deflate stream, hash_diff_id also keeps the CRC-32, and the final empty
// block and the trailer are appended after it drains.
//
// Chunk order is restored by sequencers, so the blob is identical for any
// thread count. Errors: the first one is kept, later stages skip work for the
// remaining chunks but still pass them on, so every chunk is recycled and the
// graph drains without cancellation.
#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <vector>

#include "core/util/file_io.h"
#include "pipeline/stage_clock.h"
#include "pipeline/layer_pipeline.h"

namespace ocipack {

namespace flow = tbb::flow;

Status compress_chunk(Compressor& compressor, GzipFormat format, Chunk& chunk) {
  std::span<std::byte> output(chunk.compressed.get(), chunk.compressed_capacity);
  auto size = format == GzipFormat::members
                  ? compressor.compress_member(chunk.bytes(), output)
                  : compressor.compress_piece(chunk.bytes(), chunk.dictionary_bytes(), output);
  if (!size) return size.error();
  chunk.compressed_size = *size;
  return ok_status();
}

Status append_compressed(int blob_fd, const std::string& blob_name, Sha256& blob_hash,
                         const Chunk& chunk) {
  blob_hash.update(chunk.compressed_bytes());
  return write_all(blob_fd, chunk.compressed_bytes(), blob_name);
}

namespace {


// Adds the time since construction to an atomic counter (parallel stages).
class ScopedTimer {
 public:
  explicit ScopedTimer(std::atomic<uint64_t>& total) : m_total(total), m_start(monotonic_ns()) {}
  ~ScopedTimer() { m_total.fetch_add(monotonic_ns() - m_start, std::memory_order_relaxed); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  std::atomic<uint64_t>& m_total;
  uint64_t m_start;
};

// Chunk objects, allocated on first need and recycled; thread-safe.
class ChunkPool {
 public:
  ChunkPool(size_t capacity, size_t compressed_capacity, bool with_dictionary)
      : m_capacity(capacity),
        m_compressed_capacity(compressed_capacity),
        m_with_dictionary(with_dictionary) {}

  Chunk* acquire() {
    Chunk* chunk = nullptr;
    if (m_free.try_pop(chunk)) return chunk;
    auto fresh = std::make_unique<Chunk>();
    fresh->data = std::make_unique_for_overwrite<std::byte[]>(m_capacity);
    fresh->capacity = m_capacity;
    fresh->compressed = std::make_unique_for_overwrite<std::byte[]>(m_compressed_capacity);
    fresh->compressed_capacity = m_compressed_capacity;
    if (m_with_dictionary) fresh->dictionary = std::make_unique_for_overwrite<std::byte[]>(k_deflate_window);
    std::lock_guard lock(m_mutex);
    m_all.push_back(std::move(fresh));
    return m_all.back().get();
  }
  void release(Chunk* chunk) { m_free.push(chunk); }
  size_t allocated() {
    std::lock_guard lock(m_mutex);
    return m_all.size();
  }

 private:
  size_t m_capacity;
  size_t m_compressed_capacity;
  bool m_with_dictionary;
  tbb::concurrent_queue<Chunk*> m_free;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<Chunk>> m_all;
};

// The first error wins; `failed()` is cheap to poll from every stage.
class FirstError {
 public:
  void record(const Error& error) {
    std::lock_guard lock(m_mutex);
    if (!m_error) m_error = error;
    m_failed.store(true, std::memory_order_release);
  }
  bool failed() const { return m_failed.load(std::memory_order_acquire); }
  std::optional<Error> get() {
    std::lock_guard lock(m_mutex);
    return m_error;
  }

 private:
  std::mutex m_mutex;
  std::optional<Error> m_error;
  std::atomic<bool> m_failed{false};
};

}  // namespace

Result<LayerResult> run_layer_pipeline(TarChunker& chunker, const LayerPipelineOptions& options,
                                       int blob_fd, const std::string& blob_name) {
  auto probe = make_compressor(options.codec);  // validates the codec options
  if (!probe) return probe.error();
  const uint64_t started = monotonic_ns();
  const int threads = std::max(1, options.threads);
  const GzipFormat format = options.codec.format;
  const bool single = format == GzipFormat::single;
  const bool use_dictionary = single && options.codec.dictionary;
  const size_t capacity = options.chunking.capacity();
  ChunkPool pool(capacity, (*probe)->bound(capacity), use_dictionary);
  FirstError first_error;
  Sha256 diff_id_hash;
  Sha256 blob_hash;
  uint32_t crc = 0;
  LayerResult result;
  std::atomic<uint64_t> compress_ns{0}, compress_bytes{0};
  uint64_t hash_ns = 0, write_ns = 0, tar_written = 0;
  // The producer's copy of the last 32 KiB of stream (single + dictionary).
  std::vector<std::byte> window;
  tbb::enumerable_thread_specific<std::unique_ptr<Compressor>> compressors([&options] {
    auto compressor = make_compressor(options.codec);
    if (!compressor) throw std::runtime_error(compressor.error().message);
    return std::move(*compressor);
  });

  auto append_framing = [&](std::span<const std::byte> bytes) -> Status {
    blob_hash.update(bytes);
    result.compressed_size += bytes.size();
    return write_all(blob_fd, bytes, blob_name);
  };
  if (single) OCIPACK_TRY(append_framing(gzip_header()));

  try {
    // More threads than cores is the user's explicit choice: raise TBB's
    // process-wide worker limit for this run instead of letting TBB warn.
    std::optional<tbb::global_control> allow_oversubscription;
    if (threads > tbb::info::default_concurrency())
      allow_oversubscription.emplace(tbb::global_control::max_allowed_parallelism,
                                     static_cast<size_t>(threads));
    tbb::task_arena arena(threads);
    arena.execute([&] {
      flow::graph g;  // created inside the arena, so it runs on the arena's threads
      uint64_t next_index = 0;

      flow::input_node<Chunk*> read_tar(g, [&](tbb::flow_control& control) -> Chunk* {
        if (options.cancel && options.cancel->load(std::memory_order_relaxed))
          first_error.record(make_error("interrupted"));
        if (first_error.failed()) {
          control.stop();
          return nullptr;
        }
        Chunk* chunk = pool.acquire();
        if (use_dictionary) {
          std::memcpy(chunk->dictionary.get(), window.data(), window.size());
          chunk->dictionary_size = window.size();
        }
        auto more = chunker.fill(*chunk);
        if (!more || !*more) {
          if (!more) first_error.record(more.error());
          pool.release(chunk);
          control.stop();
          return nullptr;
        }
        if (use_dictionary) {
          // Keep the stream's last 32 KiB for the next chunk's dictionary.
          auto bytes = chunk->bytes();
          if (bytes.size() >= k_deflate_window) {
            window.assign(bytes.end() - k_deflate_window, bytes.end());
          } else {
            window.insert(window.end(), bytes.begin(), bytes.end());
            if (window.size() > k_deflate_window)
              window.erase(window.begin(), window.end() - k_deflate_window);
          }
        }
        chunk->index = next_index++;
        return chunk;
      });
      flow::limiter_node<Chunk*> limit_in_flight(g, max_chunks_in_flight(threads));
      flow::broadcast_node<Chunk*> fan_out(g);
      flow::function_node<Chunk*, Chunk*> compress(g, flow::unlimited, [&](Chunk* chunk) {
        if (!first_error.failed()) {
          ScopedTimer timer(compress_ns);
          auto status = compress_chunk(*compressors.local(), format, *chunk);
          if (!status) first_error.record(status.error());
          compress_bytes.fetch_add(chunk->size, std::memory_order_relaxed);
        }
        return chunk;
      });
      flow::sequencer_node<Chunk*> compressed_in_order(g, [](Chunk* c) { return c->index; });
      flow::function_node<Chunk*, Chunk*> write_blob(g, flow::serial, [&](Chunk* chunk) {
        if (!first_error.failed()) {
          const uint64_t t0 = monotonic_ns();
          auto status = append_compressed(blob_fd, blob_name, blob_hash, *chunk);
          if (!status) first_error.record(status.error());
          result.compressed_size += chunk->compressed_size;
          result.stats.write.bytes += chunk->compressed_size;
          ++result.chunks;
          tar_written += chunk->size;
          write_ns += monotonic_ns() - t0;
          if (options.on_progress) options.on_progress(tar_written, result.compressed_size);
        }
        return chunk;
      });
      flow::sequencer_node<Chunk*> tar_in_order(g, [](Chunk* c) { return c->index; });
      flow::function_node<Chunk*, Chunk*> hash_diff_id(g, flow::serial, [&](Chunk* chunk) {
        const uint64_t t0 = monotonic_ns();
        diff_id_hash.update(chunk->bytes());
        if (single) crc = crc32_update(crc, chunk->bytes());
        result.uncompressed_size += chunk->size;
        hash_ns += monotonic_ns() - t0;
        return chunk;
      });
      using ChunkPair = std::tuple<Chunk*, Chunk*>;
      auto tag = [](Chunk* c) { return static_cast<flow::tag_value>(c->index); };
      flow::join_node<ChunkPair, flow::tag_matching> both_done(g, tag, tag);
      flow::function_node<ChunkPair, flow::continue_msg> recycle(
          g, flow::unlimited, [&](const ChunkPair& pair) {
            pool.release(std::get<0>(pair));
            return flow::continue_msg();
          });

      flow::make_edge(read_tar, limit_in_flight);
      flow::make_edge(limit_in_flight, fan_out);
      flow::make_edge(fan_out, compress);
      flow::make_edge(compress, compressed_in_order);
      flow::make_edge(compressed_in_order, write_blob);
      flow::make_edge(write_blob, flow::input_port<0>(both_done));
      flow::make_edge(fan_out, tar_in_order);
      flow::make_edge(tar_in_order, hash_diff_id);
      flow::make_edge(hash_diff_id, flow::input_port<1>(both_done));
      flow::make_edge(both_done, recycle);
      flow::make_edge(recycle, limit_in_flight.decrementer());

      read_tar.activate();
      g.wait_for_all();
    });
  } catch (const std::exception& e) {
    return make_error(std::string("layer pipeline failed: ") + e.what());
  }

  if (auto error = first_error.get()) return *error;
  if (single) {
    OCIPACK_TRY(append_framing(k_deflate_final_block));
    OCIPACK_TRY(append_framing(gzip_trailer(crc, result.uncompressed_size)));
  }
  result.digest = blob_hash.finish();
  result.diff_id = diff_id_hash.finish();
  result.chunk_buffers = pool.allocated();
  result.chunker = chunker.counters();
  PipelineStats& stats = result.stats;
  stats.walk = {result.chunker.walk_nanoseconds, result.chunker.tar_bytes - result.chunker.data_bytes};
  stats.read = {result.chunker.read_nanoseconds, result.chunker.data_bytes};
  stats.compress = {compress_ns.load(), compress_bytes.load()};
  stats.hash_diff_id = {hash_ns, result.uncompressed_size};
  stats.write.nanoseconds = write_ns;
  stats.wall_nanoseconds = monotonic_ns() - started;
  return result;
}

}  // namespace ocipack
