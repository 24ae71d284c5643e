// The "none" layer format (media type application/vnd.oci.image.layer.v1.
// tar): the blob is the tar stream itself. Chunks pass through the same
// seam as compressed ones — the store compressor copies each chunk — so the
// graph runs it like any format; the blob's digest equals the diff_id. No
// codec option applies: a kind, a level or a gzip-only option is refused.
#include "core/layer/layer_format.h"

namespace ocipack {

namespace {
class NoneFormat final : public LayerFormat {
 public:
  explicit NoneFormat(const LayerFormatRow& row) : LayerFormat(row) {}

  std::unique_ptr<BlobFraming> begin_blob() const override { return std::make_unique<NoFraming>(); }
  size_t history_size() const override { return 0; }
};
}  // namespace

bool serves_none(const CodecOptions& options) { return options.compression == LayerCompression::none; }

Result<std::unique_ptr<const LayerFormat>> make_none_format(const CodecOptions& options, const LayerFormatRow& row) {
  OCIPACK_TRY(check_no_gzip_options(options, false));
  return std::unique_ptr<const LayerFormat>(std::make_unique<NoneFormat>(row));
}

}  // namespace ocipack
