// The layer format table, resolve_layer_format() and what every format
// shares (see layer_format.h):
// the one place that knows which formats exist, which options select each
// one and which media type its blobs get. This is also the one file of
// core/layer that takes media types from core/oci.
#include "core/layer/layer_format.h"

#include <iterator>

#include "core/oci/oci_json.h"

namespace ocipack {

// Defined in the format files (format_<name>.cc).
bool serves_gzip_members(const CodecOptions& options);
Result<std::unique_ptr<const LayerFormat>> make_gzip_members_format(const CodecOptions& options,
                                                                    const LayerFormatRow& row);
bool serves_gzip_single(const CodecOptions& options);
Result<std::unique_ptr<const LayerFormat>> make_gzip_single_format(const CodecOptions& options,
                                                                   const LayerFormatRow& row);

namespace {
// name, media type, the options it serves, the function that makes it.
constexpr LayerFormatRow k_layer_formats[] = {
    {"gzip members", k_media_type_layer_gzip, serves_gzip_members, make_gzip_members_format},
    {"gzip single", k_media_type_layer_gzip, serves_gzip_single, make_gzip_single_format},
};
}  // namespace

LayerFormat::LayerFormat(const LayerFormatRow& row, CodecKind kind, int level, CompressedShape shape)
    : m_name(row.name), m_media_type(row.media_type), m_kind(kind), m_level(level), m_shape(shape) {}

Result<std::unique_ptr<Compressor>> LayerFormat::make_compressor() const {
  return ocipack::make_compressor(m_kind, m_level, m_shape);
}

Result<std::unique_ptr<const LayerFormat>> resolve_layer_format(const CodecOptions& options) {
  for (const LayerFormatRow& row : k_layer_formats)
    if (row.serves(options)) return row.make(options, row);
  return field_error(ErrorKind::usage, "codec.format", ": no layer format serves these options");
}

}  // namespace ocipack
