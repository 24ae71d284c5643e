// Two SHA-256 streams over (mostly) the same bytes, hashed side by side.
//
// Why: a warm rebuild with the chunk cache hashes every uncompressed byte
// twice — once for the layer's diff_id (one long stream) and once for the
// chunk's cache key (one stream per chunk) — and SHA-256 is then most of
// its CPU. With the x86 SHA extensions one stream is bound by the latency
// of sha256rnds2; two independent streams interleaved in one loop fill the
// unit's idle cycles, so both digests cost about 1.4× one instead of 2×.
//
// Sha256Pair keeps two running hashes, `first` and `second`. update_both()
// feeds the same bytes to both (the interleaved path: the two streams are
// at different offsets modulo 64, so each lane takes its own blocks of the
// same buffer); update_first()/update_second() feed one. finish_*() return
// a digest and reset that stream only. Without SHA-NI (checked once at run
// time) the pair is two OpenSSL hashers, so results never depend on the CPU;
// the unit tests compare both paths with OpenSSL on random splits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/util/digest.h"
#include "core/util/sha256.h"

namespace ocipack {

// One SHA-256 stream on the SHA-NI path: state, the partial block, length.
struct Sha256Lane {
  uint32_t state[8];
  unsigned char block[64];
  size_t fill = 0;      // bytes in `block`
  uint64_t length = 0;  // bytes fed so far
  Sha256Lane() { reset(); }
  void reset();
};

class Sha256Pair {
 public:
  Sha256Pair();

  void update_first(std::span<const std::byte> data) { update_one(0, data); }
  void update_second(std::span<const std::byte> data) { update_one(1, data); }
  void update_both(std::span<const std::byte> data);
  Digest finish_first() { return finish_one(0); }
  Digest finish_second() { return finish_one(1); }

  // True when this CPU takes the interleaved SHA-NI path.
  static bool interleaved();

 private:
  void update_one(size_t stream, std::span<const std::byte> data);
  Digest finish_one(size_t stream);

  bool m_ni;
  Sha256Lane m_lanes[2];  // the SHA-NI path: [0] first, [1] second
  Sha256 m_openssl[2];    // the OpenSSL path, likewise
};

}  // namespace ocipack
