// Progress bar and --stats formatting (see progress.h).
#include "cli/progress.h"

#include <algorithm>

namespace ocipack::cli {

std::string human_bytes(uint64_t bytes) {
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (bytes >= (1ULL << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1ULL << 30));
  else if (bytes >= (1ULL << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1ULL << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  return buf;
}

ProgressBar::ProgressBar(std::FILE* out, uint64_t total_tar_bytes)
    : m_out(out), m_total(std::max<uint64_t>(total_tar_bytes, 1)),
      m_start(std::chrono::steady_clock::now()), m_last_draw(m_start) {}

void ProgressBar::update(uint64_t tar_bytes, uint64_t blob_bytes) {
  auto now = std::chrono::steady_clock::now();
  if (m_drawn && now - m_last_draw < std::chrono::milliseconds(100) && tar_bytes < m_total) return;
  m_last_draw = now;
  m_drawn = true;
  const double seconds = std::chrono::duration<double>(now - m_start).count();
  const double fraction = std::min(1.0, static_cast<double>(tar_bytes) / static_cast<double>(m_total));
  const double rate = seconds > 0 ? static_cast<double>(tar_bytes) / seconds : 0;
  const double eta = rate > 0 ? static_cast<double>(m_total - std::min(tar_bytes, m_total)) / rate : 0;
  constexpr int k_width = 24;
  const int filled = static_cast<int>(fraction * k_width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(k_width - filled), '.');
  std::fprintf(m_out, "\r[%s] %3.0f%%  %s/%s  %.0f MB/s  ratio %.2f  ETA %.0fs \033[K", bar.c_str(),
               fraction * 100, human_bytes(tar_bytes).c_str(), human_bytes(m_total).c_str(), rate / 1e6,
               tar_bytes ? static_cast<double>(blob_bytes) / static_cast<double>(tar_bytes) : 0.0, eta);
  std::fflush(m_out);
}

void ProgressBar::finish() {
  if (m_drawn) std::fputs("\r\033[K", m_out);
  std::fflush(m_out);
}

namespace {
// The --stats table's first column: wide enough for its longest row name.
constexpr int k_stage_width = 24;
constexpr double k_mib = 1024.0 * 1024.0;

// One row: name, seconds, share of the wall time, MiB/s, bytes.
std::string stats_row(const char* name, double seconds, double wall, uint64_t bytes) {
  char line[256];
  std::snprintf(line, sizeof line, "%-*s %9.3f %7.0f%% %11.1f %12llu\n", k_stage_width, name, seconds,
                wall > 0 ? 100.0 * seconds / wall : 0.0,
                seconds > 0 ? static_cast<double>(bytes) / seconds / k_mib : 0.0,
                static_cast<unsigned long long>(bytes));
  return line;
}
}  // namespace

std::string format_stats(const LayerResult& layer, int threads) {
  const PipelineStats& s = layer.stats;
  const double wall = static_cast<double>(s.wall_nanoseconds) / 1e9;
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %9s %8s %11s %12s\n", k_stage_width, "stage", "time s", "% wall", "MiB/s",
                "bytes");
  std::string out = line;
  auto row = [&](const char* name, const StageStats& st) {
    out += stats_row(name, static_cast<double>(st.nanoseconds) / 1e9, wall, st.bytes);
  };
  row("walk+headers (serial)", s.walk);
  row("read (serial)", s.read);
  row("compress (all threads)", s.compress);
  row("hash diff_id (serial)", s.hash_diff_id);
  row("hash+write blob (serial)", s.write);
  out += stats_row("wall", wall, wall, layer.uncompressed_size);
  // The pool of the run (every layer's) holds the chunks past the limiter
  // plus, per layer reader running, the one it filled and holds until the
  // limiter takes another (pipeline/layer_graph.cc).
  std::snprintf(line, sizeof line,
                "chunks %llu, chunk buffers %llu allocated (at most %zu in flight, + 1 held by each running "
                "layer reader), entries %llu, files read %llu, threads %d\n",
                static_cast<unsigned long long>(layer.chunks),
                static_cast<unsigned long long>(layer.chunk_buffers), max_chunks_in_flight(threads),
                static_cast<unsigned long long>(layer.chunker.entries),
                static_cast<unsigned long long>(layer.chunker.files_read), threads);
  out += line;
  const CacheCounters& c = layer.cache;
  if (c.hits + c.misses + c.bypassed > 0) {
    std::snprintf(line, sizeof line,
                  "cache hits %llu (remote %llu), misses %llu, corrupt %llu, bypassed %llu, saved %.3f s of compression%s\n",
                  static_cast<unsigned long long>(c.hits), static_cast<unsigned long long>(c.remote_hits),
                  static_cast<unsigned long long>(c.misses), static_cast<unsigned long long>(c.corrupt),
                  static_cast<unsigned long long>(c.bypassed), static_cast<double>(c.saved_nanoseconds) / 1e9,
                  c.bypassed ? " (this format's chunks depend on the ones before: not cached)" : "");
    out += line;
  }
  return out;
}

}  // namespace ocipack::cli
