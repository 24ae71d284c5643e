// Output for humans during and after a build: the progress bar (stderr, only
// on a terminal unless forced) and the --stats table. Kept out of the library:
// the pipeline only reports numbers through a callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "pipeline/layer_graph.h"

namespace ocipack::cli {

std::string human_bytes(uint64_t bytes);

// Draws "[####....]  45%  120.0/266.1 MiB  210 MB/s  ratio 0.38  ETA 1s" at most
// ten times a second; finish() clears the line.
class ProgressBar {
 public:
  ProgressBar(std::FILE* out, uint64_t total_tar_bytes);
  void update(uint64_t tar_bytes, uint64_t blob_bytes);
  void finish();

 private:
  std::FILE* m_out;
  uint64_t m_total;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last_draw;
  bool m_drawn = false;
};

// The --stats table: per-stage time, share of wall time and throughput in
// MiB/s, columns aligned; then the chunk counts and the cache's figures.
std::string format_stats(const LayerResult& layer, int threads);

}  // namespace ocipack::cli
