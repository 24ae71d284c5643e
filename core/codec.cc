// libdeflate backend: libdeflate_gzip_compress() writes a whole gzip member
// (header with mtime 0, deflate data, CRC-32 and size trailer) in one call,
// which is exactly one chunk's output.
#include "core/codec.h"

#include <libdeflate.h>

namespace ocipack {

namespace {
struct LibdeflateCompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
using LibdeflateCompressorPtr = std::unique_ptr<libdeflate_compressor, LibdeflateCompressorDeleter>;

class LibdeflateCompressor final : public Compressor {
 public:
  explicit LibdeflateCompressor(LibdeflateCompressorPtr handle) : m_handle(std::move(handle)) {}
  size_t bound(size_t input_size) const override {
    return libdeflate_gzip_compress_bound(m_handle.get(), input_size);
  }
  Result<size_t> compress_member(std::span<const std::byte> input,
                                 std::span<std::byte> output) override {
    size_t n = libdeflate_gzip_compress(m_handle.get(), input.data(), input.size(), output.data(),
                                        output.size());
    if (n == 0) return make_error("libdeflate: output buffer too small for a chunk");
    return n;
  }

 private:
  LibdeflateCompressorPtr m_handle;
};
}  // namespace

Result<std::unique_ptr<Compressor>> make_compressor(const CodecOptions& options) {
  switch (options.kind) {
    case CodecKind::libdeflate: {
      if (options.level < 0 || options.level > 12)
        return make_error("compression level " + std::to_string(options.level) +
                          " is out of range for libdeflate (0-12)");
      LibdeflateCompressorPtr handle(libdeflate_alloc_compressor(options.level));
      if (!handle) return make_error("libdeflate: cannot allocate a compressor");
      return std::unique_ptr<Compressor>(std::make_unique<LibdeflateCompressor>(std::move(handle)));
    }
  }
  return make_error("unknown compressor");
}

std::string codec_description(CodecKind kind) {
  switch (kind) {
    case CodecKind::libdeflate:
      return std::string("libdeflate ") + LIBDEFLATE_VERSION_STRING;
  }
  return "unknown";
}

}  // namespace ocipack
