// BuildHooks: how a caller follows and stops a build, passed beside the
// options (which stay plain data). The library polls `cancel` and reports
// progress through `on_progress`; it never prints and installs no signal
// handlers — the front end (cli/main.cc) owns both ends.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "core/util/phase_report.h"

namespace ocipack {

// Bytes done so far, summed over every layer of the build.
struct Progress {
  uint64_t tar_bytes = 0;   // of the uncompressed tar streams
  uint64_t blob_bytes = 0;  // of the compressed blobs
};

struct BuildHooks {
  // Polled between steps and chunks; once it reads true the build stops
  // with an error of kind `interrupted` and removes what it added.
  const std::atomic<bool>* cancel = nullptr;
  // Called after each chunk is written, never concurrently with itself.
  // Must be cheap: it runs on a pipeline stage.
  std::function<void(const Progress&)> on_progress;
  // Called during the phases before a layer's bytes flow (spooling a tar
  // input, the tree diff of a delta, reading a base for
  // --diff-against-base), often (per block or entry): the caller throttles.
  // Runs on the thread of that phase — a layer's producer, or the caller's
  // for the base — so it may run concurrently with on_progress.
  PhaseReport on_phase;
  // Called (once) when the output layout is locked by another build or gc
  // and the build waits for it; the wait is not part of the build's time.
  std::function<void()> on_lock_wait;

  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
};

}  // namespace ocipack
