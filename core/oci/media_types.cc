// What the media types of media_types.h say (see there).
#include "core/oci/media_types.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ocipack {

bool is_index_media_type(std::string_view media_type) {
  return media_type == k_media_type_index || media_type == k_media_type_docker_manifest_list;
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == k_media_type_manifest || media_type == k_media_type_docker_manifest;
}

bool is_config_media_type(std::string_view media_type) {
  return media_type == k_media_type_config || media_type == k_media_type_docker_config;
}

bool is_valid_media_type(std::string_view text) {
  auto valid_name = [](std::string_view name) {
    if (name.empty() || name.size() > 127 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || (c != '\0' && std::strchr("!#$&-^_.+", c) != nullptr);
    });
  };
  const size_t slash = text.find('/');
  return slash != std::string_view::npos && valid_name(text.substr(0, slash)) && valid_name(text.substr(slash + 1));
}

std::optional<Compression> layer_compression(std::string_view media_type) {
  if (media_type == k_media_type_layer_tar) return Compression::none;
  if (media_type == k_media_type_layer_gzip || media_type == k_media_type_docker_layer_gzip) return Compression::gzip;
  if (media_type == k_media_type_layer_zstd) return Compression::zstd;
  return std::nullopt;
}

const char* layer_format_name(std::string_view media_type, const std::map<std::string, std::string>& annotations) {
  const std::optional<Compression> compression = layer_compression(media_type);
  if (!compression) return "unsupported";
  if (*compression == Compression::zstd && (annotations.count(k_annotation_zstd_chunked_checksum) > 0 ||
                                            annotations.count(k_annotation_zstd_chunked_legacy_checksum) > 0))
    return "zstd:chunked";
  return compression_name(*compression);
}

}  // namespace ocipack
