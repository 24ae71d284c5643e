// Tests for pipeline/stage_clock.h: a StageTimer sums the bytes given to it
// and the time its scopes last, from several threads; the clock never goes
// back. (No assertion on how long anything takes: only that time spent in
// a scope is counted and that nothing is counted outside one.)
#include "pipeline/stage_clock.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ocipack {
namespace {

// Spins until the clock has moved.
void let_time_pass() {
  const uint64_t start = monotonic_ns();
  while (monotonic_ns() == start) {
  }
}

TEST(StageClock, MonotonicNeverGoesBack) {
  uint64_t last = monotonic_ns();
  for (int i = 0; i < 1000; ++i) {
    const uint64_t now = monotonic_ns();
    EXPECT_GE(now, last);
    last = now;
  }
}

TEST(StageTimer, ScopesAddTheirTimeAndBytes) {
  StageTimer timer;
  EXPECT_EQ(timer.stats().nanoseconds, 0u);
  EXPECT_EQ(timer.stats().bytes, 0u);
  {
    auto timing = timer.time(100);
    let_time_pass();
  }
  const StageStats after_one = timer.stats();
  EXPECT_GT(after_one.nanoseconds, 0u);
  EXPECT_EQ(after_one.bytes, 100u);
  let_time_pass();
  EXPECT_EQ(timer.stats().nanoseconds, after_one.nanoseconds) << "no scope open: nothing counted";
  timer.add_bytes(5);
  timer.add_nanoseconds(7);
  EXPECT_EQ(timer.stats().bytes, 105u);
  EXPECT_EQ(timer.stats().nanoseconds, after_one.nanoseconds + 7);
}

TEST(StageTimer, SumsOverThreads) {
  StageTimer timer;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&timer] {
      for (int i = 0; i < 1000; ++i) {
        auto timing = timer.time(3);
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(timer.stats().bytes, 4u * 1000 * 3);
}

}  // namespace
}  // namespace ocipack
