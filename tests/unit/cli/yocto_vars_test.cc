// Tests for cli/yocto_vars.cc: the dump's reading (names in order, multi-line
// values, an unexpanded ${NAME} is unset, hostile text stays data, a missing
// name is refused) and the mapping to build arguments — names, author
// merging, ENTRYPOINT_ARGS over CMD, shlex'd words, automatic labels from
// git (a stand-in), the date (SOURCE_DATE_EPOCH; OE's fallback replaced by
// REPRODUCIBLE_TIMESTAMP_ROOTFS), tarballs, compression, SBOM, cache, base
// image lookup, multi-layer plans, pkgdata, and the errors that name the
// variable.
#include "cli/yocto_vars.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace ocipack::cli {
namespace {

using ocipack::testing::make_dirs;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

// A dump with every name; `values` override "" defaults.
std::string dump(const std::map<std::string, std::string>& values) {
  std::string text;
  for (const auto& name : yocto_var_names()) {
    auto it = values.find(name);
    text += name + "=" + (it == values.end() ? "" : it->second) + "\n";
  }
  return text;
}

// The words after each `flag` in `args`.
std::vector<std::string> after(const std::vector<std::string>& args, const std::string& flag) {
  std::vector<std::string> values;
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == flag) values.push_back(args[i + 1]);
  return values;
}

class YoctoVarsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_dirs(dir.path() + "/rootfs/etc");
    write_text(dir.path() + "/rootfs/etc/passwd", "root\n");
    make_dirs(dir.path() + "/deploy");
    base = {{"IMGDEPLOYDIR", dir.path() + "/deploy"}, {"IMAGE_ROOTFS", dir.path() + "/rootfs"},
            {"IMAGE_NAME", "img-qemuarm"}, {"IMAGE_NAME_SUFFIX", ".rootfs"}, {"IMAGE_BASENAME", "img"},
            {"OCI_IMAGE_TAG", "v1:2"}, {"OCI_IMAGE_CMD", "/bin/sh"}, {"OCI_IMAGE_TAR_OUTPUT", "true"},
            {"OCI_IMAGE_AUTO_LABELS", "1"}, {"TOPDIR", dir.path()}};
    host.source_date_epoch = "1700000000";
    host.now = 42;
    host.git = [](const std::string&, const std::vector<std::string>& args) -> std::optional<std::string> {
      if (args.back() != "HEAD") return std::nullopt;
      return args[1] == "--short" ? std::optional<std::string>("abc1234") : std::optional<std::string>("main");
    };
  }
  Result<YoctoBuild> map(const std::map<std::string, std::string>& extra) {
    auto values = base;
    for (const auto& [k, v] : extra) values[k] = v;
    auto vars = parse_yocto_vars(dump(values));
    EXPECT_TRUE(vars.ok()) << vars.error().message;
    return map_yocto_vars(*vars, host);
  }
  TempDir dir;
  std::map<std::string, std::string> base;
  YoctoHost host;
};

TEST(YoctoVarsParse, NamesInOrderMultiLineValuesAndUnexpandedNames) {
  std::map<std::string, std::string> values{{"OCI_IMAGE_LABELS", "a=1\nb='two words'"},
                                            {"OCI_IMAGE_OS", "${OCI_IMAGE_OS}"},
                                            {"OCI_IMAGE_CMD", "$(touch /x) `id` *"}};
  auto vars = parse_yocto_vars(dump(values));
  ASSERT_TRUE(vars.ok()) << vars.error().message;
  EXPECT_EQ(vars->get("OCI_IMAGE_LABELS"), "a=1\nb='two words'");
  EXPECT_EQ(vars->values.count("OCI_IMAGE_OS"), 0u);
  EXPECT_EQ(vars->get("OCI_IMAGE_CMD"), "$(touch /x) `id` *");
  // A line "NAME=" of a name that is not the next one continues the value.
  values = {{"OCI_IMAGE_LABELS", "x=1\nOCI_IMAGE_TAG=evil"}};
  vars = parse_yocto_vars(dump(values));
  ASSERT_TRUE(vars.ok());
  EXPECT_EQ(vars->get("OCI_IMAGE_LABELS"), "x=1\nOCI_IMAGE_TAG=evil");
  EXPECT_EQ(vars->get("OCI_IMAGE_TAG"), "");
}

TEST(YoctoVarsParse, AMissingNameIsRefused) {
  std::string text = dump({});
  text = text.substr(0, text.find("OCIPACK_CACHE_REMOTE="));
  auto vars = parse_yocto_vars(text);
  ASSERT_FALSE(vars.ok());
  EXPECT_NE(vars.error().message.find("no value for OCIPACK_CACHE_REMOTE"), std::string::npos);
}

TEST_F(YoctoVarsTest, NamesConfigLabelsAndOutputs) {
  auto built = map({{"OCI_IMAGE_AUTHOR", "Jane"}, {"OCI_IMAGE_AUTHOR_EMAIL", "jane@x"},
                    {"OCI_IMAGE_ENTRYPOINT_ARGS", "-c 'echo hi'"}, {"OCI_IMAGE_PORTS", "80 443/udp"},
                    {"OCI_IMAGE_LABELS", "k='v w'"}, {"OCIPACK_CACHE_DIR", dir.path() + "/cache"}});
  ASSERT_TRUE(built.ok()) << built.error().message;
  const auto& args = built->args;
  const std::string layout = dir.path() + "/deploy/img-qemuarm.rootfs-oci";
  EXPECT_EQ(after(args, "-o"), std::vector<std::string>{layout});
  EXPECT_EQ(after(args, "--tag"), std::vector<std::string>{"v1:2"});
  EXPECT_EQ(after(args, "--created"), std::vector<std::string>{"@1700000000"});
  EXPECT_EQ(after(args, "--author"), std::vector<std::string>{"Jane <jane@x>"});
  EXPECT_EQ(after(args, "--cmd"), std::vector<std::string>{"-c 'echo hi'"});  // ENTRYPOINT_ARGS wins over CMD
  EXPECT_EQ(after(args, "--port"), (std::vector<std::string>{"80", "443/udp"}));
  EXPECT_EQ(after(args, "--label"),
            (std::vector<std::string>{"org.opencontainers.image.revision=abc1234", "org.opencontainers.image.ref.name=main",
                                      "org.opencontainers.image.created=2023-11-14T22:13:20Z", "k=v w"}));
  EXPECT_EQ(after(args, "--tar-output"), std::vector<std::string>{layout + ".tar"});
  EXPECT_EQ(after(args, "--tar-output-dir"), std::vector<std::string>{layout + "-dir.tar"});
  EXPECT_EQ(after(args, "--cache"), std::vector<std::string>{dir.path() + "/cache"});
  EXPECT_EQ(built->links.size(), 3u);
  EXPECT_EQ(built->links[0].first, dir.path() + "/deploy/img-v1_2-oci");
  EXPECT_EQ(built->links[0].second, "img-qemuarm.rootfs-oci");
  EXPECT_EQ(built->source_date_epoch, std::optional<std::string>("1700000000"));
}

TEST_F(YoctoVarsTest, OeFallbackEpochBecomesTheRootfsTimestamp) {
  host.source_date_epoch = "1302044400";
  auto built = map({{"REPRODUCIBLE_TIMESTAMP_ROOTFS", "1520598896"}});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(after(built->args, "--created"), std::vector<std::string>{"@1520598896"});
  EXPECT_EQ(built->source_date_epoch, std::optional<std::string>("1520598896"));
  // Without REPRODUCIBLE_TIMESTAMP_ROOTFS, the fallback stays.
  built = map({});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(after(built->args, "--created"), std::vector<std::string>{"@1302044400"});
  // Another SOURCE_DATE_EPOCH is the user's choice: kept.
  host.source_date_epoch = "1700000000";
  built = map({{"REPRODUCIBLE_TIMESTAMP_ROOTFS", "1520598896"}});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(after(built->args, "--created"), std::vector<std::string>{"@1700000000"});
}

TEST_F(YoctoVarsTest, ErrorsNameTheVariable) {
  auto built = map({{"OCI_IMAGE_ENV_VARS", "A='x"}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().message.find("OCI_IMAGE_ENV_VARS: unterminated quote"), std::string::npos);
  built = map({{"OCI_IMAGE_SBOM", "rel.json"}});
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().message, "OCI_IMAGE_SBOM must be auto, off or an absolute path, not 'rel.json'");
  built = map({{"OCIPACK_CACHE_REMOTE", "http://127.0.0.1:1/"}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().message.find("OCIPACK_CACHE_DIR is empty"), std::string::npos);
  built = map({{"OCI_BASE_IMAGE", "docker.io/x"}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().message.find("looks like a registry reference"), std::string::npos);
  built = map({{"OCI_LAYER_MODE", "multi"}, {"OCI_LAYERS", "x:tarball:/etc"}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().message.find("unknown type 'tarball'"), std::string::npos);
  built = map({{"OCI_LAYER_MODE", "multi"}, {"OCI_LAYERS", "x:files:/etc/../x"}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().message.find("bad path"), std::string::npos);
}

TEST_F(YoctoVarsTest, MultiLayerPlanWithPackagesFromPkgdata) {
  const std::string pkgdata = dir.path() + "/pkgdata";
  make_dirs(pkgdata + "/runtime");
  make_dirs(pkgdata + "/extended");
  write_text(pkgdata + "/runtime/app", "PN: app\n");
  write_text(pkgdata + "/extended/app.json", R"({"files_info": {"/etc/passwd": 5, "/usr/x": 1}})");
  write_text(pkgdata + "/runtime/old", "PN: old\nFILES_INFO:old: {\"/etc/old\": 1}\n");
  auto built = map({{"OCI_LAYER_MODE", "multi"}, {"PKGDATA_DIR", pkgdata}, {"OCI_LAYER_REMAINDER", "0"},
                    {"OCI_LAYERS", "base:packages:app+old conf:directories:/etc/"}});
  ASSERT_TRUE(built.ok()) << built.error().message;
  ASSERT_TRUE(built->path_layers);
  const auto& plan = *built->path_layers;
  EXPECT_FALSE(plan.remainder);
  ASSERT_EQ(plan.layers.size(), 2u);
  ASSERT_EQ(plan.layers[0].claims.size(), 2u);
  EXPECT_EQ(plan.layers[0].claims[0].paths, (std::vector<std::string>{"etc/passwd", "usr/x"}));
  EXPECT_EQ(plan.layers[0].claims[1].paths, std::vector<std::string>{"etc/old"});
  EXPECT_EQ(plan.layers[1].claims[0].paths, std::vector<std::string>{"etc"});
  EXPECT_TRUE(plan.layers[1].claims[0].recursive);
  auto missing = yocto_package_files(pkgdata, "nope", "base");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no pkgdata for package 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace ocipack::cli
