// The "gzip members" layer format: each chunk becomes one complete gzip
// member, so the blob is a pigz-style multi-member gzip (RFC 1952 allows
// concatenated members; Go, containerd, skopeo, umoci, GNU gzip, pigz and
// igzip read them). No framing around the chunks, no history between them:
// a chunk's compressed bytes depend only on that chunk. Every backend
// writes it (libdeflate and ISA-L).
#include "core/layer/layer_format.h"

namespace ocipack {

namespace {
class GzipMembersFormat final : public LayerFormat {
 public:
  GzipMembersFormat(const CodecChoice& codec, const LayerFormatRow& row)
      : LayerFormat(row, codec.kind, codec.level, CompressedShape::gzip_member) {}

  std::unique_ptr<BlobFraming> begin_blob() const override { return std::make_unique<NoFraming>(); }
  size_t history_size() const override { return 0; }
};
}  // namespace

bool serves_gzip_members(const CodecOptions& options) {
  return options.compression == LayerCompression::gzip && options.format == GzipFormat::members;
}

Result<std::unique_ptr<const LayerFormat>> make_gzip_members_format(const CodecOptions& options,
                                                                    const LayerFormatRow& row) {
  if (options.dictionary)
    return field_error(ErrorKind::usage, "codec.dictionary", " only applies to ").then_field("codec.format").then(" single");
  const CodecChoice codec = codec_choice(options);
  OCIPACK_TRY(check_compressor(codec.kind, codec.level, CompressedShape::gzip_member));
  return std::unique_ptr<const LayerFormat>(std::make_unique<GzipMembersFormat>(codec, row));
}

}  // namespace ocipack
