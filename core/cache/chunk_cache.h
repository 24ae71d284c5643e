// ChunkCacheDir: the local, content-addressed store of compressed chunks
// (issue 15) behind `--cache DIR`. One file per entry (cache_entry.h) under
// DIR/chunks/ab/<hex>, written to a temp file in the same directory and
// renamed, without fsync: a torn entry after a crash fails its checksum and
// is recomputed, never used. Safe for many builds at once (each lookup and
// store is a few system calls on its own file; rename is atomic) and for
// concurrent calls from several threads of one build: the object is
// immutable after open() and load_packs() (a directory fd, options and
// the loaded packs, whose only changing state is atomic flags).
//
// Least-recently-used eviction: a hit sets the entry's mtime to now
// (touch), so `prune` removes the oldest mtimes first until the store fits.
// The last builds' figures are appended as one line each to DIR/builds.log
// (O_APPEND, so concurrent builds do not tear each other's lines).
//
// Packs (pack_index.h): a cold build that compressed most of a layer anew
// hard-links the layer blob into DIR/packs/<blob hex>.pack and writes
// DIR/packs/<blob hex>.idx (key → offset, size, frames, CRC of each chunk it
// compressed) instead of an entry file per chunk: the chunks are written
// once, not twice. load_packs() reads the indexes once per build (the 64
// most recently used packs at most, one descriptor each); a lookup asks
// the packs before the entry files, preads the chunk and checks its CRC (a
// pack is the layout's blob file too: a blob rewritten in place is caught,
// the pack dropped — its index removed — and the chunk recomputed).
// A pack is used, touched and pruned whole; its size counts the blob's
// full size (even while the layout holds the same inode).
//
// Size: DIR/usage holds "BYTES ENTRIES", an estimate of the store's size
// that each build adds what it stored to (add_usage, under flock) and that
// every full scan (usage(), prune()) sets to what it counted. A build only
// scans the store (hundreds of directories) when the estimate says it is
// over its limit, or when the file is missing or unreadable. The estimate
// errs high (entries stored twice, removed by hand: the next scan corrects
// it); it can be low only by what builds stored while a scan ran (a build
// that failed or was interrupted adds what it kept too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/cache/cache_entry.h"
#include "core/cache/pack_index.h"
#include "core/util/result.h"
#include "core/util/unique_fd.h"

namespace ocipack {

inline constexpr uint64_t k_default_cache_max_bytes = uint64_t{5} << 30;  // 5 GiB

// What a lookup found.
enum class CacheLookup { hit, miss, corrupt };

// One build's cache figures (also what builds.log records).
struct CacheBuildRecord {
  int64_t finished_at = 0;  // seconds since the epoch
  uint64_t hits = 0;        // local hits
  uint64_t remote_hits = 0;
  uint64_t misses = 0;      // compressed (and stored)
  uint64_t corrupt = 0;     // entries refused and recomputed
  uint64_t saved_nanoseconds = 0;  // compression time the hits saved (as recorded in them)
};

struct CacheUsage {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // sum of the entries' file sizes
};

struct PackSet;  // the loaded packs (chunk_cache.cc)

class ChunkCacheDir {
 public:
  // Opens DIR, creating it (and DIR/chunks) if missing — unless `create`
  // is false (looking after a cache: a missing DIR is an input error).
  // Refuses a DIR that is not a directory (a symlink to one is allowed:
  // the user named it). Errors name the field "cache.dir".
  static Result<ChunkCacheDir> open(const std::string& dir, bool create = true);

  const std::string& dir() const { return m_dir; }

  // Reads the entry of `key` into `into` when it fits there, else into
  // `spill` (resized), and decodes it into `view` (pointing into whichever
  // held it: a caller that passes its output buffer as `into` gets the
  // payload in place, without a copy). A corrupt entry is removed, reported
  // in `problem` ("cache entry chunks/ab/…: checksum mismatch") and
  // returned as corrupt, so the caller recomputes it. A hit touches the
  // entry. `into`'s bytes are unspecified after a miss or a corrupt entry.
  CacheLookup lookup(const ChunkKey& key, std::span<std::byte> into, std::vector<std::byte>& spill,
                     CacheEntryView& view, std::string& problem) const;
  // Stores an encoded entry (encode_cache_entry) under its key: temp file
  // and rename. An error leaves no partial entry behind: kind io when the
  // cache cannot take entries (a full disk, no permission), kind corrupt
  // when only this entry's place is blocked (a directory in it).
  Status store(const ChunkKey& key, std::span<const std::byte> encoded_entry) const {
    const std::span<const std::byte> parts[] = {encoded_entry};
    return store(key, parts);
  }
  // The same, for an entry in parts written one after the other
  // (EncodedEntryParts::parts(): the payload is not copied).
  Status store(const ChunkKey& key, std::span<const std::span<const std::byte>> encoded_parts) const;

  // Reads every pack index (DIR/packs/*.idx whose pack is a regular file of
  // the index's blob size), so lookups find their chunks. Called once,
  // before any lookup (not thread-safe). Returns a line per index refused
  // (and removed: "cache pack index DIR/packs/….idx: checksum mismatch;
  // removed"), for the build's warnings.
  std::vector<std::string> load_packs();
  // Chunks the loaded packs hold (0 before load_packs).
  size_t packed_chunks() const;
  // Whether loaded pack `pack` (CacheEntryView::pack) was found damaged and
  // dropped by a lookup: the chunks read from it before are good (their CRC
  // held) but no longer stored anywhere.
  bool pack_dropped(size_t pack) const;
  // Drops loaded pack `pack` (a chunk read from it does not fit its chunk):
  // used no more, its index removed. Returns the warning ("cache pack
  // DIR/packs/….pack: WHY; pack dropped, recomputed"), or "" when it was
  // dropped already (one warning per pack).
  std::string drop_pack(size_t pack, const std::string& why) const;

  // Hard-links the finished blob open as `blob_fd` (its size is
  // index.blob_size) into DIR/packs/<hex>.pack and writes its index (temp
  // file and rename, after the pack). Returns the bytes it added (the
  // blob's and the index's). An error (EXDEV: the cache is on another file
  // system; a full disk) leaves no pack behind: the caller stores entries.
  Result<uint64_t> store_pack(int blob_fd, const PackIndex& index) const;

  // Counts every entry and every packed chunk (a full scan; a pack's bytes
  // are its blob's and its index's) and records the result in DIR/usage.
  Result<CacheUsage> usage() const;
  // Adds what a build stored to DIR/usage and returns the new estimate; a
  // missing or unreadable DIR/usage is replaced by a full scan's count.
  Result<CacheUsage> add_usage(const CacheUsage& stored) const;
  // Removes least-recently-used entries and packs (a pack whole: its
  // index's time is its last use) until the store holds at most
  // `max_bytes`; also stale temp files, packs without an index and indexes
  // without a pack. Returns what is left (and records
  // it in DIR/usage).
  Result<CacheUsage> prune(uint64_t max_bytes) const;

  Status record_build(const CacheBuildRecord& record) const;
  // The last `count` records of builds.log, oldest first (lines that do not
  // parse are skipped).
  Result<std::vector<CacheBuildRecord>> recent_builds(size_t count) const;

 private:
  ChunkCacheDir(std::string dir, UniqueFd fd) : m_dir(std::move(dir)), m_fd(std::move(fd)) {}
  CacheLookup lookup_packed(const ChunkKey& key, std::span<std::byte> into, std::vector<std::byte>& spill,
                            CacheEntryView& view, std::string& problem) const;
  std::string m_dir;
  UniqueFd m_fd;
  std::shared_ptr<const PackSet> m_packs;  // load_packs(); null: none loaded
};

}  // namespace ocipack
