// Tests for core/layout_verify.cc: a layout written by build_image verifies
// clean with the expected counts; then each test damages a fresh copy on
// purpose — a flipped byte, a truncated or missing blob, a wrong diff_id (with
// every digest above it rewritten so only the diff_id is wrong), bad JSON, an
// unknown layer media type, hand-made layers with unsafe, duplicate or dangling
// entries, bad gzip framing, a multi-platform index whose platform disagrees
// with a config — and expects the one problem line naming it,
// while checking that the walk goes on past the first problem. Hostile
// layouts — a FIFO, socket, device, directory or symlink in place of
// index.json, oci-layout or a blob, symlinked blobs directories, documents
// nested 10^5–10^6 deep, duplicate tags — are problems naming the culprit.
#include "core/image/layout_verify.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "core/util/sha256.h"
#include "pipeline/image_builder.h"
#include "hostile_files.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using nlohmann::json;
using testing::TempDir;

std::string all_problems(const VerifyReport& report) {
  std::string out;
  for (const auto& line : report.problems) out += "  " + line + "\n";
  return out;
}

// True if one problem line contains every one of `parts`.
bool has_problem(const VerifyReport& report, std::initializer_list<std::string> parts) {
  for (const auto& line : report.problems) {
    bool all = true;
    for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
    if (all) return true;
  }
  return false;
}

std::string run_output(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

// The documents of a one-image layout, to damage and store back with every
// digest and size above the change recomputed.
struct Documents {
  std::string dir;
  json index;
  json manifest;
  json config;

  static Documents load(const std::string& dir) {
    Documents d{dir, json::parse(testing::read_text(dir + "/index.json")), {}, {}};
    d.manifest = json::parse(testing::read_text(d.blob(d.index["manifests"][0]["digest"])));
    d.config = json::parse(testing::read_text(d.blob(d.manifest["config"]["digest"])));
    return d;
  }
  std::string blob(const std::string& digest) const { return dir + "/blobs/sha256/" + digest.substr(7); }
  // Writes `data` as a blob; returns its descriptor fields.
  json put_blob(const std::string& data, const std::string& media_type) const {
    const std::string digest = Sha256::of(data).str();
    testing::write_text(blob(digest), data);
    return json{{"mediaType", media_type}, {"digest", digest}, {"size", data.size()}};
  }
  void store() {
    const json config_descriptor = put_blob(config.dump(), manifest["config"]["mediaType"]);
    manifest["config"]["digest"] = config_descriptor["digest"];
    manifest["config"]["size"] = config_descriptor["size"];
    const json manifest_descriptor = put_blob(manifest.dump(), index["manifests"][0]["mediaType"]);
    index["manifests"][0]["digest"] = manifest_descriptor["digest"];
    index["manifests"][0]["size"] = manifest_descriptor["size"];
    testing::write_text(dir + "/index.json", index.dump());
  }
  // Makes the image's only layer `data`, with the given media type and diff_id.
  void replace_layer(const std::string& data, const std::string& media_type, const std::string& diff_id) {
    manifest["layers"] = json::array({put_blob(data, media_type)});
    config["rootfs"]["diff_ids"] = json::array({diff_id});
    store();
  }
};

// A tar made by Python's tarfile from "path=content" specs ("dir/" for a
// directory, "link>target" for a hard link); `mode` is tarfile's ('w', 'w:gz').
std::string python_tar(const TempDir& dir, const std::string& specs, const std::string& mode = "w:gz") {
  const std::string out = dir / "made.tar";
  EXPECT_TRUE(testing::write_python_tar(out, specs, mode));
  return testing::read_text(out);
}

class LayoutVerify : public ::testing::Test {
 protected:
  // One sound layout, built once; every test damages its own copy.
  static void SetUpTestSuite() {
    s_source = std::make_unique<TempDir>();
    const TempDir& dir = *s_source;
    testing::make_dirs(dir / "root/etc");
    testing::make_dirs(dir / "root/usr/bin");
    testing::write_text(dir / "root/etc/os-release", "ID=test\n");
    testing::write_text(dir / "root/usr/bin/tool", std::string(300000, 'x'));
    ASSERT_EQ(::link((dir / "root/usr/bin/tool").c_str(), (dir / "root/usr/bin/tool-alias").c_str()), 0);
    ASSERT_EQ(::symlink("tool", (dir / "root/usr/bin/tool-link").c_str()), 0);
    BuildOptions options;
    options.layers = {{dir / "root", std::nullopt}};
    options.layout_dir = dir / "layout";
    options.image.tag = "latest";
    options.image.architecture = "amd64";
    options.image.created = 1700000000;
    options.layer.threads = 2;
    options.layer.chunking.target_size = 64 * 1024;  // several gzip members
    auto built = build_image(options);
    ASSERT_TRUE(built.ok()) << built.error().message;
    s_layer_digest = built->layers.at(0).descriptor.digest.str();
    s_config_digest = built->config.digest.str();
  }
  static void TearDownTestSuite() { s_source.reset(); }

  void SetUp() override {
    ASSERT_EQ(std::system(("cp -a '" + (*s_source / "layout") + "' '" + layout() + "'").c_str()), 0);
  }

  std::string layout() const { return m_dir / "layout"; }
  std::string layer_blob() const { return layout() + "/blobs/sha256/" + s_layer_digest.substr(7); }
  VerifyReport verify(const VerifyOptions& options = {}) const {
    auto report = verify_layout(layout(), options);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : VerifyReport{};
  }

  static std::unique_ptr<TempDir> s_source;
  static std::string s_layer_digest;
  static std::string s_config_digest;
  TempDir m_dir;
};

std::unique_ptr<TempDir> LayoutVerify::s_source;
std::string LayoutVerify::s_layer_digest;
std::string LayoutVerify::s_config_digest;

TEST_F(LayoutVerify, SoundLayoutIsOkWithCounts) {
  const VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << all_problems(report);
  EXPECT_EQ(report.manifests, 1u);
  EXPECT_EQ(report.blobs_checked, 3u);  // manifest, config, layer
  EXPECT_EQ(report.layers_checked, 1u);
  const std::string listing = run_output("tar -tzf '" + layer_blob() + "' | wc -l");
  EXPECT_EQ(report.entries_checked, std::stoull(listing));
  EXPECT_GE(report.entries_checked, 6u);

  VerifyOptions tagged;
  tagged.ref = "latest";
  const VerifyReport by_tag = verify(tagged);
  EXPECT_TRUE(by_tag.ok()) << all_problems(by_tag);
  EXPECT_EQ(by_tag.manifests, 1u);
}

TEST_F(LayoutVerify, MissingLayoutIsAnError) {
  auto report = verify_layout(m_dir / "nowhere", {});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("nowhere"), std::string::npos) << report.error().message;
}

TEST_F(LayoutVerify, MissingTagListsTheAvailableOnes) {
  VerifyOptions options;
  options.ref = "nope";
  const VerifyReport report = verify(options);
  ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"no manifest tagged 'nope'", "available tags: 'latest'"})) << all_problems(report);
  EXPECT_EQ(report.manifests, 0u);
}

// ref_missing tells a front end that the tag asked for is not there (the
// CLI's usage error), apart from problems of the layout.
TEST_F(LayoutVerify, MissingTagIsFlagged) {
  VerifyOptions options;
  options.ref = "nope";
  EXPECT_TRUE(verify(options).ref_missing);
  options.ref = "latest";
  EXPECT_FALSE(verify(options).ref_missing);
  EXPECT_FALSE(verify().ref_missing);
}

TEST_F(LayoutVerify, FlippedByteInALayerIsADigestMismatch) {
  std::string data = testing::read_text(layer_blob());
  data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x01);
  testing::write_text(layer_blob(), data);
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"tag 'latest': layer 1 " + s_layer_digest, "blob content hashes to"}))
      << all_problems(report);
  EXPECT_FALSE(has_problem(report, {"bytes, but its descriptor says"})) << all_problems(report);
}

TEST_F(LayoutVerify, TruncatedLayerIsASizeMismatch) {
  const std::string data = testing::read_text(layer_blob());
  ASSERT_EQ(::truncate(layer_blob().c_str(), static_cast<off_t>(data.size() / 2)), 0);
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"layer 1 " + s_layer_digest, "blob is " + std::to_string(data.size() / 2) +
                                                                     " bytes, but its descriptor says " +
                                                                     std::to_string(data.size())}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"gzip stream is truncated"})) << all_problems(report);
}

TEST_F(LayoutVerify, WrongDiffIdIsTheOnlyProblem) {
  Documents docs = Documents::load(layout());
  const std::string real = docs.config["rootfs"]["diff_ids"][0];
  const std::string fake = Sha256::of("not the layer").str();
  docs.config["rootfs"]["diff_ids"][0] = fake;
  docs.store();
  const VerifyReport report = verify();
  ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"config sha256:", "rootfs.diff_ids[0] is " + fake, "layer 1 (" + s_layer_digest,
                                   "decompresses to " + real}))
      << all_problems(report);
}

TEST_F(LayoutVerify, MissingBlobsAreNamed) {
  ASSERT_EQ(::unlink(layer_blob().c_str()), 0);
  const VerifyReport report = verify();
  ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"layer 1 " + s_layer_digest, "blob is missing (blobs/sha256/"}))
      << all_problems(report);
  EXPECT_EQ(report.layers_checked, 0u);
}

TEST_F(LayoutVerify, CollectsEveryProblemNotJustTheFirst) {
  std::string data = testing::read_text(layer_blob());
  data[data.size() / 3] = static_cast<char>(data[data.size() / 3] ^ 0x40);
  testing::write_text(layer_blob(), data);
  ASSERT_EQ(::unlink((layout() + "/blobs/sha256/" + s_config_digest.substr(7)).c_str()), 0);
  testing::write_text(layout() + "/oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}");
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"imageLayoutVersion '2.0.0'"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"config " + s_config_digest, "blob is missing"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"layer 1 " + s_layer_digest, "blob content hashes to"})) << all_problems(report);
}

TEST_F(LayoutVerify, BadJsonInIndex) {
  testing::write_text(layout() + "/index.json", "{\"schemaVersion\": 2, \"manifests\": [");
  const VerifyReport report = verify();
  ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"index.json is not valid JSON"})) << all_problems(report);
}

TEST_F(LayoutVerify, IndexFieldProblemsAreEachReported) {
  Documents docs = Documents::load(layout());
  json good = docs.index["manifests"][0];
  json bad_digest = good;
  bad_digest["digest"] = "sha256:XYZ";
  json negative = good;
  negative["size"] = -5;
  json no_media_type = good;
  no_media_type.erase("mediaType");
  no_media_type.erase("annotations");
  docs.index = json{{"schemaVersion", 1},
                    {"mediaType", "application/json"},
                    {"manifests", json::array({good, bad_digest, negative, no_media_type})}};
  testing::write_text(layout() + "/index.json", docs.index.dump());
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"index.json: schemaVersion is 1, expected 2"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"index.json: mediaType is 'application/json'"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"index.json: manifests[1].digest 'sha256:XYZ'"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"index.json: manifests[2].size is negative (-5)"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"index.json: manifests[3] has no mediaType"})) << all_problems(report);
  // The sound entry is still followed (and its blobs checked once).
  EXPECT_EQ(report.manifests, 1u);
  EXPECT_EQ(report.layers_checked, 1u);
}

TEST_F(LayoutVerify, ConfigFieldProblems) {
  Documents docs = Documents::load(layout());
  docs.config.erase("os");
  docs.config["architecture"] = "";
  docs.config["rootfs"]["type"] = "tarballs";
  docs.store();
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"config sha256:", "has no os"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"architecture is empty"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"rootfs.type is 'tarballs', expected 'layers'"})) << all_problems(report);
  EXPECT_EQ(report.problems.size(), 3u) << all_problems(report);
}

TEST_F(LayoutVerify, UnknownLayerMediaType) {
  Documents docs = Documents::load(layout());
  docs.manifest["layers"][0]["mediaType"] = "application/x-unknown";
  docs.store();
  const VerifyReport report = verify();
  ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"layer 1 " + s_layer_digest, "unsupported layer media type 'application/x-unknown'"}))
      << all_problems(report);
  EXPECT_EQ(report.blobs_checked, 3u);  // still hashed
  EXPECT_EQ(report.layers_checked, 0u);
}

TEST_F(LayoutVerify, UnsafeDuplicateAndDanglingEntries) {
  const std::string tar_gz =
      python_tar(m_dir, "ok=1;../evil=x;/abs=1;dup=1;./dup=2;hl>missing;good>ok;d/;d/.wh.gone;d/.wh.gone;sub/../x=1");
  Documents docs = Documents::load(layout());
  docs.replace_layer(tar_gz, k_media_type_layer_gzip, Sha256::of(testing::gunzip_all(tar_gz)).str());
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"layer 1 sha256:", "entry 2 '../evil' has a '..' component"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 3 '/abs' has an absolute path"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 5 './dup' repeats the path of entry 4"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 6 'hl': hard link target 'missing' is not an earlier entry"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 11 'sub/../x' has a '..' component"})) << all_problems(report);
  // The hard link to an earlier entry and the repeated whiteout are fine.
  EXPECT_EQ(report.problems.size(), 5u) << all_problems(report);
  EXPECT_EQ(report.entries_checked, 11u);
}

TEST_F(LayoutVerify, PaxPathWithNulByte) {
  const std::string script =
      "import io,sys,tarfile\n"
      "t=tarfile.open(sys.argv[1],'w:gz',format=tarfile.PAX_FORMAT)\n"
      "i=tarfile.TarInfo('placeholder');i.pax_headers={'path':'a\\x00b'};t.addfile(i,io.BytesIO(b''))\n"
      "t.close()\n";
  testing::write_text(m_dir / "nul.py", script);
  ASSERT_EQ(std::system(("python3 '" + (m_dir / "nul.py") + "' '" + (m_dir / "nul.tar.gz") + "'").c_str()), 0);
  const std::string tar_gz = testing::read_text(m_dir / "nul.tar.gz");
  Documents docs = Documents::load(layout());
  docs.replace_layer(tar_gz, k_media_type_layer_gzip, Sha256::of(testing::gunzip_all(tar_gz)).str());
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"entry 1 'a\\x00b' has a NUL byte in its path"})) << all_problems(report);
}

TEST_F(LayoutVerify, GzipCrcAndTrailingGarbageAreCaught) {
  const std::string tar_gz = python_tar(m_dir, "a=1;b=2");
  const std::string diff_id = Sha256::of(testing::gunzip_all(tar_gz)).str();
  {
    std::string bad_crc = tar_gz;
    bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 0xff);
    Documents docs = Documents::load(layout());
    docs.replace_layer(bad_crc, k_media_type_layer_gzip, diff_id);
    const VerifyReport report = verify();
    ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
    EXPECT_TRUE(has_problem(report, {"gzip member 1 is corrupt"})) << all_problems(report);
  }
  {
    Documents docs = Documents::load(layout());
    docs.replace_layer(tar_gz + "garbage", k_media_type_layer_gzip, diff_id);
    const VerifyReport report = verify();
    ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
    EXPECT_TRUE(has_problem(report, {"data after gzip member 1 is not a gzip member"})) << all_problems(report);
  }
}

TEST_F(LayoutVerify, CompressionMustMatchTheMediaType) {
  const std::string tar = python_tar(m_dir, "a=1", "w");
  Documents docs = Documents::load(layout());
  docs.replace_layer(tar, k_media_type_layer_gzip, Sha256::of(tar).str());
  const VerifyReport report = verify();
  ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"blob is not gzip-compressed, but its media type says gzip"}))
      << all_problems(report);
}

TEST_F(LayoutVerify, UncompressedAndZstdLayersAreChecked) {
  const std::string tar = python_tar(m_dir, "etc/;etc/a=1;etc/b>etc/a", "w");
  {
    Documents docs = Documents::load(layout());
    docs.replace_layer(tar, "application/vnd.oci.image.layer.v1.tar", Sha256::of(tar).str());
    const VerifyReport report = verify();
    EXPECT_TRUE(report.ok()) << all_problems(report);
    EXPECT_EQ(report.entries_checked, 3u);
  }
  {
    // Truncated inside the data of the file: its size still matches its descriptor.
    const std::string cut = tar.substr(0, 512 * 2 + 100);
    Documents docs = Documents::load(layout());
    docs.replace_layer(cut, "application/vnd.oci.image.layer.v1.tar", Sha256::of(cut).str());
    const VerifyReport report = verify();
    ASSERT_EQ(report.problems.size(), 1u) << all_problems(report);
    EXPECT_TRUE(has_problem(report, {"tar stream ends inside the data of entry 2 'etc/a'"})) << all_problems(report);
  }
  if (std::system("command -v zstd >/dev/null 2>&1") != 0) GTEST_SKIP() << "zstd is not installed";
  testing::write_text(m_dir / "layer.tar", tar);
  ASSERT_EQ(std::system(("zstd -q -f '" + (m_dir / "layer.tar") + "' -o '" + (m_dir / "layer.tar.zst") + "'").c_str()),
            0);
  const std::string zst = testing::read_text(m_dir / "layer.tar.zst");
  Documents docs = Documents::load(layout());
  docs.replace_layer(zst, "application/vnd.oci.image.layer.v1.tar+zstd", Sha256::of(tar).str());
  VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << all_problems(report);
  EXPECT_EQ(report.entries_checked, 3u);
  // The diff_id of a zstd layer is checked like any other.
  docs = Documents::load(layout());
  docs.config["rootfs"]["diff_ids"][0] = Sha256::of(zst).str();
  docs.store();
  report = verify();
  EXPECT_TRUE(has_problem(report, {"rootfs.diff_ids[0]", "decompresses to " + Sha256::of(tar).str()}))
      << all_problems(report);
}

TEST_F(LayoutVerify, GnuAndUstarLongNamesAreRead) {
  // Long paths and a long hard-link target: GNU tar writes 'L'/'K' headers,
  // USTAR splits the path into prefix and name. Either way nothing repeats.
  const std::string deep = "d-" + std::string(60, 'a') + "/e-" + std::string(60, 'b');
  testing::make_dirs(m_dir / ("tree/" + deep));
  testing::write_text(m_dir / ("tree/" + deep + "/" + std::string(90, 'f')), "content");
  testing::write_text(m_dir / ("tree/" + deep + "/short"), "x");
  ASSERT_EQ(::link((m_dir / ("tree/" + deep + "/" + std::string(90, 'f'))).c_str(), (m_dir / "tree/alias").c_str()), 0);
  // Listed in order (no recursion), so the hard link comes after its target.
  const std::string d1 = deep.substr(0, deep.find('/'));
  const std::string entries = ". " + d1 + " " + deep + " " + deep + "/" + std::string(90, 'f') + " " + deep + "/short";
  for (const std::string format : {"gnu", "ustar"}) {
    SCOPED_TRACE(format);
    // USTAR cannot hold the long hard-link target: the link is left out there.
    const std::string list = format == "gnu" ? entries + " alias" : entries;
    ASSERT_EQ(std::system(("tar -C '" + (m_dir / "tree") + "' --format=" + format + " --no-recursion -cf '" +
                           (m_dir / "l.tar") + "' " + list)
                              .c_str()),
              0);
    const std::string tar = testing::read_text(m_dir / "l.tar");
    Documents docs = Documents::load(layout());
    docs.replace_layer(tar, "application/vnd.oci.image.layer.v1.tar", Sha256::of(tar).str());
    const VerifyReport report = verify();
    EXPECT_TRUE(report.ok()) << all_problems(report);
    EXPECT_EQ(report.entries_checked, format == "gnu" ? 6u : 5u);
  }
}

TEST_F(LayoutVerify, NestedIndexIsFollowed) {
  Documents docs = Documents::load(layout());
  json inner = docs.index["manifests"][0];
  inner.erase("annotations");
  const json nested = json{{"schemaVersion", 2},
                           {"mediaType", k_media_type_index},
                           {"manifests", json::array({inner})}};
  json outer = docs.put_blob(nested.dump(), k_media_type_index);
  outer["annotations"] = docs.index["manifests"][0]["annotations"];
  docs.index["manifests"] = json::array({outer});
  testing::write_text(layout() + "/index.json", docs.index.dump());
  VerifyOptions options;
  options.ref = "latest";
  VerifyReport report = verify(options);
  EXPECT_TRUE(report.ok()) << all_problems(report);
  EXPECT_EQ(report.manifests, 1u);
  EXPECT_EQ(report.blobs_checked, 4u);

  // A problem below the nested index names the path to it.
  ASSERT_EQ(::unlink(layer_blob().c_str()), 0);
  report = verify(options);
  EXPECT_TRUE(has_problem(report, {"tag 'latest' > manifests[0]: layer 1 " + s_layer_digest, "blob is missing"}))
      << all_problems(report);
}

TEST_F(LayoutVerify, MultiPlatformIndexChecksEveryChildAndItsPlatform) {
  Documents docs = Documents::load(layout());
  json image = docs.index["manifests"][0];
  image.erase("annotations");
  json amd = image;
  amd["platform"] = json{{"architecture", "amd64"}, {"os", "linux"}};
  json claimed_arm = image;
  claimed_arm["platform"] = json{{"architecture", "arm64"}, {"os", "linux"}};
  json broken = image;
  broken["platform"] = "linux/amd64";
  broken["digest"] = Sha256::of("a manifest that is not there").str();
  const json nested = json{{"schemaVersion", 2},
                           {"mediaType", k_media_type_index},
                           {"manifests", json::array({amd, claimed_arm, broken})}};
  json outer = docs.put_blob(nested.dump(), k_media_type_index);
  outer["annotations"] = docs.index["manifests"][0]["annotations"];
  docs.index["manifests"] = json::array({outer});
  testing::write_text(layout() + "/index.json", docs.index.dump());
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"tag 'latest' > manifests[1]: the platform linux/arm64 its descriptor says differs "
                                   "from linux/amd64 of its config"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"manifests[2].platform is a string, expected an object"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"tag 'latest' > manifests[2]: manifest", "blob is missing"})) << all_problems(report);
  EXPECT_EQ(report.problems.size(), 3u) << all_problems(report);
  EXPECT_EQ(report.manifests, 1u);  // the same manifest twice, checked once
  EXPECT_EQ(report.layers_checked, 1u);
}

// --- hostile layouts (reading)

TEST_F(LayoutVerify, NonRegularLayoutFilesAndBlobsAreProblemsNotHangs) {
  for (const auto& hostile : testing::hostile_kinds()) {
    SCOPED_TRACE(hostile.name);
    for (const std::string& file : std::vector<std::string>{"index.json", "oci-layout",
                                                            "blobs/sha256/" + s_layer_digest.substr(7),
                                                            "blobs/sha256/" + s_config_digest.substr(7)}) {
      SCOPED_TRACE(file);
      TempDir copy;
      ASSERT_EQ(std::system(("cp -a '" + layout() + "' '" + (copy / "l") + "'").c_str()), 0);
      const std::string path = copy / "l" + "/" + file;
      ASSERT_TRUE(testing::make_hostile_in_place(path, hostile.kind, copy.path()));
      auto report = verify_layout(copy / "l", {});
      ASSERT_TRUE(report.ok()) << report.error().message;
      EXPECT_TRUE(has_problem(*report, {path + " " + hostile.expected})) << all_problems(*report);
    }
  }
}

TEST_F(LayoutVerify, SymlinkedBlobDirectoriesAreProblems) {
  for (const char* link : {"blobs", "blobs/sha256"}) {
    SCOPED_TRACE(link);
    TempDir decoy;
    ASSERT_EQ(std::system(("cp -a '" + layout() + "' '" + (decoy / "a") + "'").c_str()), 0);
    ASSERT_EQ(std::system(("rm -rf '" + layout() + "/" + link + "'").c_str()), 0);
    ASSERT_EQ(::symlink((decoy / "a" + "/" + link).c_str(), (layout() + "/" + link).c_str()), 0);
    const VerifyReport report = verify();
    EXPECT_TRUE(has_problem(report, {layout() + "/" + link + " is a symbolic link"})) << all_problems(report);
    EXPECT_EQ(report.blobs_checked, 0u);
    ASSERT_EQ(::unlink((layout() + "/" + link).c_str()), 0);
    ASSERT_EQ(std::system(("cp -a '" + (decoy / "a") + "/" + link + "' '" + layout() + "/" + link + "'").c_str()), 0);
  }
}

TEST_F(LayoutVerify, DeepOrHugeDocumentsAreProblemsNamingThem) {
  for (size_t depth : {size_t(100000), size_t(1000000)}) {
    SCOPED_TRACE(depth);
    const std::string deep = std::string(depth, '[') + std::string(depth, ']');
    auto docs = Documents::load(layout());
    const std::string index_text = docs.index.dump();
    testing::write_text(layout() + "/index.json", index_text.substr(0, index_text.size() - 1) + ",\"x\":" + deep + "}");
    EXPECT_TRUE(has_problem(verify(), {"index.json is nested more than 64 levels deep"}));
    testing::write_text(layout() + "/index.json", index_text);
    // In the config (stored with every digest above it recomputed).
    docs.config["x"] = json::array();
    docs.store();
    std::string config_text = testing::read_text(docs.blob(docs.manifest["config"]["digest"]));
    config_text.insert(config_text.size() - 1, ",\"y\":" + deep);
    const json config_descriptor = docs.put_blob(config_text, docs.manifest["config"]["mediaType"]);
    docs.manifest["config"] = config_descriptor;
    const std::string manifest_text = docs.manifest.dump();
    const json manifest_descriptor = docs.put_blob(manifest_text, docs.index["manifests"][0]["mediaType"]);
    docs.index["manifests"][0]["digest"] = manifest_descriptor["digest"];
    docs.index["manifests"][0]["size"] = manifest_descriptor["size"];
    testing::write_text(layout() + "/index.json", docs.index.dump());
    EXPECT_TRUE(has_problem(verify(), {"config " + config_descriptor["digest"].get<std::string>(), "nested more than"}));
    // In the manifest.
    std::string deep_manifest = manifest_text;
    deep_manifest.insert(deep_manifest.size() - 1, ",\"z\":" + deep);
    const json deep_descriptor = docs.put_blob(deep_manifest, docs.index["manifests"][0]["mediaType"]);
    docs.index["manifests"][0]["digest"] = deep_descriptor["digest"];
    docs.index["manifests"][0]["size"] = deep_descriptor["size"];
    testing::write_text(layout() + "/index.json", docs.index.dump());
    EXPECT_TRUE(has_problem(verify(), {"manifest " + deep_descriptor["digest"].get<std::string>(), "nested more than"}));
    // A fresh copy for the next depth.
    ASSERT_EQ(std::system(("rm -rf '" + layout() + "' && cp -a '" + (*s_source / "layout") + "' '" + layout() + "'").c_str()), 0);
  }
}

TEST_F(LayoutVerify, DuplicateTagsAreReportedAsAmbiguous) {
  auto docs = Documents::load(layout());
  json second = docs.index["manifests"][0];
  json other = second;
  other["annotations"]["org.opencontainers.image.ref.name"] = "other";
  docs.index["manifests"].push_back(other);
  docs.index["manifests"].push_back(second);
  docs.index["manifests"].push_back(second);
  testing::write_text(layout() + "/index.json", docs.index.dump());
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"index.json: tag 'latest' is ambiguous: 3 entries carry it",
                                   "manifests[0], manifests[2], manifests[3]"}))
      << all_problems(report);
  EXPECT_FALSE(has_problem(report, {"'other' is ambiguous"}));
  EXPECT_EQ(report.problems.size(), 1u) << all_problems(report);
}

TEST_F(LayoutVerify, EntriesBelowNonDirectoriesAndMalformedWhiteoutsAreFlagged) {
  using testing::raw_tar_header;
  const std::string tar =
      raw_tar_header("ln", '2', 0, "/etc") + raw_tar_header("ln/passwd") +           // 1, 2: below a symlink
      raw_tar_header("f", '0', 1) + testing::raw_tar_data("x") + raw_tar_header("f/x") +  // 3, 4: below a file
      raw_tar_header("h", '1', 0, "f") + raw_tar_header("h/y") +                      // 5, 6: below a hard link
      raw_tar_header("ln/.wh.shadow") +                                              // 7: whiteout through a symlink
      raw_tar_header("d/", '5') + raw_tar_header("d/.wh.") + raw_tar_header("d/.wh..") +  // 8, 9, 10
      raw_tar_header("d/.wh...") + raw_tar_header("d/.wh..wh.plnk") +                 // 11, 12
      raw_tar_header("d/.wh.data", '0', 4) + testing::raw_tar_data("data") +          // 13
      raw_tar_header("d/.wh.dir/", '5') +                                            // 14
      raw_tar_header("d/.wh..wh..opq") + raw_tar_header("d/.wh.fine") + raw_tar_header("d/sub/", '5') +
      raw_tar_header("d/sub/ok") + testing::raw_tar_end();                            // 15-18 are fine
  Documents docs = Documents::load(layout());
  docs.replace_layer(tar, "application/vnd.oci.image.layer.v1.tar", Sha256::of(tar).str());
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"layer 1 sha256:", "entry 2 'ln/passwd' lies below 'ln' (entry 1)"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 4 'f/x' lies below 'f' (entry 3)"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 6 'h/y' lies below 'h' (entry 5)"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 7 'ln/.wh.shadow' lies below 'ln'"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 9 'd/.wh.' is a malformed whiteout (it names the directory itself)"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 10 'd/.wh..' is a malformed whiteout"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 11 'd/.wh...' is a malformed whiteout (it names the parent directory)"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 12 'd/.wh..wh.plnk' has a reserved .wh..wh. name"})) << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 13 'd/.wh.data' is a whiteout but not an empty regular file"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"entry 14 'd/.wh.dir/' is a whiteout but not an empty regular file"}))
      << all_problems(report);
  EXPECT_EQ(report.problems.size(), 10u) << all_problems(report);
}

TEST_F(LayoutVerify, CreatedMustParseAsGoReadsRfc3339) {
  // Year 10000 and day 00 were written by older builds: skopeo and umoci
  // refuse them, so verify must too — in the config and in each history entry.
  Documents docs = Documents::load(layout());
  docs.config["created"] = "10000-01-01T00:00:00Z";
  docs.config["history"] = json::array({json{{"created", "2024-01-00T00:00:00Z"}},
                                         json{{"created", "2024-01-02T03:04:05Z"}},
                                         json{{"created", 5}}, json{{"created_by", "no created: fine"}}});
  docs.store();
  const VerifyReport report = verify();
  EXPECT_TRUE(has_problem(report, {"config sha256:", "created '10000-01-01T00:00:00Z' is not an RFC 3339 time"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"history[0].created '2024-01-00T00:00:00Z' is not an RFC 3339 time"}))
      << all_problems(report);
  EXPECT_TRUE(has_problem(report, {"history[2].created is a number, expected a string"})) << all_problems(report);
  EXPECT_EQ(report.problems.size(), 3u) << all_problems(report);

  for (const char* good : {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.5+01:00"}) {
    docs.config["created"] = good;
    docs.config.erase("history");
    docs.store();
    const VerifyReport fine = verify();
    EXPECT_TRUE(fine.ok()) << good << "\n" << all_problems(fine);
  }
}

}  // namespace
}  // namespace ocipack
