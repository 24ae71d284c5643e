// The clock every pipeline stage timer reads (--stats): monotonic
// nanoseconds, shared by the chunker and the graph so their figures compare.
#pragma once

#include <chrono>
#include <cstdint>

namespace ocipack {

inline uint64_t monotonic_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace ocipack
