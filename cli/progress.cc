// The progress line, its fitting to the terminal width, and --stats
// formatting (see progress.h).
#include "cli/progress.h"

#include <algorithm>
#include <string_view>

#include "core/util/text.h"

namespace ocipack::cli {

std::string human_bytes(uint64_t bytes) {
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (bytes >= (1ULL << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1ULL << 30));
  else if (bytes >= (1ULL << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1ULL << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  return buf;
}

namespace {

constexpr int k_bar_cells = 24;     // the bar's width when there is room
constexpr int k_min_bar_cells = 8;  // narrower than this, the bar goes
constexpr auto k_redraw_interval = std::chrono::milliseconds(100);

// The non-empty parts, two spaces apart.
std::string join_fields(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += "  ";
    out += part;
  }
  return out;
}

std::string percent_text(double fraction) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%3.0f%%", std::clamp(fraction, 0.0, 1.0) * 100);
  return buf;
}

// "[####....]  45%" with `cells` cells.
std::string bar_and_percent(double fraction, int cells) {
  const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * cells);
  std::string out = "[" + std::string(static_cast<size_t>(filled), '#');
  out.append(static_cast<size_t>(cells - filled), '.');
  return out + "] " + percent_text(fraction);
}

// The line with a bar, shrunk to `room` and with the fields after `kept`
// optional ones dropped; nullopt when even the narrowest bar does not fit.
std::optional<std::string> with_bar(const ProgressFields& f, double fraction, int kept, size_t room) {
  const std::string_view optional[] = {f.rate, f.ratio, f.eta};
  auto compose = [&](int cells) {
    return join_fields({f.label, bar_and_percent(fraction, cells), f.amount, kept > 0 ? optional[0] : "",
                        kept > 1 ? optional[1] : "", kept > 2 ? optional[2] : ""});
  };
  const std::string narrowest = compose(k_min_bar_cells);
  if (narrowest.size() > room) return std::nullopt;
  return compose(k_min_bar_cells + static_cast<int>(std::min<size_t>(room - narrowest.size(),
                                                                     k_bar_cells - k_min_bar_cells)));
}

// `label` and `tail` in `room`: the label's end cut ("...") when needed.
std::optional<std::string> cut_label(const std::string& label, const std::string& tail, size_t room) {
  const std::string whole = join_fields({label, tail});
  if (whole.size() <= room) return whole;
  constexpr size_t k_min_label = 6;  // 3 characters and "..."
  if (tail.size() + 2 + k_min_label > room) return std::nullopt;
  return label.substr(0, room - tail.size() - 2 - 3) + "...  " + tail;
}

}  // namespace

std::string fit_progress_line(const ProgressFields& f, int columns) {
  const size_t room = columns > 1 ? static_cast<size_t>(columns - 1) : 0;
  const std::string_view optional[] = {f.rate, f.ratio, f.eta};
  for (int kept = 3; kept >= 0; --kept) {
    if (f.fraction) {
      if (auto line = with_bar(f, *f.fraction, kept, room)) return *line;
      continue;
    }
    std::string line = join_fields({f.label, f.amount, kept > 0 ? optional[0] : "", kept > 1 ? optional[1] : "",
                                    kept > 2 ? optional[2] : ""});
    if (line.size() <= room) return line;
  }
  const std::string percent = f.fraction ? percent_text(*f.fraction) : "";
  for (const std::string& tail : {join_fields({percent, f.amount}), percent}) {
    if (tail.empty()) continue;
    if (auto line = cut_label(f.label, tail, room)) return *line;
  }
  return join_fields({f.label, percent, f.amount}).substr(0, room);
}

ProgressChoice choose_progress_mode(bool quiet, bool no_progress, bool forced, bool stderr_is_terminal,
                                    const char* term) {
  if (quiet || no_progress) return {};
  if (!stderr_is_terminal)
    return {ProgressMode::off, forced ? "--progress ignored: stderr is not a terminal" : ""};
  const std::string_view name = term ? term : "";
  return {name.empty() || name == "dumb" ? ProgressMode::plain : ProgressMode::terminal, ""};
}

ProgressLine::ProgressLine(std::FILE* out, ProgressMode mode, std::function<int()> columns)
    : m_out(out), m_mode(mode), m_columns(std::move(columns)) {}

void ProgressLine::draw(const ProgressFields& fields, bool force) {
  std::lock_guard lock(m_mutex);
  const bool new_label = !m_drawn || fields.label != m_label;
  if (m_mode == ProgressMode::plain && new_label)
    std::fprintf(m_out, "ocipack: %s\n", fields.label.empty() ? "writing layers" : fields.label.c_str());
  const auto now = std::chrono::steady_clock::now();
  if (m_mode == ProgressMode::terminal &&
      (force || new_label || now - m_last_draw >= k_redraw_interval)) {
    std::fprintf(m_out, "\r%s\033[K", fit_progress_line(fields, m_columns()).c_str());
    m_last_draw = now;
  }
  m_drawn = true;
  m_label = fields.label;
  std::fflush(m_out);
}

void ProgressLine::finish() {
  std::lock_guard lock(m_mutex);
  if (m_mode == ProgressMode::terminal && m_drawn) std::fputs("\r\033[K", m_out);
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
std::string rate_text(double bytes_per_second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f MiB/s", bytes_per_second / k_mib);
  return buf;
}

std::string eta_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "ETA %.0fs", seconds);
  return buf;
}
}  // namespace

ProgressBar::ProgressBar(ProgressLine& line, uint64_t total_tar_bytes)
    : m_line(line), m_total(total_tar_bytes), m_start(std::chrono::steady_clock::now()) {}

void ProgressBar::update(uint64_t tar_bytes, uint64_t blob_bytes) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  const double rate = seconds > 0 ? static_cast<double>(tar_bytes) / seconds : 0;
  ProgressFields fields;
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "ratio %.2f",
                tar_bytes ? static_cast<double>(blob_bytes) / static_cast<double>(tar_bytes) : 0.0);
  fields.ratio = ratio;
  fields.rate = rate_text(rate);
  if (m_total == 0) {
    fields.amount = human_bytes(tar_bytes);
  } else {
    fields.fraction = std::min(1.0, static_cast<double>(tar_bytes) / static_cast<double>(m_total));
    fields.amount = human_bytes(tar_bytes) + "/" + human_bytes(m_total);
    fields.eta = eta_text(rate > 0 ? static_cast<double>(m_total - std::min(tar_bytes, m_total)) / rate : 0);
  }
  m_line.draw(fields, m_total != 0 && tar_bytes >= m_total);
}

ProgressFields phase_fields(const PhaseStatus& status, double seconds) {
  ProgressFields fields;
  std::string name = status.subject;  // its last component: the line has little room
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (const size_t slash = name.find_last_of('/'); slash != std::string::npos && slash + 1 < name.size())
    name = name.substr(slash + 1);
  fields.label = status.phase + " " + printable(name);
  const bool bytes = status.unit == PhaseUnit::bytes;
  auto amount = [&](uint64_t n) { return bytes ? human_bytes(n) : std::to_string(n); };
  fields.amount = status.total ? amount(status.done) + "/" + amount(status.total) : amount(status.done);
  if (!bytes) fields.amount += " entries";
  if (status.total) fields.fraction = std::min(1.0, static_cast<double>(status.done) / static_cast<double>(status.total));
  const double rate = seconds > 0 ? static_cast<double>(status.done) / seconds : 0;
  if (bytes) fields.rate = rate_text(rate);
  if (status.total && rate > 0)
    fields.eta = eta_text(static_cast<double>(status.total - std::min(status.done, status.total)) / rate);
  return fields;
}

void PhaseProgress::update(const PhaseStatus& status) {
  double seconds = 0;
  {
    // Phases report per entry or block: most reports end here, before any
    // formatting.
    std::lock_guard lock(m_mutex);
    const auto now = std::chrono::steady_clock::now();
    const bool same_phase = status.phase == m_phase && status.subject == m_subject;
    if (same_phase && now - m_last_draw < k_redraw_interval) return;
    if (!same_phase) {
      m_phase = status.phase;
      m_subject = status.subject;
      m_start = now;
    }
    m_last_draw = now;
    seconds = std::chrono::duration<double>(now - m_start).count();
  }
  m_line.draw(phase_fields(status, seconds), false);
}

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
