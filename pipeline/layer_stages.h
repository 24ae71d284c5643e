// The stage bodies of the layer graph (pipeline/layer_graph.cc), as plain
// functions and small classes that know nothing of TBB, so each is tested
// on its own (tests/unit/pipeline/layer_stages_test.cc):
//   produce_chunk       — the next slice of the tar stream, with the
//                         history the layer format asks for;
//   UncompressedHasher  — the diff_id (SHA-256 of the tar stream) and what
//                         the format observes of that stream (CRC-32);
//                         with a chunk cache, each chunk's cache key too,
//                         hashed beside the diff_id (Sha256Pair);
//   compress_chunk      — one chunk through the format's compressor (one
//                         output per frame when the chunk has several);
//   compress_with_cache — the same, but a chunk compressed before (same
//                         bytes, same format) is read from the chunk cache
//                         (local, then remote) instead, and a new one is
//                         stored there;
//   BlobSink            — appends to the blob file, hashing as it goes,
//                         and has it flushed to disk in the background.
// Timing (--stats) and progress are the graph's business, not theirs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/cache/chunk_cache.h"
#include "core/cache/entry_check.h"
#include "core/cache/remote_cache.h"
#include "core/codec/codec.h"
#include "core/layer/layer_format.h"
#include "core/util/digest.h"
#include "core/util/result.h"
#include "core/util/sha256.h"
#include "core/util/sha256_pair.h"
#include "pipeline/blob_flusher.h"
#include "pipeline/chunk.h"
#include "pipeline/chunker.h"

namespace ocipack {

// The last (up to) `capacity` bytes of a stream seen so far: the history a
// layer format's chunks may refer back into. Capacity 0 keeps nothing.
class StreamWindow {
 public:
  explicit StreamWindow(size_t capacity) : m_capacity(capacity) { m_bytes.reserve(capacity); }
  size_t capacity() const { return m_capacity; }
  std::span<const std::byte> bytes() const { return m_bytes; }
  void append(std::span<const std::byte> bytes);

 private:
  size_t m_capacity;
  std::vector<std::byte> m_bytes;
};

// Producer stage: fills `chunk` with the next bytes of the layer's tar
// stream (TarChunker::fill) and, when `history` has a capacity, gives the
// chunk the stream's bytes before it as its dictionary, then remembers the
// chunk's bytes for the next one. Returns false at the end of the stream.
Result<bool> produce_chunk(TarChunker& chunker, StreamWindow& history, Chunk& chunk);

// diff_id stage: sees the uncompressed stream in chunk order, hashing it for
// the diff_id and showing it to the blob's framing (which may keep a CRC,
// or a table of contents).
class UncompressedHasher {
 public:
  // `key_identity`: the format's cache identity when chunks get cache keys
  // (a run with a chunk cache), else empty.
  explicit UncompressedHasher(BlobFraming& framing, std::string key_identity = {})
      : m_framing(framing), m_key_identity(std::move(key_identity)) {}
  void add(const StreamPiece& piece);
  // add(), and the chunk's cache key — chunk_cache_key(key identity, frame
  // ends, bytes) — hashed in the same pass over the bytes (the two SHA-256
  // streams interleaved where the CPU has SHA-NI). Needs a key identity.
  ChunkKey add_keyed(const StreamPiece& piece);
  bool keys_chunks() const { return !m_key_identity.empty(); }
  uint64_t size() const { return m_size; }
  Digest finish() { return m_hash.finish_first(); }

 private:
  BlobFraming& m_framing;
  std::string m_key_identity;
  Sha256Pair m_hash;  // first: the diff_id; second: the current chunk's key
  uint64_t m_size = 0;
};

// Compress stage: compresses chunk.bytes() (with its dictionary, if any)
// into chunk.compressed and sets chunk.compressed_size. A chunk with frame
// ends is compressed frame by frame, each frame's output on its own (sizes
// in chunk.compressed_frame_sizes); the output buffer grows if the frames'
// bounds need more than it has.
Status compress_chunk(Compressor& compressor, Chunk& chunk);

// The compressed size of each frame the chunk was written as: its frame
// sizes, or its whole output for a chunk that is one frame.
std::span<const size_t> written_frame_sizes(const Chunk& chunk);

// The chunk cache as the compress stage uses it (issue 15).
struct ChunkCacheUse {
  const ChunkCacheDir& local;
  std::string identity;   // LayerFormat::cache_identity(), never empty here
  CompressedShape shape;  // LayerFormat::compressed_shape(): how remote entries are checked
};

// One worker thread's cache state: its entry buffer (reused) and its
// connection to the remote, if there is one.
struct CacheWorker {
  std::vector<std::byte> entry;        // an entry read, or encoded whole for a PUT
  EncodedEntryParts entry_parts;       // an entry encoded for a local store only
  std::unique_ptr<RemoteCache> remote;
};

// What the run still allows (switched off after a failure, for the rest
// of the build): asking the remote, storing entries there (a read-only
// mirror refuses PUTs but still serves), and storing entries locally.
struct CacheSwitches {
  bool remote = false;
  bool remote_put = false;
  bool store = true;
  // Store locally later, from the finished blob (a pack or entry files:
  // CacheRun::store_layer): the chunk is marked (Chunk::cache_store)
  // instead of an entry written now.
  bool defer_store = false;
};

enum class ChunkOrigin { compressed, local, remote };

struct CacheOutcome {
  ChunkOrigin origin = ChunkOrigin::compressed;
  uint64_t saved_nanoseconds = 0;  // the compression time recorded in the entry used
  bool corrupt = false;            // an entry was refused (and recomputed)
  std::string corrupt_problem;     // which, and why
  uint64_t stored_bytes = 0;       // the size of the entry stored locally (0: none stored)
  std::string store_problem;       // storing locally failed (a full disk): stop storing
  bool store_blocked = false;      // only this entry's place is blocked: warn, keep storing
  std::string remote_problem;      // a GET failed: stop asking the remote
  std::string remote_put_problem;  // a PUT failed: stop storing there
};

// Compress stage with a cache: the chunk's key (chunk.cache_key, set by the
// diff_id stage; computed here — chunk_cache_key over the identity, frame
// ends and bytes — when it is not set); a valid local entry, else a valid
// remote entry — one whose every frame decodes to the chunk
// (check_entry_payload): the remote is not ours to trust — (then also
// stored locally), fills chunk.compressed (and its
// frame sizes) exactly as compress_chunk would; otherwise compress_chunk,
// then store the entry locally (or, with switches.defer_store, mark the
// chunk to be stored from the blob) and PUT it to the remote. Cache
// failures are outcomes, never errors: only compression fails the stage.
Result<CacheOutcome> compress_with_cache(Compressor& compressor, const ChunkCacheUse& cache, CacheWorker& worker,
                                         CacheSwitches switches, Chunk& chunk);

// Write stage: appends bytes to the blob file `fd` and hashes them for the
// blob's digest, starting the disk writes of every k_writeback_bytes
// written and asking for a flush (BlobFlusher: fdatasync on a thread of its
// own) of every `flush_bytes`, so the fsync that commits the blob has
// little left to do. settle() ends the flushing before the commit and
// reports a flush that failed. Errors name the file as `name`.
class BlobSink {
 public:
  BlobSink(int fd, std::string name, uint64_t flush_bytes = k_blob_flush_bytes,
           BlobFlusher::SyncFunction sync = nullptr)
      : m_fd(fd), m_name(std::move(name)), m_flush_bytes(flush_bytes), m_flusher(fd, m_name, sync) {}
  Status append(std::span<const std::byte> bytes);
  uint64_t size() const { return m_size; }
  Digest finish() { return m_hash.finish(); }
  Status settle() { return m_flusher.stop(); }
  uint64_t flushes() const { return m_flusher.flushes(); }

 private:
  int m_fd;
  std::string m_name;
  Sha256 m_hash;
  uint64_t m_size = 0;
  uint64_t m_written_back = 0;   // bytes whose writeback was started
  uint64_t m_flush_bytes;
  uint64_t m_flush_asked = 0;    // m_size when a flush was last asked for
  BlobFlusher m_flusher;
};

inline constexpr uint64_t k_writeback_bytes = uint64_t{1} << 20;

}  // namespace ocipack
