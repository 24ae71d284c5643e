// Backend-independent parts of the codec layer: what each backend can do,
// the one check of compressor settings, the factory, and the gzip framing.
// The backends themselves live in codec_libdeflate.cc and codec_isal.cc,
// each the only file that includes its library's header.
#include "core/codec/codec.h"

#ifdef OCIPACK_HAVE_ISAL
#include <isa-l/crc.h>
#endif

namespace ocipack {

// Defined in the backend files; called only with checked settings.
Result<std::unique_ptr<Compressor>> make_libdeflate_compressor(int level);
std::string libdeflate_version();
#ifdef OCIPACK_HAVE_ISAL
Result<std::unique_ptr<Compressor>> make_isal_compressor(int level, CompressedShape shape);
std::string isal_version();
#else
// Built with -DOCIPACK_WITH_ISAL=OFF (e.g. a Yocto host without meta-intel):
// codec_available(isal) is false, so check_compressor never lets this run.
Result<std::unique_ptr<Compressor>> make_isal_compressor(int, CompressedShape) {
  return usage_error("isal: this ocipack was built without ISA-L");
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

bool codec_available(CodecKind kind) {
#ifdef OCIPACK_HAVE_ISAL
  (void)kind;
  return true;
#else
  return kind != CodecKind::isal;
#endif
}

bool codec_writes(CodecKind kind, CompressedShape shape) {
  if (!codec_available(kind)) return false;
  switch (kind) {
    // libdeflate always ends its output with a final block: members only.
    case CodecKind::libdeflate: return shape == CompressedShape::gzip_member;
    case CodecKind::isal: return true;
  }
  return false;
}

Status check_compressor(CodecKind kind, int level, CompressedShape shape) {
  const std::string name = codec_name(kind);
  if (!codec_available(kind))
    return field_error(ErrorKind::usage, "codec.kind",
                       " " + name + ": this ocipack was built without ISA-L (OCIPACK_WITH_ISAL=OFF)");
  if (!codec_writes(kind, shape))
    return field_error(ErrorKind::usage, "codec.kind",
                       " " + name + " cannot write pieces of one deflate stream (it cannot end a deflate "
                                    "block on a flush, so it can only write one gzip member per chunk)");
  if (const LevelBounds bounds = level_bounds(kind); !bounds.contains(level))
    return field_error(ErrorKind::usage, "codec.level",
                       " " + std::to_string(level) + ": expected " + std::to_string(bounds.min) + "-" +
                           std::to_string(bounds.max) + " for " + name);
  return ok_status();
}

Result<std::unique_ptr<Compressor>> make_compressor(CodecKind kind, int level, CompressedShape shape) {
  OCIPACK_TRY(check_compressor(kind, level, shape));
  if (kind == CodecKind::isal) return make_isal_compressor(level, shape);
  return make_libdeflate_compressor(level);
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
