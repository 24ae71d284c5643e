// Tests for core/oci/referrers.cc: the artifact type sniffed from SPDX 2.3,
// SPDX 3.0 and CycloneDX JSON (and refused for anything else unless given);
// the artifact manifest's bytes field by field; attach writes the empty
// config, the document and the manifest, lists it in index.json without a
// ref.name (so tags does not show it) and is idempotent; list_referrers and
// referrers_of_image find it; gc keeps it while its subject is tagged and
// drops it (index.json entry and blobs) once the tag names another image;
// verify reports a referrer whose subject digest is wrong. Hostile inputs: a
// document over the size limit, a FIFO, a symlink and a directory as FILE are
// refused naming them, and the layout is left byte-identical.
#include "core/oci/referrers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/image/layout_verify.h"
#include "core/oci/layout_gc.h"
#include "core/oci/layout_ops.h"
#include "core/util/sha256.h"
#include "expect_error.h"
#include "fake_layout.h"
#include "hostile_files.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::expect_error;
using ocipack::testing::FakeImage;
using ocipack::testing::FakeLayout;
using ocipack::testing::list_dir;
using ocipack::testing::path_exists;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;
using Json = nlohmann::json;

constexpr const char* k_spdx23 = R"({"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"img"})";
constexpr const char* k_spdx30 =
    R"({"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]})";
constexpr const char* k_cyclonedx = R"({"bomFormat":"CycloneDX","specVersion":"1.5","components":[]})";

TEST(Referrers, DetectsTheArtifactTypeFromTheContent) {
  EXPECT_EQ(detect_artifact_type(k_spdx23), k_artifact_type_spdx);
  EXPECT_EQ(detect_artifact_type(k_spdx30), k_artifact_type_spdx);
  EXPECT_EQ(detect_artifact_type(R"({"@context":["x",{"a":1},"https://spdx.org/rdf/3.0.0/ctx"]})"),
            k_artifact_type_spdx);
  EXPECT_EQ(detect_artifact_type(k_cyclonedx), k_artifact_type_cyclonedx);
  EXPECT_EQ(detect_artifact_type(R"({"bomFormat":"Other"})"), std::nullopt);
  EXPECT_EQ(detect_artifact_type(R"({"@context":"https://schema.org"})"), std::nullopt);
  EXPECT_EQ(detect_artifact_type(R"(["spdxVersion"])"), std::nullopt);
  EXPECT_EQ(detect_artifact_type("not json"), std::nullopt);
  EXPECT_EQ(detect_artifact_type(std::string(100, '[')), std::nullopt);  // beyond the depth limit

  expect_error(resolve_artifact_type("plain text", std::nullopt, "document"), {"artifact type is required"});
  EXPECT_EQ(*resolve_artifact_type("plain text", std::string("text/plain"), "document"), "text/plain");
  expect_error(resolve_artifact_type(k_spdx23, std::string("no type"), "document"), {"not a valid media type"});
}

TEST(Referrers, ArtifactManifestBytes) {
  Descriptor subject{k_media_type_manifest, Sha256::of("m"), 123, {{k_annotation_ref_name, "v1"}}};
  Platform platform;
  platform.architecture = "amd64";
  platform.os = "linux";
  subject.platform = platform;
  Descriptor document{k_artifact_type_spdx, Sha256::of("doc"), 3, {}};
  auto text = encode_manifest(make_artifact_manifest(subject, document, k_artifact_type_spdx));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, std::string(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)") +
                       R"("artifactType":"application/spdx+json","config":{"mediaType":)" +
                       R"("application/vnd.oci.empty.v1+json","digest":")" + Sha256::of("{}").str() +
                       R"(","size":2},"layers":[{"mediaType":"application/spdx+json","digest":")" +
                       Sha256::of("doc").str() + R"(","size":3}],"subject":{"mediaType":)" +
                       R"("application/vnd.oci.image.manifest.v1+json","digest":")" + Sha256::of("m").str() +
                       R"(","size":123}})");
  // A manifest without the OCI 1.1 members encodes as before.
  Manifest plain{document, {document}};
  EXPECT_EQ(encode_manifest(plain)->find("artifactType"), std::string::npos);
}

struct AttachFixture : ::testing::Test {
  TempDir tmp;
  FakeLayout layout{tmp / "layout"};
  FakeImage image = layout.image({"layer"});
  std::string doc = tmp / "sbom.spdx.json";
  void SetUp() override {
    layout.tag(image.manifest, "v1");
    write_text(doc, k_spdx23);
  }
  Result<Descriptor> attach(const std::string& path, std::optional<std::string> type = std::nullopt) {
    return attach_document(AttachRequest{layout.dir(), "v1", path, std::move(type)});
  }
  Json index() { return Json::parse(read_text(layout.dir() + "/index.json")); }
  // verify's problems; FakeLayout's layer blobs are not gzip, which verify
  // reports for the image itself: those are left out.
  std::vector<std::string> problems() {
    auto report = verify_layout(layout.dir(), {});
    EXPECT_TRUE(report.ok());
    std::vector<std::string> out;
    for (const auto& p : report->problems)
      if (p.find("blob is not gzip-compressed") == std::string::npos) out.push_back(p);
    return out;
  }
};

TEST_F(AttachFixture, AttachWritesTheReferrerOnceAndListsItUntagged) {
  auto entry = attach(doc);
  ASSERT_TRUE(entry.ok()) << entry.error().message;
  EXPECT_EQ(entry->artifact_type, k_artifact_type_spdx);
  const std::string index_before = read_text(layout.dir() + "/index.json");
  Json j = Json::parse(index_before);
  ASSERT_EQ(j["manifests"].size(), 2u);
  const Json& listed = j["manifests"][1];
  EXPECT_EQ(listed["artifactType"], k_artifact_type_spdx);
  EXPECT_EQ(listed["digest"], entry->digest.str());
  EXPECT_FALSE(listed.contains("annotations"));
  EXPECT_EQ(read_text(layout.dir() + "/blobs/sha256/" + Sha256::of("{}").hex()), "{}");
  EXPECT_EQ(read_text(layout.dir() + "/blobs/sha256/" + Sha256::of(k_spdx23).hex()), k_spdx23);
  Json manifest = Json::parse(read_text(layout.path_of(*entry)));
  EXPECT_EQ(manifest["subject"]["digest"], image.manifest.digest.str());
  EXPECT_EQ(manifest["subject"]["size"], image.manifest.size);

  // Idempotent: the same document again changes nothing.
  auto again = attach(doc);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->digest, entry->digest);
  EXPECT_EQ(read_text(layout.dir() + "/index.json"), index_before);

  // tags shows the image only; inspect's readers find the referrer.
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].tag, "v1");
  auto referrers = list_referrers(layout.dir(), image.manifest.digest);
  ASSERT_TRUE(referrers.ok()) << referrers.error().message;
  ASSERT_EQ(referrers->size(), 1u);
  EXPECT_EQ((*referrers)[0].artifact_type, k_artifact_type_spdx);
  auto json = inspect_json(layout.dir(), "v1");
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(Json::parse(*json)["referrers"][0]["digest"], entry->digest.str());

  // A second document (CycloneDX) is a second referrer.
  write_text(tmp / "bom.cdx.json", k_cyclonedx);
  auto second = attach(tmp / "bom.cdx.json");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->artifact_type, k_artifact_type_cyclonedx);
  EXPECT_EQ(index()["manifests"].size(), 3u);
  const auto found = problems();
  EXPECT_TRUE(found.empty()) << found[0];
}

TEST_F(AttachFixture, UnknownContentNeedsAnArtifactType) {
  write_text(tmp / "notes.txt", "plain text");
  const std::string before = read_text(layout.dir() + "/index.json");
  expect_error(attach(tmp / "notes.txt"), {"artifact type is required"});
  EXPECT_EQ(read_text(layout.dir() + "/index.json"), before);
  auto typed = attach(tmp / "notes.txt", "text/plain");
  ASSERT_TRUE(typed.ok()) << typed.error().message;
  EXPECT_EQ(typed->artifact_type, "text/plain");
  expect_error(attach_document(AttachRequest{layout.dir(), "nope", doc, std::nullopt}), {"nope"});
}

TEST_F(AttachFixture, HostileDocumentsAreRefusedAndTheLayoutIsUnchanged) {
  const auto blobs_before = list_dir(layout.blobs());
  const std::string index_before = read_text(layout.dir() + "/index.json");
  // Over the document limit (a sparse file: no memory or disk needed).
  const std::string huge = tmp / "huge.json";
  write_text(huge, "");
  ASSERT_EQ(::truncate(huge.c_str(), k_max_document_size + 1), 0);
  expect_error(attach(huge), {"huge.json"});
  for (const auto& kind : ocipack::testing::hostile_kinds()) {
    if (kind.kind == ocipack::testing::Hostile::socket || kind.kind == ocipack::testing::Hostile::device) continue;
    SCOPED_TRACE(kind.name);
    const std::string path = tmp / (std::string("hostile-") + kind.name);
    ASSERT_TRUE(ocipack::testing::make_hostile(path, kind.kind, doc));
    expect_error(attach(path), {path, kind.expected});
  }
  EXPECT_EQ(list_dir(layout.blobs()), blobs_before);
  EXPECT_EQ(read_text(layout.dir() + "/index.json"), index_before);
}

TEST_F(AttachFixture, GcKeepsLiveReferrersAndDropsThoseOfReplacedImages) {
  auto entry = attach(doc);
  ASSERT_TRUE(entry.ok()) << entry.error().message;
  auto kept = collect_garbage(layout.dir());
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(kept->removed_blobs, 0u);
  EXPECT_EQ(kept->removed_referrers, 0u);
  EXPECT_EQ(index()["manifests"].size(), 2u);

  // Retag v1 to another image: the old image and its referrer go.
  FakeImage other = layout.image({"other layer"});
  layout.tag(other.manifest, "v1");
  auto dropped = collect_garbage(layout.dir());
  ASSERT_TRUE(dropped.ok()) << dropped.error().message;
  EXPECT_EQ(dropped->removed_referrers, 1u);
  Json j = index();
  ASSERT_EQ(j["manifests"].size(), 1u);
  EXPECT_EQ(j["manifests"][0]["digest"], other.manifest.digest.str());
  EXPECT_FALSE(path_exists(layout.path_of(*entry)));
  EXPECT_FALSE(path_exists(layout.blobs() + "/" + Sha256::of(k_spdx23).hex()));
  EXPECT_FALSE(path_exists(layout.blobs() + "/" + Sha256::of("{}").hex()));
  EXPECT_FALSE(path_exists(layout.path_of(image.manifest)));
  EXPECT_TRUE(path_exists(layout.path_of(other.manifest)));
}

TEST_F(AttachFixture, VerifyReportsAWrongSubject) {
  // A referrer whose subject digest names no blob of the layout.
  Descriptor absent{k_media_type_manifest, Sha256::of("no such manifest"), 10, {}};
  Descriptor document = layout.blob(k_spdx23, k_artifact_type_spdx);
  layout.blob("{}", k_media_type_empty);
  auto text = encode_manifest(make_artifact_manifest(absent, document, k_artifact_type_spdx));
  ASSERT_TRUE(text.ok());
  Descriptor referrer = layout.blob(*text, k_media_type_manifest);
  referrer.artifact_type = k_artifact_type_spdx;
  layout.tag(referrer, "");
  auto found = problems();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("subject " + absent.digest.str()), std::string::npos) << found[0];
  EXPECT_NE(found[0].find("missing"), std::string::npos) << found[0];

  // The subject's digest right but its size wrong.
  Descriptor wrong_size = image.manifest;
  wrong_size.size += 1;
  auto text2 = encode_manifest(make_artifact_manifest(wrong_size, document, k_artifact_type_spdx));
  Descriptor referrer2 = layout.blob(*text2, k_media_type_manifest);
  referrer2.artifact_type = k_artifact_type_spdx;
  layout.tag(referrer2, "");
  found = problems();
  ASSERT_EQ(found.size(), 2u);
  EXPECT_NE(found[1].find("but this descriptor says " + std::to_string(wrong_size.size)), std::string::npos)
      << found[1];
}

}  // namespace
}  // namespace ocipack
