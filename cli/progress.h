// Output for humans during and after a build: the progress line (stderr, on
// a terminal only, fitted to its width; the phases before the layers and the
// layers' bar share it) and the --stats table. Kept out of the library: the
// pipeline and core only report numbers through callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "core/util/phase_report.h"
#include "pipeline/layer_graph.h"

namespace ocipack::cli {

std::string human_bytes(uint64_t bytes);

// The parts of one progress line, each formatted; an empty string is absent.
struct ProgressFields {
  std::string label;               // "spooling rootfs.tar.bz2"; empty for the layers' bar
  std::optional<double> fraction;  // 0..1; unknown total: no bar and no percentage
  std::string amount;              // "120.0 MiB/266.1 MiB", "5120 entries"
  std::string rate;                // "200 MiB/s"
  std::string ratio;               // "ratio 0.38"
  std::string eta;                 // "ETA 1s"
};

// `fields` as one line of at most `columns` - 1 characters (the last column
// is left free: writing it makes some terminals wrap). Everything fits at
// 80 columns; narrower, the bar shrinks (24 down to 8 cells), then the ETA,
// the ratio and the rate are dropped in that order, then the bar, the
// amount and the end of the label; at the very least the line is cut.
std::string fit_progress_line(const ProgressFields& fields, int columns);

// How progress is shown: off, redrawn in place on a terminal, or (TERM=dumb)
// one plain line as each phase starts.
enum class ProgressMode { off, terminal, plain };

struct ProgressChoice {
  ProgressMode mode = ProgressMode::off;
  std::string note;  // why --progress is ignored, said once; empty otherwise
};

// From the flags (`forced` is --progress), whether stderr is a terminal and
// $TERM (null when unset). Progress is never written to a non-terminal:
// --progress there only earns the note.
ProgressChoice choose_progress_mode(bool quiet, bool no_progress, bool forced, bool stderr_is_terminal,
                                    const char* term);

// The one progress line of a run, shared by the phase lines and the layers'
// bar. In terminal mode: "\r", the line fitted to `columns()` (asked at each
// draw, so a resize applies at the next one), erase to the end of the line;
// at most ten draws a second unless forced. In plain mode: "ocipack: LABEL"
// on a line of its own when the label changes, nothing else. Thread-safe:
// phases and the pipeline draw from their own threads.
class ProgressLine {
 public:
  ProgressLine(std::FILE* out, ProgressMode mode, std::function<int()> columns);
  void draw(const ProgressFields& fields, bool force);
  // Clears the line (terminal mode), so what follows starts on a clean line.
  void finish();

 private:
  std::FILE* m_out;
  ProgressMode m_mode;
  std::function<int()> m_columns;
  std::mutex m_mutex;
  std::chrono::steady_clock::time_point m_last_draw;
  bool m_drawn = false;
  std::string m_label;  // of the last draw
};

// The layers' bar: "[####....]  45%  120.0/266.1 MiB  200 MiB/s  ratio 0.38
// ETA 1s"; a total of 0 (unknown: a tar input or a delta) shows no bar,
// percentage or ETA.
class ProgressBar {
 public:
  ProgressBar(ProgressLine& line, uint64_t total_tar_bytes);
  void update(uint64_t tar_bytes, uint64_t blob_bytes);

 private:
  ProgressLine& m_line;
  uint64_t m_total;
  std::chrono::steady_clock::time_point m_start;
};

// The line of a phase before the layers (core/util/phase_report.h):
// "spooling rootfs.tar.bz2  [####   ]  45%  120.0 MiB/266.1 MiB  29 MiB/s  ETA 4s".
class PhaseProgress {
 public:
  explicit PhaseProgress(ProgressLine& line) : m_line(line) {}
  void update(const PhaseStatus& status);

 private:
  ProgressLine& m_line;
  std::mutex m_mutex;
  std::string m_phase, m_subject;  // of the phase being timed
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last_draw;
};

// The fields of a phase's line after `seconds` in it.
ProgressFields phase_fields(const PhaseStatus& status, double seconds);

// The --stats table: per-stage time, share of wall time and throughput in
// MiB/s, columns aligned; then the chunk counts and the cache's figures.
std::string format_stats(const LayerResult& layer, int threads);

}  // namespace ocipack::cli
