// The chunk cache during one run (cache_run.h).
#include "pipeline/cache_run.h"

#include <ctime>

namespace ocipack {

namespace {

constexpr size_t k_max_corrupt_notes = 5;  // then one line says how many more

void add_atomic(uint64_t& into, uint64_t value) {
  if (value) std::atomic_ref<uint64_t>(into).fetch_add(value, std::memory_order_relaxed);
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
  if (!identity.empty()) m_use.emplace(ChunkCacheUse{m_dir, std::move(identity), *format.compressed_shape()});
  m_remote_on = m_use && !options.remote_url.empty();
  m_remote_put_on = m_remote_on.load();
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
                               m_store_on.load(std::memory_order_relaxed)};
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
  if (outcome.store_blocked) {
    note("cache: " + outcome.store_problem);
  } else if (!outcome.store_problem.empty() && m_store_on.exchange(false)) {
    note("cache " + m_dir.dir() + ": " + outcome.store_problem + "; going on without storing entries");
  }
  if (!outcome.remote_problem.empty() && m_remote_on.exchange(false))
    note("remote cache: " + outcome.remote_problem + "; building without it");
  if (!outcome.remote_put_problem.empty() && m_remote_put_on.exchange(false))
    note("remote cache: " + outcome.remote_put_problem + "; reading from it, no longer storing there");
  return ok_status();
}

std::vector<std::string> CacheRun::finish(const CacheCounters& totals) {
  if (m_corrupt_notes > k_max_corrupt_notes)
    note("cache: " + std::to_string(m_corrupt_notes - k_max_corrupt_notes) + " more corrupt entries recomputed");
  CacheBuildRecord record{std::time(nullptr), totals.hits - totals.remote_hits, totals.remote_hits, totals.misses,
                          totals.corrupt, totals.saved_nanoseconds};
  if (m_use) {
    if (Status recorded = m_dir.record_build(record); !recorded) note("cache: " + recorded.error().message);
  }
  if (m_stored_entries.load() > 0) {
    // The store is scanned only when its recorded size says it is over the limit.
    auto usage = m_dir.add_usage({m_stored_entries.load(), m_stored_bytes.load()});
    if (usage && usage->bytes > m_options.max_bytes) usage = m_dir.prune(m_options.max_bytes);
    if (!usage) note("cache: " + usage.error().message);
  }
  return std::move(m_warnings);
}

}  // namespace ocipack
