// Two SHA-256 streams side by side (sha256_pair.h): the SHA-NI block
// functions (one lane, and two lanes interleaved), the padding, and the
// OpenSSL fallback for CPUs without the SHA extensions.
//
// The block function is the usual SHA-NI formulation (message schedule by
// sha256msg1/sha256msg2, four rounds per two sha256rnds2, state kept as
// ABEF/CDGH); the two-lane version runs the same steps for both lanes in
// one loop body, which is all the speed-up needs: the lanes do not depend
// on each other, so the CPU overlaps their round latencies.
#include "core/util/sha256_pair.h"

#include <cstring>

#include "core/util/vector_state.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define OCIPACK_SHA_NI 1
#endif

namespace ocipack {

namespace {

constexpr uint32_t k_initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#if OCIPACK_SHA_NI

alignas(16) constexpr uint32_t k_rounds[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define OCIPACK_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// state[0..7] (A..H) <-> the two registers SHA-NI works on (ABEF, CDGH).
OCIPACK_SHA_TARGET inline void load_state(const uint32_t* state, __m128i& abef, __m128i& cdgh) {
  const __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0xB1);
  const __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4)), 0x1B);
  abef = _mm_alignr_epi8(dcba, hgfe, 8);
  cdgh = _mm_blend_epi16(hgfe, dcba, 0xF0);
}

OCIPACK_SHA_TARGET inline void store_state(uint32_t* state, __m128i abef, __m128i cdgh) {
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

// One lane's work on one block, as a small struct so two lanes can be
// stepped in lockstep.
struct LaneRegs {
  __m128i abef, cdgh, saved_abef, saved_cdgh;
  __m128i w[4];
};

OCIPACK_SHA_TARGET inline void begin_block(LaneRegs& r) {
  r.saved_abef = r.abef;
  r.saved_cdgh = r.cdgh;
}

// Rounds 4g..4g+3 of one block.
OCIPACK_SHA_TARGET inline void four_rounds(LaneRegs& r, int g, const unsigned char* data, __m128i mask) {
  __m128i& w = r.w[g & 3];
  if (g < 4) {
    w = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g)), mask);
  } else {
    const __m128i& w1 = r.w[(g - 1) & 3];  // W[t-4..t-1]
    const __m128i& w2 = r.w[(g - 2) & 3];
    w = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w, r.w[(g - 3) & 3]), _mm_alignr_epi8(w1, w2, 4)),
                             w1);
  }
  __m128i msg = _mm_add_epi32(w, _mm_load_si128(reinterpret_cast<const __m128i*>(k_rounds + 4 * g)));
  r.cdgh = _mm_sha256rnds2_epu32(r.cdgh, r.abef, msg);
  msg = _mm_shuffle_epi32(msg, 0x0E);
  r.abef = _mm_sha256rnds2_epu32(r.abef, r.cdgh, msg);
}

OCIPACK_SHA_TARGET inline void end_block(LaneRegs& r) {
  r.abef = _mm_add_epi32(r.abef, r.saved_abef);
  r.cdgh = _mm_add_epi32(r.cdgh, r.saved_cdgh);
}

OCIPACK_SHA_TARGET inline __m128i byte_swap_mask() {
  return _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
}

OCIPACK_SHA_TARGET void blocks_x1(uint32_t* state, const unsigned char* data, size_t blocks) {
  const __m128i mask = byte_swap_mask();
  LaneRegs r;
  load_state(state, r.abef, r.cdgh);
  for (; blocks > 0; --blocks, data += 64) {
    begin_block(r);
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) four_rounds(r, g, data, mask);
    end_block(r);
  }
  store_state(state, r.abef, r.cdgh);
}

OCIPACK_SHA_TARGET void blocks_x2(uint32_t* state_a, const unsigned char* a, uint32_t* state_b,
                                  const unsigned char* b, size_t blocks) {
  const __m128i mask = byte_swap_mask();
  LaneRegs ra, rb;
  load_state(state_a, ra.abef, ra.cdgh);
  load_state(state_b, rb.abef, rb.cdgh);
  for (; blocks > 0; --blocks, a += 64, b += 64) {
    begin_block(ra);
    begin_block(rb);
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      four_rounds(ra, g, a, mask);
      four_rounds(rb, g, b, mask);
    }
    end_block(ra);
    end_block(rb);
  }
  store_state(state_a, ra.abef, ra.cdgh);
  store_state(state_b, rb.abef, rb.cdgh);
}

bool cpu_has_sha_ni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool ssse3 = ecx & (1u << 9), sse41 = ecx & (1u << 19);
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool sha = ebx & (1u << 29);
  return ssse3 && sse41 && sha;
}

#else

void blocks_x1(uint32_t*, const unsigned char*, size_t) {}
void blocks_x2(uint32_t*, const unsigned char*, uint32_t*, const unsigned char*, size_t) {}
bool cpu_has_sha_ni() { return false; }

#endif

const bool k_has_sha_ni = cpu_has_sha_ni();

// Fills the lane's partial block from `data`; returns the bytes taken.
size_t top_up(Sha256Lane& lane, std::span<const std::byte> data) {
  if (lane.fill == 0) return 0;
  const size_t take = std::min(data.size(), 64 - lane.fill);
  std::memcpy(lane.block + lane.fill, data.data(), take);
  lane.fill += take;
  lane.length += take;
  if (lane.fill == 64) {
    blocks_x1(lane.state, lane.block, 1);
    lane.fill = 0;
  }
  return take;
}

// Whole blocks from the start of `data`, then the tail into the partial
// block (which must be empty unless `data` is).
void lane_update(Sha256Lane& lane, std::span<const std::byte> data) {
  data = data.subspan(top_up(lane, data));
  if (data.empty()) return;
  const size_t blocks = data.size() / 64;
  if (blocks) blocks_x1(lane.state, reinterpret_cast<const unsigned char*>(data.data()), blocks);
  const size_t tail = data.size() - 64 * blocks;
  std::memcpy(lane.block, data.data() + 64 * blocks, tail);
  lane.fill = tail;
  lane.length += data.size();
}

Digest lane_finish(Sha256Lane& lane) {
  const uint64_t bits = lane.length * 8;
  unsigned char pad[72] = {0x80};
  const size_t pad_size = (lane.fill < 56 ? 56 - lane.fill : 120 - lane.fill);
  for (int i = 0; i < 8; ++i) pad[pad_size + i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  lane_update(lane, std::as_bytes(std::span(pad, pad_size + 8)));
  std::array<uint8_t, Digest::k_size> out{};
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<uint8_t>(lane.state[i] >> (24 - 8 * j));
  lane.reset();
  return Digest(out);
}

}  // namespace

void Sha256Lane::reset() {
  std::memcpy(state, k_initial, sizeof state);
  fill = 0;
  length = 0;
}

Sha256Pair::Sha256Pair() : m_ni(k_has_sha_ni) {}

bool Sha256Pair::interleaved() { return k_has_sha_ni; }

void Sha256Pair::update_one(size_t stream, std::span<const std::byte> data) {
  if (!m_ni) {
    m_openssl[stream].update(data);
    return;
  }
  clear_upper_vector_state();  // SHA-NI is SSE: see vector_state.h
  lane_update(m_lanes[stream], data);
}

Digest Sha256Pair::finish_one(size_t stream) {
  return m_ni ? lane_finish(m_lanes[stream]) : m_openssl[stream].finish();
}

void Sha256Pair::update_both(std::span<const std::byte> data) {
  if (!m_ni) {
    for (Sha256& hash : m_openssl) hash.update(data);
    return;
  }
  clear_upper_vector_state();  // SHA-NI is SSE: see vector_state.h
  Sha256Lane& a = m_lanes[0];
  Sha256Lane& b = m_lanes[1];
  // Each lane first completes its partial block; from there on both are
  // block-aligned at their own offsets into `data`.
  const size_t offset_a = top_up(a, data);
  const size_t offset_b = top_up(b, data);
  const size_t blocks_a = (data.size() - offset_a) / 64;
  const size_t blocks_b = (data.size() - offset_b) / 64;
  const size_t together = std::min(blocks_a, blocks_b);
  const auto* base = reinterpret_cast<const unsigned char*>(data.data());
  if (together) {
    blocks_x2(a.state, base + offset_a, b.state, base + offset_b, together);
    a.length += 64 * together;
    b.length += 64 * together;
  }
  // The rest (at most one lane has whole blocks left) goes one lane at a time.
  lane_update(a, data.subspan(offset_a + 64 * together));
  lane_update(b, data.subspan(offset_b + 64 * together));
}

}  // namespace ocipack
