// Tests for core/oci/image_writer.cc: write_image stores the config and the
// manifest (their bytes are encode_config/encode_manifest's) and returns the
// manifest's descriptor with the config's platform and the given
// annotations; plan_index writes nothing, commit_index makes the plan the
// layout's index.json and keeps the new blobs; write_image_index makes a
// nested multi-platform index that load_image reads back per platform.
#include "core/oci/image_writer.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <string>

#include "core/oci/layout_reader.h"
#include "core/util/sha256.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::path_exists;

using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

ImageConfig config_for(const std::string& arch, const std::string& variant, const Digest& diff_id) {
  ImageConfig c;
  c.created = "2024-01-02T03:04:05Z";
  c.architecture = arch;
  c.variant = variant;
  c.os = "linux";
  c.diff_ids = {diff_id};
  return c;
}

Descriptor put_layer(LayoutStore& store, const std::string& content) {
  auto d = store.put_blob(content, k_media_type_layer_gzip);
  EXPECT_TRUE(d.ok());
  return *d;
}

TEST(ImageWriter, WritesConfigAndManifestAndCommitsInTwoSteps) {
  TempDir tmp;
  auto store = LayoutStore::open_or_create(tmp / "out");
  ASSERT_TRUE(store.ok()) << store.error().message;
  const Descriptor layer = put_layer(*store, "layer");
  const ImageConfig config = config_for("arm64", "v8", Sha256::of("tar"));
  auto image = write_image(*store, config, {layer}, {{k_annotation_ref_name, "v1"}});
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(read_text(store->blob_path(image->config.digest)), *encode_config(config));
  EXPECT_EQ(read_text(store->blob_path(image->manifest.digest)), *encode_manifest(Manifest{image->config, {layer}}));
  EXPECT_EQ(image->manifest.media_type, k_media_type_manifest);
  EXPECT_EQ(image->manifest.annotations.at(k_annotation_ref_name), "v1");
  ASSERT_TRUE(image->manifest.platform);
  EXPECT_EQ(platform_text(*image->manifest.platform), "linux/arm64/v8");

  auto plan = plan_index(*store, {image->manifest});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_FALSE(path_exists(tmp / "out/index.json"));
  ASSERT_TRUE(commit_index(*store, *plan).ok());
  EXPECT_EQ(read_text(tmp / "out/index.json"), plan->index_json);
  EXPECT_EQ(read_text(tmp / "out/oci-layout"), k_oci_layout_json);
  EXPECT_EQ(store->existing_index(), plan->index_json);
  store->discard_changes();  // committed: nothing is removed any more
  auto loaded = load_image(tmp / "out", "v1");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->manifest.digest, image->manifest.digest);
}

TEST(ImageWriter, AMultiPlatformImageIsAnIndexBlobTaggedInIndexJson) {
  TempDir tmp;
  auto store = LayoutStore::open_or_create(tmp / "out");
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto amd = write_image(*store, config_for("amd64", "", Sha256::of("tar")), {put_layer(*store, "amd layer")});
  auto arm = write_image(*store, config_for("arm", "v7", Sha256::of("tar")), {put_layer(*store, "arm layer")});
  ASSERT_TRUE(amd.ok() && arm.ok());
  auto document = encode_index(ImageIndex{{amd->manifest, arm->manifest}, {}});
  ASSERT_TRUE(document.ok()) << document.error().message;
  auto index = write_image_index(*store, *document, {{k_annotation_ref_name, "multi"}});
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->media_type, k_media_type_index);
  EXPECT_FALSE(index->platform);
  auto plan = plan_index(*store, {*index});
  ASSERT_TRUE(plan.ok() && commit_index(*store, *plan).ok());

  auto entries = read_index_blob(tmp / "out", *index, "test");
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(platform_text(*(*entries)[1].platform), "linux/arm/v7");
  auto chosen = load_image(tmp / "out", "multi", *parse_platform("linux/arm"));
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  EXPECT_EQ(chosen->manifest.digest, arm->manifest.digest);
  ASSERT_EQ(chosen->indexes.size(), 1u);
  EXPECT_EQ(chosen->indexes[0].digest, index->digest);
}

TEST(ImageWriter, APlanIsMadeFromTheExistingIndex) {
  TempDir tmp;
  ocipack::testing::make_dirs(tmp / "out");
  write_text(tmp / "out/oci-layout", k_oci_layout_json);
  const std::string existing = R"({"schemaVersion":2,"x":1,"manifests":[]})";
  write_text(tmp / "out/index.json", existing);
  auto store = LayoutStore::open_or_create(tmp / "out");
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto image = write_image(*store, config_for("amd64", "", Sha256::of("tar")), {put_layer(*store, "l")},
                           {{k_annotation_ref_name, "v1"}});
  ASSERT_TRUE(image.ok());
  auto plan = plan_index(*store, {image->manifest});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(*update_index(existing, image->manifest), plan->index_json);
  EXPECT_EQ(read_text(tmp / "out/index.json"), existing);  // planning wrote nothing
}

}  // namespace
}  // namespace ocipack
