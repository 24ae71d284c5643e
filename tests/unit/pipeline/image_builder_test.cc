// Tests for pipeline/image_builder.cc: a build writes a complete layout whose
// documents reference each other correctly; failures leave an existing layout
// byte-for-byte as it was; a second tag is added beside the first; the same
// tag is replaced; the layout tarball holds the layout's files; a delta
// against a base image holds only the changes, and a hostile base fails the
// build without touching anything outside the output or the output itself.
// Errors about options name the option's field, never a flag; as_cli_shows()
// renders them the way the CLI does (flag names of the shared vocabulary).
#include "pipeline/image_builder.h"
#include "cli/errors.h"

#include <functional>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/oci/layout_index.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"
#include "core/tar/tar_scan.h"
#include "fake_layout.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using nlohmann::json;
using testing::TempDir;

BuildOptions options_for(const TempDir& dir, const std::string& tag = "latest") {
  BuildOptions o;
  o.layers = {{dir / "root", std::nullopt}};
  o.layout_dir = dir / "layout";
  o.image.tag = tag;
  o.image.architecture = "amd64";
  o.image.created = 1700000000;
  o.layer.threads = 2;
  o.layer.chunking.target_size = 64 * 1024;
  return o;
}

// The message as the CLI prints it: the field replaced by its flag.
std::string as_cli_shows(const Error& error) {
  for (const auto& mention : error.fields)
    if (!cli::flag_for_field(mention.name)) ADD_FAILURE() << "unexpected field " << mention.name;
  return cli::message_for_user(error);
}

void make_rootfs(const TempDir& dir) {
  testing::make_dirs(dir / "root/etc");
  testing::write_text(dir / "root/etc/os-release", "ID=test\n");
  testing::write_text(dir / "root/.dotfile", "top-level dotfiles are part of the image\n");
}

std::string snapshot(const std::string& dir) {
  // Names, sizes and content hashes of every file, in order.
  std::string out;
  FILE* p = ::popen(("cd '" + dir + "' && find . -print0 | sort -z | xargs -0 sha256sum 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

json read_blob(const std::string& layout, const std::string& digest) {
  return json::parse(testing::read_text(layout + "/blobs/sha256/" + digest.substr(7)));
}

TEST(ImageBuilder, WritesACompleteLayout) {
  TempDir dir;
  make_rootfs(dir);
  auto r = build_image(options_for(dir, "v1"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string layout = dir / "layout";
  EXPECT_EQ(testing::read_text(layout + "/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
  json index = json::parse(testing::read_text(layout + "/index.json"));
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "v1");
  std::string manifest_digest = index["manifests"][0]["digest"];
  EXPECT_EQ(manifest_digest, r->manifest.digest.str());
  json manifest = read_blob(layout, manifest_digest);
  EXPECT_EQ(manifest["config"]["digest"], r->config.digest.str());
  EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
  json config = read_blob(layout, manifest["config"]["digest"]);
  EXPECT_EQ(config["created"], "2023-11-14T22:13:20Z");
  std::string blob = testing::read_text(layout + "/blobs/sha256/" + r->layers.at(0).descriptor.digest.hex());
  EXPECT_EQ(Sha256::of(blob), r->layers.at(0).descriptor.digest);
  std::string tar = testing::gunzip_all(blob);
  EXPECT_EQ(config["rootfs"]["diff_ids"][0], Sha256::of(tar).str());
  EXPECT_NE(tar.find(".dotfile"), std::string::npos);
  // No temporary files are left behind.
  EXPECT_EQ(snapshot(layout).find("tmp-"), std::string::npos);
}

TEST(ImageBuilder, SecondTagIsAddedAndSameTagReplaced) {
  TempDir dir;
  make_rootfs(dir);
  ASSERT_TRUE(build_image(options_for(dir, "one")).ok());
  ASSERT_TRUE(build_image(options_for(dir, "two")).ok());
  auto o = options_for(dir, "one");
  o.image.user = "1000";
  ASSERT_TRUE(build_image(o).ok());
  json index = json::parse(testing::read_text(dir / "layout/index.json"));
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "one");
  EXPECT_EQ(index["manifests"][1]["annotations"]["org.opencontainers.image.ref.name"], "two");
  json manifest = read_blob(dir / "layout", index["manifests"][0]["digest"]);
  EXPECT_EQ(read_blob(dir / "layout", manifest["config"]["digest"])["config"]["User"], "1000");
}

TEST(ImageBuilder, FailuresLeaveTheExistingLayoutUntouched) {
  TempDir dir;
  make_rootfs(dir);
  ASSERT_TRUE(build_image(options_for(dir)).ok());
  const std::string before = snapshot(dir / "layout");

  auto missing = options_for(dir);
  missing.layers = {{dir / "no-such-rootfs", std::nullopt}};
  auto r1 = build_image(missing);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("no-such-rootfs"), std::string::npos);

  auto bad_tag = options_for(dir, "bad tag");
  EXPECT_FALSE(build_image(bad_tag).ok());

  auto bad_level = options_for(dir);
  bad_level.layer.codec.level = 42;
  EXPECT_FALSE(build_image(bad_level).ok());

  auto unreadable = options_for(dir);
  testing::make_dirs(dir / "root2");
  unreadable.layers = {{dir / "root2", std::nullopt}};
  testing::write_text(dir / "root2/f", "data");
  std::atomic<bool> cancel{true};
  BuildHooks cancelled;
  cancelled.cancel = &cancel;
  auto r2 = build_image(unreadable, cancelled);
  ASSERT_FALSE(r2.ok());
  EXPECT_TRUE(r2.error().is(ErrorKind::interrupted));

  EXPECT_EQ(snapshot(dir / "layout"), before);
}

TEST(ImageBuilder, AnnotationsAndSbomReferrer) {
  TempDir dir;
  make_rootfs(dir);
  auto plain = build_image(options_for(dir, "plain"));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(read_blob(dir / "layout", plain->manifest.digest.str()).contains("annotations"));

  testing::write_text(dir / "sbom.json", R"({"spdxVersion":"SPDX-2.3","name":"x"})");
  auto o = options_for(dir, "v1");
  o.manifest_annotations = {{"org.opencontainers.image.revision", "abc"}};
  o.index_annotations = {{"com.example.e", "1"}};
  o.sbom_path = dir / "sbom.json";
  auto r = build_image(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->manifest.digest, plain->manifest.digest);
  EXPECT_EQ(read_blob(dir / "layout", r->manifest.digest.str())["annotations"],
            json({{"org.opencontainers.image.revision", "abc"}}));
  ASSERT_TRUE(r->sbom.has_value());
  const json index = json::parse(testing::read_text(dir / "layout/index.json"));
  ASSERT_EQ(index["manifests"].size(), 3u);
  EXPECT_EQ(index["manifests"][1]["annotations"],
            json({{"com.example.e", "1"}, {"org.opencontainers.image.ref.name", "v1"}}));
  EXPECT_EQ(index["manifests"][2]["artifactType"], "application/spdx+json");
  EXPECT_EQ(read_blob(dir / "layout", r->sbom->digest.str())["subject"]["digest"], r->manifest.digest.str());

  // Refused before anything is written: a ref.name annotation, an SBOM of
  // unknown type, a directory as the SBOM.
  const std::string before = snapshot(dir / "layout");
  auto ref = options_for(dir, "v2");
  ref.manifest_annotations = {{"org.opencontainers.image.ref.name", "x"}};
  auto r1 = build_image(ref);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(as_cli_shows(r1.error()).find("--annotation"), std::string::npos) << r1.error().message;
  auto index_ref = options_for(dir, "v2");
  index_ref.index_annotations = {{"org.opencontainers.image.ref.name", "x"}};
  EXPECT_FALSE(build_image(index_ref).ok());
  testing::write_text(dir / "notes.txt", "notes");
  auto unknown = options_for(dir, "v2");
  unknown.sbom_path = dir / "notes.txt";
  auto r2 = build_image(unknown);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(as_cli_shows(r2.error()).find("--sbom"), std::string::npos) << r2.error().message;
  auto directory = options_for(dir, "v2");
  directory.sbom_path = dir / "root";
  auto r3 = build_image(directory);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("is a directory"), std::string::npos) << r3.error().message;
  EXPECT_EQ(snapshot(dir / "layout"), before);
}

// add-layer's build (edit_base): a layer on the image in place. The new
// config has the base's diff_ids and history plus the new layer's, with the
// history fields given; the manifest's and the index entry's annotations are
// kept; the tag moves to the new manifest, another tag of the old one stays;
// the same inputs give the same digests; an index base is refused untouched.
TEST(ImageBuilder, EditBaseAddsALayerInPlace) {
  TempDir dir;
  make_rootfs(dir);
  auto first = options_for(dir, "v1");
  first.manifest_annotations = {{"org.opencontainers.image.revision", "abc"}};
  first.index_annotations = {{"com.example.e", "1"}};
  first.image.extra_tags = {"keep"};
  auto r0 = build_image(first);
  ASSERT_TRUE(r0.ok()) << r0.error().message;
  testing::make_dirs(dir / "extra/home/u");
  testing::write_text(dir / "extra/home/u/.profile", "x\n");

  auto edit = [&](const std::string& layout) {
    BuildOptions o;
    o.layers = {{dir / "extra", std::nullopt}};
    o.layout_dir = layout;
    o.base_layout = layout;
    o.base_tag = "v1";
    o.image.tag = "v1";
    o.image.created = 1700000100;
    o.image.history_created_by = "ocipack add-layer";
    o.image.history_comment = "home";
    o.edit_base = true;
    o.layer.threads = 1;
    return o;
  };
  ASSERT_EQ(::system(("cp -a '" + (dir / "layout") + "' '" + (dir / "copy") + "'").c_str()), 0);
  auto r = build_image(edit(dir / "layout"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const json manifest = read_blob(dir / "layout", r->manifest.digest.str());
  EXPECT_EQ(manifest["annotations"], json({{"org.opencontainers.image.revision", "abc"}}));
  ASSERT_EQ(manifest["layers"].size(), 2u);
  EXPECT_EQ(manifest["layers"][0]["digest"], r0->layers[0].descriptor.digest.str());
  const json config = read_blob(dir / "layout", manifest["config"]["digest"]);
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 2u);
  EXPECT_EQ(config["rootfs"]["diff_ids"][1], r->layers[0].stats.diff_id.str());
  ASSERT_EQ(config["history"].size(), 2u);
  EXPECT_EQ(config["history"][0]["created_by"], "ocipack build");
  EXPECT_EQ(config["history"][1]["created_by"], "ocipack add-layer");
  EXPECT_EQ(config["history"][1]["comment"], "home");
  EXPECT_EQ(config["architecture"], "amd64");
  const json index = json::parse(testing::read_text(dir / "layout/index.json"));
  ASSERT_EQ(index["manifests"].size(), 2u);
  for (const auto& entry : index["manifests"]) {
    const std::string tag = entry["annotations"]["org.opencontainers.image.ref.name"];
    EXPECT_EQ(entry["digest"], (tag == "v1" ? r->manifest : r0->manifest).digest.str()) << tag;
    if (tag == "v1") {
      EXPECT_EQ(entry["annotations"]["com.example.e"], "1");
    }
  }
  // Same inputs, same digests.
  auto again = build_image(edit(dir / "copy"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->manifest.digest, r->manifest.digest);
  EXPECT_EQ(again->config.digest, r->config.digest);

  // DIR must be a directory named as itself: not a symlink, not /, not a file.
  ASSERT_EQ(::symlink("/", (dir / "to-root").c_str()), 0);
  const std::string unchanged = snapshot(dir / "layout");
  for (const auto& [path, says] : std::vector<std::pair<std::string, std::string>>{
           {dir / "to-root", "is a symlink"}, {"/", "is the root directory"}, {dir / "extra/home/u/.profile", "is not a directory"}}) {
    auto o = edit(dir / "layout");
    o.layers[0].rootfs = path;
    auto refused = build_image(o);
    ASSERT_FALSE(refused.ok()) << path;
    EXPECT_NE(refused.error().message.find(says), std::string::npos) << refused.error().message;
    EXPECT_EQ(cli::message_for_user(refused.error(), "add-layer").rfind("DIR '", 0), 0u) << refused.error().message;
  }
  EXPECT_EQ(snapshot(dir / "layout"), unchanged);

  // A tag naming an image index: refused, nothing written.
  IndexRequest multi;
  multi.layout_dir = dir / "layout";
  multi.tag = "multi";
  multi.sources = {{dir / "layout", "keep"}};
  ASSERT_TRUE(write_layout_index(multi).ok());
  const std::string before = snapshot(dir / "layout");
  auto o = edit(dir / "layout");
  o.base_tag = "multi";
  auto on_index = build_image(o);
  ASSERT_FALSE(on_index.ok());
  EXPECT_NE(on_index.error().message.find("names an image index"), std::string::npos) << on_index.error().message;
  EXPECT_EQ(snapshot(dir / "layout"), before);
}

TEST(ImageBuilder, HistoryFieldsOfNewLayers) {
  ImageSpec spec;
  spec.created = 0;
  spec.author = "A";
  ImageConfig two = make_image_config(spec, nullptr, {Digest{}, Digest{}});
  ASSERT_EQ(two.history.size(), 2u);
  EXPECT_EQ(two.history[1].created_by, "ocipack build (layer 2 of 2)");
  EXPECT_EQ(two.history[1].author, "A");
  spec.history_created_by = "x";
  spec.history_comment = "c";
  spec.history_author = "H";
  ImageConfig one = make_image_config(spec, nullptr, {Digest{}});
  EXPECT_EQ(one.history[0].created_by, "x");
  EXPECT_EQ(one.history[0].comment, "c");
  EXPECT_EQ(one.history[0].author, "H");
  EXPECT_EQ(one.author, "A");
}

TEST(ImageBuilder, RefusesNonLayoutOutputs) {
  TempDir dir;
  make_rootfs(dir);
  testing::write_text(dir / "file", "x");
  auto o = options_for(dir);
  o.layout_dir = dir / "file";
  auto r = build_image(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(dir / "file"), std::string::npos);
  EXPECT_EQ(testing::read_text(dir / "file"), "x");

  testing::make_dirs(dir / "stuff");
  testing::write_text(dir / "stuff/keep", "y");
  o.layout_dir = dir / "stuff";
  r = build_image(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not an OCI layout"), std::string::npos);
}

TEST(ImageBuilder, FailedFirstBuildLeavesNoDirectories) {
  TempDir dir;
  make_rootfs(dir);
  auto o = options_for(dir);
  o.layout_dir = dir / "new/layout";
  std::atomic<bool> cancel{true};
  BuildHooks cancelled;
  cancelled.cancel = &cancel;
  ASSERT_FALSE(build_image(o, cancelled).ok());
  EXPECT_NE(::access((dir / "new").c_str(), F_OK), 0);
}

TEST(ImageBuilder, TarOutputHoldsTheLayoutFiles) {
  TempDir dir;
  make_rootfs(dir);
  auto o = options_for(dir);
  o.tar_output = dir / "image.tar";
  auto r = build_image(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string listing;
  FILE* p = ::popen(("tar -tf '" + (dir / "image.tar") + "'").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) listing.append(buf, n);
  ASSERT_EQ(::pclose(p), 0);
  std::string expected = "oci-layout\nindex.json\nblobs/\nblobs/sha256/\n";
  EXPECT_EQ(listing.substr(0, expected.size()), expected);
  EXPECT_NE(listing.find("blobs/sha256/" + r->layers.at(0).descriptor.digest.hex()), std::string::npos);
  EXPECT_NE(listing.find("blobs/sha256/" + r->manifest.digest.hex()), std::string::npos);
}

TEST(ImageBuilder, OutputIsReproducible) {
  TempDir dir;
  make_rootfs(dir);
  auto a = options_for(dir);
  a.layout_dir = dir / "a";
  a.tar_output = dir / "a.tar";
  auto b = a;
  b.layout_dir = dir / "b";
  b.tar_output = dir / "b.tar";
  b.layer.threads = 1;
  ASSERT_TRUE(build_image(a).ok());
  ASSERT_TRUE(build_image(b).ok());
  EXPECT_EQ(snapshot(dir / "a"), snapshot(dir / "b"));
  EXPECT_EQ(testing::read_text(dir / "a.tar"), testing::read_text(dir / "b.tar"));
}

TEST(ImageBuilder, BaseConfigFieldsOcipackDoesNotModelAreKept) {
  TempDir dir;
  make_rootfs(dir);
  testing::FakeLayout base(dir / "base");
  ImageConfig config = testing::FakeLayout::base_config();
  config.extra_fields = {{"os.version", R"("1.2")"}, {"os.features", R"(["f"])"}, {"x-unknown", R"({"k":[1]})"}};
  config.config.extra_fields = {{"Volumes", R"({"/data":{}})"}, {"Healthcheck", R"({"Test":["CMD","true"]})"},
                                {"Shell", R"(["/bin/sh","-c"])"}, {"OnBuild", R"(["RUN x"])"},
                                {"StopTimeout", "5"}, {"ArgsEscaped", "true"}};
  auto image = base.image({"layer"}, config);
  base.tag(image.manifest, "b");
  BuildOptions o = options_for(dir, "top");
  o.base_layout = base.dir();
  o.base_tag = "b";
  o.image.user = "1000";
  auto r = build_image(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  json built = read_blob(dir / "layout", r->config.digest.str());
  EXPECT_EQ(built["os.version"], "1.2");
  EXPECT_EQ(built["os.features"], json::array({"f"}));
  EXPECT_EQ(built["x-unknown"]["k"][0], 1);
  EXPECT_EQ(built["config"]["User"], "1000");
  EXPECT_EQ(built["config"]["Volumes"], json::parse(R"({"/data":{}})"));
  EXPECT_EQ(built["config"]["Healthcheck"]["Test"][1], "true");
  EXPECT_EQ(built["config"]["Shell"][0], "/bin/sh");
  EXPECT_EQ(built["config"]["OnBuild"][0], "RUN x");
  EXPECT_EQ(built["config"]["StopTimeout"], 5);
  EXPECT_EQ(built["config"]["ArgsEscaped"], true);
}

// The entry paths of a layer blob, in order.
std::vector<std::string> layer_paths(const std::string& layout, const Digest& digest) {
  std::vector<std::string> paths;
  TarScanner scanner([&](const ScannedEntry& e) { paths.push_back(e.path); }, [](const std::string&) {});
  scanner.feed(testing::gunzip_all(testing::read_text(layout + "/blobs/sha256/" + digest.hex())));
  scanner.finish();
  return paths;
}

void settle(const std::string& dir) {
  ASSERT_EQ(std::system(("find '" + dir + "' -exec touch -h -d @1700000000 {} +").c_str()), 0);
}

TEST(ImageBuilder, DeltaAgainstBaseHoldsOnlyTheChanges) {
  TempDir dir;
  make_rootfs(dir);
  testing::write_text(dir / "root/etc/gone", "bye\n");
  settle(dir / "root");
  ASSERT_TRUE(build_image(options_for(dir, "v1")).ok());
  ::unlink((dir / "root/etc/gone").c_str());
  testing::write_text(dir / "root/etc/new", "hello\n");
  settle(dir / "root");
  BuildOptions o = options_for(dir, "v2");
  o.base_layout = dir / "layout";
  o.base_tag = "v1";
  o.diff_against_base = true;
  auto r = build_image(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->base_layers.size(), 1u);
  ASSERT_EQ(r->layers.size(), 1u);
  EXPECT_EQ(layer_paths(dir / "layout", r->layers[0].descriptor.digest),
            (std::vector<std::string>{"etc/", "etc/.wh.gone", "etc/new"}));
  // Nothing but the layout's own files: no scratch tree.
  auto names = list_directory(dir / "layout");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"blobs", "index.json", "oci-layout"}));
}

// A base image, then two new layers built at once: a plain tree and a delta
// against a diff base. The manifest lists the base's layer and then the new
// ones in order, the config has one diff_id and one history entry each, and
// every layer holds what it should.
TEST(ImageBuilder, SeveralLayersOnABaseWithADelta) {
  TempDir dir;
  make_rootfs(dir);
  testing::write_text(dir / "root/etc/gone", "bye\n");
  settle(dir / "root");
  ASSERT_TRUE(build_image(options_for(dir, "base")).ok());
  ASSERT_EQ(std::system(("cp -a '" + (dir / "root") + "' '" + (dir / "root2") + "'").c_str()), 0);
  ::unlink((dir / "root2/etc/gone").c_str());
  testing::write_text(dir / "root2/etc/new", "hello\n");
  testing::make_dirs(dir / "extra/opt");
  testing::write_text(dir / "extra/opt/tool", "#!/bin/sh\n");
  settle(dir / "root2");
  settle(dir / "extra");
  BuildOptions o = options_for(dir, "top");
  o.base_layout = dir / "layout";
  o.base_tag = "base";
  o.layers = {{dir / "extra", std::nullopt}, {dir / "root2", dir / "root"}};
  auto r = build_image(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->base_layers.size(), 1u);
  ASSERT_EQ(r->layers.size(), 2u);
  json manifest = read_blob(dir / "layout", r->manifest.digest.str());
  ASSERT_EQ(manifest["layers"].size(), 3u);
  EXPECT_EQ(manifest["layers"][0]["digest"], r->base_layers[0].digest.str());
  EXPECT_EQ(manifest["layers"][1]["digest"], r->layers[0].descriptor.digest.str());
  EXPECT_EQ(manifest["layers"][2]["digest"], r->layers[1].descriptor.digest.str());
  json config = read_blob(dir / "layout", r->config.digest.str());
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 3u);
  EXPECT_EQ(config["rootfs"]["diff_ids"][1], r->layers[0].stats.diff_id.str());
  EXPECT_EQ(config["rootfs"]["diff_ids"][2], r->layers[1].stats.diff_id.str());
  ASSERT_EQ(config["history"].size(), 3u);
  EXPECT_EQ(config["history"][2]["created_by"], "ocipack build (layer 2 of 2)");
  EXPECT_EQ(layer_paths(dir / "layout", r->layers[0].descriptor.digest),
            (std::vector<std::string>{"opt/", "opt/tool"}));
  EXPECT_EQ(layer_paths(dir / "layout", r->layers[1].descriptor.digest),
            (std::vector<std::string>{"etc/", "etc/.wh.gone", "etc/new"}));
}

TEST(ImageBuilder, DeltaAgainstBaseTakesOneLayer) {
  TempDir dir;
  make_rootfs(dir);
  ASSERT_TRUE(build_image(options_for(dir, "v1")).ok());
  BuildOptions o = options_for(dir, "v2");
  o.layers.push_back({dir / "root", std::nullopt});
  o.base_layout = dir / "layout";
  o.base_tag = "v1";
  o.diff_against_base = true;
  auto r = build_image(o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is(ErrorKind::usage));
  EXPECT_EQ(r.error().field(), "diff_against_base");
  EXPECT_EQ(as_cli_shows(r.error()), "--diff-against-base takes a single layer, not 2");
}

TEST(ImageBuilder, AHostileBaseFailsTheDeltaAndTouchesNothing) {
  TempDir dir;
  make_rootfs(dir);
  ASSERT_TRUE(build_image(options_for(dir, "v1")).ok());
  const std::string before = snapshot(dir / "layout");
  testing::make_dirs(dir / "decoy/sub");
  testing::write_text(dir / "decoy/victim", "precious");
  const std::string decoy_before = snapshot(dir / "decoy");
  // Layer 1 makes `link` point at the decoy; layer 2 whites out through it.
  const std::string lower = testing::raw_tar_header("link", '2', 0, dir / "decoy") + testing::raw_tar_end();
  const std::vector<std::string> uppers = {"link/.wh.victim", "link/.wh..wh..opq", "link/sub/.wh..wh..opq"};
  for (const auto& upper_name : uppers) {
    testing::FakeLayout base(dir / ("base-" + std::to_string(&upper_name - uppers.data())));
    auto image = base.image({lower, testing::raw_tar_header(upper_name) + testing::raw_tar_end()});
    base.tag(image.manifest, "evil");
    BuildOptions o = options_for(dir, "v2");
    o.base_layout = base.dir();
    o.base_tag = "evil";
    o.diff_against_base = true;
    auto r = build_image(o);
    ASSERT_FALSE(r.ok()) << upper_name;
    EXPECT_NE(r.error().message.find("base layer 2"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("'" + upper_name + "' lies below 'link', which is a symlink"),
              std::string::npos) << r.error().message;
    EXPECT_EQ(snapshot(dir / "decoy"), decoy_before);
    EXPECT_EQ(snapshot(dir / "layout"), before);
  }
}

// Every output path against every input and the other output, before
// anything is written: each refusal names the culprit and leaves every file
// as it was.
TEST(ImageBuilder, OutputPathsThatCollideWithInputsOrEachOtherAreRefused) {
  TempDir dir;
  make_rootfs(dir);
  ASSERT_TRUE(build_image(options_for(dir)).ok());  // dir/layout: an existing layout, also used as --base
  testing::write_text(dir / "in.tar", "");
  ASSERT_TRUE(testing::write_python_tar(dir / "in.tar", "etc/;etc/x=1"));
  testing::make_dirs(dir / "other");
  ASSERT_EQ(::symlink((dir / "layout").c_str(), (dir / "layout-link").c_str()), 0);
  ASSERT_EQ(::symlink((dir / "image.tar").c_str(), (dir / "dangling-link").c_str()), 0);
  TempDir special;  // outside the snapshot (sha256sum would block on the FIFO)
  ASSERT_EQ(::mkfifo((special / "fifo").c_str(), 0600), 0);
  const std::string index_blob = [&] {
    json index = json::parse(testing::read_text(dir / "layout/index.json"));
    return dir / ("layout/blobs/sha256/" + index["manifests"][0]["digest"].get<std::string>().substr(7));
  }();
  const std::string before = snapshot(dir.path());

  struct Case {
    std::string name;
    std::function<void(BuildOptions&)> set;
    std::string culprit;
  };
  const std::vector<Case> cases = {
      {"-o is the rootfs", [&](BuildOptions& o) { o.layout_dir = dir / "root"; }, "is the rootfs"},
      {"-o is the rootfs (trailing slash, dot)", [&](BuildOptions& o) { o.layout_dir = dir / "root/./"; },
       "is the rootfs"},
      {"-o is the --diff-base",
       [&](BuildOptions& o) {
         o.layers[0].diff_base = dir / "other";
         o.layout_dir = dir / "other";
       },
       "is the --diff-base"},
      {"rootfs inside -o", [&](BuildOptions& o) { o.layers = {{dir / "layout/blobs", std::nullopt}}; },
       "lies inside the output layout"},
      {"-o inside the --base layout",
       [&](BuildOptions& o) {
         o.base_layout = dir / "layout";
         o.layout_dir = dir / "layout/blobs/sha256/new";
       },
       "lies inside the --base layout"},
      {"--tar-output is index.json", [&](BuildOptions& o) { o.tar_output = dir / "layout/index.json"; },
       "lies inside the output layout"},
      {"--tar-output is a blob, through a symlinked -o",
       [&](BuildOptions& o) {
         o.layout_dir = dir / "layout-link";
         o.tar_output = index_blob;
       },
       "lies inside the output layout"},
      {"--tar-output is the rootfs tar",
       [&](BuildOptions& o) {
         o.layers = {{dir / "in.tar", std::nullopt}};
         o.layout_dir = dir / "new";
         o.tar_output = dir / "in.tar";
       },
       "is the rootfs tar"},
      {"--tar-output in the --base layout",
       [&](BuildOptions& o) {
         o.base_layout = dir / "layout";
         o.layout_dir = dir / "new";
         o.tar_output = dir / "layout-link/oci-layout";
       },
       "lies inside the --base layout"},
      {"--tar-output is a symlink", [&](BuildOptions& o) { o.tar_output = dir / "dangling-link"; }, "is a symbolic link"},
      {"--tar-output is a directory", [&](BuildOptions& o) { o.tar_output = dir / "other"; }, "is a directory"},
      {"--tar-output is a FIFO", [&](BuildOptions& o) { o.tar_output = special / "fifo"; }, "is a FIFO"},
      {"--tar-output is a device", [&](BuildOptions& o) { o.tar_output = "/dev/null"; }, "is a character device"},
      {"--tar-output is stdout", [&](BuildOptions& o) { o.tar_output = "-"; }, "cannot go to standard output"},
  };
  for (const auto& c : cases) {
    auto o = options_for(dir, "collide");
    c.set(o);
    auto r = build_image(o);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_NE(as_cli_shows(r.error()).find(c.culprit), std::string::npos) << c.name << ": " << r.error().message;
    EXPECT_FALSE(r.error().field().empty()) << c.name << ": " << r.error().message;
    EXPECT_EQ(r.error().message.find("--"), std::string::npos) << c.name << " names a flag: " << r.error().message;
    EXPECT_EQ(snapshot(dir.path()), before) << c.name;
  }
  // Allowed: -o and --tar-output inside the rootfs (the walk leaves them
  // out), --base naming the output layout itself.
  auto o = options_for(dir, "stacked");
  o.base_layout = dir / "layout";
  o.tar_output = dir / "root/image.tar";
  auto r = build_image(o);
  EXPECT_TRUE(r.ok()) << r.error().message;
}

// digest_file and iid_file: the manifest and config digests, no newline,
// written after the commit; a directory, a symlink or a path inside the
// layout is refused (the tar_output rules) before anything is written.
TEST(ImageBuilder, DigestFilesAfterTheCommit) {
  TempDir dir;
  make_rootfs(dir);
  auto o = options_for(dir);
  o.digest_file = dir / "digest";
  o.iid_file = dir / "iid";
  testing::write_text(dir / "iid", "an older id\n");  // a regular file is replaced
  auto r = build_image(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(testing::read_text(dir / "digest"), r->manifest.digest.str());
  EXPECT_EQ(testing::read_text(dir / "iid"), r->config.digest.str());

  testing::make_dirs(dir / "a-directory");
  ASSERT_EQ(::symlink("digest", (dir / "a-link").c_str()), 0);
  const std::vector<std::pair<std::function<void(BuildOptions&)>, std::string>> refused = {
      {[&](BuildOptions& b) { b.digest_file = dir / "a-directory"; }, "--digestfile '" + (dir / "a-directory") + "' is a directory"},
      {[&](BuildOptions& b) { b.iid_file = dir / "a-link"; }, "--iidfile '" + (dir / "a-link") + "' is a symbolic link"},
      {[&](BuildOptions& b) { b.iid_file = dir / "layout/iid"; }, "lies inside the output layout"},
      {[&](BuildOptions& b) { b.digest_file = "-"; }, "--digestfile '-': the digest file cannot go to standard output"},
  };
  const std::string before = snapshot(dir / "layout");
  for (const auto& [change, message] : refused) {
    auto bad_options = options_for(dir, "other");
    change(bad_options);
    auto bad = build_image(bad_options);
    ASSERT_FALSE(bad.ok()) << message;
    EXPECT_NE(as_cli_shows(bad.error()).find(message), std::string::npos) << as_cli_shows(bad.error());
    EXPECT_EQ(snapshot(dir / "layout"), before) << message;
  }
}

}  // namespace
}  // namespace ocipack
