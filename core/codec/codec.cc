// Backend-independent parts of the codec layer: option parsing/validation,
// the factory, and the single-member gzip framing. The backends themselves
// live in codec_libdeflate.cc and codec_isal.cc, each the only file that
// includes its library's header.
#include "core/codec/codec.h"

#ifdef OCIPACK_HAVE_ISAL
#include <isa-l/crc.h>
#endif

namespace ocipack {

// Defined in the backend files.
Result<std::unique_ptr<Compressor>> make_libdeflate_compressor(int level);
std::string libdeflate_version();
#ifdef OCIPACK_HAVE_ISAL
Result<std::unique_ptr<Compressor>> make_isal_compressor(int level);
std::string isal_version();
#else
// Built with -DOCIPACK_WITH_ISAL=OFF (e.g. a Yocto host without meta-intel).
Result<std::unique_ptr<Compressor>> make_isal_compressor(int) {
  return make_error("--compressor isal: this ocipack was built without ISA-L (OCIPACK_WITH_ISAL=OFF)");
}
std::string isal_version() { return "no isa-l"; }
#endif

const char* codec_name(CodecKind kind) {
  return kind == CodecKind::isal ? "isal" : "libdeflate";
}

LevelBounds level_bounds(CodecKind kind) {
  switch (kind) {
    case CodecKind::libdeflate: return {0, 12, 6};
    case CodecKind::isal: return {0, 3, 1};
  }
  return {};
}

Result<CodecKind> parse_codec_kind(std::string_view name) {
  if (name == "libdeflate") return CodecKind::libdeflate;
  if (name == "isal" || name == "isa-l" || name == "igzip") return CodecKind::isal;
  return make_error("--compressor '" + std::string(name) + "': expected libdeflate or isal");
}

Result<GzipFormat> parse_gzip_format(std::string_view name) {
  if (name == "members") return GzipFormat::members;
  if (name == "single") return GzipFormat::single;
  return make_error("--gzip-format '" + std::string(name) + "': expected members or single");
}

Result<std::unique_ptr<Compressor>> make_compressor(const CodecOptions& options) {
  if (const LevelBounds bounds = level_bounds(options.kind); !bounds.contains(options.level))
    return make_error("compression level " + std::to_string(options.level) + " is out of range for " +
                      codec_name(options.kind) + " (" + std::to_string(bounds.min) + "-" +
                      std::to_string(bounds.max) + ")");
  switch (options.kind) {
    case CodecKind::libdeflate:
      if (options.format == GzipFormat::single)
        return make_error(
            "--gzip-format single needs --compressor isal (libdeflate cannot end a deflate "
            "block on a flush, so it can only write one gzip member per chunk)");
      return make_libdeflate_compressor(options.level);
    case CodecKind::isal:
      return make_isal_compressor(options.level);
  }
  return make_error("unknown compressor");
}

std::string codec_description(CodecKind kind) {
  return kind == CodecKind::isal ? isal_version() : libdeflate_version();
}

std::array<std::byte, 10> gzip_header() {
  return {std::byte{0x1f}, std::byte{0x8b}, std::byte{0x08}, std::byte{0}, std::byte{0},
          std::byte{0},    std::byte{0},    std::byte{0},    std::byte{0}, std::byte{0xff}};
}

uint32_t crc32_update(uint32_t crc, std::span<const std::byte> data) {
#ifdef OCIPACK_HAVE_ISAL
  // ISA-L's folding CRC (PCLMULQDQ where available): far faster than the
  // stream it checks, so computing it serially costs nothing measurable.
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
#else
  // Bytewise table CRC (only the single-member format needs a CRC, and that
  // format needs ISA-L; kept so the function is always defined and correct).
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::byte b : data) crc = table[(crc ^ static_cast<uint8_t>(b)) & 0xff] ^ (crc >> 8);
  return ~crc;
#endif
}

std::array<std::byte, 8> gzip_trailer(uint32_t crc, uint64_t uncompressed_size) {
  std::array<std::byte, 8> out{};
  const uint32_t isize = static_cast<uint32_t>(uncompressed_size);  // modulo 2^32 (RFC 1952)
  for (int i = 0; i < 4; ++i) {
    out[static_cast<size_t>(i)] = static_cast<std::byte>(crc >> (8 * i));
    out[static_cast<size_t>(4 + i)] = static_cast<std::byte>(isize >> (8 * i));
  }
  return out;
}

}  // namespace ocipack
