// The names the command line gives the codec settings: "gzip" / "zstd" /
// "zstd:chunked" / "none" for --compression-format (the names podman and
// buildah use), "libdeflate" / "isal" (also "isa-l", "igzip") for
// --compressor (the gzip engine) and "members" / "single" for --gzip-format. Parsing them is the CLI's business, so its errors name
// the flags; the library knows only the enums (core/codec, core/layer) and
// names the option fields, which cli/errors.h shows as the flags.
#pragma once

#include <string_view>

#include "core/codec/codec.h"
#include "core/layer/layer_format.h"
#include "core/util/result.h"

namespace ocipack::cli {

Result<LayerCompression> parse_layer_compression(std::string_view name);
Result<CodecKind> parse_codec_kind(std::string_view name);
Result<GzipFormat> parse_gzip_format(std::string_view name);

}  // namespace ocipack::cli
