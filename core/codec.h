// Compression backends behind one small interface. A Compressor turns one
// chunk of the tar stream into one complete gzip member (RFC 1952), so the
// layer blob is a pigz-style multi-member gzip that every reader accepts.
// A Compressor object is not thread-safe: the pipeline keeps one per worker
// thread and reuses it for every chunk that worker handles.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "core/result.h"

namespace ocipack {

enum class CodecKind { libdeflate };

struct CodecOptions {
  CodecKind kind = CodecKind::libdeflate;
  int level = 6;  // libdeflate: 0..12
};

class Compressor {
 public:
  virtual ~Compressor() = default;
  // Worst-case output size of compress_member() for `input_size` bytes.
  virtual size_t bound(size_t input_size) const = 0;
  // Compresses `input` into one complete gzip member in `output` (which must
  // hold bound(input.size()) bytes); returns the member's size.
  virtual Result<size_t> compress_member(std::span<const std::byte> input,
                                         std::span<std::byte> output) = 0;
};

// Validates the options (level range per backend) and creates a compressor.
Result<std::unique_ptr<Compressor>> make_compressor(const CodecOptions& options);

// Name and version of the backend, e.g. "libdeflate 1.14" (for --version and
// for the README's statement of what the layer digest depends on).
std::string codec_description(CodecKind kind);

}  // namespace ocipack
