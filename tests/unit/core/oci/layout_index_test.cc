// Tests for core/oci/layout_index.cc (and the layout tarball reader it uses):
// sources from layout directories and their tarballs become one image index
// blob in order, each entry with its config's platform, tagged in index.json;
// the same inputs give the same bytes; two images of one platform, an index
// source without flatten, an edit of a missing platform are refused naming
// the fields; add replaces its platform's entry in place, remove drops one;
// hostile sources (a blob that does not match its digest, a symlinked blob, a
// tarball member with "..", indexes nested too deep or naming themselves)
// are refused and leave the output layout byte for byte as it was. The
// sources' referrers come along (and referrers of those), each once;
// annotations go on the index document and its index.json entry; an edit of
// an index another tool wrote keeps every field it does not change, and a
// hostile index to edit is refused.
#include "core/oci/layout_index.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/image/layout_verify.h"
#include "core/oci/layout_gc.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_tarball.h"
#include "core/oci/layout_store.h"
#include "core/oci/referrers.h"
#include "core/oci/image_writer.h"
#include "expect_error.h"
#include "fake_layout.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::expect_error;
using testing::FakeImage;
using testing::FakeLayout;
using testing::raw_tar_data;
using testing::raw_tar_end;
using testing::raw_tar_header;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

ImageConfig config_for(const std::string& arch, const std::string& variant = "") {
  ImageConfig c = FakeLayout::base_config();
  c.architecture = arch;
  c.variant = variant;
  return c;
}

// A layout at `dir` holding one image for `arch`/`variant` tagged "latest".
FakeLayout image_layout(const std::string& dir, const std::string& arch, const std::string& variant = "",
                        const std::string& content = "") {
  FakeLayout layout(dir);
  const auto image = layout.image({"layer of " + arch + variant + content}, config_for(arch, variant));
  layout.tag(image.manifest, "latest");
  return layout;
}

// Every file below `dir` with its bytes: a layout's complete state.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    files[entry.path().string()] = entry.is_regular_file() ? read_text(entry.path().string()) : "<dir>";
  return files;
}

IndexRequest request_for(const std::string& out, const std::vector<std::string>& dirs) {
  IndexRequest request;
  request.layout_dir = out;
  request.tag = "multi";
  for (const auto& dir : dirs) request.sources.push_back({dir, "latest"});
  return request;
}

std::vector<std::string> platforms_of(const std::vector<Descriptor>& entries) {
  std::vector<std::string> out;
  for (const auto& entry : entries) out.push_back(entry.platform ? platform_text(*entry.platform) : "none");
  return out;
}

// The tarball `build --tar-output` would write of `dir`.
std::string tarball_of(const std::string& dir, const std::string& output) {
  auto staged = stage_layout_tarball(dir, output, k_oci_layout_json, read_text(dir + "/index.json"), 0);
  EXPECT_TRUE(staged.ok()) << staged.error().message;
  EXPECT_TRUE(staged->commit(output).ok());
  return output;
}

TEST(LayoutIndex, ListsEachSourceWithItsPlatformInOrder) {
  TempDir tmp;
  image_layout(tmp / "amd64", "amd64");
  image_layout(tmp / "arm64", "arm64", "v8");
  image_layout(tmp / "arm", "arm", "v7");
  auto result = write_layout_index(request_for(tmp / "out", {tmp / "arm64", tmp / "amd64", tmp / "arm"}));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(platforms_of(result->entries),
            (std::vector<std::string>{"linux/arm64/v8", "linux/amd64", "linux/arm/v7"}));
  EXPECT_EQ(result->index.media_type, k_media_type_index);
  EXPECT_EQ(result->index.annotations.at(k_annotation_ref_name), "multi");
  EXPECT_FALSE(result->entries[0].annotations.contains(k_annotation_ref_name));
  // index.json: one entry, the index blob, whose bytes are encode_index's.
  auto listed = read_index(tmp / "out");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].digest, result->index.digest);
  EXPECT_EQ(read_text(tmp / "out/blobs/sha256/" + result->index.digest.hex()),
            *encode_index(ImageIndex{result->entries, {}}));
  // Each platform's image reads back whole (manifest, config, layers copied).
  for (const char* wanted : {"linux/arm64", "linux/amd64", "linux/arm/v7"}) {
    auto image = load_image(tmp / "out", "multi", *parse_platform(wanted));
    ASSERT_TRUE(image.ok()) << image.error().message;
  }
}

TEST(LayoutIndex, SameInputsGiveTheSameBytesFromDirectoriesAndTarballs) {
  TempDir tmp;
  image_layout(tmp / "amd64", "amd64");
  image_layout(tmp / "arm64", "arm64");
  auto first = write_layout_index(request_for(tmp / "one", {tmp / "amd64", tmp / "arm64"}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string tarball = tarball_of(tmp / "arm64", tmp / "arm64.tar");
  auto second = write_layout_index(request_for(tmp / "two", {tmp / "amd64", tarball}));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->index.digest, second->index.digest);
  EXPECT_EQ(read_text(tmp / "one/index.json"), read_text(tmp / "two/index.json"));
  EXPECT_EQ(testing::list_dir(tmp / "one/blobs/sha256"), testing::list_dir(tmp / "two/blobs/sha256"));
}

TEST(LayoutIndex, RefusesTwoImagesOfOnePlatformNamingBoth) {
  TempDir tmp;
  image_layout(tmp / "a", "arm64", "");
  image_layout(tmp / "b", "arm64", "v8", "other");  // arm64 is arm64/v8
  auto result = write_layout_index(request_for(tmp / "out", {tmp / "a", tmp / "b"}));
  expect_error(result, {"sources[0] '" + tmp / "a" + ":latest' and sources[1] '" + tmp / "b" + ":latest'",
                        "both for the platform linux/arm64"});
  EXPECT_EQ(result.error().field(), "sources[0]");
  EXPECT_FALSE(std::filesystem::exists(tmp / "out"));
}

TEST(LayoutIndex, TakesTheImagesOfAnIndexSourceOnlyWithFlatten) {
  TempDir tmp;
  image_layout(tmp / "amd64", "amd64");
  image_layout(tmp / "arm", "arm", "v7");
  auto made = write_layout_index(request_for(tmp / "multi", {tmp / "amd64", tmp / "arm"}));
  ASSERT_TRUE(made.ok()) << made.error().message;
  IndexRequest again;
  again.layout_dir = tmp / "out";
  again.tag = "multi";
  again.sources = {{tmp / "multi", "multi"}};
  auto refused = write_layout_index(again);
  expect_error(refused, {"names an image index; flatten takes its images"});
  EXPECT_EQ(refused.error().fields.at(1).name, "flatten");
  again.flatten = true;
  auto flattened = write_layout_index(again);
  ASSERT_TRUE(flattened.ok()) << flattened.error().message;
  EXPECT_EQ(flattened->index.digest, made->index.digest);
}

TEST(LayoutIndex, AddReplacesItsPlatformInPlaceAndRemoveDropsOne) {
  TempDir tmp;
  image_layout(tmp / "amd64", "amd64");
  image_layout(tmp / "arm", "arm", "v7");
  image_layout(tmp / "arm64", "arm64");
  image_layout(tmp / "amd64-new", "amd64", "", "rebuilt");
  ASSERT_TRUE(write_layout_index(request_for(tmp / "out", {tmp / "amd64", tmp / "arm"})).ok());
  IndexRequest edit;
  edit.layout_dir = tmp / "out";
  edit.tag = "multi";
  edit.add = {{tmp / "amd64-new", "latest"}, {tmp / "arm64", "latest"}};
  auto added = write_layout_index(edit);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(platforms_of(added->entries), (std::vector<std::string>{"linux/amd64", "linux/arm/v7", "linux/arm64"}));
  auto rebuilt = load_image(tmp / "amd64-new", "latest");
  EXPECT_EQ(added->entries[0].digest, rebuilt->manifest.digest);

  edit.add.clear();
  edit.remove = {*parse_platform("linux/arm/v7")};
  auto removed = write_layout_index(edit);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(platforms_of(removed->entries), (std::vector<std::string>{"linux/amd64", "linux/arm64"}));

  const auto before = snapshot(tmp / "out");
  edit.remove = {*parse_platform("linux/s390x")};
  auto absent = write_layout_index(edit);
  expect_error(absent, {"remove[0] linux/s390x: the index has no entry for it (it has linux/amd64, linux/arm64)"});
  EXPECT_EQ(snapshot(tmp / "out"), before);
}

TEST(LayoutIndex, SourcesAndEditsExcludeEachOther) {
  TempDir tmp;
  image_layout(tmp / "amd64", "amd64");
  IndexRequest request = request_for(tmp / "out", {tmp / "amd64"});
  request.remove = {*parse_platform("linux/amd64")};
  expect_error(write_layout_index(request), {"cannot be combined with add or remove"});
  request = request_for(tmp / "out", {});
  expect_error(write_layout_index(request), {"sources: no image given"});
  request.add = {{tmp / "amd64", "latest"}};
  expect_error(write_layout_index(request), {"tag 'multi'", "no index.json yet"});
}

// An output layout with an image in it, to show that a refused index leaves it as it was.
struct Output {
  TempDir tmp;
  std::map<std::string, std::string> before;
  Output() {
    image_layout(tmp / "out", "s390x");
    image_layout(tmp / "amd64", "amd64");
    image_layout(tmp / "arm64", "arm64");
    before = snapshot(tmp / "out");
  }
  void expect_unchanged() { EXPECT_EQ(snapshot(tmp / "out"), before); }
};

TEST(LayoutIndex, RefusesABlobThatDoesNotMatchItsDigestAndLeavesTheOutput) {
  Output o;
  auto image = load_image(o.tmp / "arm64", "latest");
  const std::string layer = o.tmp / "arm64/blobs/sha256/" + image->manifest_doc.layers[0].digest.hex();
  std::string bytes = read_text(layer);
  bytes[0] ^= 1;  // same size, other content
  write_text(layer, bytes);
  auto result = write_layout_index(request_for(o.tmp / "out", {o.tmp / "amd64", o.tmp / "arm64"}));
  expect_error(result, {"sources[1]", "does not match its digest"});
  EXPECT_TRUE(result.error().is(ErrorKind::corrupt));
  o.expect_unchanged();
}

TEST(LayoutIndex, RefusesASymlinkedBlob) {
  Output o;
  auto image = load_image(o.tmp / "arm64", "latest");
  const std::string config = o.tmp / "arm64/blobs/sha256/" + image->manifest_doc.config.digest.hex();
  write_text(o.tmp / "elsewhere", read_text(config));
  ASSERT_EQ(::unlink(config.c_str()), 0);
  ASSERT_EQ(::symlink((o.tmp / "elsewhere").c_str(), config.c_str()), 0);
  expect_error(write_layout_index(request_for(o.tmp / "out", {o.tmp / "amd64", o.tmp / "arm64"})),
               {"sources[1]", "symlink"});
  o.expect_unchanged();
}

TEST(LayoutIndex, RefusesATarballWithDotDotOrLinkMembers) {
  Output o;
  const std::string index = read_text(o.tmp / "arm64/index.json");
  const std::string dotdot = raw_tar_header("oci-layout", '0', std::string(k_oci_layout_json).size()) +
                             raw_tar_data(k_oci_layout_json) + raw_tar_header("../index.json", '0', index.size()) +
                             raw_tar_data(index) + raw_tar_end();
  write_text(o.tmp / "dotdot.tar", dotdot);
  expect_error(write_layout_index(request_for(o.tmp / "out", {o.tmp / "dotdot.tar"})),
               {"sources[0]", "member '../index.json' has a '..' component"});
  const std::string linked = raw_tar_header("oci-layout", '0', std::string(k_oci_layout_json).size()) +
                             raw_tar_data(k_oci_layout_json) + raw_tar_header("index.json", '2', 0, "/etc/passwd") +
                             raw_tar_end();
  write_text(o.tmp / "link.tar", linked);
  expect_error(write_layout_index(request_for(o.tmp / "out", {o.tmp / "link.tar"})),
               {"member 'index.json' is neither a regular file nor a directory"});
  const std::string twice = raw_tar_header("index.json", '0', index.size()) + raw_tar_data(index) +
                            raw_tar_header("./index.json", '0', index.size()) + raw_tar_data(index) + raw_tar_end();
  write_text(o.tmp / "twice.tar", twice);
  expect_error(write_layout_index(request_for(o.tmp / "out", {o.tmp / "twice.tar"})), {"appears twice"});
  o.expect_unchanged();
}

TEST(LayoutIndex, RefusesABlobOfATarballThatDoesNotMatchItsDigest) {
  Output o;
  std::string tar = read_text(tarball_of(o.tmp / "arm64", o.tmp / "arm64.tar"));
  auto image = load_image(o.tmp / "arm64", "latest");
  const std::string layer = read_text(o.tmp / "arm64/blobs/sha256/" + image->manifest_doc.layers[0].digest.hex());
  const size_t at = tar.find(layer);
  ASSERT_NE(at, std::string::npos);
  tar[at] ^= 1;
  write_text(o.tmp / "arm64.tar", tar);
  auto result = write_layout_index(request_for(o.tmp / "out", {o.tmp / "amd64", o.tmp / "arm64.tar"}));
  expect_error(result, {"sources[1]", "layout tarball", "does not match its digest"});
  o.expect_unchanged();
}

TEST(LayoutIndex, RefusesIndexesNestedTooDeepOrNamingThemselves) {
  Output o;
  FakeLayout deep(o.tmp / "deep");
  Descriptor inner = deep.image({"x"}, config_for("amd64")).manifest;
  for (int level = 0; level < 9; ++level) inner = deep.index_blob({inner});
  deep.tag(inner, "latest");
  IndexRequest request = request_for(o.tmp / "out", {o.tmp / "deep"});
  request.flatten = true;
  expect_error(write_layout_index(request), {"nested more than 8 deep"});

  // An index blob whose entry is its own digest cannot hash to that digest:
  // refused as corrupt before it is followed.
  FakeLayout self(o.tmp / "self");
  const Descriptor placeholder{k_media_type_index, Sha256::of("self"), 4, {}};
  const Descriptor index = self.index_blob({placeholder});
  const Descriptor claimed{k_media_type_index, index.digest, index.size, {}};
  write_text(self.path_of(index), read_text(self.path_of(index)).replace(
                                      read_text(self.path_of(index)).find(placeholder.digest.hex()), 64, index.digest.hex()));
  self.tag(claimed, "latest");
  request.sources = {{o.tmp / "self", "latest"}};
  expect_error(write_layout_index(request), {"sources[0]", "is corrupted"});
  o.expect_unchanged();
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// What the readers make of an index write_layout_index wrote: verify reads
// the index and each image; gc keeps every blob the index reaches, and
// after --remove drops exactly the removed image's blobs.
TEST(LayoutIndex, VerifyChecksEveryImageAndGcKeepsWhatTheIndexReaches) {
  TempDir tmp;
  image_layout(tmp / "amd64", "amd64");
  image_layout(tmp / "arm64", "arm64");
  ASSERT_TRUE(write_layout_index(request_for(tmp / "out", {tmp / "amd64", tmp / "arm64"})).ok());
  auto report = verify_layout(tmp / "out", {});
  ASSERT_TRUE(report.ok()) << report.error().message;
  // Fake layers are not tars: verify reports each of them, and nothing else.
  EXPECT_EQ(report->manifests, 2u);
  for (const auto& problem : report->problems) EXPECT_NE(problem.find("layer"), std::string::npos) << problem;
  auto kept = collect_garbage(tmp / "out");
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(kept->removed_blobs, 0u);

  IndexRequest edit;
  edit.layout_dir = tmp / "out";
  edit.tag = "multi";
  edit.remove = {*parse_platform("linux/arm64")};
  ASSERT_TRUE(write_layout_index(edit).ok());
  auto swept = collect_garbage(tmp / "out");
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(swept->removed_blobs, 4u);  // the old index, arm64's manifest, config and layer
  auto image = load_image(tmp / "out", "multi");  // an index of one image is followed
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(image->config.architecture, "amd64");
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// Attaches `document` (artifact type given) to the image tagged "latest" in `dir`.
Descriptor attach(const std::string& dir, const std::string& name, const std::string& document) {
  write_text(dir + "/../" + name, document);
  auto attached = attach_document(AttachRequest{dir, "latest", dir + "/../" + name, "application/vnd.test+json"});
  EXPECT_TRUE(attached.ok()) << attached.error().message;
  return attached.ok() ? *attached : Descriptor{};
}

nlohmann::json json_of(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

// Each source's referrers (from a directory and from a tarball) come along:
// their blobs copied, their entries listed after the index's with their
// artifactType and no ref.name, each subject the image's entry in the index;
// a referrer about something else of a source stays behind; the same
// inputs give the same bytes, and an index made again lists each once.
TEST(LayoutIndexReferrers, CarriesEachSourcesReferrersOnce) {
  TempDir tmp;
  FakeLayout amd64 = image_layout(tmp / "amd64", "amd64");
  const FakeImage other = amd64.image({"another image"}, config_for("amd64"));
  amd64.tag(other.manifest, "other");
  const Descriptor amd64_sbom = attach(tmp / "amd64", "amd64.json", R"({"sbom":"amd64"})");
  ASSERT_TRUE(attach_document(AttachRequest{tmp / "amd64", "other", tmp / "amd64.json", "application/vnd.x+json"}).ok());
  image_layout(tmp / "arm64", "arm64");
  const Descriptor arm64_sbom = attach(tmp / "arm64", "arm64.json", R"({"sbom":"arm64"})");
  const std::string tarball = tarball_of(tmp / "arm64", tmp / "arm64.tar");

  auto made = write_layout_index(request_for(tmp / "out", {tmp / "amd64", tarball}));
  ASSERT_TRUE(made.ok()) << made.error().message;
  ASSERT_EQ(made->referrers.size(), 2u);
  EXPECT_EQ(made->referrers[0].digest, amd64_sbom.digest);
  EXPECT_EQ(made->referrers[1].digest, arm64_sbom.digest);
  const auto index_json = json_of(tmp / "out/index.json");
  ASSERT_EQ(index_json["manifests"].size(), 3u);
  for (int i : {1, 2}) {
    EXPECT_EQ(index_json["manifests"][i]["artifactType"], "application/vnd.test+json");
    EXPECT_FALSE(index_json["manifests"][i].contains("annotations"));
  }
  auto referrers = list_referrers(tmp / "out");
  ASSERT_TRUE(referrers.ok()) << referrers.error().message;
  ASSERT_EQ(referrers->size(), 2u);
  EXPECT_EQ((*referrers)[0].subject.digest, made->entries[0].digest);
  EXPECT_EQ((*referrers)[1].subject.digest, made->entries[1].digest);
  for (const auto& referrer : *referrers)
    for (const auto& blob : referrer.blobs) EXPECT_TRUE(read_blob(tmp / "out", blob, "referrer blob").ok());
  auto picked = load_image(tmp / "out", "multi", *parse_platform("linux/arm64"));
  ASSERT_TRUE(picked.ok()) << picked.error().message;
  auto of_arm64 = referrers_of_image(tmp / "out", *picked);
  ASSERT_TRUE(of_arm64.ok());
  ASSERT_EQ(of_arm64->size(), 1u);
  EXPECT_EQ((*of_arm64)[0].manifest.digest, arm64_sbom.digest);

  ASSERT_TRUE(write_layout_index(request_for(tmp / "again", {tmp / "amd64", tarball})).ok());
  EXPECT_EQ(read_text(tmp / "again/index.json"), read_text(tmp / "out/index.json"));
  const std::string before = read_text(tmp / "out/index.json");
  ASSERT_TRUE(write_layout_index(request_for(tmp / "out", {tmp / "amd64", tarball})).ok());
  EXPECT_EQ(read_text(tmp / "out/index.json"), before);
  auto swept = collect_garbage(tmp / "out");
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(swept->removed_blobs, 0u);
  EXPECT_EQ(swept->removed_referrers, 0u);
}

// A referrer of a referrer (a signature of an SBOM) comes along too; with
// --add, the added image's referrers are listed and the replaced image's
// stay until gc, which then drops them.
TEST(LayoutIndexReferrers, TakesReferrersOfReferrersAndAddKeepsTheOldOnesUntilGc) {
  TempDir tmp;
  FakeLayout amd64 = image_layout(tmp / "amd64", "amd64");
  const Descriptor sbom = attach(tmp / "amd64", "sbom.json", R"({"sbom":1})");
  {
    auto store = LayoutStore::open_or_create(tmp / "amd64");
    ASSERT_TRUE(store.ok());
    auto signature = write_referrer(*store, sbom, "signature", "application/vnd.test.sig");
    ASSERT_TRUE(signature.ok());
    auto plan = plan_index(*store, {*signature});
    ASSERT_TRUE(plan.ok() && commit_index(*store, *plan).ok());
  }
  image_layout(tmp / "arm64", "arm64");
  auto made = write_layout_index(request_for(tmp / "out", {tmp / "amd64", tmp / "arm64"}));
  ASSERT_TRUE(made.ok()) << made.error().message;
  ASSERT_EQ(made->referrers.size(), 2u);
  EXPECT_EQ(made->referrers[1].artifact_type, "application/vnd.test.sig");

  image_layout(tmp / "amd64-new", "amd64", "", "rebuilt");
  const Descriptor new_sbom = attach(tmp / "amd64-new", "new.json", R"({"sbom":2})");
  IndexRequest edit;
  edit.layout_dir = tmp / "out";
  edit.tag = "multi";
  edit.add = {{tmp / "amd64-new", "latest"}};
  auto added = write_layout_index(edit);
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_EQ(added->referrers.size(), 1u);
  EXPECT_EQ(added->referrers[0].digest, new_sbom.digest);
  auto all = list_referrers(tmp / "out");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);  // the old SBOM and its signature stay until gc
  auto swept = collect_garbage(tmp / "out");
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(swept->removed_referrers, 2u);
  all = list_referrers(tmp / "out");
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].manifest.digest, new_sbom.digest);
}

// A referrer whose document does not match its digest (in a directory or a
// tarball), or whose manifest is not one, refuses the source; the output
// is left as it was.
TEST(LayoutIndexReferrers, RefusesAReferrerThatDoesNotMatchItsDigest) {
  Output o;
  const Descriptor sbom = attach(o.tmp / "arm64", "sbom.json", R"({"sbom":"arm64"})");
  auto referrers = list_referrers(o.tmp / "arm64");
  ASSERT_TRUE(referrers.ok() && referrers->size() == 1u);
  const std::string document = o.tmp / "arm64/blobs/sha256/" + (*referrers)[0].blobs[1].digest.hex();
  std::string bytes = read_text(document);
  bytes[2] ^= 1;
  write_text(document, bytes);
  auto result = write_layout_index(request_for(o.tmp / "out", {o.tmp / "amd64", o.tmp / "arm64"}));
  expect_error(result, {"sources[1]", "does not match its digest"});
  o.expect_unchanged();
  const std::string manifest = o.tmp / "arm64/blobs/sha256/" + sbom.digest.hex();
  write_text(manifest, std::string(static_cast<size_t>(sbom.size), ' '));
  expect_error(write_layout_index(request_for(o.tmp / "out", {o.tmp / "amd64", o.tmp / "arm64"})),
               {"sources[1]", sbom.digest.str()});
  o.expect_unchanged();
}

// --annotation goes on the index document, --index-annotation on its
// index.json entry beside ref.name; ref.name is refused for both, naming
// the field; an edit keeps the entry's annotations and the document's.
TEST(LayoutIndexAnnotations, OnTheIndexDocumentAndItsEntry) {
  TempDir tmp;
  image_layout(tmp / "amd64", "amd64");
  image_layout(tmp / "arm64", "arm64");
  IndexRequest request = request_for(tmp / "out", {tmp / "amd64"});
  request.document_annotations = {{"org.opencontainers.image.revision", "abc"}, {"b", "x=y z"}};
  request.index_annotations = {{"com.example.entry", "yes"}};
  auto made = write_layout_index(request);
  ASSERT_TRUE(made.ok()) << made.error().message;
  const auto document = json_of(tmp / "out/blobs/sha256/" + made->index.digest.hex());
  EXPECT_EQ(document["annotations"], (nlohmann::json{{"b", "x=y z"}, {"org.opencontainers.image.revision", "abc"}}));
  EXPECT_EQ(json_of(tmp / "out/index.json")["manifests"][0]["annotations"],
            (nlohmann::json{{"com.example.entry", "yes"}, {k_annotation_ref_name, "multi"}}));

  IndexRequest edit;
  edit.layout_dir = tmp / "out";
  edit.tag = "multi";
  edit.add = {{tmp / "arm64", "latest"}};
  edit.document_annotations = {{"b", "changed"}, {"c", "new"}};
  auto edited = write_layout_index(edit);
  ASSERT_TRUE(edited.ok()) << edited.error().message;
  EXPECT_EQ(json_of(tmp / "out/blobs/sha256/" + edited->index.digest.hex())["annotations"],
            (nlohmann::json{{"b", "changed"}, {"c", "new"}, {"org.opencontainers.image.revision", "abc"}}));
  EXPECT_EQ(json_of(tmp / "out/index.json")["manifests"][0]["annotations"]["com.example.entry"], "yes");

  const auto before = snapshot(tmp / "out");
  request.document_annotations = {{k_annotation_ref_name, "x"}};
  auto refused = write_layout_index(request);
  expect_error(refused, {"document_annotations: org.opencontainers.image.ref.name is the tag's"});
  EXPECT_EQ(refused.error().fields.at(0).name, "document_annotations");
  request.document_annotations.clear();
  request.index_annotations = {{k_annotation_ref_name, "x"}};
  refused = write_layout_index(request);
  EXPECT_EQ(refused.error().fields.at(0).name, "index_annotations");
  request.index_annotations = {{"", "x"}};
  expect_error(write_layout_index(request), {"index_annotations: an annotation key is empty"});
  EXPECT_EQ(snapshot(tmp / "out"), before);
}

// An index another tool wrote (top-level annotations, subject,
// artifactType, unknown members; entries with urls, data, unknown fields)
// keeps all of it through --add and --remove: only the replaced or removed
// entry changes; the index.json entry keeps its annotations.
TEST(LayoutIndexEdit, KeepsWhatTheEditDoesNotChange) {
  TempDir tmp;
  FakeLayout foreign(tmp / "out");
  const FakeImage amd64 = foreign.image({"amd64 layer"}, config_for("amd64"));
  const FakeImage arm = foreign.image({"arm layer"}, config_for("arm", "v7"));
  const FakeImage s390x = foreign.image({"s390x layer"}, config_for("s390x"));
  auto entry = [](const FakeImage& image, const char* arch) {
    return nlohmann::ordered_json{{"mediaType", k_media_type_manifest}, {"digest", image.manifest.digest.str()},
                                  {"size", image.manifest.size}, {"platform", {{"architecture", arch}, {"os", "linux"}}}};
  };
  nlohmann::ordered_json document = {
      {"schemaVersion", 2}, {"mediaType", k_media_type_index}, {"artifactType", "application/vnd.example"},
      {"manifests", nlohmann::ordered_json::array()},
      {"subject", {{"mediaType", k_media_type_manifest}, {"digest", s390x.manifest.digest.str()}, {"size", s390x.manifest.size}}},
      {"annotations", {{"z.first", "1"}, {"a.second", "2"}}}, {"x-vendor", {{"nested", {1, 2.5, "\u00e9"}}}}};
  document["manifests"].push_back(entry(amd64, "amd64"));
  auto arm_entry = entry(arm, "arm");
  arm_entry["platform"]["variant"] = "v7";
  arm_entry["urls"] = {"https://example.com/blob"};
  arm_entry["data"] = "e30=";
  arm_entry["annotations"] = {{"com.example.kept", "yes"}};
  arm_entry["x-unknown"] = {{"k", nullptr}};
  document["manifests"].push_back(arm_entry);
  Descriptor tagged = foreign.blob(document.dump(), k_media_type_index);
  tagged.annotations["com.example.entry"] = "kept";
  foreign.tag(tagged, "multi");

  image_layout(tmp / "amd64-new", "amd64", "", "rebuilt");
  image_layout(tmp / "arm64", "arm64");
  IndexRequest edit;
  edit.layout_dir = tmp / "out";
  edit.tag = "multi";
  edit.add = {{tmp / "amd64-new", "latest"}, {tmp / "arm64", "latest"}};
  auto added = write_layout_index(edit);
  ASSERT_TRUE(added.ok()) << added.error().message;
  auto written = nlohmann::ordered_json::parse(read_text(tmp / "out/blobs/sha256/" + added->index.digest.hex()));
  nlohmann::ordered_json expected = document;
  expected["manifests"][0] = nlohmann::ordered_json::parse(*encode_index(ImageIndex{{added->entries[0]}, {}}))["manifests"][0];
  expected["manifests"].push_back(
      nlohmann::ordered_json::parse(*encode_index(ImageIndex{{added->entries[2]}, {}}))["manifests"][0]);
  EXPECT_EQ(written.dump(), expected.dump());  // key order kept too
  EXPECT_EQ(json_of(tmp / "out/index.json")["manifests"][0]["annotations"]["com.example.entry"], "kept");

  edit.add.clear();
  edit.remove = {*parse_platform("linux/amd64")};
  auto removed = write_layout_index(edit);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  written = nlohmann::ordered_json::parse(read_text(tmp / "out/blobs/sha256/" + removed->index.digest.hex()));
  expected["manifests"].erase(0);
  EXPECT_EQ(written.dump(), expected.dump());
  EXPECT_EQ(written["manifests"][0], arm_entry);
}

// The index to edit is read as strictly as any: a document deeper than the
// limit, or whose blob does not match its digest, is refused and the
// layout left as it was.
TEST(LayoutIndexEdit, RefusesAHostileIndexToEdit) {
  TempDir tmp;
  FakeLayout out(tmp / "out");
  const FakeImage amd64 = out.image({"amd64 layer"}, config_for("amd64"));
  std::string deep = R"({"schemaVersion":2,"manifests":[{"mediaType":")" + std::string(k_media_type_manifest) +
                     R"(","digest":")" + amd64.manifest.digest.str() + R"(","size":)" +
                     std::to_string(amd64.manifest.size) +
                     R"(,"platform":{"architecture":"amd64","os":"linux"}}],"x":)" + std::string(70, '[') +
                     std::string(70, ']') + "}";
  out.tag(out.blob(deep, k_media_type_index), "multi");
  image_layout(tmp / "arm64", "arm64");
  IndexRequest edit;
  edit.layout_dir = tmp / "out";
  edit.tag = "multi";
  edit.add = {{tmp / "arm64", "latest"}};
  const auto before = snapshot(tmp / "out");
  expect_error(write_layout_index(edit), {"tag 'multi'", "nested more than 64 levels deep"});
  EXPECT_EQ(snapshot(tmp / "out"), before);
  FakeLayout wrong(tmp / "wrong");
  const Descriptor index = wrong.index_blob({amd64.manifest});
  write_text(wrong.path_of(index), std::string(static_cast<size_t>(index.size), ' '));
  wrong.tag(index, "multi");
  edit.layout_dir = tmp / "wrong";
  expect_error(write_layout_index(edit), {"tag 'multi'", "is corrupted"});
}

}  // namespace
}  // namespace ocipack
