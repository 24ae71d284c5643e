// Tests for cli/layout_refs.cc and the subcommands that use it: "[oci:]
// LAYOUT[:TAG]" splits the same way for -o, --base, inspect, verify, tags,
// gc, tag and untag; an existing layout directory whose name holds ':' is
// named by its whole name; a tag given both in the reference and by
// --tag/--ref differently is a usage error naming both; hostile tags ('/',
// '..', control bytes) are refused as usage; --tag repeats; -o ending in
// .tar warns.
#include "cli/layout_refs.h"

#include <gtest/gtest.h>

#include "cli/options.h"
#include "expect_error.h"
#include "fake_layout.h"
#include "test_helpers.h"

namespace ocipack::cli {
namespace {

using ocipack::testing::expect_error;
using ocipack::testing::FakeLayout;
using ocipack::testing::TempDir;

Result<CommandLine> parse(std::vector<std::string> args) {
  Environment env;
  env.now = 1800000000;
  env.hardware_threads = 2;
  return parse_command_line(args, env);
}

TEST(LayoutRefs, SplitsLayoutAndTag) {
  auto ref = parse_layout_argument("-o", "img:v1");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->layout_dir, "img");
  EXPECT_EQ(ref->tag, "v1");
  ref = parse_layout_argument("-o", "/a/b/img");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->layout_dir, "/a/b/img");
  EXPECT_FALSE(ref->tag.has_value());
  ref = parse_layout_argument("-o", "/a/b/img/");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->layout_dir, "/a/b/img");
  EXPECT_FALSE(ref->tag.has_value());
  ref = parse_layout_argument("-o", "img:latest");  // the default tag, but named
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->tag, "latest");
}

TEST(LayoutRefs, AcceptsSkopeosOciTransport) {
  auto ref = parse_layout_argument("inspect", "oci:img:v1");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->layout_dir, "img");
  EXPECT_EQ(ref->tag, "v1");
  ref = parse_layout_argument("inspect", "oci:/x/img");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->layout_dir, "/x/img");
  EXPECT_FALSE(ref->tag.has_value());
  expect_error(parse_layout_argument("inspect", "oci:"), {"inspect 'oci:'", "empty image reference"});
}

TEST(LayoutRefs, ExistingLayoutWithColonIsNamedWhole) {
  TempDir tmp;
  FakeLayout colon(tmp / "img:v1", true);
  auto ref = parse_layout_argument("verify", tmp / "img:v1");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->layout_dir, tmp / "img:v1");
  EXPECT_FALSE(ref->tag.has_value());
  ref = parse_layout_argument("verify", tmp / "img:v1:v2");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->layout_dir, tmp / "img:v1");
  EXPECT_EQ(ref->tag, "v2");
  // A layout really named "oci:L" keeps its name; the transport prefix is
  // dropped only when the text with it names no layout.
  FakeLayout transport(tmp / "oci:L", true);
  ::chdir(tmp.path().c_str());
  ref = parse_layout_argument("tags", "oci:L");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->layout_dir, "oci:L");
  // A new directory whose name holds ':' is written with a trailing '/'.
  ref = parse_layout_argument("-o", "new:dir/");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->layout_dir, "new:dir");
  EXPECT_FALSE(ref->tag.has_value());
  ::chdir("/");
}

TEST(LayoutRefs, RefusesHostileTagsAsUsage) {
  const std::vector<std::string> hostile{"img:../x", "img:a/b", "img:a..b", "img:-x", "img:a b", "img:",
                                         std::string("img:a\0b", 7), "img:a\nb", "", "img:" + std::string(256, 'a')};
  for (const std::string& text : hostile) {
    auto ref = parse_layout_argument("-o", text);
    ASSERT_FALSE(ref.ok()) << text;
    EXPECT_EQ(ref.error().kind, ErrorKind::usage) << text;
    EXPECT_EQ(ref.error().message.find('\n'), std::string::npos) << ref.error().message;
  }
  auto build = parse({"build", "/r", "-o", "img:../../etc"});
  ASSERT_FALSE(build.ok());
  EXPECT_EQ(build.error().kind, ErrorKind::usage);
}

TEST(LayoutRefs, TagGivenTwoWaysMustAgree) {
  LayoutArgument argument{"img", "v1"};
  auto tags = merge_tags("-o", argument, "--tag", {"v1", "v2"}, {"latest"});
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(*tags, (std::vector<std::string>{"v1", "v2"}));
  expect_error(merge_tags("-o", argument, "--tag", {"v2"}, {"latest"}), {"-o", "'v1'", "--tag", "'v2'"});
  EXPECT_EQ(*merge_tags("-o", {"img", std::nullopt}, "--tag", {}, {"latest"}), std::vector<std::string>{"latest"});
  EXPECT_EQ(*merge_tags("-o", argument, "--tag", {}, {"latest"}), std::vector<std::string>{"v1"});

  auto build = parse({"build", "/r", "-o", "img:v1", "--tag", "v2"});
  ASSERT_FALSE(build.ok());
  EXPECT_EQ(build.error().kind, ErrorKind::usage);
  EXPECT_NE(build.error().message.find("--tag 'v2'"), std::string::npos) << build.error().message;
  auto verify = parse({"verify", "/l:v1", "--ref", "v2"});
  ASSERT_FALSE(verify.ok());
  EXPECT_NE(verify.error().message.find("--ref 'v2'"), std::string::npos) << verify.error().message;
}

TEST(LayoutRefs, BuildOutputAndRepeatedTags) {
  auto cl = parse({"build", "/r", "-o", "oci:/out/img:v1"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layout_dir, "/out/img");
  EXPECT_EQ(cl->build.image.tag, "v1");
  EXPECT_TRUE(cl->build.image.extra_tags.empty());
  cl = parse({"build", "/r", "-o", "/out/img", "--tag", "v1", "--tag", "v1.2", "--tag", "v1", "--tag", "latest"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.image.tag, "v1");
  EXPECT_EQ(cl->build.image.extra_tags, (std::vector<std::string>{"v1.2", "latest"}));
  cl = parse({"build", "/r", "-o", "/out/img:v1.2", "--tag", "v1", "--tag", "v1.2"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.image.tag, "v1");
  cl = parse({"build", "/r", "-o", "/out/img", "--base", "oci:/b/base:v3"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.base_layout, "/b/base");
  EXPECT_EQ(cl->build.base_tag, "v3");
  EXPECT_TRUE(cl->warnings.empty());
  cl = parse({"build", "/r", "-o", "/out/img.tar"});
  ASSERT_TRUE(cl.ok());
  ASSERT_EQ(cl->warnings.size(), 1u);
  EXPECT_EQ(cl->warnings[0], "-o is a layout directory; for a tarball use --tar-output");
  EXPECT_TRUE(looks_like_tarball("x.tar.gz"));
  EXPECT_FALSE(looks_like_tarball("x.tarball"));
}

TEST(LayoutRefs, LayoutSubcommandsTakeReferences) {
  auto cl = parse({"verify", "oci:/l:v1"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->layout_dir, "/l");
  EXPECT_EQ(cl->tag, "v1");
  cl = parse({"verify", "/l:v1", "--ref", "v1"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->tag, "v1");
  cl = parse({"tags", "/l:v1", "--json"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->layout_dir, "/l");
  EXPECT_EQ(cl->tag, "v1");
  EXPECT_TRUE(cl->json);
  cl = parse({"gc", "/l:v1", "--dry-run"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->layout_dir, "/l");
  EXPECT_TRUE(cl->dry_run);
  EXPECT_FALSE(parse({"gc", "/l"})->dry_run);
  cl = parse({"attach", "oci:/l:v1", "/sbom.json"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->attach.layout_dir, "/l");
  EXPECT_EQ(cl->attach.tag, "v1");
  cl = parse({"index", "oci:/a:v1", "-o", "/multi:all"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->index.sources.at(0).path, "/a");
  EXPECT_EQ(cl->index.layout_dir, "/multi");
  EXPECT_EQ(cl->index.tag, "all");
  EXPECT_FALSE(parse({"index", "/a", "-o", "/multi:all", "--tag", "other"}).ok());
}

TEST(LayoutRefs, TagAndUntag) {
  auto cl = parse({"tag", "/l:v1", "v2", "stable"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->action, CommandLine::Action::tag);
  EXPECT_EQ(cl->layout_dir, "/l");
  EXPECT_EQ(cl->tag, "v1");
  EXPECT_EQ(cl->new_tags, (std::vector<std::string>{"v2", "stable"}));
  EXPECT_EQ(parse({"tag", "/l", "v2"})->tag, "latest");
  EXPECT_FALSE(parse({"tag", "/l:v1"}).ok());  // no NEW
  cl = parse({"untag", "oci:/l:v1"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->action, CommandLine::Action::untag);
  EXPECT_EQ(cl->tag, "v1");
  auto bare = parse({"untag", "/l"});
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().kind, ErrorKind::usage);
  EXPECT_NE(bare.error().message.find("LAYOUT:TAG"), std::string::npos);
  auto typo = parse({"utnag", "/l:v1"});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("did you mean 'untag'"), std::string::npos) << typo.error().message;
  auto help = parse({"help", "untag"});
  ASSERT_TRUE(help.ok());
  EXPECT_NE(help->text.find("blobs stay until"), std::string::npos);
}

// A layout tarball: "oci-archive:FILE[:TAG]" (a new or an existing file),
// or the plain path of an existing regular file, with the same :TAG split;
// readers take it, writers refuse it as usage, naming it.
TEST(LayoutRefs, LayoutTarballsInBothSpellings) {
  TempDir tmp;
  const std::string tar = tmp / "img.tar";
  ocipack::testing::write_text(tar, "not read here");
  auto ref = parse_layout_argument("inspect", "oci-archive:" + tar + ":v1");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->layout_dir, tar);
  EXPECT_EQ(ref->tag, "v1");
  EXPECT_TRUE(ref->tarball);
  ref = parse_layout_argument("inspect", tar + ":v1");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->layout_dir, tar);
  EXPECT_EQ(ref->tag, "v1");
  EXPECT_TRUE(ref->tarball);
  ref = parse_layout_argument("inspect", tar);
  ASSERT_TRUE(ref.ok());
  EXPECT_FALSE(ref->tag.has_value());
  EXPECT_TRUE(ref->tarball);
  ref = parse_layout_argument("-o", "oci-archive:" + tmp / "new.tar");  // not there yet: still a tarball
  ASSERT_TRUE(ref.ok());
  EXPECT_TRUE(ref->tarball);
  EXPECT_FALSE(parse_layout_argument("-o", tmp / "newdir:v1")->tarball);
  expect_error(parse_layout_argument("inspect", "oci-archive:" + tmp.path()), {"oci-archive:", "is a directory"});

  auto cl = parse({"inspect", "oci-archive:" + tar + ":v1"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->layout_dir, tar);
  EXPECT_EQ(cl->tag, "v1");
  EXPECT_TRUE(parse({"verify", tar}).ok());
  EXPECT_TRUE(parse({"tags", tar}).ok());
  EXPECT_TRUE(parse({"ls", tar + ":v1"}).ok());
  EXPECT_TRUE(parse({"build", "/r", "-o", "/out", "--base", "oci-archive:" + tar + ":v1"}).ok());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"tag", tar + ":v1", "v2"}, {"untag", tar + ":v1"}, {"gc", tar},
        {"attach", tar + ":v1", "/sbom.json"}, {"build", "/r", "-o", tar},
        {"build", "/r", "-o", "oci-archive:" + tmp / "new.tar"}, {"index", "/a", "-o", tar, "--tag", "t"}}) {
    auto refused = parse(args);
    ASSERT_FALSE(refused.ok()) << args[0];
    EXPECT_EQ(refused.error().kind, ErrorKind::usage);
    EXPECT_NE(refused.error().message.find("layout tarball"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("use a layout directory"), std::string::npos) << refused.error().message;
  }
}

}  // namespace
}  // namespace ocipack::cli
