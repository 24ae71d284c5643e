// Tests for core/tar/hard_links.cc, the one hard-link rule: in emission
// order the first name of a file keeps its data, xattrs and device numbers;
// every later name becomes a link entry to that first name with the file's
// mode, ids and mtime and nothing to read; names of other files are left
// alone; another_name_of gives a link the identity of the file it names.
#include "core/tar/hard_links.h"

#include <gtest/gtest.h>

namespace ocipack {
namespace {

WalkItem file_item(const std::string& path) {
  WalkItem item;
  item.entry.path = path;
  item.entry.type = EntryType::regular;
  item.entry.mode = 04755;
  item.entry.uid = 1000;
  item.entry.gid = 100;
  item.entry.mtime = 1700000000;
  item.entry.size = 42;
  item.entry.xattrs = {{"user.a", "1"}};
  item.source_path = "/host/" + path;
  item.st_size = 42;
  item.spool_fd = 7;
  item.spool_offset = 512;
  return item;
}

TEST(HardLinks, FirstNameKeepsTheFileLaterNamesLinkToIt) {
  HardLinkGroups groups;
  WalkItem first = file_item("a");
  WalkItem second = file_item("b/c");
  WalkItem third = file_item("d");
  EXPECT_FALSE(groups.add(FileId{1, 10}, first));
  EXPECT_TRUE(groups.add(FileId{1, 10}, second));
  EXPECT_TRUE(groups.add(FileId{1, 10}, third));

  EXPECT_EQ(first.entry.type, EntryType::regular);
  EXPECT_EQ(first.entry.size, 42u);
  EXPECT_EQ(first.spool_fd, 7);
  EXPECT_EQ(first.entry.xattrs.size(), 1u);
  for (const WalkItem* link : {&second, &third}) {
    const TarEntry& e = link->entry;
    EXPECT_EQ(e.type, EntryType::hard_link);
    EXPECT_EQ(e.link_target, "a");  // the first name, also for the third
    EXPECT_EQ(e.size, 0u);
    EXPECT_TRUE(e.xattrs.empty());
    EXPECT_EQ(e.dev_major, 0u);
    EXPECT_EQ(link->st_size, 0u);
    EXPECT_EQ(link->spool_fd, -1);  // nothing to read
    EXPECT_EQ(e.mode, 04755u);
    EXPECT_EQ(e.uid, 1000u);
    EXPECT_EQ(e.gid, 100u);
    EXPECT_EQ(e.mtime, 1700000000);
  }
  EXPECT_EQ(second.entry.path, "b/c");
}

TEST(HardLinks, OtherFilesAreOtherGroups) {
  HardLinkGroups groups;
  WalkItem a = file_item("a"), b = file_item("b"), c = file_item("c"), d = file_item("d");
  EXPECT_FALSE(groups.add(FileId{1, 10}, a));
  EXPECT_FALSE(groups.add(FileId{2, 10}, b));  // same inode number, other device
  EXPECT_FALSE(groups.add(FileId{1, 11}, c));
  EXPECT_TRUE(groups.add(FileId{2, 10}, d));
  EXPECT_EQ(d.entry.link_target, "b");
}

TEST(HardLinks, DeviceNumbersStayWithTheFirstName) {
  HardLinkGroups groups;
  WalkItem first = file_item("dev/a"), second = file_item("dev/b");
  for (WalkItem* item : {&first, &second}) {
    item->entry.type = EntryType::char_device;
    item->entry.size = 0;
    item->entry.dev_major = 4;
    item->entry.dev_minor = 64;
  }
  groups.add(FileId{0, 3}, first);
  groups.add(FileId{0, 3}, second);
  EXPECT_EQ(first.entry.dev_major, 4u);
  EXPECT_EQ(second.entry.type, EntryType::hard_link);
  EXPECT_EQ(second.entry.dev_major, 0u);
  EXPECT_EQ(second.entry.dev_minor, 0u);
}

TEST(HardLinks, AnotherNameOfAFileHasItsIdentityAtItsOwnPath) {
  const WalkItem file = file_item("a");
  const WalkItem name = another_name_of(file, "z/other");
  EXPECT_EQ(name.entry.path, "z/other");
  EXPECT_EQ(name.entry.type, EntryType::regular);
  EXPECT_EQ(name.entry.size, 42u);
  EXPECT_EQ(name.entry.xattrs, file.entry.xattrs);
  EXPECT_EQ(name.spool_fd, 7);
  EXPECT_EQ(name.spool_offset, 512u);
  EXPECT_EQ(name.source_path, file.source_path);  // data is read from the file
}

}  // namespace
}  // namespace ocipack
