// Backend-independent parts of the codec layer: what each backend can do,
// the one check of compressor settings, the factory, and the gzip framing.
// The backends themselves live in codec_libdeflate.cc, codec_isal.cc and
// codec_zstd.cc, each the only file that includes its library's
// compressor header.
#include "core/codec/codec.h"

#include <algorithm>

#ifdef OCIPACK_HAVE_ISAL
#include <isa-l/crc.h>
#endif

namespace ocipack {

// Defined in the backend files; called only with checked settings.
Result<std::unique_ptr<Compressor>> make_libdeflate_compressor(int level);
std::string libdeflate_version();
Result<std::unique_ptr<Compressor>> make_zstd_compressor(int level);
std::string zstd_version();
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
  switch (kind) {
    case CodecKind::libdeflate: return "libdeflate";
    case CodecKind::isal: return "isal";
    case CodecKind::zstd: return "zstd";
  }
  return "unknown";
}

LevelBounds level_bounds(CodecKind kind) {
  switch (kind) {
    case CodecKind::libdeflate: return {0, 12, 6};
    case CodecKind::isal: return {0, 3, 1};
    case CodecKind::zstd: return {1, 19, 3};  // 20-22 ("ultra") need far more memory to decode
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
    case CodecKind::isal: return shape != CompressedShape::zstd_frame;
    case CodecKind::zstd: return shape == CompressedShape::zstd_frame;
  }
  return false;
}

namespace {
// What a shape is, for the refusal of a backend that cannot write it.
std::string shape_text(CompressedShape shape) {
  switch (shape) {
    case CompressedShape::gzip_member: return "gzip members";
    case CompressedShape::deflate_piece:
      return "pieces of one deflate stream (it cannot end a deflate block on a flush, so it can only "
             "write one gzip member per chunk)";
    case CompressedShape::zstd_frame: return "zstd frames";
  }
  return "this shape";
}

class StoreCompressor final : public Compressor {
 public:
  size_t bound(size_t input_size) const override { return input_size; }
  Result<size_t> compress(std::span<const std::byte> input, std::span<const std::byte> dictionary,
                          std::span<std::byte> output) override {
    if (!dictionary.empty()) return usage_error("store: stored data takes no dictionary");
    if (output.size() < input.size()) return io_error("store: output buffer too small for a chunk");
    std::copy(input.begin(), input.end(), output.begin());
    return input.size();
  }
};
}  // namespace

std::unique_ptr<Compressor> make_store_compressor() { return std::make_unique<StoreCompressor>(); }

Status check_compressor(CodecKind kind, int level, CompressedShape shape) {
  const std::string name = codec_name(kind);
  if (!codec_available(kind))
    return field_error(ErrorKind::usage, "codec.kind",
                       " " + name + ": this ocipack was built without ISA-L (OCIPACK_WITH_ISAL=OFF)");
  if (!codec_writes(kind, shape))
    return field_error(ErrorKind::usage, "codec.kind", " " + name + " cannot write " + shape_text(shape));
  if (const LevelBounds bounds = level_bounds(kind); !bounds.contains(level))
    return field_error(ErrorKind::usage, "codec.level",
                       " " + std::to_string(level) + ": expected " + std::to_string(bounds.min) + "-" +
                           std::to_string(bounds.max) + " for " + name);
  return ok_status();
}

Result<std::unique_ptr<Compressor>> make_compressor(CodecKind kind, int level, CompressedShape shape) {
  OCIPACK_TRY(check_compressor(kind, level, shape));
  switch (kind) {
    case CodecKind::isal: return make_isal_compressor(level, shape);
    case CodecKind::zstd: return make_zstd_compressor(level);
    case CodecKind::libdeflate: break;
  }
  return make_libdeflate_compressor(level);
}

std::string codec_description(CodecKind kind) {
  switch (kind) {
    case CodecKind::isal: return isal_version();
    case CodecKind::zstd: return zstd_version();
    case CodecKind::libdeflate: break;
  }
  return libdeflate_version();
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
