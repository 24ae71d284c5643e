// Tests for cli/progress.cc: the progress bar draws percentage, sizes, rate
// and ratio, throttles redraws and clears its line; the --stats table lists
// every stage with the byte counts the pipeline reported, in MiB/s, with its
// columns aligned.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

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

// A layer of `tar_bytes` whose stages took the given times (walk 1 ms, read
// 2 ms, compress 30 ms, hash 1.5 ms, write 0.5 ms) in `wall` nanoseconds.
LayerResult sample_layer(uint64_t tar_bytes, uint64_t wall) {
  LayerResult layer;
  layer.uncompressed_size = tar_bytes;
  layer.chunks = 3;
  layer.chunk_buffers = 4;
  layer.stats.walk = {1'000'000, 5000};
  layer.stats.read = {2'000'000, 1'995'000};
  layer.stats.compress = {30'000'000, tar_bytes};
  layer.stats.hash_diff_id = {1'500'000, tar_bytes};
  layer.stats.write = {500'000, 700'000};
  layer.stats.wall_nanoseconds = wall;
  return layer;
}

TEST(FormatStats, ListsEveryStage) {
  const LayerResult layer = sample_layer(2'000'000, 20'000'000);
  std::string table = format_stats(layer, 2);
  for (const char* stage : {"walk", "read", "compress", "hash diff_id", "write", "wall"})
    EXPECT_NE(table.find(stage), std::string::npos) << stage;
  EXPECT_NE(table.find("1995000"), std::string::npos);
  EXPECT_NE(table.find("chunks 3, chunk buffers 4 allocated (at most 6 in flight, + 1 held by each running layer reader)"),
            std::string::npos)
      << table;
  // compress: 2,000,000 bytes in 30 ms = 63.6 MiB/s, 150% of the 20 ms wall (two threads).
  EXPECT_NE(table.find(" 63.6 "), std::string::npos) << table;
  EXPECT_NE(table.find("150%"), std::string::npos) << table;
  EXPECT_NE(table.find("MiB/s"), std::string::npos) << table;
  EXPECT_EQ(table.find("MB/s"), std::string::npos) << table;
}

// Every row of the table, the longest name ("hash+write blob (serial)")
// included, has its columns at the same offsets: the lines are equally long
// and each figure ends where the header's title does.
TEST(FormatStats, ColumnsAreAligned) {
  const LayerResult layer = sample_layer(123'456'789, 40'000'000);
  const std::string table = format_stats(layer, 4);
  std::vector<std::string> lines;
  for (size_t from = 0, nl; (nl = table.find('\n', from)) != std::string::npos; from = nl + 1)
    lines.push_back(table.substr(from, nl - from));
  ASSERT_GE(lines.size(), 7u) << table;
  EXPECT_EQ(lines[5].rfind("hash+write blob (serial) ", 0), 0u) << lines[5];
  const size_t rate_end = lines[0].find("MiB/s") + 5;
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(lines[i].size(), lines[0].size()) << "row " << i << ":\n" << table;
    EXPECT_EQ(lines[i][rate_end], ' ') << "row " << i << ":\n" << table;
    EXPECT_NE(lines[i][rate_end - 1], ' ') << "row " << i << ":\n" << table;
  }
}

}  // namespace
}  // namespace ocipack::cli
