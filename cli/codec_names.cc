// Parsing of --compression-format, --compressor and --gzip-format values
// (see codec_names.h).
#include "cli/codec_names.h"

#include <string>

namespace ocipack::cli {

Result<LayerCompression> parse_layer_compression(std::string_view name) {
  for (LayerCompression compression : {LayerCompression::gzip, LayerCompression::zstd,
                                       LayerCompression::zstd_chunked, LayerCompression::none})
    if (name == layer_compression_name(compression)) return compression;
  return usage_error("--compression-format '" + std::string(name) + "': expected gzip, zstd, zstd:chunked or none");
}

Result<CodecKind> parse_codec_kind(std::string_view name) {
  if (name == "libdeflate") return CodecKind::libdeflate;
  if (name == "isal" || name == "isa-l" || name == "igzip") return CodecKind::isal;
  return usage_error("--compressor '" + std::string(name) + "': expected libdeflate or isal");
}

Result<GzipFormat> parse_gzip_format(std::string_view name) {
  if (name == "members") return GzipFormat::members;
  if (name == "single") return GzipFormat::single;
  return usage_error("--gzip-format '" + std::string(name) + "': expected members or single");
}

}  // namespace ocipack::cli
