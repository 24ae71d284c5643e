// libdeflate backend: libdeflate_gzip_compress() writes a whole gzip member
// (header with mtime 0, deflate data, CRC-32 and size trailer) in one call,
// which is exactly one chunk's output. libdeflate always ends its output with
// a final block, so it writes the gzip_member shape only (codec_writes()).
#include <libdeflate.h>

#include "core/codec/codec.h"

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
  Result<size_t> compress(std::span<const std::byte> input, std::span<const std::byte> dictionary,
                          std::span<std::byte> output) override {
    if (!dictionary.empty()) return usage_error("libdeflate: a gzip member takes no dictionary");
    size_t n = libdeflate_gzip_compress(m_handle.get(), input.data(), input.size(), output.data(),
                                        output.size());
    if (n == 0) return io_error("libdeflate: output buffer too small for a chunk");
    return n;
  }

 private:
  LibdeflateCompressorPtr m_handle;
};
}  // namespace

Result<std::unique_ptr<Compressor>> make_libdeflate_compressor(int level) {
  LibdeflateCompressorPtr handle(libdeflate_alloc_compressor(level));
  if (!handle) return io_error("libdeflate: cannot allocate a compressor");
  return std::unique_ptr<Compressor>(std::make_unique<LibdeflateCompressor>(std::move(handle)));
}

std::string libdeflate_version() { return std::string("libdeflate ") + LIBDEFLATE_VERSION_STRING; }

}  // namespace ocipack
