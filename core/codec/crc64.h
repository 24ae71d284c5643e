// CRC-64 with the ISO polynomial (reflected 0xD800000000000000), as Go's
// crc64.Update(crc, crc64.MakeTable(crc64.ISO), …): zstd:chunked's
// tar-split checksums every file's contents with it, so it runs over the
// whole layer on the serial diff_id stage. crc64_iso is ISA-L's folding CRC
// (PCLMULQDQ, picked at run time) where ocipack is built with ISA-L, else
// the portable table CRC; crc64_iso_table is that table CRC on its own, so
// tests can compare the two.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ocipack {

// Running CRC: start with 0, feed the bytes in order (inverted in and out,
// like Go's).
uint64_t crc64_iso(uint64_t crc, std::span<const std::byte> data);
// The same values by slicing-by-8 tables.
uint64_t crc64_iso_table(uint64_t crc, std::span<const std::byte> data);

}  // namespace ocipack
