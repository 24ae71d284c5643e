// Tests for core/oci/media_types.cc: which media types name an index, a
// manifest, a config; the RFC 6838 shape the descriptor schema asks for; and
// the layer media type → compression table verify decodes by.
#include "core/oci/media_types.h"

#include <gtest/gtest.h>

namespace ocipack {
namespace {

TEST(MediaTypes, IndexesManifestsAndConfigsOfOciAndDocker) {
  EXPECT_TRUE(is_index_media_type(k_media_type_index));
  EXPECT_TRUE(is_index_media_type(k_media_type_docker_manifest_list));
  EXPECT_FALSE(is_index_media_type(k_media_type_manifest));
  EXPECT_TRUE(is_manifest_media_type(k_media_type_manifest));
  EXPECT_TRUE(is_manifest_media_type(k_media_type_docker_manifest));
  EXPECT_FALSE(is_manifest_media_type(k_media_type_index));
  EXPECT_TRUE(is_config_media_type(k_media_type_config));
  EXPECT_TRUE(is_config_media_type(k_media_type_docker_config));
  EXPECT_FALSE(is_config_media_type(k_media_type_layer_gzip));
  EXPECT_FALSE(is_manifest_media_type(""));
}

TEST(MediaTypes, ValidNamesFollowRfc6838) {
  EXPECT_TRUE(is_valid_media_type(k_media_type_layer_gzip));
  EXPECT_TRUE(is_valid_media_type("application/x-unknown"));
  for (const char* bad : {"", "a", "/b", "a/", "a/b/c", "a b/c", "-a/b", "application/x\x01y"})
    EXPECT_FALSE(is_valid_media_type(bad)) << bad;
  EXPECT_FALSE(is_valid_media_type("a/" + std::string(128, 'b')));
}

TEST(MediaTypes, LayerCompressionByMediaType) {
  EXPECT_EQ(layer_compression(k_media_type_layer_tar), Compression::none);
  EXPECT_EQ(layer_compression(k_media_type_layer_gzip), Compression::gzip);
  EXPECT_EQ(layer_compression(k_media_type_docker_layer_gzip), Compression::gzip);
  EXPECT_EQ(layer_compression(k_media_type_layer_zstd), Compression::zstd);
  EXPECT_FALSE(layer_compression("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"));
  EXPECT_FALSE(layer_compression(k_media_type_config));
}

TEST(MediaTypes, LayerFormatNames) {
  const std::map<std::string, std::string> none;
  EXPECT_STREQ(layer_format_name(k_media_type_layer_tar, none), "uncompressed");
  EXPECT_STREQ(layer_format_name(k_media_type_layer_gzip, none), "gzip");
  EXPECT_STREQ(layer_format_name(k_media_type_docker_layer_gzip, none), "gzip");
  EXPECT_STREQ(layer_format_name(k_media_type_layer_zstd, none), "zstd");
  EXPECT_STREQ(layer_format_name("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", none),
               "unsupported");
}

TEST(MediaTypes, ZstdChunkedIsNamedByItsChecksumAnnotation) {
  // Current key (ocipack, c/storage >= 1.45) and the key podman 4.x wrote.
  for (const char* key : {k_annotation_zstd_chunked_checksum, k_annotation_zstd_chunked_legacy_checksum}) {
    const std::map<std::string, std::string> chunked{{key, "sha256:00"}};
    EXPECT_STREQ(layer_format_name(k_media_type_layer_zstd, chunked), "zstd:chunked") << key;
    // The annotation on a gzip layer names nothing: the bytes are gzip.
    EXPECT_STREQ(layer_format_name(k_media_type_layer_gzip, chunked), "gzip") << key;
  }
  const std::map<std::string, std::string> other{{"io.github.containers.zstd-chunked.tarsplit-position", "1:2:3"}};
  EXPECT_STREQ(layer_format_name(k_media_type_layer_zstd, other), "zstd");
}

}  // namespace
}  // namespace ocipack
