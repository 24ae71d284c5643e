// Tests for core/tar_input.cc: a foreign tar is re-ordered into the directory
// walk's order, hard links are regrouped so the first name in that order
// holds the data, data comes back from the spool byte for byte (sparse holes
// included), and hostile entries are refused with errors naming them.
#include "core/tar_input.h"

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

std::string make_tar(const TempDir& dir, const std::string& specs) {
  const std::string tar = dir / "in.tar";
  EXPECT_TRUE(testing::write_python_tar(tar, specs));
  return tar;
}

// Reads every item; `keep` receives the source, which owns the spool file the
// items' data lives in.
Result<std::vector<WalkItem>> read_all(const std::string& tar, const std::string& spool_dir,
                                       std::unique_ptr<TarInputSource>* keep = nullptr) {
  auto source = TarInputSource::open(tar, {}, spool_dir);
  if (!source) return source.error();
  std::vector<WalkItem> items;
  for (;;) {
    auto item = (*source)->next();
    if (!item) return item.error();
    if (!item->has_value()) break;
    items.push_back(std::move(**item));
  }
  if (keep) *keep = std::move(*source);
  return items;
}

TEST(TarInput, ReordersLikeTheDirectoryWalk) {
  TempDir dir;
  auto items = read_all(make_tar(dir, "./z/;./z/b=2;./a.b=3;./a/;./a/x=1;./B=0"), dir.path());
  ASSERT_TRUE(items.ok()) << items.error().message;
  std::vector<std::string> paths;
  for (const auto& i : *items) paths.push_back(i.entry.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"B", "a/", "a/x", "a.b", "z/", "z/b"}));
}

TEST(TarInput, FirstNameInWalkOrderHoldsTheData) {
  TempDir dir;
  // The archive stores the data under z/file; a/link sorts first.
  std::unique_ptr<TarInputSource> source;
  auto items = read_all(make_tar(dir, "z/;z/file=payload;a/;a/link>z/file"), dir.path(), &source);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items->size(), 4u);
  const WalkItem& a_link = (*items)[1];
  const WalkItem& z_file = (*items)[3];
  EXPECT_EQ(a_link.entry.path, "a/link");
  EXPECT_EQ(a_link.entry.type, EntryType::regular);
  EXPECT_EQ(a_link.entry.size, 7u);
  ASSERT_GE(a_link.spool_fd, 0);
  std::string data(7, '\0');
  ASSERT_EQ(::pread(a_link.spool_fd, data.data(), 7, static_cast<off_t>(a_link.spool_offset)), 7);
  EXPECT_EQ(data, "payload");
  EXPECT_EQ(z_file.entry.path, "z/file");
  EXPECT_EQ(z_file.entry.type, EntryType::hard_link);
  EXPECT_EQ(z_file.entry.link_target, "a/link");
}

struct Hostile {
  std::string specs;
  std::string culprit;
};

TEST(TarInput, RefusesHostileEntriesNamingThem) {
  for (const auto& c : std::vector<Hostile>{{"ok=1;/abs=2", "/abs"},
                                            {"a/;a/../../up=1", "a/../../up"},
                                            {"d=1;d=2", "duplicate entry 'd'"},
                                            {"l>missing", "missing"},
                                            {"early>late;late=1", "later entry 'late'"},
                                            {"etc/;etc/.wh.x=", ".wh."}}) {
    TempDir dir;
    auto items = read_all(make_tar(dir, c.specs), dir.path());
    ASSERT_FALSE(items.ok()) << c.specs;
    EXPECT_NE(items.error().message.find(c.culprit), std::string::npos) << items.error().message;
  }
}

TEST(TarInput, NotATarIsAnErrorNamingTheFile) {
  TempDir dir;
  testing::write_text(dir / "junk.tar", std::string(3000, 'j'));
  auto items = read_all(dir / "junk.tar", dir.path());
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("junk.tar"), std::string::npos) << items.error().message;
}

}  // namespace
}  // namespace ocipack
