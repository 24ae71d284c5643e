// Tests for cli/progress.cc: the progress bar draws percentage, sizes, rate
// and ratio, throttles redraws and clears its line; the line fits any width
// (bar shrinks, ETA then ratio then rate dropped, label cut); the mode is
// never a redrawn line on a non-terminal or a dumb one; phase lines; the
// --stats table lists every stage with the byte counts the pipeline reported,
// in MiB/s, with its columns aligned.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <chrono>

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
    ProgressLine line(f, ProgressMode::terminal, [] { return 200; });  // room for everything
    ProgressBar bar(line, 4 << 20);
    bar.update(1 << 20, 256 << 10);
    bar.update(4 << 20, 1 << 20);  // completion is always drawn
    line.finish();
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
    ProgressLine line(f, ProgressMode::terminal, [] { return 80; });
    ProgressBar bar(line, 100 << 20);
    for (int i = 1; i < 50; ++i) bar.update(static_cast<uint64_t>(i) << 20, 0);
  });
  size_t draws = 0;
  for (size_t pos = 0; (pos = out.find('\r', pos)) != std::string::npos; ++pos) ++draws;
  EXPECT_EQ(draws, 1u) << "50 updates within 100 ms draw once";
}

ProgressFields full_fields(std::string label = "") {
  ProgressFields f;
  f.label = std::move(label);
  f.fraction = 0.45;
  f.amount = "120.0 MiB/266.1 MiB";
  f.rate = "210 MB/s";
  f.ratio = "ratio 0.38";
  f.eta = "ETA 12s";
  return f;
}

TEST(FitProgressLine, EverythingFitsAtEightyColumns) {
  ProgressFields fields = full_fields();
  fields.amount = "1.0 MiB/4.0 MiB";
  const std::string line = fit_progress_line(fields, 80);
  EXPECT_EQ(line, "[##########..............]  45%  1.0 MiB/4.0 MiB  210 MB/s  ratio 0.38  ETA 12s");
  EXPECT_EQ(fit_progress_line(fields, 200), line) << "the bar is 24 cells at most";
}

TEST(FitProgressLine, ShrinksTheBarBeforeDroppingFields) {
  ProgressFields fields = full_fields("spooling a.tar");
  fields.amount = "1.0 MiB/4.0 MiB";
  const std::string line = fit_progress_line(fields, 80);
  EXPECT_LE(line.size(), 79u) << line;
  EXPECT_NE(line.find("ETA 12s"), std::string::npos) << line;
  EXPECT_EQ(line.rfind("spooling a.tar  [###", 0), 0u) << line;
  EXPECT_EQ(line.find("[########################]"), std::string::npos) << "the bar shrank: " << line;
}

TEST(FitProgressLine, DropsEtaThenRatioThenRate) {
  for (int columns = 80; columns >= 2; --columns) {
    const std::string line = fit_progress_line(full_fields("spooling rootfs.tar.bz2"), columns);
    const bool eta = line.find("ETA") != std::string::npos, ratio = line.find("ratio") != std::string::npos,
               rate = line.find("MB/s") != std::string::npos;
    EXPECT_TRUE(!ratio || rate) << "the rate goes last: " << columns << ": " << line;
    EXPECT_TRUE(!eta || ratio) << "the ETA goes first: " << columns << ": " << line;
  }
  const std::string at40 = fit_progress_line(full_fields(), 40);
  EXPECT_EQ(at40.find("ETA"), std::string::npos) << at40;
  EXPECT_NE(at40.find("45%"), std::string::npos) << at40;
  const std::string at20 = fit_progress_line(full_fields("spooling rootfs.tar.bz2"), 20);
  EXPECT_LE(at20.size(), 19u) << at20;
  EXPECT_NE(at20.find("45%"), std::string::npos) << at20;
  EXPECT_NE(at20.find("..."), std::string::npos) << "the label is cut: " << at20;
}

TEST(FitProgressLine, NeverExceedsTheWidthLessOne) {
  ProgressFields unknown = full_fields("spooling stdin");
  unknown.fraction.reset();
  unknown.amount = "1.5 GiB";
  unknown.eta.clear();
  for (const ProgressFields& fields : {full_fields(), full_fields(std::string(200, 'x')), unknown})
    for (int columns = -1; columns <= 160; ++columns) {
      const std::string line = fit_progress_line(fields, columns);
      EXPECT_LE(line.size(), static_cast<size_t>(std::max(0, columns - 1))) << columns << ": " << line;
      EXPECT_EQ(line.find_first_of("\r\n\033"), std::string::npos) << line;
    }
}

TEST(FitProgressLine, UnknownTotalShowsBytesAndRateWithoutBar) {
  ProgressFields f;
  f.label = "spooling stdin";
  f.amount = "120.0 MiB";
  f.rate = "40 MB/s";
  EXPECT_EQ(fit_progress_line(f, 80), "spooling stdin  120.0 MiB  40 MB/s");
}

TEST(ChooseProgressMode, NeverRedrawsIntoANonTerminalOrADumbOne) {
  EXPECT_EQ(choose_progress_mode(false, false, false, true, "xterm").mode, ProgressMode::terminal);
  EXPECT_EQ(choose_progress_mode(false, false, false, true, "dumb").mode, ProgressMode::plain);
  EXPECT_EQ(choose_progress_mode(false, false, true, true, nullptr).mode, ProgressMode::plain);
  EXPECT_EQ(choose_progress_mode(true, false, true, true, "xterm").mode, ProgressMode::off);
  EXPECT_EQ(choose_progress_mode(false, true, true, true, "xterm").mode, ProgressMode::off);
  const auto forced = choose_progress_mode(false, false, true, false, "xterm");
  EXPECT_EQ(forced.mode, ProgressMode::off);
  EXPECT_EQ(forced.note, "--progress ignored: stderr is not a terminal");
  EXPECT_EQ(choose_progress_mode(false, false, false, false, "xterm").note, "");
}

TEST(ProgressLine, PlainModeWritesOneLinePerPhaseAndNoControlBytes) {
  std::string out = capture([](std::FILE* f) {
    ProgressLine line(f, ProgressMode::plain, [] { return 80; });
    for (int i = 0; i < 3; ++i) line.draw(full_fields("spooling a.tar"), true);
    line.draw(full_fields(), true);
    line.finish();
  });
  EXPECT_EQ(out, "ocipack: spooling a.tar\nocipack: writing layers\n");
}

TEST(ProgressLine, FitsEachDrawToTheWidthAskedThen) {
  int columns = 80;
  std::string out = capture([&](std::FILE* f) {
    ProgressLine line(f, ProgressMode::terminal, [&] { return columns; });
    line.draw(full_fields("spooling a.tar"), true);
    columns = 20;  // a SIGWINCH between draws
    line.draw(full_fields("spooling a.tar"), true);
  });
  const size_t second = out.rfind('\r');
  ASSERT_NE(second, 0u) << out;
  const std::string first_line = out.substr(1, out.find("\033[K") - 1);
  const std::string second_line = out.substr(second + 1, out.size() - second - 1 - 3);
  EXPECT_GT(first_line.size(), 40u) << first_line;
  EXPECT_LE(second_line.size(), 19u) << second_line;
}

// Draws allowed for updates spread over `seconds`: the first, then one per
// 100 ms redraw interval at most (a loaded machine may stretch a loop that
// takes microseconds past an interval; throttling that does not work draws
// once per update, far above this).
size_t most_draws(std::chrono::steady_clock::time_point since, size_t first_draws) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  return first_draws + static_cast<size_t>(seconds / 0.1);
}

TEST(PhaseProgress, DrawsANewPhaseAtOnceAndThrottlesTheRest) {
  const auto started = std::chrono::steady_clock::now();
  std::string out = capture([](std::FILE* f) {
    ProgressLine line(f, ProgressMode::terminal, [] { return 80; });
    PhaseProgress phase(line);
    for (uint64_t i = 0; i < 1000; ++i) phase.update({"walking", "/t/new", PhaseUnit::entries, i, 0});
    phase.update({"comparing", "/t/new", PhaseUnit::entries, 1, 10});
  });
  size_t draws = 0;
  for (size_t pos = 0; (pos = out.find('\r', pos)) != std::string::npos; ++pos) ++draws;
  EXPECT_GE(draws, 2u) << out;
  EXPECT_LE(draws, most_draws(started, 2)) << out;
  EXPECT_NE(out.find("\rwalking new  0 entries"), std::string::npos) << out;
  EXPECT_NE(out.find("\rcomparing new  [##"), std::string::npos) << out;
}

TEST(PhaseFields, LabelAmountAndUnits) {
  PhaseStatus spool{"spooling", "/tmp/x/rootfs.tar.bz2", PhaseUnit::bytes, 1 << 20, 4 << 20};
  ProgressFields f = phase_fields(spool, 1.0);
  EXPECT_EQ(f.label, "spooling rootfs.tar.bz2");
  EXPECT_EQ(f.amount, "1.0 MiB/4.0 MiB");
  ASSERT_TRUE(f.fraction);
  EXPECT_DOUBLE_EQ(*f.fraction, 0.25);
  EXPECT_EQ(f.eta, "ETA 3s");
  PhaseStatus stdin_spool{"spooling", "stdin", PhaseUnit::bytes, 2 << 20, 0};
  f = phase_fields(stdin_spool, 1.0);
  EXPECT_FALSE(f.fraction);
  EXPECT_EQ(f.amount, "2.0 MiB");
  EXPECT_EQ(f.rate, "2 MiB/s");
  EXPECT_EQ(f.eta, "");
  PhaseStatus walk{"comparing", "trees/new/", PhaseUnit::entries, 10, 40};
  f = phase_fields(walk, 1.0);
  EXPECT_EQ(f.label, "comparing new");
  EXPECT_EQ(f.amount, "10/40 entries");
  EXPECT_EQ(f.rate, "");
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
