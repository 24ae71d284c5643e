// The stage bodies of the layer graph (see layer_stages.h).
#include "pipeline/layer_stages.h"

#include <cstring>
#include <functional>

#include "core/codec/crc64.h"
#include "core/util/file_io.h"
#include "pipeline/stage_clock.h"

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
  m_hash.update_first(piece.bytes);
  m_framing.observe(piece);
  m_size += piece.bytes.size();
}

ChunkKey UncompressedHasher::add_keyed(const StreamPiece& piece) {
  m_hash.update_second(chunk_cache_key_prefix(m_key_identity, piece.frame_ends, piece.bytes.size()));
  m_hash.update_both(piece.bytes);
  m_framing.observe(piece);
  m_size += piece.bytes.size();
  return {m_hash.finish_second()};
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
    chunk.compressed = LargeBuffer(needed);
    chunk.compressed_capacity = needed;
  }
  chunk.compressed_frame_sizes.clear();
  chunk.compressed_offset = 0;
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
  chunk.compressed_offset = 0;
  OCIPACK_TRY_ASSIGN(chunk.compressed_size, compressor.compress(chunk.bytes(), chunk.dictionary_bytes(), output));
  return ok_status();
}

namespace {

// Puts a decoded entry's bytes into the chunk as compress_chunk would have
// (a payload the lookup read into the chunk's own buffer stays where it
// is); false when the entry does not fit the chunk's frames.
bool take_entry(const CacheEntryView& entry, Chunk& chunk) {
  const bool framed = !chunk.frame_ends.empty();
  if (framed != !entry.frame_sizes.empty() || (framed && entry.frame_sizes.size() != chunk.frame_ends.size()))
    return false;
  const std::byte* const buffer = chunk.compressed.get();
  if (std::less_equal<>()(buffer, entry.payload.data()) &&
      std::less_equal<>()(entry.payload.data() + entry.payload.size(), buffer + chunk.compressed_capacity)) {
    chunk.compressed_offset = static_cast<size_t>(entry.payload.data() - buffer);
  } else {
    if (entry.payload.size() > chunk.compressed_capacity) {
      chunk.compressed = LargeBuffer(entry.payload.size());
      chunk.compressed_capacity = entry.payload.size();
    }
    std::memcpy(chunk.compressed.get(), entry.payload.data(), entry.payload.size());
    chunk.compressed_offset = 0;
  }
  chunk.compressed_size = entry.payload.size();
  chunk.compressed_frame_sizes.assign(entry.frame_sizes.begin(), entry.frame_sizes.end());
  return true;
}

// Stores an encoded entry locally; a failure is the outcome's.
void store_entry(const ChunkCacheUse& cache, const ChunkKey& key, std::span<const std::span<const std::byte>> entry,
                 CacheOutcome& outcome) {
  if (Status stored = cache.local.store(key, entry); !stored) {
    outcome.store_problem = stored.error().message;
    outcome.store_blocked = stored.error().kind == ErrorKind::corrupt;
    return;
  }
  for (std::span<const std::byte> part : entry) outcome.stored_bytes += part.size();
}

// The chunk is to be stored once its layer's blob is finished.
void mark_to_store(Chunk& chunk, const ChunkKey& key, uint64_t compress_nanoseconds) {
  chunk.cache_store = true;
  chunk.cache_key = key;
  chunk.cache_compress_nanoseconds = compress_nanoseconds;
  chunk.cache_crc = crc64_iso(0, chunk.compressed_bytes());
}

// Looks in the local store, then the remote; true when the chunk was filled.
bool reuse_entry(const ChunkCacheUse& cache, CacheWorker& worker, CacheSwitches switches, const ChunkKey& key,
                 Chunk& chunk, CacheOutcome& outcome) {
  CacheEntryView entry;
  std::string problem;
  // Read straight into the chunk's output buffer (an entry too large for it
  // goes to the worker's).
  const std::span<std::byte> into(chunk.compressed.get(), chunk.compressed_capacity);
  switch (cache.local.lookup(key, into, worker.entry, entry, problem)) {
    case CacheLookup::hit:
      if (take_entry(entry, chunk)) {
        outcome.origin = ChunkOrigin::local;
        outcome.saved_nanoseconds = entry.compress_nanoseconds;
        if (entry.pack) {
          chunk.cache_key = key;
          chunk.cache_pack = entry.pack;
          chunk.cache_compress_nanoseconds = entry.compress_nanoseconds;
          chunk.cache_crc = entry.crc;
        }
        return true;
      }
      if (entry.pack) {
        problem = cache.local.drop_pack(*entry.pack, "a chunk's frames do not match it");
        if (problem.empty()) break;  // dropped already, and reported
      } else {
        problem = "cache entry " + cache.local.dir() + "/" + cache_entry_path(key) +
                  ": frames do not match the chunk; recomputed";
      }
      [[fallthrough]];
    case CacheLookup::corrupt:
      outcome.corrupt = true;
      outcome.corrupt_problem = problem;
      break;
    case CacheLookup::miss: break;
  }
  if (!switches.remote || !worker.remote) return false;
  const std::string path = cache_entry_path(key);
  const RemoteReply reply = worker.remote->get(path, worker.entry);
  if (reply.outcome == RemoteOutcome::failed) outcome.remote_problem = reply.problem;
  if (reply.outcome != RemoteOutcome::hit) return false;
  auto decoded = decode_cache_entry(worker.entry, key);
  Status usable = decoded ? check_entry_payload(cache.shape, *decoded, chunk.frame_ends, chunk.bytes())
                          : Status(decoded.error());
  if (usable && !take_entry(*decoded, chunk)) usable = corrupt_error("frames do not match the chunk");
  if (!usable) {
    outcome.corrupt = true;
    outcome.corrupt_problem = "remote cache entry " + path + ": " + usable.error().message + "; recomputed and replaced";
    return false;
  }
  outcome.origin = ChunkOrigin::remote;
  outcome.saved_nanoseconds = decoded->compress_nanoseconds;
  if (switches.store && switches.defer_store) {
    mark_to_store(chunk, key, decoded->compress_nanoseconds);
  } else if (switches.store) {
    const std::span<const std::byte> whole[] = {worker.entry};
    store_entry(cache, key, whole, outcome);
  }
  return true;
}

}  // namespace

Result<CacheOutcome> compress_with_cache(Compressor& compressor, const ChunkCacheUse& cache, CacheWorker& worker,
                                         CacheSwitches switches, Chunk& chunk) {
  const ChunkKey key = chunk.cache_key ? *chunk.cache_key : chunk_cache_key(cache.identity, chunk.frame_ends, chunk.bytes());
  CacheOutcome outcome;
  chunk.cache_store = false;
  chunk.cache_pack.reset();
  if (reuse_entry(cache, worker, switches, key, chunk, outcome)) return outcome;
  const uint64_t started = monotonic_ns();
  OCIPACK_TRY(compress_chunk(compressor, chunk));
  const uint64_t nanoseconds = monotonic_ns() - started;
  const std::span<const size_t> frames =
      chunk.frame_ends.empty() ? std::span<const size_t>{} : std::span<const size_t>(chunk.compressed_frame_sizes);
  const bool put = switches.remote && switches.remote_put && worker.remote && outcome.remote_problem.empty();
  if (switches.store && switches.defer_store) {
    mark_to_store(chunk, key, nanoseconds);
    switches.store = false;  // not now: from the blob
  }
  if (!put) {
    // Local only: written straight from the chunk's buffer (writev), no copy.
    if (switches.store) {
      encode_cache_entry_parts(key, frames, nanoseconds, chunk.compressed_bytes(), worker.entry_parts);
      store_entry(cache, key, worker.entry_parts.parts(), outcome);
    }
    return outcome;
  }
  encode_cache_entry(key, frames, nanoseconds, chunk.compressed_bytes(), worker.entry);
  const std::span<const std::byte> whole[] = {worker.entry};
  if (switches.store) store_entry(cache, key, whole, outcome);
  const RemoteReply reply = worker.remote->put(cache_entry_path(key), worker.entry);
  if (reply.outcome != RemoteOutcome::hit) outcome.remote_put_problem = reply.problem;
  return outcome;
}

std::span<const size_t> written_frame_sizes(const Chunk& chunk) {
  if (!chunk.frame_ends.empty()) return chunk.compressed_frame_sizes;
  return {&chunk.compressed_size, 1};
}

Status BlobSink::append(std::span<const std::byte> bytes) {
  m_hash.update(bytes);
  m_size += bytes.size();
  OCIPACK_TRY(write_all(m_fd, bytes, m_name));
  if (m_size - m_written_back >= k_writeback_bytes) {
    start_writeback(m_fd, m_written_back, m_size - m_written_back);
    m_written_back = m_size;
  }
  if (m_size - m_flush_asked >= m_flush_bytes) {
    m_flusher.request();
    m_flush_asked = m_size;
  }
  return ok_status();
}

}  // namespace ocipack
