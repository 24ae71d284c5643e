// The "zstd" layer format (media type application/vnd.oci.image.layer.v1.
// tar+zstd): each chunk becomes one complete zstd frame (content size and
// checksum in its header, parameters pinned by core/codec's zstd backend),
// and the frames simply concatenate — a valid zstd stream that every
// reader decodes, as zstd -d, Go's klauspost/compress and containerd do.
// No framing around the chunks, no history between them: a chunk's frame
// depends only on that chunk. The gzip-only options are refused.
#include "core/layer/layer_format.h"

namespace ocipack {

namespace {
class ZstdFormat final : public LayerFormat {
 public:
  ZstdFormat(const CodecChoice& codec, const LayerFormatRow& row)
      : LayerFormat(row, codec.kind, codec.level, CompressedShape::zstd_frame) {}

  std::unique_ptr<BlobFraming> begin_blob() const override { return std::make_unique<NoFraming>(); }
  size_t history_size() const override { return 0; }
};
}  // namespace

bool serves_zstd(const CodecOptions& options) { return options.compression == LayerCompression::zstd; }

Result<std::unique_ptr<const LayerFormat>> make_zstd_format(const CodecOptions& options, const LayerFormatRow& row) {
  OCIPACK_TRY(check_no_gzip_options(options, true));
  const CodecChoice codec = codec_choice(options);
  OCIPACK_TRY(check_compressor(codec.kind, codec.level, CompressedShape::zstd_frame));
  return std::unique_ptr<const LayerFormat>(std::make_unique<ZstdFormat>(codec, row));
}

}  // namespace ocipack
