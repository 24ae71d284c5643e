// Tests for cli/progress.cc: the progress bar draws percentage, sizes, rate
// and ratio, throttles redraws and clears its line; the --stats table lists
// every stage with the byte counts the pipeline reported.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace ocipack::cli {
namespace {

std::string capture(const std::function<void(std::FILE*)>& write) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* f = ::open_memstream(&buffer, &size);
  write(f);
  std::fclose(f);
  std::string out(buffer, size);
  std::free(buffer);
  return out;
}

TEST(ProgressBar, DrawsPercentSizesAndRatioThenClears) {
  std::string out = capture([](std::FILE* f) {
    ProgressBar bar(f, 4 << 20);
    bar.update(1 << 20, 256 << 10);
    bar.update(4 << 20, 1 << 20);  // completion is always drawn
    bar.finish();
  });
  EXPECT_NE(out.find(" 25%"), std::string::npos) << out;
  EXPECT_NE(out.find("1.0 MiB/4.0 MiB"), std::string::npos) << out;
  EXPECT_NE(out.find("ratio 0.25"), std::string::npos) << out;
  EXPECT_NE(out.find("100%"), std::string::npos) << out;
  EXPECT_NE(out.find("[########################]"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 4), "\r\033[K");
}

TEST(ProgressBar, ThrottlesRedraws) {
  std::string out = capture([](std::FILE* f) {
    ProgressBar bar(f, 100 << 20);
    for (int i = 1; i < 50; ++i) bar.update(static_cast<uint64_t>(i) << 20, 0);
  });
  size_t draws = 0;
  for (size_t pos = 0; (pos = out.find('\r', pos)) != std::string::npos; ++pos) ++draws;
  EXPECT_EQ(draws, 1u) << "50 updates within 100 ms draw once";
}

TEST(FormatStats, ListsEveryStage) {
  LayerResult layer;
  layer.uncompressed_size = 2'000'000;
  layer.chunks = 3;
  layer.chunk_buffers = 4;
  layer.stats.walk = {1'000'000, 5000};
  layer.stats.read = {2'000'000, 1'995'000};
  layer.stats.compress = {30'000'000, 2'000'000};
  layer.stats.hash_diff_id = {1'500'000, 2'000'000};
  layer.stats.write = {500'000, 700'000};
  layer.stats.wall_nanoseconds = 20'000'000;
  std::string table = format_stats(layer, 2);
  for (const char* stage : {"walk", "read", "compress", "hash diff_id", "write", "wall"})
    EXPECT_NE(table.find(stage), std::string::npos) << stage;
  EXPECT_NE(table.find("1995000"), std::string::npos);
  EXPECT_NE(table.find("chunks 3, chunk buffers 4 (limit 6 in flight)"), std::string::npos) << table;
  // compress: 2 MB in 30 ms = 66.7 MB/s, 150% of the 20 ms wall (two threads).
  EXPECT_NE(table.find("66.7"), std::string::npos) << table;
  EXPECT_NE(table.find("150%"), std::string::npos) << table;
}

}  // namespace
}  // namespace ocipack::cli
