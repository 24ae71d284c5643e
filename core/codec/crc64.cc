// CRC-64/ISO (see crc64.h): ISA-L's crc64_iso_refl when built with ISA-L,
// the slicing-by-8 table CRC otherwise (and always, for the tests). The
// only file that includes <isa-l/crc64.h>.
#include "core/codec/crc64.h"

#include <array>

#include "core/util/vector_state.h"

#ifdef OCIPACK_HAVE_ISAL
#include <isa-l/crc64.h>
#endif

namespace ocipack {

uint64_t crc64_iso_table(uint64_t crc, std::span<const std::byte> bytes) {
  // Slicing by 8: table k gives the CRC of a byte followed by k zero bytes.
  static const auto k_tables = [] {
    std::array<std::array<uint64_t, 256>, 8> tables{};
    for (uint64_t i = 0; i < 256; ++i) {
      uint64_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ 0xD800000000000000ULL : c >> 1;
      tables[0][i] = c;
    }
    for (size_t k = 1; k < 8; ++k)
      for (size_t i = 0; i < 256; ++i)
        tables[k][i] = (tables[k - 1][i] >> 8) ^ tables[0][tables[k - 1][i] & 0xff];
    return tables;
  }();
  const auto& t = k_tables;
  crc = ~crc;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t v = 0;
    for (int k = 7; k >= 0; --k) v = v << 8 | std::to_integer<uint64_t>(bytes[i + static_cast<size_t>(k)]);
    v ^= crc;
    crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
          t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^ t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
  }
  for (; i < bytes.size(); ++i) crc = t[0][(crc ^ std::to_integer<uint64_t>(bytes[i])) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint64_t crc64_iso(uint64_t crc, std::span<const std::byte> data) {
#ifdef OCIPACK_HAVE_ISAL
  // Same convention as Go's (and crc64_iso_table's): inverted in and out.
  const uint64_t result = crc64_iso_refl(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  clear_upper_vector_state();  // ISA-L's AVX-512 CRC leaves the upper vector state dirty
  return result;
#else
  return crc64_iso_table(crc, data);
#endif
}

}  // namespace ocipack
