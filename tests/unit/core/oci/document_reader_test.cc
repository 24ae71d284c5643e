// Tests for core/oci/document_reader.cc, the one reader of descriptors,
// image indexes and manifests: every problem is reported once with the
// document and field named, graded unreadable (the loader refuses) or
// nonconforming (the loader reads on, verify reports); an entry keeps its
// located descriptor when only fields other than the digest are broken;
// platform objects are read (and their fields type-checked); the document's
// own mediaType must agree with the descriptor that points at it.
#include "core/oci/document_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ocipack {
namespace {

std::string digest_text(char c) { return "sha256:" + std::string(64, c); }

// Collects every problem with its severity.
struct Collected final : ProblemSink {
  std::vector<std::pair<Severity, std::string>> problems;
  void report(Severity severity, std::string message) override { problems.emplace_back(severity, std::move(message)); }
  bool has(Severity severity, const std::string& part) const {
    for (const auto& [s, m] : problems)
      if (s == severity && m.find(part) != std::string::npos) return true;
    return false;
  }
  std::string all() const {
    std::string out;
    for (const auto& [s, m] : problems) out += (s == Severity::unreadable ? "U " : "N ") + m + "\n";
    return out;
  }
};

TEST(DocumentReader, EveryProblemIsReportedAndGraded) {
  const std::string json = R"({"schemaVersion":1,"mediaType":"application/json","manifests":[)"
                           R"({"digest":")" + digest_text('a') + R"(","size":1},)"
                           R"({"mediaType":7,"digest":")" + digest_text('b') + R"(","size":-2,"annotations":{"k":1}},)"
                           R"({"mediaType":"bad","digest":"sha256:xyz","size":1}]})";
  Collected sink;
  const IndexDocument index = read_index_document(json, "index.json", nullptr, sink);
  ASSERT_TRUE(index.readable);
  ASSERT_EQ(index.entries.size(), 3u);
  EXPECT_TRUE(sink.has(Severity::nonconforming, "index.json: schemaVersion is 1, expected 2")) << sink.all();
  EXPECT_TRUE(sink.has(Severity::nonconforming, "index.json: mediaType is 'application/json'")) << sink.all();
  EXPECT_TRUE(sink.has(Severity::nonconforming, "index.json: manifests[0] has no mediaType")) << sink.all();
  EXPECT_TRUE(sink.has(Severity::unreadable, "manifests[1].mediaType is a number, expected a string")) << sink.all();
  EXPECT_TRUE(sink.has(Severity::unreadable, "manifests[1].size is negative (-2)")) << sink.all();
  EXPECT_TRUE(sink.has(Severity::unreadable, "manifests[1].annotations.k is a number, expected a string")) << sink.all();
  EXPECT_TRUE(sink.has(Severity::nonconforming, "manifests[2].mediaType 'bad' is not a valid media type")) << sink.all();
  EXPECT_TRUE(sink.has(Severity::unreadable, "manifests[2].digest 'sha256:xyz'")) << sink.all();
  EXPECT_EQ(sink.problems.size(), 8u) << sink.all();

  // Entry 0 reads (nonconforming only); entry 1 is located but unreadable;
  // entry 2 has no usable digest at all.
  EXPECT_TRUE(index.entries[0].descriptor);
  EXPECT_TRUE(index.entries[0].problem.empty());
  EXPECT_FALSE(index.entries[1].descriptor);
  ASSERT_TRUE(index.entries[1].located);
  EXPECT_EQ(index.entries[1].located->size, -1);
  EXPECT_EQ(index.entries[1].located->media_type, "");
  EXPECT_NE(index.entries[1].problem.find("manifests[1].mediaType"), std::string::npos) << index.entries[1].problem;
  EXPECT_FALSE(index.entries[2].located);
  EXPECT_EQ(index.entries[2].digest_text, "sha256:xyz");
}

TEST(DocumentReader, TheLoadersSinkKeepsTheFirstUnreadableProblemOnly) {
  FirstUnreadable sink;
  sink.report(Severity::nonconforming, "not this");
  EXPECT_FALSE(sink.found());
  sink.report(Severity::unreadable, "this");
  sink.report(Severity::unreadable, "not that");
  ASSERT_TRUE(sink.found());
  EXPECT_EQ(sink.error().message, "this");
  EXPECT_TRUE(sink.error().is(ErrorKind::input));
}

TEST(DocumentReader, DocumentsThatAreNoIndexAreUnreadable) {
  for (const auto& [json, part] : std::vector<std::pair<std::string, std::string>>{
           {"{", "x is not valid JSON"},
           {"[]", "x is not a JSON object (it is an array)"},
           {R"({"manifests":{}})", "x: manifests is an object, expected an array"}}) {
    Collected sink;
    EXPECT_FALSE(read_index_document(json, "x", nullptr, sink).readable) << json;
    EXPECT_TRUE(sink.has(Severity::unreadable, part)) << sink.all();
  }
  // Missing manifests: no entries, nonconforming. Null in index.json (as
  // `umoci init` writes it): no entries and no problem (issue 13).
  for (const std::string json : {R"({"schemaVersion":2})", R"({"schemaVersion":2,"manifests":null})"}) {
    Collected sink;
    const IndexDocument index = read_index_document(json, "x", nullptr, sink);
    EXPECT_TRUE(index.readable);
    EXPECT_TRUE(index.entries.empty());
    const size_t expected = json.find("null") == std::string::npos ? 1u : 0u;
    ASSERT_EQ(sink.problems.size(), expected) << sink.all();
    if (expected) {
      EXPECT_EQ(sink.problems[0].first, Severity::nonconforming);
    }
  }
}

TEST(DocumentReader, PlatformsAreReadAndChecked) {
  const std::string json =
      R"({"schemaVersion":2,"manifests":[)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest_text('a') +
      R"(","size":1,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0","os.features":["f"],)"
      R"("variant":"v2","x":1}},)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest_text('b') +
      R"(","size":1,"platform":{"os":"linux"}},)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest_text('c') +
      R"(","size":1,"platform":{"architecture":"arm","os":"linux","os.features":"no"}},)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest_text('d') +
      R"(","size":1,"platform":"linux/amd64"}]})";
  Collected sink;
  const IndexDocument index = read_index_document(json, "i", nullptr, sink);
  ASSERT_EQ(index.entries.size(), 4u);
  ASSERT_TRUE(index.entries[0].descriptor && index.entries[0].descriptor->platform);
  EXPECT_EQ(*index.entries[0].descriptor->platform, (Platform{"amd64", "windows", "10.0", {"f"}, "v2"}));
  ASSERT_TRUE(index.entries[1].descriptor);
  EXPECT_TRUE(sink.has(Severity::nonconforming, "i: manifests[1].platform has no architecture")) << sink.all();
  EXPECT_FALSE(index.entries[2].descriptor);
  EXPECT_TRUE(sink.has(Severity::unreadable, "manifests[2].platform.os.features is a string, expected an array of strings"))
      << sink.all();
  EXPECT_FALSE(index.entries[3].descriptor);
  EXPECT_TRUE(sink.has(Severity::unreadable, "manifests[3].platform is a string, expected an object")) << sink.all();
}

TEST(DocumentReader, ManifestsAgreeWithTheirDescriptorsAndNeedAConfig) {
  Descriptor referrer{k_media_type_docker_manifest, Digest(), 1, {}};
  const std::string config = R"("config":{"mediaType":"text/plain","digest":")" + digest_text('c') + R"(","size":1})";
  {
    Collected sink;
    const ManifestDocument manifest = read_manifest_document(
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)" + config + "}", "m",
        &referrer, sink);
    ASSERT_TRUE(manifest.readable);
    EXPECT_TRUE(manifest.config);
    EXPECT_TRUE(manifest.layers.empty());
    EXPECT_TRUE(sink.has(Severity::nonconforming, "differs from its descriptor's")) << sink.all();
    EXPECT_TRUE(sink.has(Severity::nonconforming, "m: config.mediaType is 'text/plain', expected")) << sink.all();
    EXPECT_TRUE(sink.has(Severity::nonconforming, "m has no layers")) << sink.all();
    EXPECT_FALSE(sink.has(Severity::unreadable, "")) << sink.all();
  }
  {
    Collected sink;
    read_manifest_document(R"({"schemaVersion":2,"layers":[]})", "m", nullptr, sink);
    EXPECT_TRUE(sink.has(Severity::unreadable, "m has no config descriptor")) << sink.all();
  }
  {
    Collected sink;
    read_manifest_document(R"({"mediaType":"application/vnd.oci.image.index.v1+json",)" + config + "}", "m", nullptr,
                           sink);
    EXPECT_TRUE(sink.has(Severity::unreadable, "m is an image index")) << sink.all();
  }
  {
    Collected sink;
    const ManifestDocument manifest = read_manifest_document(
        "{" + config + R"(,"layers":[{"digest":"md5:0","size":1},{"digest":")" + digest_text('e') + R"(","size":2}]})",
        "m", nullptr, sink);
    ASSERT_EQ(manifest.layers.size(), 2u);
    EXPECT_FALSE(manifest.layers[0]);
    ASSERT_TRUE(manifest.layers[1]);
    EXPECT_EQ(manifest.layers[1]->size, 2);
    EXPECT_TRUE(sink.has(Severity::unreadable, "m: layers[0].digest 'md5:0'")) << sink.all();
  }
}

}  // namespace
}  // namespace ocipack
