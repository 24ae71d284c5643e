// Tests for core/oci/layout_tagging.cc: tag adds entries for the source
// tag's manifest (annotations kept, own ref.name) and reports a tag it takes
// from another image; untag removes only that tag's entry and keeps every
// blob; a missing tag or a hostile index.json fails without writing;
// default_image_tag picks latest, else the only image, else lists the
// choices; an index.json made by `umoci init` ("manifests": null) is empty.
#include "core/oci/layout_tagging.h"

#include <gtest/gtest.h>

#include "core/oci/layout_gc.h"
#include "core/oci/layout_ops.h"
#include "core/oci/media_types.h"
#include "expect_error.h"
#include "fake_layout.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::expect_error;
using ocipack::testing::FakeLayout;
using ocipack::testing::path_exists;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

std::vector<std::string> tags_of(const std::string& dir) {
  std::vector<std::string> tags;
  auto listed = list_tags(dir);
  EXPECT_TRUE(listed.ok());
  if (listed)
    for (const auto& info : *listed) tags.push_back(info.tag + "=" + info.digest_text);
  return tags;
}

TEST(LayoutTagging, TagAddsEntriesForTheSameManifest) {
  TempDir tmp;
  FakeLayout layout(tmp / "L", true);
  auto one = layout.image({"layer one"});
  auto two = layout.image({"layer two"});
  Descriptor annotated = one.manifest;
  annotated.annotations["com.example.note"] = "kept";
  layout.tag(annotated, "v1");
  layout.tag(two.manifest, "stable");
  auto result = add_tags(layout.dir(), "v1", {"v1.0", "stable"});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->target.digest, one.manifest.digest);
  ASSERT_EQ(result->replaced.size(), 1u);
  EXPECT_EQ(result->replaced[0].tag, "stable");
  EXPECT_EQ(result->replaced[0].previous_digest, two.manifest.digest.str());
  const std::string d1 = one.manifest.digest.str();
  EXPECT_EQ(tags_of(layout.dir()), (std::vector<std::string>{"v1=" + d1, "stable=" + d1, "v1.0=" + d1}));
  EXPECT_NE(read_text(layout.dir() + "/index.json").find("com.example.note"), std::string::npos);
  // The replaced image's blobs are now unreferenced: a dry run counts them.
  auto dry = collect_garbage(layout.dir(), /*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->removed_blobs, 3u);
  EXPECT_TRUE(path_exists(layout.path_of(two.manifest)));
}

TEST(LayoutTagging, UntagRemovesTheEntryAndKeepsBlobs) {
  TempDir tmp;
  FakeLayout layout(tmp / "L", true);
  auto one = layout.image({"layer one"});
  layout.tag(one.manifest, "v1");
  layout.tag(one.manifest, "v2");
  auto removed = remove_tag(layout.dir(), "v1");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(removed->digest, one.manifest.digest);
  EXPECT_EQ(tags_of(layout.dir()), (std::vector<std::string>{"v2=" + one.manifest.digest.str()}));
  EXPECT_TRUE(path_exists(layout.path_of(one.layers[0])));
  const std::string before = read_text(layout.dir() + "/index.json");
  auto missing = remove_tag(layout.dir(), "v1");
  expect_error(missing, {"'v1'", "no such tag"});
  EXPECT_EQ(missing.error().kind, ErrorKind::input);
  expect_error(add_tags(layout.dir(), "nope", {"x"}), {"'nope'", "no such tag"});
  expect_error(add_tags(layout.dir(), "v2", {"bad/../tag"}), {"invalid tag"});
  EXPECT_EQ(read_text(layout.dir() + "/index.json"), before);
  expect_error(add_tags(tmp / "absent", "v2", {"x"}), {"absent"});
  EXPECT_FALSE(path_exists(tmp / "absent"));
}

TEST(LayoutTagging, HostileIndexIsRefusedWithoutWriting) {
  TempDir tmp;
  const std::vector<std::string> hostile_indexes{
      "{\"schemaVersion\":2,\"manifests\":{}}", std::string(100001, '['),
      "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:../../etc\",\"size\":1,"
      "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}]}"};
  for (const std::string& hostile : hostile_indexes) {
    FakeLayout layout(tmp / "H", false);
    write_text(layout.dir() + "/index.json", hostile);
    auto result = add_tags(layout.dir(), "v1", {"v2"});
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(read_text(layout.dir() + "/index.json"), hostile);
    EXPECT_FALSE(remove_tag(layout.dir(), "v1").ok());
    EXPECT_EQ(read_text(layout.dir() + "/index.json"), hostile);
  }
}

TEST(LayoutTagging, DefaultImageTag) {
  TempDir tmp;
  FakeLayout layout(tmp / "L", true);
  expect_error(default_image_tag(layout.dir()), {"holds no image"});
  auto one = layout.image({"layer one"});
  auto two = layout.image({"layer two"});
  layout.tag(one.manifest, "v1");
  EXPECT_EQ(*default_image_tag(layout.dir()), "v1");
  layout.tag(two.manifest, "v2");
  auto several = default_image_tag(layout.dir());
  expect_error(several, {"2 images", "v1, v2"});
  EXPECT_EQ(several.error().kind, ErrorKind::usage);
  layout.tag(two.manifest, "latest");
  EXPECT_EQ(*default_image_tag(layout.dir()), "latest");
}

TEST(LayoutTagging, UmociInitIndexIsEmpty) {
  TempDir tmp;
  FakeLayout layout(tmp / "U", false);
  write_text(layout.dir() + "/index.json", R"({"schemaVersion":2,"manifests":null})");
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  EXPECT_TRUE(tags->empty());
  auto image = layout.image({"layer"});
  Descriptor entry = image.manifest;
  entry.annotations[k_annotation_ref_name] = "v1";
  auto updated = update_index(std::string(R"({"schemaVersion":2,"manifests":null})"), entry);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_NE(updated->find("\"v1\""), std::string::npos);
}

}  // namespace
}  // namespace ocipack
