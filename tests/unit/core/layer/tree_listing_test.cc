// Tests for core/layer/tree_listing.cc (what `ocipack ls` and `diff` show):
// listings are sorted by full path ("a.b" before "a/b") with implied
// directories; --largest orders by size then path; compare_trees reports
// added, removed and changed paths (and which fields changed) sorted by
// path, whole subtrees for a directory on one side only, nothing for a
// change of mtime alone; the base model keeps the last layer's whiteouts.
#include "core/layer/tree_listing.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace ocipack {
namespace {

// One tar member: name, type flag, data or link target, mode, mtime.
struct Member {
  std::string name;
  char type = '0';
  std::string data_or_link = {};
  unsigned mode = 0644;
  unsigned mtime = 1700000000;
};

std::string tar_of(const std::vector<Member>& members) {
  std::string tar;
  for (const auto& m : members) {
    const bool is_link = m.type == '1' || m.type == '2';
    const std::string data = is_link || m.type == '5' ? "" : m.data_or_link;
    tar += testing::raw_tar_header(m.name, m.type, data.size(), is_link ? m.data_or_link : "", [&](std::string& h) {
      std::snprintf(&h[100], 8, "%07o", m.mode);
      std::snprintf(&h[136], 12, "%011o", m.mtime);
    });
    tar += testing::raw_tar_data(data);
  }
  return tar + testing::raw_tar_end();
}

// The model of `layers` (tar bytes, bottom to top), applied through a memfd.
TreeModel model_of(const std::vector<std::vector<Member>>& layers) {
  TreeModel model;
  for (const auto& members : layers) {
    const std::string tar = tar_of(members);
    UniqueFd fd(::memfd_create("layer", MFD_CLOEXEC));
    EXPECT_EQ(::write(fd.get(), tar.data(), tar.size()), static_cast<ssize_t>(tar.size()));
    ::lseek(fd.get(), 0, SEEK_SET);
    auto status = model.apply_layer(fd.get(), "layer", nullptr);
    EXPECT_TRUE(status.ok()) << status.error().message;
  }
  return model;
}

std::vector<std::string> paths(const std::vector<ListedPath>& listed) {
  std::vector<std::string> out;
  for (const auto& entry : listed) out.push_back(entry.path);
  return out;
}

std::vector<std::string> lines(const std::vector<TreeChange>& changes) {
  std::vector<std::string> out;
  for (const auto& change : changes) {
    std::string line = change.kind == ChangeKind::added ? "+ " : change.kind == ChangeKind::removed ? "- " : "M ";
    line += change.path;
    for (const auto& what : change.what) line += " " + what;
    out.push_back(line);
  }
  return out;
}

TEST(TreeListing, ListsEveryPathSortedByFullPathWithImpliedDirectories) {
  const TreeModel model = model_of({{{"a/b", '0', "x"}, {"a.b", '0', "y"}, {"c/d/e", '0', ""}}});
  EXPECT_EQ(paths(list_tree(model)), (std::vector<std::string>{"a", "a.b", "a/b", "c", "c/d", "c/d/e"}));
  EXPECT_TRUE(list_tree(model)[0].node->implied);
  EXPECT_TRUE(list_tree(TreeModel()).empty());
}

TEST(TreeListing, LargestFilesBySizeThenPathOnlyRegularFiles) {
  const TreeModel model = model_of({{{"d/", '5'},
                                     {"small", '0', "1"},
                                     {"big-b", '0', "12345"},
                                     {"big-a", '0', "12345"},
                                     {"mid", '0', "123"},
                                     {"link", '2', "big-a"}}});
  const auto listed = list_tree(model);
  EXPECT_EQ(paths(largest_files(listed, 3)), (std::vector<std::string>{"big-a", "big-b", "mid"}));
  EXPECT_EQ(paths(largest_files(listed, 10)), (std::vector<std::string>{"big-a", "big-b", "mid", "small"}));
}

TEST(TreeListing, ComparesAddedRemovedAndChangedPathsSortedWithWhatChanged) {
  const TreeModel before = model_of({{{"gone/", '5'},
                                      {"gone/x", '0', "x"},
                                      {"same", '0', "s"},
                                      {"content", '0', "aaa"},
                                      {"mode", '0', "m", 0644},
                                      {"link", '2', "a"},
                                      {"became-dir", '0', "f"}}});
  const TreeModel after = model_of({{{"same", '0', "s"},
                                     {"content", '0', "bbb"},
                                     {"mode", '0', "m", 0755},
                                     {"link", '2', "b"},
                                     {"became-dir/", '5', "", 0755},
                                     {"became-dir/new", '0', "n"},
                                     {"new.txt", '0', "longer"}}});
  EXPECT_EQ(lines(compare_trees(before, after)),
            (std::vector<std::string>{"M became-dir type mode size", "+ became-dir/new", "M content content",
                                      "- gone", "- gone/x", "M link target", "M mode mode", "+ new.txt"}));
  EXPECT_EQ(lines(compare_trees(after, before)).front(), "M became-dir type mode size");
  EXPECT_TRUE(compare_trees(before, before).empty());
}

TEST(TreeListing, MtimeAloneIsNoDifference) {
  const TreeModel before = model_of({{{"d/", '5', "", 0755, 100}, {"d/f", '0', "x", 0644, 100}}});
  const TreeModel after = model_of({{{"d/", '5', "", 0755, 200}, {"d/f", '0', "x", 0644, 200}}});
  EXPECT_TRUE(compare_trees(before, after).empty());
}

TEST(TreeListing, TheModelKeepsTheLastLayersWhiteouts) {
  const TreeModel model = model_of({{{"d/", '5'}, {"d/a", '0', "a"}, {"e/", '5'}, {"e/b", '0', "b"}},
                                    {{"d/.wh.a", '0'}, {"e/.wh..wh..opq", '0'}, {"e/c", '0', "c"}}});
  EXPECT_EQ(model.last_layer_whiteouts(), (std::vector<std::string>{"d/.wh.a", "e/.wh..wh..opq"}));
  EXPECT_EQ(paths(list_tree(model)), (std::vector<std::string>{"d", "e", "e/c"}));
}

}  // namespace
}  // namespace ocipack
