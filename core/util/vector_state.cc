// vzeroupper when the CPU and OS support AVX (see vector_state.h).
#include "core/util/vector_state.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace ocipack {

#if defined(__x86_64__)

namespace {

bool cpu_has_avx() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool osxsave = ecx & (1u << 27), avx = ecx & (1u << 28);
  if (!osxsave || !avx) return false;
  unsigned lo = 0, hi = 0;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0x6) == 0x6;  // the OS saves the SSE and AVX state
}

const bool k_has_avx = cpu_has_avx();

__attribute__((target("avx"))) void zero_upper() { _mm256_zeroupper(); }

}  // namespace

void clear_upper_vector_state() {
  if (k_has_avx) zero_upper();
}

#else

void clear_upper_vector_state() {}

#endif

}  // namespace ocipack
