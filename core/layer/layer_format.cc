// The layer format table, resolve_layer_format() and what every format
// shares (see layer_format.h):
// the one place that knows which formats exist, which options select each
// one and which media type its blobs get. This is also the one file of
// core/layer that takes media types from core/oci.
#include "core/layer/layer_format.h"

#include <iterator>
#include <string>

#include "core/oci/oci_json.h"

namespace ocipack {

// Defined in the format files (format_<name>.cc).
bool serves_gzip_members(const CodecOptions& options);
Result<std::unique_ptr<const LayerFormat>> make_gzip_members_format(const CodecOptions& options,
                                                                    const LayerFormatRow& row);
bool serves_gzip_single(const CodecOptions& options);
Result<std::unique_ptr<const LayerFormat>> make_gzip_single_format(const CodecOptions& options,
                                                                   const LayerFormatRow& row);
bool serves_zstd(const CodecOptions& options);
Result<std::unique_ptr<const LayerFormat>> make_zstd_format(const CodecOptions& options, const LayerFormatRow& row);
bool serves_zstd_chunked(const CodecOptions& options);
Result<std::unique_ptr<const LayerFormat>> make_zstd_chunked_format(const CodecOptions& options,
                                                                    const LayerFormatRow& row);
bool serves_none(const CodecOptions& options);
Result<std::unique_ptr<const LayerFormat>> make_none_format(const CodecOptions& options, const LayerFormatRow& row);

namespace {
// name, media type, the options it serves, the function that makes it.
constexpr LayerFormatRow k_layer_formats[] = {
    {"gzip members", k_media_type_layer_gzip, serves_gzip_members, make_gzip_members_format},
    {"gzip single", k_media_type_layer_gzip, serves_gzip_single, make_gzip_single_format},
    {"zstd", k_media_type_layer_zstd, serves_zstd, make_zstd_format},
    {"zstd:chunked", k_media_type_layer_zstd, serves_zstd_chunked, make_zstd_chunked_format},
    {"none", k_media_type_layer_tar, serves_none, make_none_format},
};
}  // namespace

const char* layer_compression_name(LayerCompression compression) {
  switch (compression) {
    case LayerCompression::gzip: return "gzip";
    case LayerCompression::zstd: return "zstd";
    case LayerCompression::zstd_chunked: return "zstd:chunked";
    case LayerCompression::none: return "none";
  }
  return "unknown";
}

std::optional<CodecKind> default_codec_kind(LayerCompression compression) {
  switch (compression) {
    case LayerCompression::gzip: return CodecKind::libdeflate;
    case LayerCompression::zstd:
    case LayerCompression::zstd_chunked: return CodecKind::zstd;
    case LayerCompression::none: break;
  }
  return std::nullopt;
}

size_t default_chunk_size(LayerCompression compression) {
  return compression == LayerCompression::zstd ? size_t{8} << 20 : size_t{1} << 20;
}

CodecChoice codec_choice(const CodecOptions& options) {
  const CodecKind kind = options.kind.value_or(default_codec_kind(options.compression).value_or(CodecKind::libdeflate));
  return {kind, options.level.value_or(default_level(kind))};
}

Status check_no_gzip_options(const CodecOptions& options, bool level_applies) {
  const std::string compression = layer_compression_name(options.compression);
  if (options.dictionary)
    return field_error(ErrorKind::usage, "codec.dictionary", " does not apply to ")
        .then_field("codec.compression")
        .then(" " + compression + " (it primes the pieces of a single gzip member)");
  if (options.format != GzipFormat::members)
    return field_error(ErrorKind::usage, "codec.format", " single does not apply to ")
        .then_field("codec.compression")
        .then(" " + compression + " (it lays out gzip layers)");
  if (options.kind && options.kind != default_codec_kind(options.compression))
    return field_error(ErrorKind::usage, "codec.kind", std::string(" ") + codec_name(*options.kind) + " does not apply to ")
        .then_field("codec.compression")
        .then(" " + compression + " (it chooses the gzip engine)");
  if (options.level && !level_applies)
    return field_error(ErrorKind::usage, "codec.level", " " + std::to_string(*options.level) + " does not apply to ")
        .then_field("codec.compression")
        .then(" " + compression + " (nothing is compressed)");
  return ok_status();
}

LayerFormat::LayerFormat(const LayerFormatRow& row, CodecKind kind, int level, CompressedShape shape)
    : m_name(row.name), m_media_type(row.media_type), m_compressor(CompressorSettings{kind, level, shape}) {}

LayerFormat::LayerFormat(const LayerFormatRow& row) : m_name(row.name), m_media_type(row.media_type) {}

Result<std::unique_ptr<Compressor>> LayerFormat::make_compressor() const {
  if (!m_compressor) return make_store_compressor();
  return ocipack::make_compressor(m_compressor->kind, m_compressor->level, m_compressor->shape);
}

std::string LayerFormat::codec_text() const {
  if (!m_compressor) return "stored";
  return std::string(codec_name(m_compressor->kind)) + " level " + std::to_string(m_compressor->level);
}

std::string LayerFormat::cache_identity() const {
  // Raise when a pinned codec parameter (core/codec) changes the bytes a
  // codec version and level give, so old cache entries are no longer found.
  constexpr int k_pinned_parameters_version = 1;
  if (!m_compressor || !chunk_output_is_self_contained()) return "";
  return "ocipack-chunk/" + std::to_string(k_pinned_parameters_version) + " " + m_name + " " +
         codec_description(m_compressor->kind) + " level " + std::to_string(m_compressor->level) + " shape " +
         std::to_string(static_cast<int>(m_compressor->shape));
}

Result<std::unique_ptr<const LayerFormat>> resolve_layer_format(const CodecOptions& options) {
  for (const LayerFormatRow& row : k_layer_formats)
    if (row.serves(options)) return row.make(options, row);
  return field_error(ErrorKind::usage, "codec.compression",
                     std::string(" ") + layer_compression_name(options.compression) + " is not supported yet");
}

}  // namespace ocipack
