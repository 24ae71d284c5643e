// The one way pipeline stages are timed (--stats): a StageTimer per stage
// sums the monotonic nanoseconds spent in it and the bytes it handled, from
// any number of threads, and `auto scope = timer.time(bytes);` times one
// piece of work (the chunker's walk and read, the graph's compress, hash
// and write stages, and a build's wall time all use it).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ocipack {

inline uint64_t monotonic_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Time spent and bytes handled by one stage, summed over threads.
struct StageStats {
  uint64_t nanoseconds = 0;
  uint64_t bytes = 0;
};

// A stage's running totals. Thread-safe (relaxed atomics: the totals are
// read once the work is done); not copyable.
class StageTimer {
 public:
  // Adds the time from its construction to its destruction to the timer.
  class Scope {
   public:
    explicit Scope(StageTimer& timer) : m_timer(timer), m_started(monotonic_ns()) {}
    ~Scope() { m_timer.add_nanoseconds(monotonic_ns() - m_started); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    StageTimer& m_timer;
    uint64_t m_started;
  };

  StageTimer() = default;
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

  // Times the caller's scope, which handles `bytes` bytes.
  [[nodiscard]] Scope time(uint64_t bytes = 0) {
    add_bytes(bytes);
    return Scope(*this);
  }
  void add_bytes(uint64_t bytes) { m_bytes.fetch_add(bytes, std::memory_order_relaxed); }
  void add_nanoseconds(uint64_t nanoseconds) { m_nanoseconds.fetch_add(nanoseconds, std::memory_order_relaxed); }

  StageStats stats() const {
    return {m_nanoseconds.load(std::memory_order_relaxed), m_bytes.load(std::memory_order_relaxed)};
  }

 private:
  std::atomic<uint64_t> m_nanoseconds{0};
  std::atomic<uint64_t> m_bytes{0};
};

}  // namespace ocipack
