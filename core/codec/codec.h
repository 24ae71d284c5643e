// Compression backends behind one small interface, and the gzip framing
// helpers the layer formats (core/layer) build on.
//
// Design: a Compressor turns one input into one output of a fixed shape,
// chosen when it is made:
//  - gzip_member: one complete RFC 1952 member (header with mtime 0, deflate
//    data ending in a final block, CRC-32 and size), self-contained;
//  - deflate_piece: raw deflate ending byte-aligned on a full flush and never
//    final, that may refer back into a dictionary (the ≤ 32 KiB of stream
//    before the input); pieces concatenate into ONE deflate stream that a
//    layer format frames as a single gzip member;
//  - zstd_frame: one complete zstd frame (RFC 8878) with the content size
//    and a checksum in its header, self-contained; frames concatenate into
//    a valid zstd stream.
// Every backend has the same entry point, compress(input, dictionary,
// output); what differs is which shapes it can write, stated up front by
// codec_writes() instead of being discovered by a failing call. libdeflate
// (levels 0–12) writes gzip members only: it always ends its output with a
// final block. ISA-L igzip (levels 0–3) writes both gzip shapes. libzstd
// (levels 1–19) writes zstd frames, with every parameter that affects the
// bytes pinned (codec_zstd.cc). A next backend adds a CodecKind, its level
// bounds, a shape and one file. make_store_compressor() is the identity, for
// data stored as it is.
//
// Validation: check_compressor() is the one check of (kind, level, shape);
// its errors name the option fields "codec.kind" and "codec.level" (the CLI
// shows its flags instead). make_compressor() runs it too, so a compressor
// is never made from settings that were not checked.
//
// A Compressor object is not thread-safe: the pipeline keeps one per worker
// thread and reuses it for every chunk that worker handles.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/util/result.h"

namespace ocipack {

enum class CodecKind { libdeflate, isal, zstd };

// What one compress() call writes (see the top of the file).
enum class CompressedShape { gzip_member, deflate_piece, zstd_frame };

// The window a deflate back-reference can reach: the most a deflate_piece's
// dictionary can usefully hold.
inline constexpr size_t k_deflate_window = 32 * 1024;

class Compressor {
 public:
  virtual ~Compressor() = default;
  // Worst-case output size for `input_size` bytes.
  virtual size_t bound(size_t input_size) const = 0;
  // Compresses `input` into `output` (which holds bound(input.size()) bytes)
  // in the compressor's shape; returns the output's size. `dictionary` is
  // the stream before `input` that the output may refer back into (only the
  // last k_deflate_window bytes count); it must be empty for gzip_member and
  // zstd_frame, whose output stands alone. The output depends only on input, dictionary,
  // kind, level and shape — never on what the object compressed before.
  virtual Result<size_t> compress(std::span<const std::byte> input, std::span<const std::byte> dictionary,
                                  std::span<std::byte> output) = 0;
};

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

// Whether this build has the backend (ISA-L is optional: OCIPACK_WITH_ISAL).
bool codec_available(CodecKind kind);
// Whether the backend can write `shape` (false when it is not available).
bool codec_writes(CodecKind kind, CompressedShape shape);

// The one check of compressor settings: the backend is built in, writes
// `shape`, and `level` is within level_bounds(kind). Usage errors name the
// field: "codec.kind isal: this ocipack was built without ISA-L ...",
// "codec.level 42 is out of range for libdeflate (0-12)".
Status check_compressor(CodecKind kind, int level, CompressedShape shape);

// Checks the settings (check_compressor) and creates a compressor.
Result<std::unique_ptr<Compressor>> make_compressor(CodecKind kind, int level, CompressedShape shape);

// The identity: compress() copies its input (no dictionary), for data kept
// uncompressed through the same interface. Needs no check.
std::unique_ptr<Compressor> make_store_compressor();

// "libdeflate" / "isal" / "zstd": the name the backend goes by in messages and stats.
const char* codec_name(CodecKind kind);

// Name and version of the backend, e.g. "libdeflate 1.14", "libzstd 1.5.4" (for --version and
// for the README's statement of what the layer digest depends on).
std::string codec_description(CodecKind kind);

// Gzip framing (RFC 1952) for a stream written as deflate pieces.
std::array<std::byte, 10> gzip_header();  // no name, mtime 0, OS unknown
// The empty final deflate block (fixed Huffman, BFINAL=1) that ends the stream.
inline constexpr std::array<std::byte, 2> k_deflate_final_block = {std::byte{0x03}, std::byte{0x00}};
// Running CRC-32 (gzip polynomial) of the uncompressed data.
uint32_t crc32_update(uint32_t crc, std::span<const std::byte> data);
std::array<std::byte, 8> gzip_trailer(uint32_t crc, uint64_t uncompressed_size);

}  // namespace ocipack
