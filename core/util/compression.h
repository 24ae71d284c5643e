// Compression: the stream compressions ocipack knows by name — what a layer
// media type says its blob is (core/oci/media_types.h) and what the stream
// decoders of core/codec undo (stream_decoder.h). It lives in util because
// both areas need it and neither may include the other.
#pragma once

namespace ocipack {

enum class Compression { none, gzip, zstd };

// "uncompressed", "gzip", "zstd" (for messages).
constexpr const char* compression_name(Compression compression) {
  switch (compression) {
    case Compression::none: return "uncompressed";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
  }
  return "unknown";
}

}  // namespace ocipack
