// Tests for core/layer/tree_diff.cc: the delta between two trees holds exactly the
// added and changed paths (with their parent directories), one whiteout per
// removed path (not per removed descendant), an opaque marker where a
// directory's whole content was replaced, and whiteout + entry where a
// directory became something else; hard-link groups that changed are stored
// whole (a new link to an unchanged file brings its target); the old side
// may be a model of layers, whose same-layer whiteouts were not applied to
// their own entries; cancellation stops the diff.
#include "core/layer/tree_diff.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>

#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

void sh(const std::string& command) { ASSERT_EQ(std::system(command.c_str()), 0) << command; }

// Two trees that share most content; fixed mtimes so only real changes count.
void make_trees(const TempDir& dir) {
  const std::string o = dir / "old", n = dir / "new";
  for (const auto& root : {o, n}) {
    testing::make_dirs(root + "/etc/keep");
    testing::make_dirs(root + "/usr/lib");
    testing::write_text(root + "/etc/unchanged", "same\n");
    testing::write_text(root + "/etc/keep/k", "k\n");
    testing::write_text(root + "/usr/lib/libsame.so", std::string(100000, 'x'));
  }
  testing::write_text(o + "/etc/content", "old content\n");
  testing::write_text(n + "/etc/content", "new content\n");  // same size, other bytes
  testing::write_text(o + "/etc/mode", "m\n");
  testing::write_text(n + "/etc/mode", "m\n");
  ::chmod((n + "/etc/mode").c_str(), 0600);
  testing::write_text(n + "/etc/added", "new file\n");
  testing::make_dirs(n + "/opt/newdir/sub");
  testing::write_text(n + "/opt/newdir/sub/f", "f\n");
  testing::write_text(o + "/etc/removed", "bye\n");
  testing::make_dirs(o + "/var/cache/deep/deeper");
  testing::write_text(o + "/var/cache/deep/deeper/x", "x\n");
  testing::make_dirs(n + "/var");
  testing::make_dirs(o + "/srv/was-dir");
  testing::write_text(o + "/srv/was-dir/inner", "i\n");
  testing::make_dirs(n + "/srv");
  testing::write_text(n + "/srv/was-dir", "now a file\n");
  testing::make_dirs(o + "/data");
  testing::write_text(o + "/data/a", "a\n");
  testing::write_text(o + "/data/b", "b\n");
  testing::make_dirs(n + "/data");
  testing::write_text(n + "/data/c", "c\n");
  sh("find '" + o + "' '" + n + "' -exec touch -h -d @1700000000 {} +");
}

std::vector<std::string> delta_paths(const TempDir& dir, DeltaCounters* counters = nullptr) {
  auto delta = DeltaSource::compute(dir / "old", dir / "new", {});
  EXPECT_TRUE(delta.ok()) << (delta.ok() ? "" : delta.error().message);
  std::vector<std::string> paths;
  if (!delta.ok()) return paths;
  for (;;) {
    auto item = (*delta)->next();
    EXPECT_TRUE(item.ok());
    if (!item.ok() || !item->has_value()) break;
    paths.push_back((*item)->entry.path);
  }
  if (counters) *counters = (*delta)->counters();
  return paths;
}

TEST(TreeDiff, HoldsExactlyTheChanges) {
  TempDir dir;
  make_trees(dir);
  DeltaCounters counters;
  auto paths = delta_paths(dir, &counters);
  const std::vector<std::string> expected = {
      "data/", "data/.wh..wh..opq", "data/c",
      "etc/", "etc/.wh.removed", "etc/added", "etc/content", "etc/mode",
      "opt/", "opt/newdir/", "opt/newdir/sub/", "opt/newdir/sub/f",
      "srv/", "srv/.wh.was-dir", "srv/was-dir",
      "var/", "var/.wh.cache",
  };
  EXPECT_EQ(paths, expected);
  EXPECT_EQ(counters.opaque_dirs, 1u);
  EXPECT_EQ(counters.whiteouts, 3u);  // etc/removed, srv/was-dir (dir→file), var/cache
}

TEST(TreeDiff, IdenticalTreesGiveAnEmptyLayer) {
  TempDir dir;
  for (const auto& root : {dir / "old", dir / "new"}) {
    testing::make_dirs(root + "/a/b");
    testing::write_text(root + "/a/b/f", "same");
  }
  sh("find '" + (dir / "old") + "' '" + (dir / "new") + "' -exec touch -h -d @1700000000 {} +");
  EXPECT_TRUE(delta_paths(dir).empty());
}

TEST(TreeDiff, WhiteoutsAreEmptyRegularFiles) {
  TempDir dir;
  make_trees(dir);
  auto delta = DeltaSource::compute(dir / "old", dir / "new", {});
  ASSERT_TRUE(delta.ok());
  for (;;) {
    auto item = (*delta)->next();
    ASSERT_TRUE(item.ok());
    if (!item->has_value()) break;
    const auto& e = (*item)->entry;
    if (e.path.find("/.wh.") == std::string::npos) continue;
    EXPECT_EQ(e.type, EntryType::regular) << e.path;
    EXPECT_EQ(e.size, 0u) << e.path;
    EXPECT_TRUE((*item)->source_path.empty()) << e.path;
  }
}

TEST(TreeDiff, HardLinksWithinTheDeltaStayLinked) {
  TempDir dir;
  testing::make_dirs(dir / "old");
  testing::make_dirs(dir / "new/x");
  testing::write_text(dir / "new/x/one", "linked");
  ASSERT_EQ(::link((dir / "new/x/one").c_str(), (dir / "new/x/two").c_str()), 0);
  auto delta = DeltaSource::compute(dir / "old", dir / "new", {});
  ASSERT_TRUE(delta.ok());
  std::vector<TarEntry> entries;
  for (;;) {
    auto item = (*delta)->next();
    ASSERT_TRUE(item.ok());
    if (!item->has_value()) break;
    entries.push_back((*item)->entry);
  }
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].type, EntryType::regular);
  EXPECT_EQ(entries[2].type, EntryType::hard_link);
  EXPECT_EQ(entries[2].link_target, "x/one");
}

TEST(TreeDiff, MissingRootIsAnErrorNamingIt) {
  TempDir dir;
  testing::make_dirs(dir / "new");
  auto delta = DeltaSource::compute(dir / "nope", dir / "new", {});
  ASSERT_FALSE(delta.ok());
  EXPECT_NE(delta.error().message.find(dir / "nope"), std::string::npos);
}

std::vector<TarEntry> delta_entries(const Result<std::unique_ptr<DeltaSource>>& delta) {
  std::vector<TarEntry> entries;
  EXPECT_TRUE(delta.ok()) << (delta.ok() ? "" : delta.error().message);
  if (!delta.ok()) return entries;
  for (;;) {
    auto item = (*delta)->next();
    EXPECT_TRUE(item.ok());
    if (!item.ok() || !item->has_value()) break;
    entries.push_back((*item)->entry);
  }
  return entries;
}

TEST(TreeDiff, ANewHardLinkToAnUnchangedFileBringsItsTargetIntoTheLayer) {
  TempDir dir;
  for (const auto& root : {dir / "old", dir / "new"}) {
    testing::make_dirs(root + "/x");
    testing::write_text(root + "/x/one", "linked");
    testing::write_text(root + "/x/other", "untouched");
  }
  ASSERT_EQ(::link((dir / "new/x/one").c_str(), (dir / "new/x/two").c_str()), 0);
  sh("find '" + (dir / "old") + "' '" + (dir / "new") + "' -exec touch -h -d @1700000000 {} +");
  auto entries = delta_entries(DeltaSource::compute(dir / "old", dir / "new", {}));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].path, "x/");
  EXPECT_EQ(entries[1].path, "x/one");  // unchanged itself, but the link must resolve in this layer
  EXPECT_EQ(entries[1].type, EntryType::regular);
  EXPECT_EQ(entries[2].path, "x/two");
  EXPECT_EQ(entries[2].type, EntryType::hard_link);
  EXPECT_EQ(entries[2].link_target, "x/one");
}

TEST(TreeDiff, UnchangedHardLinksStayOutAndASplitGroupIsStoredAgain) {
  TempDir dir;
  for (const auto& root : {dir / "old", dir / "new"}) {
    testing::make_dirs(root + "/a");
    testing::make_dirs(root + "/b");
    testing::write_text(root + "/a/f", "same");
    testing::write_text(root + "/b/f", "pair");
  }
  ASSERT_EQ(::link((dir / "old/a/f").c_str(), (dir / "old/a/g").c_str()), 0);
  ASSERT_EQ(::link((dir / "new/a/f").c_str(), (dir / "new/a/g").c_str()), 0);  // a: same group
  ASSERT_EQ(::link((dir / "old/b/f").c_str(), (dir / "old/b/g").c_str()), 0);
  testing::write_text(dir / "new/b/g", "pair");  // b: same bytes, no longer one inode
  sh("find '" + (dir / "old") + "' '" + (dir / "new") + "' -exec touch -h -d @1700000000 {} +");
  std::vector<std::string> paths;
  for (const auto& e : delta_entries(DeltaSource::compute(dir / "old", dir / "new", {}))) {
    paths.push_back(e.path);
    EXPECT_NE(e.type, EntryType::hard_link) << e.path;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"b/", "b/f", "b/g"}));
}

TEST(TreeDiff, OneFileWithManyHardLinksIsComparedOnce) {
  // Many names of one inode on both sides (and a second, smaller group):
  // the link groups of two files are compared once per (old inode, new
  // inode) pair, not once per name. Per name was quadratic (75 s for 20 000
  // names): it would count k_links + 1 + 3 comparisons here, not 2.
  TempDir dir;
  constexpr int k_links = 2000;
  for (const auto& root : {dir / "old", dir / "new"}) {
    testing::make_dirs(root + "/d");
    testing::write_text(root + "/f", "shared");
    for (int i = 0; i < k_links; ++i)
      ASSERT_EQ(::link((root + "/f").c_str(), (root + "/d/" + std::to_string(i)).c_str()), 0);
    testing::write_text(root + "/g", "other");
    for (const char* name : {"/g1", "/g2"}) ASSERT_EQ(::link((root + "/g").c_str(), (root + name).c_str()), 0);
  }
  testing::write_text(dir / "new/changed", "new");
  sh("find '" + (dir / "old") + "' '" + (dir / "new") + "' -exec touch -h -d @1700000000 {} +");
  auto delta = DeltaSource::compute(dir / "old", dir / "new", {});
  ASSERT_TRUE(delta.ok()) << delta.error().message;
  EXPECT_EQ((*delta)->counters().link_group_comparisons, 2u);
  std::vector<std::string> paths;
  for (const auto& e : delta_entries(delta)) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"changed"}));
}

// A base whose top layer holds `d/x` BEFORE its opaque marker: the model
// keeps d/x, so a new tree equal to the base gives an empty delta.
TEST(TreeDiff, DeltaAgainstLayersHonoursSameLayerOpaqueMarkers) {
  TempDir dir;
  ASSERT_TRUE(testing::write_python_tar(dir / "l1.tar", "d/;d/old=o"));
  ASSERT_TRUE(testing::write_python_tar(dir / "l2.tar", "d/;d/x=new;d/.wh..wh..opq"));
  TreeModel base;
  for (const auto& name : {"l1.tar", "l2.tar"}) {
    UniqueFd fd(::open((dir / name).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(base.apply_layer(fd.get(), name, nullptr).ok());
  }
  testing::make_dirs(dir / "new/d");
  testing::write_text(dir / "new/d/x", "new");
  ::chmod((dir / "new/d").c_str(), 0755);
  ::chmod((dir / "new/d/x").c_str(), 0644);
  sh("find '" + (dir / "new") + "' -exec touch -h -d @1700000000 {} +");
  WalkOptions options;
  options.owner_root = true;
  EXPECT_TRUE(delta_entries(DeltaSource::compute(base, dir / "new", options)).empty());
  // And a changed file is found by content against the model's digest.
  testing::write_text(dir / "new/d/x", "NEW");
  sh("touch -h -d @1700000000 '" + (dir / "new/d/x") + "'");
  auto entries = delta_entries(DeltaSource::compute(base, dir / "new", options));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].path, "d/x");
}

TEST(TreeDiff, CancelStopsTheDiff) {
  TempDir dir;
  make_trees(dir);
  std::atomic<bool> cancel{true};
  auto delta = DeltaSource::compute(dir / "old", dir / "new", {}, &cancel);
  ASSERT_FALSE(delta.ok());
  EXPECT_EQ(delta.error().message, "interrupted");
  EXPECT_EQ(delta.error().kind, ErrorKind::interrupted);
}


TEST(TreeDiff, MoreDirectoriesThanDescriptorsAreFine) {
  // The delta holds every new entry until the chunker reads it: it must not
  // hold a directory descriptor per directory (the walk's), or a tree with
  // more directories than RLIMIT_NOFILE fails with EMFILE.
  TempDir dir;
  testing::make_dirs(dir / "old");
  constexpr int k_dirs = 600;
  for (int i = 0; i < k_dirs; ++i) {
    testing::make_dirs(dir / ("new/d" + std::to_string(i)));
    testing::write_text(dir / ("new/d" + std::to_string(i) + "/f"), std::to_string(i));
  }
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto delta = DeltaSource::compute(dir / "old", dir / "new", {});
  int files = 0;
  std::string failure;
  if (!delta.ok()) failure = delta.error().message;
  for (; delta.ok();) {
    auto item = (*delta)->next();
    if (!item.ok()) failure = item.error().message;
    if (!item.ok() || !item->has_value()) break;
    if ((*item)->entry.type != EntryType::regular) continue;
    auto data = open_item_data(**item);  // readable by path once the walk has moved on
    if (!data.ok()) failure = data.error().message;
    if (!data.ok()) break;
    ++files;
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(failure, "");
  EXPECT_EQ(files, k_dirs);
}

// The diff reports the walks ("hashing" the old tree, "walking" the new one)
// and the comparison, whose total is the new tree's entries.
TEST(TreeDiff, ReportsItsPhases) {
  TempDir dir;
  make_trees(dir);
  std::vector<PhaseStatus> seen;
  auto delta = DeltaSource::compute(dir / "old", dir / "new", {}, nullptr,
                                    [&](const PhaseStatus& status) { seen.push_back(status); });
  ASSERT_TRUE(delta.ok()) << delta.error().message;
  std::vector<std::string> phases;
  for (const auto& status : seen)
    if (phases.empty() || phases.back() != status.phase) phases.push_back(status.phase);
  EXPECT_EQ(phases, (std::vector<std::string>{"hashing", "walking", "comparing"}));
  EXPECT_EQ(seen.front().subject, dir / "old");
  EXPECT_EQ(seen.back().subject, dir / "new");
  EXPECT_EQ(seen.back().unit, PhaseUnit::entries);
  EXPECT_GT(seen.back().total, 0u);
  EXPECT_LE(seen.back().done, seen.back().total);
}

}  // namespace
}  // namespace ocipack
