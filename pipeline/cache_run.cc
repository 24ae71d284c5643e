// The chunk cache during one run (cache_run.h).
#include "pipeline/cache_run.h"

#include <algorithm>
#include <cerrno>
#include <ctime>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include "core/codec/crc64.h"
#include "core/util/file_io.h"

namespace ocipack {

namespace {

constexpr size_t k_max_corrupt_notes = 5;  // then one line says how many more

void add_atomic(uint64_t& into, uint64_t value) {
  if (value) std::atomic_ref<uint64_t>(into).fetch_add(value, std::memory_order_relaxed);
}

// `into.size()` bytes of `fd` from `offset`.
Status read_exactly_at(int fd, std::span<std::byte> into, uint64_t offset, const std::string& what) {
  const ssize_t n = pread_full(fd, into.data(), into.size(), offset);
  if (n < 0) return io_error("cannot read " + what + ": " + errno_text(errno));
  if (static_cast<size_t>(n) < into.size()) return corrupt_error(what + " is shorter than written");
  return ok_status();
}

}  // namespace

void add_counters(CacheCounters& into, const CacheCounters& add) {
  add_atomic(into.hits, add.hits);
  add_atomic(into.remote_hits, add.remote_hits);
  add_atomic(into.misses, add.misses);
  add_atomic(into.corrupt, add.corrupt);
  add_atomic(into.bypassed, add.bypassed);
  add_atomic(into.saved_nanoseconds, add.saved_nanoseconds);
}

Result<std::unique_ptr<CacheRun>> CacheRun::open(const ChunkCacheOptions& options, const LayerFormat& format) {
  if (options.dir.empty()) {
    if (!options.remote_url.empty())
      return field_error(ErrorKind::usage, "cache.remote", " needs a local cache (").then_field("cache.dir").then(")");
    return std::unique_ptr<CacheRun>();
  }
  if (!options.remote_url.empty()) OCIPACK_TRY(check_remote_cache_url(options.remote_url));
  OCIPACK_TRY_ASSIGN(ChunkCacheDir dir, ChunkCacheDir::open(options.dir));
  return std::unique_ptr<CacheRun>(new CacheRun(options, std::move(dir), format));
}

CacheRun::CacheRun(const ChunkCacheOptions& options, ChunkCacheDir dir, const LayerFormat& format)
    : m_options(options), m_dir(std::move(dir)) {
  std::string identity = format.cache_identity();
  if (!identity.empty()) {
    for (std::string& problem : m_dir.load_packs()) m_warnings.push_back(std::move(problem));
    m_use.emplace(ChunkCacheUse{m_dir, std::move(identity), *format.compressed_shape()});
  }
  m_remote_on = m_use && !options.remote_url.empty();
  m_remote_put_on = m_remote_on.load();
}

void CacheRun::store_failed(const std::string& problem, bool blocked) {
  if (blocked) {
    note("cache: " + problem);  // only this entry's place: keep storing
  } else if (m_store_on.exchange(false)) {
    note("cache " + m_dir.dir() + ": " + problem + "; going on without storing entries");
  }
}

void CacheRun::note(const std::string& warning) {
  std::lock_guard lock(m_warnings_mutex);
  m_warnings.push_back(warning);
}

CacheWorker& CacheRun::worker() {
  CacheWorker& worker = m_workers.local();
  if (!worker.remote && m_remote_on.load(std::memory_order_relaxed)) {
    auto remote = RemoteCache::open({m_options.remote_url, std::min(m_options.remote_timeout_ms, 2000L),
                                     m_options.remote_timeout_ms});
    if (remote) {
      worker.remote = std::move(*remote);
    } else if (m_remote_on.exchange(false)) {
      note("remote cache: " + remote.error().message + "; building without it");
    }
  }
  return worker;
}

Status CacheRun::compress(Compressor& compressor, Chunk& chunk, CacheCounters& counters) {
  if (!m_use) {
    add_counters(counters, {.bypassed = 1});
    return compress_chunk(compressor, chunk);
  }
  const CacheSwitches switches{m_remote_on.load(std::memory_order_relaxed), m_remote_put_on.load(std::memory_order_relaxed),
                               m_store_on.load(std::memory_order_relaxed), /*defer_store=*/true};
  OCIPACK_TRY_ASSIGN(const CacheOutcome outcome, compress_with_cache(compressor, *m_use, worker(), switches, chunk));
  CacheCounters add;
  add.hits = outcome.origin != ChunkOrigin::compressed;
  add.remote_hits = outcome.origin == ChunkOrigin::remote;
  add.misses = outcome.origin == ChunkOrigin::compressed;
  add.corrupt = outcome.corrupt;
  add.saved_nanoseconds = outcome.saved_nanoseconds;
  add_counters(counters, add);
  if (outcome.stored_bytes > 0) {
    m_stored_bytes.fetch_add(outcome.stored_bytes, std::memory_order_relaxed);
    m_stored_entries.fetch_add(1, std::memory_order_relaxed);
  }
  if (outcome.corrupt) {
    std::lock_guard lock(m_warnings_mutex);
    if (m_corrupt_notes++ < k_max_corrupt_notes) m_warnings.push_back(outcome.corrupt_problem);
  }
  if (!outcome.store_problem.empty()) store_failed(outcome.store_problem, outcome.store_blocked);
  if (!outcome.remote_problem.empty() && m_remote_on.exchange(false))
    note("remote cache: " + outcome.remote_problem + "; building without it");
  if (!outcome.remote_put_problem.empty() && m_remote_put_on.exchange(false))
    note("remote cache: " + outcome.remote_put_problem + "; reading from it, no longer storing there");
  return ok_status();
}

void CacheRun::store_layer(int blob_fd, const Digest& digest, uint64_t size, std::vector<PackRecord> records,
                           const std::vector<std::pair<size_t, PackRecord>>& from_packs, bool unfinished) {
  for (const auto& [pack, record] : from_packs)
    if (m_dir.pack_dropped(pack)) records.push_back(record);
  if (records.empty() || !m_store_on.load()) return;
  std::sort(records.begin(), records.end(), [](const PackRecord& a, const PackRecord& b) { return a.offset < b.offset; });
  uint64_t to_store = 0;
  for (const PackRecord& record : records) to_store += record.size;
  const bool most = to_store >= size - size / 4;
  if (most && (unfinished || to_store >= m_options.pack_min_bytes)) {
    if (auto stored = m_dir.store_pack(blob_fd, {digest, size, records})) {
      m_stored_bytes += *stored;
      m_stored_entries += records.size();
      return;
    }
    // No pack here (another file system, no hard links): entry files instead.
  }
  if (unfinished && to_store > m_options.pack_min_bytes) return;  // too long to write on the way out
  // Entry files, written by the threads of the run's arena (the caller's:
  // run_layer_graph calls this inside it), as the workers wrote them before
  // packs. A cold build of the 2.35 GB tree with its cache on another file
  // system (1 GB of entries) took 3.5 % longer than without a cache when
  // they were written serially, 2.2 % in parallel (3 alternating rounds).
  std::atomic<bool> unreadable{false};
  tbb::parallel_for(tbb::blocked_range<size_t>(0, records.size(), 4), [&](const tbb::blocked_range<size_t>& range) {
    std::vector<std::byte> bytes;
    EncodedEntryParts parts;
    for (size_t i = range.begin(); i != range.end(); ++i) {
      if (!m_store_on.load(std::memory_order_relaxed) || unreadable.load(std::memory_order_relaxed)) return;
      const PackRecord& record = records[i];
      bytes.resize(static_cast<size_t>(record.size));
      Status read = read_exactly_at(blob_fd, bytes, record.offset, "the layer blob");
      if (read && crc64_iso(0, bytes) != record.crc) read = corrupt_error("the layer blob changed while it was stored");
      if (!read) {
        if (!unreadable.exchange(true)) note("cache: " + read.error().message + "; its chunks not stored");
        return;
      }
      encode_cache_entry_parts(record.key, record.frame_sizes, record.compress_nanoseconds, bytes, parts);
      const auto entry = parts.parts();
      if (Status stored = m_dir.store(record.key, entry); !stored) {
        const bool blocked = stored.error().kind == ErrorKind::corrupt;
        store_failed(stored.error().message, blocked);
        if (blocked) continue;
        return;
      }
      uint64_t written = 0;
      for (std::span<const std::byte> part : entry) written += part.size();
      m_stored_bytes += written;
      ++m_stored_entries;
    }
  });
}

std::vector<std::string> CacheRun::finish(const CacheCounters& totals) {
  if (m_corrupt_notes > k_max_corrupt_notes)
    note("cache: " + std::to_string(m_corrupt_notes - k_max_corrupt_notes) + " more corrupt entries recomputed");
  CacheBuildRecord record{std::time(nullptr), totals.hits - totals.remote_hits, totals.remote_hits, totals.misses,
                          totals.corrupt, totals.saved_nanoseconds};
  if (m_use) {
    if (Status recorded = m_dir.record_build(record); !recorded) note("cache: " + recorded.error().message);
  }
  account_stored();
  return std::move(m_warnings);
}

void CacheRun::account_stored() {
  if (m_stored_entries.load() == 0) return;
  // The store is scanned only when its recorded size says it is over the limit.
  auto usage = m_dir.add_usage({m_stored_entries.load(), m_stored_bytes.load()});
  if (usage && usage->bytes > m_options.max_bytes) usage = m_dir.prune(m_options.max_bytes);
  if (!usage) note("cache: " + usage.error().message);
  m_stored_entries = 0;
  m_stored_bytes = 0;
}

}  // namespace ocipack
