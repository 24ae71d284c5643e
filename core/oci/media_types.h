// The media types and annotation names of the OCI image spec (and the Docker
// schema 2 types other tools still write) that ocipack reads or writes, and
// what each says: which name an image index, an image manifest, an image
// config, a layer of which compression. Every other file asks here instead
// of comparing media type strings itself.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/compression.h"

namespace ocipack {

inline constexpr const char* k_media_type_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* k_media_type_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* k_media_type_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* k_media_type_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* k_media_type_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* k_media_type_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* k_media_type_docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* k_media_type_docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* k_media_type_docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* k_media_type_docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// OCI 1.1 artifacts (referrers): the empty config's media type and content
// (its digest is sha256 of these 2 bytes), and the artifact types ocipack
// recognises in an attached document's content (referrers.h).
inline constexpr const char* k_media_type_empty = "application/vnd.oci.empty.v1+json";
inline constexpr const char* k_empty_json = "{}";
inline constexpr const char* k_artifact_type_spdx = "application/spdx+json";
inline constexpr const char* k_artifact_type_cyclonedx = "application/vnd.cyclonedx+json";

// The pre-defined annotation keys ocipack sets from the Yocto auto-labels
// (image-spec annotations.md).
inline constexpr const char* k_annotation_created = "org.opencontainers.image.created";
inline constexpr const char* k_annotation_revision = "org.opencontainers.image.revision";

// The annotation that names an image in index.json (its tag).
inline constexpr const char* k_annotation_ref_name = "org.opencontainers.image.ref.name";
// The layer-descriptor annotations that make a tar+zstd layer zstd:chunked
// (containers/storage): the TOC's checksum under the current key and the
// key podman 4.x wrote (docs/zstd-chunked.md has the others).
inline constexpr char k_annotation_zstd_chunked_checksum[] = "io.github.containers.zstd-chunked.manifest-checksum";
inline constexpr char k_annotation_zstd_chunked_legacy_checksum[] = "io.containers.zstd-chunked.manifest-checksum";

// Image indexes: the OCI index and Docker's manifest list.
bool is_index_media_type(std::string_view media_type);
// Image manifests: the OCI manifest and Docker's schema 2 manifest.
bool is_manifest_media_type(std::string_view media_type);
// Image configs: the OCI config and Docker's container config.
bool is_config_media_type(std::string_view media_type);

// Whether `text` is a media type name as the image spec's descriptor schema
// restricts it (RFC 6838: type "/" subtype, each 1-127 of [A-Za-z0-9] then
// [A-Za-z0-9!#$&-^_.+]).
bool is_valid_media_type(std::string_view text);

// The compression of a layer's blob by its media type: OCI tar, tar+gzip and
// tar+zstd, and Docker's rootfs.diff.tar.gzip; nullopt for any other type
// (non-distributable layers included: ocipack does not read them).
std::optional<Compression> layer_compression(std::string_view media_type);
// "gzip", "zstd", "uncompressed" (compression_name of layer_compression),
// "zstd:chunked" for a tar+zstd layer annotated with a zstd:chunked TOC
// checksum (either key), or "unsupported" for any other type: how inspect
// names a layer's format.
const char* layer_format_name(std::string_view media_type, const std::map<std::string, std::string>& annotations);

}  // namespace ocipack
