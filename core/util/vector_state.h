// clear_upper_vector_state: ends a stretch of AVX/AVX-512 code for the SSE
// code after it (vzeroupper, where the CPU has AVX; nothing elsewhere).
//
// Why: code that leaves the upper halves of the vector registers dirty
// (ISA-L's AVX-512 CRC-64 does) makes every later legacy-SSE instruction on
// that thread pay a state-transition penalty — and the SHA-NI instructions
// exist only in SSE encoding. Measured on this project's 2-core EPYC guest:
// 170 MiB of SHA-256 took 0.158 s instead of 0.094 s after one ISA-L CRC,
// and the two-lane Sha256Pair 0.326 s instead of 0.129 s. So the AVX users
// call this when they finish and the SHA-256 users when they start.
#pragma once

namespace ocipack {

void clear_upper_vector_state();

}  // namespace ocipack
