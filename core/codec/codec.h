// Compression backends behind one small interface. Two layer formats:
//  - members: each chunk becomes one complete gzip member (RFC 1952), so the
//    blob is a pigz-style multi-member gzip that Go, containerd, skopeo,
//    umoci, GNU gzip, pigz and igzip all read;
//  - single: each chunk becomes a piece of ONE raw deflate stream — ending
//    byte-aligned on a full flush, never final — and the pipeline frames the
//    whole layer as one gzip member (header, pieces, an empty final block,
//    CRC-32 and size), for readers that stop after the first member. Each
//    piece may be primed with the 32 KiB of stream before it (dictionary).
// Backends: libdeflate (levels 0–12, members only: it cannot end a block on a
// flush) and ISA-L igzip (levels 0–3, both formats).
// A Compressor object is not thread-safe: the pipeline keeps one per worker
// thread and reuses it for every chunk that worker handles.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace ocipack {

enum class CodecKind { libdeflate, isal };
enum class GzipFormat { members, single };

inline constexpr size_t k_deflate_window = 32 * 1024;

struct CodecOptions {
  CodecKind kind = CodecKind::libdeflate;
  int level = 6;  // libdeflate: 0..12, isal: 0..3
  GzipFormat format = GzipFormat::members;
  bool dictionary = false;  // single format: prime each piece with the previous 32 KiB
};

class Compressor {
 public:
  virtual ~Compressor() = default;
  // Worst-case output size for `input_size` bytes (either format).
  virtual size_t bound(size_t input_size) const = 0;
  // members: compresses `input` into one complete gzip member in `output`
  // (which holds bound(input.size()) bytes); returns the member's size.
  virtual Result<size_t> compress_member(std::span<const std::byte> input,
                                         std::span<std::byte> output) = 0;
  // single: raw deflate of `input`, ending byte-aligned and not final, with
  // back-references allowed into `dictionary` (the ≤ 32 KiB of stream that
  // precede `input`; empty for none). Returns the piece's size.
  virtual Result<size_t> compress_piece(std::span<const std::byte> input,
                                        std::span<const std::byte> dictionary,
                                        std::span<std::byte> output) = 0;
};

// Validates the options (level range and format per backend, with an error
// that names the flag values) and creates a compressor.
Result<std::unique_ptr<Compressor>> make_compressor(const CodecOptions& options);

// Parses "libdeflate" / "isal" and "members" / "single".
Result<CodecKind> parse_codec_kind(std::string_view name);
Result<GzipFormat> parse_gzip_format(std::string_view name);
const char* codec_name(CodecKind kind);

// The compression levels a backend accepts and the one it uses by default:
// the one source of these numbers, for option validation and the backends.
struct LevelBounds {
  int min = 0;
  int max = 0;
  int default_level = 0;
  bool contains(int level) const { return level >= min && level <= max; }
};
LevelBounds level_bounds(CodecKind kind);
inline int default_level(CodecKind kind) { return level_bounds(kind).default_level; }

// Name and version of the backend, e.g. "libdeflate 1.14" (for --version and
// for the README's statement of what the layer digest depends on).
std::string codec_description(CodecKind kind);

// Framing of the single-member format (RFC 1952).
std::array<std::byte, 10> gzip_header();  // no name, mtime 0, OS unknown
// The empty final deflate block (fixed Huffman, BFINAL=1) that ends the stream.
inline constexpr std::array<std::byte, 2> k_deflate_final_block = {std::byte{0x03}, std::byte{0x00}};
// Running CRC-32 (gzip polynomial) of the uncompressed data.
uint32_t crc32_update(uint32_t crc, std::span<const std::byte> data);
std::array<std::byte, 8> gzip_trailer(uint32_t crc, uint64_t uncompressed_size);

}  // namespace ocipack
