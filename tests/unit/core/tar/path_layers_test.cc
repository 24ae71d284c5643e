// Tests for core/tar/path_layers.cc: one walk of a real temporary rootfs
// split by path sets — the first layer that claims a path wins, parents come
// along, a recursive claim takes the subtree, the remainder takes the rest,
// an empty layer is left out with its warning, missing paths warn, host
// copies are root-owned with the rootfs's parents (or invented ones dated
// `created`) and hide the rootfs's version; hard links stay links within a
// layer and are whole files in each layer their names fall into.
#include "core/tar/path_layers.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::make_dirs;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

std::vector<std::string> paths_of(const std::vector<WalkItem>& items) {
  std::vector<std::string> paths;
  for (const auto& item : items) paths.push_back(item.entry.path);
  return paths;
}

// Streams an ItemListSource: the entries a layer's tar holds.
std::vector<WalkItem> stream(std::vector<WalkItem> items) {
  ItemListSource source(std::move(items));
  std::vector<WalkItem> out;
  for (;;) {
    auto next = source.next();
    EXPECT_TRUE(next.ok());
    if (!next.ok() || !*next) break;
    out.push_back(std::move(**next));
  }
  return out;
}

PathClaimGroup claim(std::vector<std::string> paths, bool recursive, std::string warn = "") {
  PathClaimGroup group;
  group.paths = std::move(paths);
  group.recursive = recursive;
  group.warn_if_none = std::move(warn);
  return group;
}

class PathLayersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = dir.path() + "/rootfs";
    make_dirs(root + "/etc/ssl");
    make_dirs(root + "/opt/model");
    make_dirs(root + "/usr/bin");
    write_text(root + "/etc/app.conf", "conf\n");
    write_text(root + "/etc/passwd", "root\n");
    write_text(root + "/etc/ssl/other.pem", "pem\n");
    write_text(root + "/opt/model/weights.bin", "w\n");
    write_text(root + "/usr/bin/busybox", "bb\n");
    ASSERT_EQ(::link((root + "/usr/bin/busybox").c_str(), (root + "/usr/bin/sh").c_str()), 0);
    ASSERT_EQ(::link((root + "/usr/bin/busybox").c_str(), (root + "/etc/bb-copy").c_str()), 0);
  }
  TempDir dir;
  std::string root;
};

TEST_F(PathLayersTest, FirstClaimWinsParentsComeAlongRemainderTakesTheRest) {
  PathLayersPlan plan;
  plan.rootfs = root;
  plan.layers.push_back({"model", {claim({"opt/model"}, true)}, {}, "model empty"});
  plan.layers.push_back({"conf", {claim({"etc/app.conf", "etc/missing"}, true), claim({"etc/none"}, true, "none missing")}, {}, ""});
  plan.layers.push_back({"dup", {claim({"opt/model"}, true)}, {}, "dup is empty"});
  auto planned = plan_path_layers(plan, WalkOptions{}, 0);
  ASSERT_TRUE(planned.ok()) << planned.error().message;
  ASSERT_EQ(planned->layers.size(), 3u);
  EXPECT_EQ(planned->layers[0].name, "model");
  EXPECT_EQ(paths_of(planned->layers[0].items), (std::vector<std::string>{"opt/", "opt/model/", "opt/model/weights.bin"}));
  EXPECT_EQ(paths_of(planned->layers[1].items), (std::vector<std::string>{"etc/", "etc/app.conf"}));
  EXPECT_EQ(planned->layers[2].name, "rootfs-remainder");
  // etc/ comes again as the parent of what is left; opt/ does not.
  EXPECT_EQ(paths_of(planned->layers[2].items),
            (std::vector<std::string>{"etc/", "etc/bb-copy", "etc/passwd", "etc/ssl/", "etc/ssl/other.pem", "usr/",
                                      "usr/bin/", "usr/bin/busybox", "usr/bin/sh"}));
  EXPECT_NE(std::find(planned->warnings.begin(), planned->warnings.end(), "dup is empty"), planned->warnings.end());
  EXPECT_NE(std::find(planned->warnings.begin(), planned->warnings.end(), "none missing"), planned->warnings.end());
  EXPECT_EQ(std::find(planned->warnings.begin(), planned->warnings.end(), "model empty"), planned->warnings.end());
}

TEST_F(PathLayersTest, NoRemainderLeavesTheRestOut) {
  PathLayersPlan plan;
  plan.rootfs = root;
  plan.remainder = false;
  plan.layers.push_back({"conf", {claim({"etc/app.conf"}, false)}, {}, ""});
  auto planned = plan_path_layers(plan, WalkOptions{}, 0);
  ASSERT_TRUE(planned.ok());
  ASSERT_EQ(planned->layers.size(), 1u);
  EXPECT_EQ(paths_of(planned->layers[0].items), (std::vector<std::string>{"etc/", "etc/app.conf"}));
}

TEST_F(PathLayersTest, HardLinksStayLinksWithinALayerAndAreWholeAcrossLayers) {
  PathLayersPlan plan;
  plan.rootfs = root;
  plan.layers.push_back({"etc", {claim({"etc"}, true)}, {}, ""});
  auto planned = plan_path_layers(plan, WalkOptions{}, 0);
  ASSERT_TRUE(planned.ok());
  ASSERT_EQ(planned->layers.size(), 2u);
  // etc/bb-copy is the first name of busybox's inode in the walk, but the
  // only one in layer "etc": a whole file there.
  auto etc = stream(planned->layers[0].items);
  auto copy = std::find_if(etc.begin(), etc.end(), [](const WalkItem& i) { return i.entry.path == "etc/bb-copy"; });
  ASSERT_NE(copy, etc.end());
  EXPECT_EQ(copy->entry.type, EntryType::regular);
  EXPECT_EQ(copy->entry.size, 3u);
  // In the remainder, busybox carries the data and sh links to it.
  auto rest = stream(planned->layers[1].items);
  ASSERT_EQ(paths_of(rest), (std::vector<std::string>{"opt/", "opt/model/", "opt/model/weights.bin", "usr/", "usr/bin/",
                                                      "usr/bin/busybox", "usr/bin/sh"}));
  EXPECT_EQ(rest[5].entry.type, EntryType::regular);
  EXPECT_EQ(rest[5].entry.size, 3u);
  EXPECT_EQ(rest[6].entry.type, EntryType::hard_link);
  EXPECT_EQ(rest[6].entry.link_target, "usr/bin/busybox");
}

// A rootfs made to attack the claims: a symlink to a directory outside the
// rootfs, claimed recursively and through a path below it. The claim takes
// the symlink itself (an entry, never followed); nothing of the outside
// directory is in any layer, and the path below it is reported missing.
TEST_F(PathLayersTest, ClaimsNeverFollowASymlinkOutOfTheRootfs) {
  make_dirs(dir.path() + "/outside");
  write_text(dir.path() + "/outside/secret", "secret\n");
  ASSERT_EQ(::symlink((dir.path() + "/outside").c_str(), (root + "/escape").c_str()), 0);
  PathLayersPlan plan;
  plan.rootfs = root;
  plan.remainder = false;
  plan.layers.push_back({"link", {claim({"escape"}, true)}, {}, ""});
  plan.layers.push_back({"below", {claim({"escape/secret"}, true, "escape/secret missing")}, {}, "below is empty"});
  auto planned = plan_path_layers(plan, WalkOptions{}, 0);
  ASSERT_TRUE(planned.ok()) << planned.error().message;
  ASSERT_EQ(planned->layers.size(), 1u);
  ASSERT_EQ(planned->layers[0].items.size(), 1u);
  EXPECT_EQ(planned->layers[0].items[0].entry.path, "escape");
  EXPECT_EQ(planned->layers[0].items[0].entry.type, EntryType::symlink);
  EXPECT_NE(std::find(planned->warnings.begin(), planned->warnings.end(), "escape/secret missing"),
            planned->warnings.end());
  EXPECT_NE(std::find(planned->warnings.begin(), planned->warnings.end(), "below is empty"), planned->warnings.end());
}

TEST_F(PathLayersTest, HostCopiesAreRootOwnedAndHideTheRootfsVersion) {
  const std::string host = dir.path() + "/host";
  make_dirs(host + "/tree/inner");
  write_text(host + "/ca.crt", "ca\n");
  write_text(host + "/tree/inner/file", "f\n");
  write_text(root + "/etc/ssl/ca.crt", "rootfs version\n");
  ASSERT_EQ(::chown((host + "/ca.crt").c_str(), 4321, 4321), 0);
  PathLayersPlan plan;
  plan.rootfs = root;
  PathLayerSpec certs{"certs", {}, {{host + "/ca.crt", "etc/ssl/ca.crt"}, {host + "/tree", "srv/data"}}, ""};
  plan.layers.push_back(certs);
  auto planned = plan_path_layers(plan, WalkOptions{}, 1234);
  ASSERT_TRUE(planned.ok()) << planned.error().message;
  ASSERT_EQ(planned->layers.size(), 2u);
  const auto& items = planned->layers[0].items;
  EXPECT_EQ(paths_of(items), (std::vector<std::string>{"etc/", "etc/ssl/", "etc/ssl/ca.crt", "srv/", "srv/data/",
                                                       "srv/data/inner/", "srv/data/inner/file"}));
  EXPECT_EQ(items[2].entry.uid, 0u);
  EXPECT_EQ(items[2].entry.size, 3u);  // the host's, not the rootfs's
  struct stat st {};
  ASSERT_EQ(::stat((root + "/etc/ssl").c_str(), &st), 0);
  EXPECT_EQ(items[1].entry.mtime, st.st_mtim.tv_sec);  // the rootfs's parent
  EXPECT_EQ(items[3].entry.mtime, 1234);               // invented parent, dated `created`
  EXPECT_EQ(items[3].entry.mode, 0755u);
  const auto rest = paths_of(planned->layers[1].items);
  EXPECT_EQ(std::find(rest.begin(), rest.end(), "etc/ssl/ca.crt"), rest.end());
}

TEST(WalkOrder, ComponentsCompareBytewiseDirectoryFirst) {
  EXPECT_TRUE(walk_order_less("a", "a/b"));
  EXPECT_TRUE(walk_order_less("a/b", "a.b"));
  EXPECT_TRUE(walk_order_less("B", "a"));
  EXPECT_FALSE(walk_order_less("a.b", "a/b"));
}

}  // namespace
}  // namespace ocipack
