// The decoder factory and magic numbers (see stream_decoder.h).
#include "core/codec/stream_decoder.h"

#include "core/codec/gzip_decoder.h"
#include "core/codec/zstd_decoder.h"

namespace ocipack {

namespace {
// Compression::none: the stream is its own content.
class PassthroughDecoder final : public StreamDecoder {
 public:
  Status feed(std::string_view input, const ByteSink& sink) override {
    if (!input.empty()) sink(input);
    return ok_status();
  }
  Status finish() override { return ok_status(); }
};
}  // namespace

Result<std::unique_ptr<StreamDecoder>> make_stream_decoder(Compression compression) {
  switch (compression) {
    case Compression::none: return std::unique_ptr<StreamDecoder>(std::make_unique<PassthroughDecoder>());
    case Compression::gzip: return make_gzip_decoder();
    case Compression::zstd: return make_zstd_decoder();
  }
  return io_error("unknown compression");
}

Compression sniff_compression(std::string_view head) {
  if (head.substr(0, 2) == "\x1f\x8b") return Compression::gzip;
  if (head.substr(0, 4) == "\x28\xb5\x2f\xfd") return Compression::zstd;
  return Compression::none;
}

}  // namespace ocipack
