// Tests for core/oci/layout_ops.cc: tags and inspect --json on hand-made
// layouts. list_tags keeps index order, lists untagged entries with tag "",
// says what each entry is (an image, an image index with the platforms of
// its entries) and lists entries it cannot read (sha512, unknown algorithm,
// bad annotations, duplicates, unknown media types, an index blob that is
// missing) with a note; inspect_json is valid JSON holding the config
// verbatim and the layers with their diff_ids, and picks one image of a
// multi-platform index by platform. Every operation names a
// FIFO/socket/device/directory/symlink index.json or oci-layout.
// A tagged index lists the referrers of each entry and its own.
#include "core/oci/layout_ops.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/oci/image_writer.h"
#include "core/oci/layout_store.h"
#include "core/oci/referrers.h"
#include "core/util/sha256.h"
#include "fake_layout.h"
#include "hostile_files.h"
#include "test_helpers.h"
#include "core/util/file_io.h"
#include "expect_error.h"

namespace ocipack {
namespace {

using ocipack::testing::expect_error;
using ocipack::testing::contains;
using ocipack::testing::rich_config;

using ocipack::testing::make_dirs;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

using ocipack::testing::FakeImage;
using ocipack::testing::FakeLayout;

// --- tags

TEST(LayoutOpsTags, ListsEntriesInIndexOrder) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto one = layout.image({"a"});
  auto two = layout.image({"b"});
  layout.tag(two.manifest, "v2");
  layout.tag(one.manifest, "");
  layout.tag(one.manifest, "v1");
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[0].tag, "v2");
  EXPECT_EQ((*tags)[0].manifest.digest, two.manifest.digest);
  EXPECT_EQ((*tags)[1].tag, "");
  EXPECT_EQ((*tags)[2].tag, "v1");
  EXPECT_EQ((*tags)[2].manifest.digest, one.manifest.digest);
  expect_error(list_tags(tmp / "nothing"), {tmp / "nothing"});
}

TEST(LayoutOpsTags, SaysWhatEachEntryIsWithTheIndexPlatforms) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto amd = layout.image({"amd"});
  auto arm = layout.image({"arm"});
  amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
  arm.manifest.platform = Platform{"arm64", "linux", "", {}, "v8"};
  Descriptor untagged_platform = arm.manifest;
  untagged_platform.platform.reset();
  const Descriptor index = layout.blob(*encode_index(ImageIndex{{amd.manifest, untagged_platform, arm.manifest}, {}}),
                                       k_media_type_index);
  layout.tag(amd.manifest, "single");
  layout.tag(index, "multi");
  const Descriptor missing{k_media_type_index, Sha256::of("no such index"), 13, {}};
  layout.tag(missing, "lost");
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  ASSERT_EQ(tags->size(), 3u);
  const auto& t = *tags;
  EXPECT_EQ(t[0].kind, EntryKind::image);
  EXPECT_FALSE(t[0].index);
  EXPECT_TRUE(t[0].note.empty()) << t[0].note;
  EXPECT_EQ(t[1].kind, EntryKind::index);
  ASSERT_TRUE(t[1].index);
  ASSERT_EQ(t[1].index->platforms.size(), 3u);
  EXPECT_EQ(platform_text(*t[1].index->platforms[0]), "linux/amd64");
  EXPECT_FALSE(t[1].index->platforms[1]);
  EXPECT_EQ(platform_text(*t[1].index->platforms[2]), "linux/arm64/v8");
  EXPECT_TRUE(t[1].note.empty()) << t[1].note;
  // An index whose blob is missing is still listed, with the reason.
  EXPECT_EQ(t[2].kind, EntryKind::index);
  EXPECT_FALSE(t[2].index);
  EXPECT_TRUE(contains(t[2].note, "is missing")) << t[2].note;
}

// --- inspect --json

TEST(LayoutOpsInspect, JsonHasTheConfigVerbatimAndTheLayers) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer one", "layer two"}, rich_config());
  layout.tag(image.manifest, "v1");
  auto text = inspect_json(layout.dir(), "v1");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_NE(text->back(), '\n');
  const auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["tag"], "v1");
  EXPECT_EQ(j["manifest"]["digest"], image.manifest.digest.str());
  EXPECT_EQ(j["manifest"]["size"], image.manifest.size);
  EXPECT_EQ(j["config_digest"], image.config.digest.str());  // the image id
  EXPECT_EQ(j["config"], nlohmann::json::parse(image.config_json));
  EXPECT_TRUE(contains(*text, "\"config\":" + image.config_json + ","));  // the stored bytes
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][1]["digest"], image.layers[1].digest.str());
  EXPECT_EQ(j["layers"][1]["size"], 9);
  EXPECT_EQ(j["layers"][1]["mediaType"], k_media_type_layer_gzip);
  EXPECT_EQ(j["layers"][1]["format"], "gzip");
  EXPECT_EQ(j["layers"][1]["diff_id"], Sha256::of("tar:layer two").str());
  EXPECT_EQ(j["size"], image.manifest.size + image.config.size + 18);
}

TEST(LayoutOpsInspect, ConfigFromAnotherToolIsKeptAsStored) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  // Pretty-printed, with fields ocipack does not model and a trailing newline.
  const std::string config = "{\n  \"architecture\": \"amd64\",\n  \"os\": \"linux\",\n  \"os.features\": [\"x\"],\n"
                             "  \"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}\n}\n";
  Descriptor c = layout.blob(config, k_media_type_config);
  layout.tag(layout.blob(*encode_manifest(Manifest{c, {}}), k_media_type_manifest), "foreign");
  auto text = inspect_json(layout.dir(), "foreign");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_TRUE(contains(*text, "\"config\":" + config.substr(0, config.size() - 1) + ",\"layers\":[]"));
  EXPECT_EQ(nlohmann::json::parse(*text)["config"]["os.features"][0], "x");
}

TEST(LayoutOpsInspect, UnknownTagIsAnError) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  layout.tag(layout.image({"a"}).manifest, "v1");
  expect_error(inspect_json(layout.dir(), "v9"), {"no image tagged 'v9'"});
}

TEST(LayoutOpsInspect, JsonPicksOneImageOfAMultiPlatformIndexByPlatform) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto amd = layout.image({"amd"});
  auto arm = layout.image({"arm"});
  amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
  arm.manifest.platform = Platform{"arm64", "linux", "", {}, "v8"};
  layout.tag(layout.blob(*encode_index(ImageIndex{{amd.manifest, arm.manifest}, {}}), k_media_type_index), "multi");
  expect_error(inspect_json(layout.dir(), "multi"), {"choose a platform", "linux/amd64, linux/arm64/v8"});
  auto text = inspect_json(layout.dir(), "multi", *parse_platform("linux/arm64"));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(nlohmann::json::parse(*text)["manifest"]["digest"], arm.manifest.digest.str());
}

TEST(LayoutOpsInspect, ATaggedIndexListsItsPlatformsWithEachManifest) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto amd = layout.image({"amd"});
  auto arm = layout.image({"arm"});
  amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
  const Descriptor index = layout.blob(*encode_index(ImageIndex{{amd.manifest, arm.manifest}, {}}), k_media_type_index);
  layout.tag(index, "multi");
  layout.tag(amd.manifest, "single");
  auto listed = read_tagged_index(layout.dir(), "multi");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_TRUE(listed->has_value());
  EXPECT_EQ((*listed)->index.digest, index.digest);
  ASSERT_EQ((*listed)->entries.size(), 2u);
  EXPECT_EQ((*listed)->entries[1].digest, arm.manifest.digest);
  const auto json = nlohmann::json::parse(tagged_index_json("multi", **listed));
  EXPECT_EQ(json["index"]["digest"], index.digest.str());
  EXPECT_EQ(json["manifests"][0]["platform"], "linux/amd64");
  EXPECT_TRUE(json["manifests"][1]["platform"].is_null());
  EXPECT_EQ(json["manifests"][1]["digest"], arm.manifest.digest.str());
  auto image = read_tagged_index(layout.dir(), "single");
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_FALSE(image->has_value());
  expect_error(read_tagged_index(layout.dir(), "nope"), {"no image tagged 'nope'"});
}

TEST(LayoutOpsTags, JsonSaysTheKindOfEachEntry) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto amd = layout.image({"amd"});
  amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
  layout.tag(amd.manifest, "single");
  layout.tag(layout.blob(*encode_index(ImageIndex{{amd.manifest}, {}}), k_media_type_index), "multi");
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  const auto json = nlohmann::json::parse(tags_json(*tags));
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["tag"], "single");
  EXPECT_EQ(json[0]["kind"], "image");
  EXPECT_EQ(json[0]["digest"], amd.manifest.digest.str());
  EXPECT_FALSE(json[0].contains("platforms"));
  EXPECT_EQ(json[1]["kind"], "index");
  EXPECT_EQ(json[1]["platforms"], nlohmann::json::array({"linux/amd64"}));
}

// --- hostile layouts

TEST(LayoutOpsTags, EntriesOcipackCannotReadAreListedWithANote) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"a"});
  layout.tag(image.manifest, "good");
  std::string index = read_text(layout.dir() + "/index.json");
  const std::string manifest = R"("digest":")" + image.manifest.digest.str() + R"(","size":)" +
                               std::to_string(image.manifest.size);
  index.insert(index.rfind("]}"),
               R"(,{"digest":"sha512:)" + std::string(128, 'b') +
                   R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"s512"}})"
                   R"(,{"mediaType":"application/x-unknown",)" + manifest +
                   R"(,"annotations":{"org.opencontainers.image.ref.name":"odd"}})"
                   R"(,{"mediaType":"application/vnd.oci.image.manifest.v1+json",)" + manifest +
                   R"(,"annotations":{"org.opencontainers.image.ref.name":"good"}})");
  write_text(layout.dir() + "/index.json", index);
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  ASSERT_EQ(tags->size(), 4u);
  const auto& t = *tags;
  EXPECT_TRUE(t[0].readable);
  EXPECT_TRUE(contains(t[0].note, "tag 'good' is ambiguous (2 entries carry it)")) << t[0].note;
  EXPECT_EQ(t[0].digest_text, image.manifest.digest.str());
  EXPECT_FALSE(t[1].readable);
  EXPECT_EQ(t[1].tag, "s512");
  EXPECT_EQ(t[1].digest_text, "sha512:" + std::string(128, 'b'));
  EXPECT_TRUE(contains(t[1].note, "unsupported digest")) << t[1].note;
  EXPECT_TRUE(t[2].readable);
  EXPECT_TRUE(contains(t[2].note, "'application/x-unknown' is neither")) << t[2].note;
  EXPECT_TRUE(contains(t[3].note, "ambiguous"));
  // inspect of the readable, unambiguous entry works; of the others it names the problem.
  EXPECT_TRUE(load_image(layout.dir(), "odd").ok());
  expect_error(inspect_json(layout.dir(), "good"), {"ambiguous"});
  expect_error(inspect_json(layout.dir(), "s512"), {"unsupported digest"});
}

TEST(LayoutOpsHostile, NonRegularLayoutFilesAreRefusedByEveryOperation) {
  for (const char* file : {"index.json", "oci-layout"}) {
    for (const auto& hostile : ocipack::testing::hostile_kinds()) {
      SCOPED_TRACE(std::string(file) + " " + hostile.name);
      TempDir tmp;
      FakeLayout layout(tmp / "layout", true);
      auto image = layout.image({"a"});
      layout.tag(image.manifest, "v1");
      ASSERT_TRUE(ocipack::testing::make_hostile_in_place(layout.dir() + "/" + file, hostile.kind, tmp.path()));
      const std::string culprit = layout.dir() + "/" + file + " " + hostile.expected;
      expect_error(list_tags(layout.dir()), {culprit});
      expect_error(load_image(layout.dir(), "v1"), {culprit});
      expect_error(inspect_json(layout.dir(), "v1"), {culprit});
    }
  }
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// A tagged index lists each entry's referrers (and the index's own), in the
// data, the JSON and — through cli/inspect_text — the text.
TEST(LayoutOpsInspect, ATaggedIndexListsTheReferrersOfEachEntry) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto amd = layout.image({"amd"});
  auto arm = layout.image({"arm"});
  amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
  arm.manifest.platform = Platform{"arm64", "linux", "", {}, ""};
  const Descriptor index = layout.blob(*encode_index(ImageIndex{{amd.manifest, arm.manifest}, {}}), k_media_type_index);
  layout.tag(index, "multi");
  auto store = LayoutStore::open_or_create(layout.dir());
  ASSERT_TRUE(store.ok());
  auto sbom = write_referrer(*store, arm.manifest, "{}", "application/spdx+json");
  auto note = write_referrer(*store, index, "note", "application/vnd.note");
  ASSERT_TRUE(sbom.ok() && note.ok());
  auto plan = plan_index(*store, {*sbom, *note});
  ASSERT_TRUE(plan.ok() && commit_index(*store, *plan).ok());
  auto listed = read_tagged_index(layout.dir(), "multi");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ((*listed)->referrers.size(), 2u);
  EXPECT_TRUE(referrers_about((*listed)->referrers, amd.manifest.digest).empty());
  const auto json = nlohmann::json::parse(tagged_index_json("multi", **listed));
  EXPECT_FALSE(json["manifests"][0].contains("referrers"));
  EXPECT_EQ(json["manifests"][1]["referrers"],
            (nlohmann::json::array({{{"artifactType", "application/spdx+json"}, {"digest", sbom->digest.str()}, {"size", sbom->size}}})));
  EXPECT_EQ(json["referrers"][0]["digest"], note->digest.str());
}

}  // namespace
}  // namespace ocipack
