// Tests for core/rootfs_walk.cc on real temporary trees. The walk order is
// part of the layer's bytes, so it is pinned: names sorted bytewise within
// each directory ("B" < "a" < "a.b" < "é"), a directory immediately followed
// by its own children (so "a/x" comes before "a.b"), the root itself never
// emitted. Each entry's metadata is checked against what was set up (mode
// incl. special bits, ids, mtime and its SOURCE_DATE_EPOCH clamp, symlink
// target, device numbers); hard links are checked to carry the data on the
// first name in walk order only; sockets and excluded inodes (the build's own
// output) are skipped with a warning; xattrs come sorted. The tests run as root in CI; device nodes and user xattrs are
// skipped (with the reason) where the file system refuses them.
// Directories are opened first (getdents' type), never anything else: an
// entry that changed kind after the listing (a FIFO with a waiting writer, a
// symlink out of the tree) is described by lstat, never opened or followed.
#include "core/tar/rootfs_walk.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_helpers.h"
#include "core/util/file_io.h"

namespace ocipack {
namespace {

using ocipack::testing::make_dirs;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

std::vector<WalkItem> walk_all(const std::string& root, const WalkOptions& options = {},
                               std::vector<std::string>* warnings = nullptr) {
  std::vector<WalkItem> items;
  auto walker = RootfsWalker::open(root, options);
  EXPECT_TRUE(walker.ok()) << walker.error().message;
  if (!walker.ok()) return items;
  for (;;) {
    auto item = walker->next();
    EXPECT_TRUE(item.ok()) << item.error().message;
    if (!item.ok() || !item->has_value()) break;
    items.push_back(std::move(**item));
  }
  if (warnings) *warnings = walker->warnings();
  return items;
}

std::vector<std::string> paths_of(const std::vector<WalkItem>& items) {
  std::vector<std::string> paths;
  for (const auto& item : items) paths.push_back(item.entry.path);
  return paths;
}

void set_mtime(const std::string& path, int64_t seconds) {
  timespec times[2];
  times[0].tv_sec = static_cast<time_t>(seconds);
  times[0].tv_nsec = 0;
  times[1].tv_sec = static_cast<time_t>(seconds);
  times[1].tv_nsec = 123456789;  // sub-second part must be dropped
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
      << path << ": " << std::strerror(errno);
}

// Only user.* names: the file system may add security.* attributes of its own.
std::vector<std::pair<std::string, std::string>> user_xattrs(
    const std::vector<std::pair<std::string, std::string>>& all) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : all)
    if (kv.first.rfind("user.", 0) == 0) out.push_back(kv);
  return out;
}

TEST(RootfsWalk, OrderIsBytewisePerDirectoryAndPreOrder) {
  TempDir tmp;
  make_dirs(tmp / "a");
  write_text(tmp / "a/x", "x");
  write_text(tmp / "a.b", "ab");
  write_text(tmp / "B", "B");
  write_text(tmp / "\xc3\xa9", "e-acute");  // "é" in UTF-8: bytes above ASCII sort last
  make_dirs(tmp / "a/d1/d2");
  write_text(tmp / "a/d1/d2/f", "");
  write_text(tmp / "a/d1/z", "");
  write_text(tmp / "a/Y", "");
  auto items = walk_all(tmp.path());
  EXPECT_EQ(paths_of(items),
            (std::vector<std::string>{"B", "a/", "a/Y", "a/d1/", "a/d1/d2/", "a/d1/d2/f", "a/d1/z",
                                      "a/x", "a.b", "\xc3\xa9"}));
}

TEST(RootfsWalk, RootIsNotEmittedAndEmptyRootGivesNothing) {
  TempDir tmp;
  auto walker = RootfsWalker::open(tmp.path(), {});
  ASSERT_TRUE(walker.ok()) << walker.error().message;
  auto item = walker->next();
  ASSERT_TRUE(item.ok());
  EXPECT_FALSE(item->has_value());
  auto again = walker->next();  // stays at the end
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST(RootfsWalk, RegularFileAndDirectoryMetadata) {
  TempDir tmp;
  make_dirs(tmp / "srv");
  write_text(tmp / "srv/data", "0123456789");
  // chown first: it clears setuid/setgid bits set before it.
  ASSERT_EQ(::lchown((tmp / "srv").c_str(), 1234, 5678), 0);
  ASSERT_EQ(::lchown((tmp / "srv/data").c_str(), 3000000, 42), 0);
  ASSERT_EQ(::chmod((tmp / "srv").c_str(), 02750), 0);
  ASSERT_EQ(::chmod((tmp / "srv/data").c_str(), 04711), 0);
  set_mtime(tmp / "srv/data", 1600000000);
  set_mtime(tmp / "srv", 1500000000);
  auto items = walk_all(tmp.path());
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"srv/", "srv/data"}));

  const TarEntry& dir = items[0].entry;
  EXPECT_EQ(dir.type, EntryType::directory);
  EXPECT_EQ(dir.mode, 02750u);
  EXPECT_EQ(dir.uid, 1234u);
  EXPECT_EQ(dir.gid, 5678u);
  EXPECT_EQ(dir.mtime, 1500000000);
  EXPECT_EQ(dir.size, 0u);
  EXPECT_EQ(items[0].source_path, tmp / "srv");

  const TarEntry& file = items[1].entry;
  EXPECT_EQ(file.type, EntryType::regular);
  EXPECT_EQ(file.mode, 04711u);
  EXPECT_EQ(file.uid, 3000000u);
  EXPECT_EQ(file.gid, 42u);
  EXPECT_EQ(file.mtime, 1600000000);
  EXPECT_EQ(file.size, 10u);
  EXPECT_EQ(items[1].st_size, 10u);
  EXPECT_TRUE(file.link_target.empty());
  EXPECT_EQ(items[1].source_path, tmp / "srv/data");
}

TEST(RootfsWalk, TrailingSlashOnRootChangesNothing) {
  TempDir tmp;
  make_dirs(tmp / "d");
  write_text(tmp / "d/f", "f");
  auto items = walk_all(tmp.path() + "//");
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"d/", "d/f"}));
  EXPECT_EQ(items[1].source_path, tmp / "d/f");
}

TEST(RootfsWalk, SymlinkTarget) {
  TempDir tmp;
  const std::string long_target = std::string(300, 't');  // dangling, longer than any first guess
  ASSERT_EQ(::symlink("usr/bin", (tmp / "bin").c_str()), 0);
  ASSERT_EQ(::symlink(long_target.c_str(), (tmp / "long").c_str()), 0);
  ASSERT_EQ(::symlink("/abs/path", (tmp / "abs").c_str()), 0);
  auto items = walk_all(tmp.path());
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"abs", "bin", "long"}));
  for (const auto& item : items) {
    EXPECT_EQ(item.entry.type, EntryType::symlink);
    EXPECT_EQ(item.entry.size, 0u);
    EXPECT_EQ(item.entry.mode, 0777u);
  }
  EXPECT_EQ(items[0].entry.link_target, "/abs/path");
  EXPECT_EQ(items[1].entry.link_target, "usr/bin");
  EXPECT_EQ(items[2].entry.link_target, long_target);
}

TEST(RootfsWalk, SymlinkToDirectoryIsNotFollowed) {
  TempDir tmp;
  make_dirs(tmp / "real");
  write_text(tmp / "real/f", "f");
  ASSERT_EQ(::symlink("real", (tmp / "alias").c_str()), 0);
  auto items = walk_all(tmp.path());
  EXPECT_EQ(paths_of(items), (std::vector<std::string>{"alias", "real/", "real/f"}));
}

TEST(RootfsWalk, HardLinksCarryDataOnTheFirstNameInWalkOrder) {
  TempDir tmp;
  make_dirs(tmp / "dir");
  write_text(tmp / "h1", "hard data");
  ASSERT_EQ(::link((tmp / "h1").c_str(), (tmp / "dir/h2").c_str()), 0);
  ASSERT_EQ(::link((tmp / "h1").c_str(), (tmp / "z3").c_str()), 0);
  auto items = walk_all(tmp.path());
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"dir/", "dir/h2", "h1", "z3"}));

  // "dir/h2" is walked first, so it is the one that carries the data.
  const TarEntry& first = items[1].entry;
  EXPECT_EQ(first.type, EntryType::regular);
  EXPECT_EQ(first.size, 9u);
  EXPECT_EQ(items[1].st_size, 9u);
  EXPECT_TRUE(first.link_target.empty());

  for (size_t i : {size_t{2}, size_t{3}}) {
    const TarEntry& later = items[i].entry;
    EXPECT_EQ(later.type, EntryType::hard_link) << later.path;
    EXPECT_EQ(later.link_target, "dir/h2") << later.path;
    EXPECT_EQ(later.size, 0u) << later.path;
    EXPECT_EQ(items[i].st_size, 0u) << later.path;
  }
}

TEST(RootfsWalk, HardLinkedSymlink) {
  TempDir tmp;
  ASSERT_EQ(::symlink("target", (tmp / "s1").c_str()), 0);
  ASSERT_EQ(::link((tmp / "s1").c_str(), (tmp / "s2").c_str()), 0);  // links the symlink itself
  auto items = walk_all(tmp.path());
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].entry.type, EntryType::symlink);
  EXPECT_EQ(items[0].entry.link_target, "target");
  EXPECT_EQ(items[1].entry.type, EntryType::hard_link);
  EXPECT_EQ(items[1].entry.link_target, "s1");
}

TEST(RootfsWalk, Fifo) {
  TempDir tmp;
  ASSERT_EQ(::mkfifo((tmp / "fifo").c_str(), 0620), 0);
  ASSERT_EQ(::chmod((tmp / "fifo").c_str(), 0620), 0);  // umask-independent
  auto items = walk_all(tmp.path());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].entry.path, "fifo");
  EXPECT_EQ(items[0].entry.type, EntryType::fifo);
  EXPECT_EQ(items[0].entry.mode, 0620u);
  EXPECT_EQ(items[0].entry.size, 0u);
}

TEST(RootfsWalk, CharacterAndBlockDevices) {
  TempDir tmp;
  if (::mknod((tmp / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod of a character device failed (" << std::strerror(errno)
                 << "): tests need root without a device-node restriction";
  if (::mknod((tmp / "loop").c_str(), S_IFBLK | 0660, makedev(7, 300)) != 0)
    GTEST_SKIP() << "mknod of a block device failed (" << std::strerror(errno) << ")";
  ASSERT_EQ(::chmod((tmp / "null").c_str(), 0666), 0);
  auto items = walk_all(tmp.path());
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"loop", "null"}));
  EXPECT_EQ(items[0].entry.type, EntryType::block_device);
  EXPECT_EQ(items[0].entry.dev_major, 7u);
  EXPECT_EQ(items[0].entry.dev_minor, 300u);
  EXPECT_EQ(items[1].entry.type, EntryType::char_device);
  EXPECT_EQ(items[1].entry.dev_major, 1u);
  EXPECT_EQ(items[1].entry.dev_minor, 3u);
  EXPECT_EQ(items[1].entry.mode, 0666u);
  EXPECT_EQ(items[1].entry.size, 0u);
}

TEST(RootfsWalk, SocketIsSkippedWithAWarning) {
  TempDir tmp;
  write_text(tmp / "a", "a");
  write_text(tmp / "z", "z");
  const std::string socket_path = tmp / "sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::close(fd);
  ASSERT_EQ(rc, 0) << std::strerror(errno);

  std::vector<std::string> warnings;
  auto items = walk_all(tmp.path(), {}, &warnings);
  EXPECT_EQ(paths_of(items), (std::vector<std::string>{"a", "z"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(socket_path), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("socket"), std::string::npos) << warnings[0];
}

TEST(RootfsWalk, XattrsAreReadSorted) {
  TempDir tmp;
  write_text(tmp / "f", "f");
  const std::string binary("a\0b\nc", 5);
  if (::setxattr((tmp / "f").c_str(), "user.zeta", "z", 1, 0) != 0)
    GTEST_SKIP() << "user xattrs unsupported here (" << std::strerror(errno) << ")";
  ASSERT_EQ(::setxattr((tmp / "f").c_str(), "user.alpha", binary.data(), binary.size(), 0), 0);
  ASSERT_EQ(::setxattr((tmp / "f").c_str(), "user.empty", "", 0, 0), 0);
  ASSERT_EQ(::setxattr((tmp / "f").c_str(), "user.Mid", "m", 1, 0), 0);

  const std::vector<std::pair<std::string, std::string>> expected = {
      {"user.Mid", "m"}, {"user.alpha", binary}, {"user.empty", ""}, {"user.zeta", "z"}};
  auto direct = read_xattrs(tmp / "f");
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  EXPECT_TRUE(std::is_sorted(direct->begin(), direct->end()));
  EXPECT_EQ(user_xattrs(*direct), expected);

  auto items = walk_all(tmp.path());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(std::is_sorted(items[0].entry.xattrs.begin(), items[0].entry.xattrs.end()));
  EXPECT_EQ(user_xattrs(items[0].entry.xattrs), expected);
}

// The chunker's walk (open_data_while_walking): a non-empty regular file
// comes with its descriptor, checked to be the inode lstat saw, and its
// xattrs read from it are the ones a path lookup gives; empty files, FIFOs
// and symlinks are never opened.
TEST(RootfsWalk, OpeningWalkHandsOverTheDescriptorAndTheSameXattrs) {
  TempDir tmp;
  write_text(tmp / "f", "data");
  write_text(tmp / "empty", "");
  ASSERT_EQ(::mkfifo((tmp / "fifo").c_str(), 0644), 0);
  ASSERT_EQ(::symlink("f", (tmp / "link").c_str()), 0);
  const bool have_xattrs = ::setxattr((tmp / "f").c_str(), "user.k", "v", 1, 0) == 0;
  auto walker = RootfsWalker::open(tmp.path(), {});
  ASSERT_TRUE(walker.ok());
  walker->open_data_while_walking();
  std::vector<WalkItem> items;
  for (;;) {
    auto item = walker->next();
    ASSERT_TRUE(item.ok()) << item.error().message;
    if (!item->has_value()) break;
    items.push_back(std::move(**item));
  }
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"empty", "f", "fifo", "link"}));
  EXPECT_FALSE(items[0].opened);
  ASSERT_TRUE(items[1].opened);
  struct stat lst {};
  ASSERT_EQ(::lstat((tmp / "f").c_str(), &lst), 0);
  EXPECT_EQ(items[1].opened->st.st_ino, lst.st_ino);
  char buf[8] = {};
  EXPECT_EQ(::pread(items[1].opened->fd.get(), buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf), "data");
  EXPECT_FALSE(items[2].opened);
  EXPECT_FALSE(items[3].opened);
  if (have_xattrs) {
    auto by_path = read_xattrs(tmp / "f");
    ASSERT_TRUE(by_path.ok());
    EXPECT_EQ(items[1].entry.xattrs, *by_path);
    EXPECT_EQ(user_xattrs(items[1].entry.xattrs), (std::vector<std::pair<std::string, std::string>>{{"user.k", "v"}}));
  }
  // The default walk opens nothing.
  for (const WalkItem& item : walk_all(tmp.path())) EXPECT_FALSE(item.opened) << item.entry.path;
}

// Walks `root` opening while it walks, keeping every item.
std::vector<WalkItem> walk_opening(const std::string& root) {
  std::vector<WalkItem> items;
  auto walker = RootfsWalker::open(root, {});
  EXPECT_TRUE(walker.ok());
  if (!walker.ok()) return items;
  walker->open_data_while_walking();
  for (;;) {
    auto item = walker->next();
    EXPECT_TRUE(item.ok()) << item.error().message;
    if (!item.ok() || !item->has_value()) break;
    items.push_back(std::move(**item));
  }
  return items;
}

// A hard-linked file is opened once, for its first name; the later names
// are link entries and hold no descriptor (a tree of many links must not
// hold one open per name).
TEST(RootfsWalk, OpeningWalkOpensAHardLinkedFileForItsFirstNameOnly) {
  TempDir tmp;
  write_text(tmp / "a", "data");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(::link((tmp / "a").c_str(), (tmp / ("b" + std::to_string(i))).c_str()), 0);
  auto items = walk_opening(tmp.path());
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"a", "b0", "b1", "b2"}));
  EXPECT_TRUE(items[0].opened);
  for (size_t i = 1; i < items.size(); ++i) {
    EXPECT_EQ(items[i].entry.type, EntryType::hard_link);
    EXPECT_FALSE(items[i].opened) << items[i].entry.path;
  }
}

// Once the walk has described and opened a file, what is at its path
// afterwards does not matter: the descriptor reads the inode lstat saw. A
// symlink to a secret swapped in is neither followed nor read.
TEST(RootfsWalk, OpeningWalkReadsTheInodeItDescribedWhateverIsSwappedInAfter) {
  TempDir tmp;
  TempDir outside;
  write_text(outside / "secret", "SECRET");
  write_text(tmp / "f", "mine");
  auto items = walk_opening(tmp.path());
  ASSERT_EQ(paths_of(items), (std::vector<std::string>{"f"}));
  ASSERT_TRUE(items[0].opened);
  ASSERT_EQ(::rename((tmp / "f").c_str(), (outside / "moved").c_str()), 0);
  ASSERT_EQ(::symlink((outside / "secret").c_str(), (tmp / "f").c_str()), 0);
  char buf[16] = {};
  EXPECT_EQ(::pread(items[0].opened->fd.get(), buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf), "mine");
  EXPECT_EQ(items[0].opened->st.st_size, 4);
  // The reader's own open, which a walk that does not open leaves to it,
  // refuses the symlink now at the path.
  items[0].opened.reset();
  auto reopened = open_item_data(items[0]);
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.error().message.find("is now a symbolic link"), std::string::npos) << reopened.error().message;
}

TEST(RootfsWalk, XattrsOfAHardLinkTravelWithTheFirstNameOnly) {
  TempDir tmp;
  write_text(tmp / "a", "data");
  if (::setxattr((tmp / "a").c_str(), "user.k", "v", 1, 0) != 0)
    GTEST_SKIP() << "user xattrs unsupported here (" << std::strerror(errno) << ")";
  ASSERT_EQ(::link((tmp / "a").c_str(), (tmp / "b").c_str()), 0);
  auto items = walk_all(tmp.path());
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(user_xattrs(items[0].entry.xattrs),
            (std::vector<std::pair<std::string, std::string>>{{"user.k", "v"}}));
  EXPECT_EQ(items[1].entry.type, EntryType::hard_link);
  EXPECT_TRUE(items[1].entry.xattrs.empty());
}

TEST(RootfsWalk, FileWithoutXattrsHasNone) {
  TempDir tmp;
  write_text(tmp / "f", "f");
  auto xattrs = read_xattrs(tmp / "f");
  ASSERT_TRUE(xattrs.ok()) << xattrs.error().message;
  EXPECT_TRUE(user_xattrs(*xattrs).empty());
}

TEST(RootfsWalk, ReadXattrsOfMissingPathFailsNamingIt) {
  TempDir tmp;
  auto xattrs = read_xattrs(tmp / "missing");
  ASSERT_FALSE(xattrs.ok());
  EXPECT_NE(xattrs.error().message.find(tmp / "missing"), std::string::npos)
      << xattrs.error().message;
}

TEST(RootfsWalk, MtimeIsWholeSecondsAndClampedToSourceDateEpoch) {
  TempDir tmp;
  write_text(tmp / "new", "n");
  write_text(tmp / "old", "o");
  write_text(tmp / "same", "s");
  make_dirs(tmp / "newdir");
  set_mtime(tmp / "new", 2000000000);
  set_mtime(tmp / "old", 1000);
  set_mtime(tmp / "same", 1700000000);
  set_mtime(tmp / "newdir", 2000000001);
  ASSERT_EQ(::symlink("x", (tmp / "newlink").c_str()), 0);
  set_mtime(tmp / "newlink", 2100000000);

  auto unclamped = walk_all(tmp.path());
  ASSERT_EQ(paths_of(unclamped),
            (std::vector<std::string>{"new", "newdir/", "newlink", "old", "same"}));
  EXPECT_EQ(unclamped[0].entry.mtime, 2000000000);
  EXPECT_EQ(unclamped[1].entry.mtime, 2000000001);
  EXPECT_EQ(unclamped[2].entry.mtime, 2100000000);

  WalkOptions options;
  options.clamp_mtime = 1700000000;
  auto clamped = walk_all(tmp.path(), options);
  ASSERT_EQ(clamped.size(), 5u);
  EXPECT_EQ(clamped[0].entry.mtime, 1700000000);  // later: clamped
  EXPECT_EQ(clamped[1].entry.mtime, 1700000000);  // directories too
  EXPECT_EQ(clamped[2].entry.mtime, 1700000000);  // symlinks too (lstat time)
  EXPECT_EQ(clamped[3].entry.mtime, 1000);        // earlier: kept
  EXPECT_EQ(clamped[4].entry.mtime, 1700000000);  // equal: kept
}

TEST(RootfsWalk, ExcludedInodesAreSkippedWithAWarning) {
  // The build's own output inside the rootfs is left out, by (dev, ino).
  TempDir tmp;
  make_dirs(tmp / "out/blobs");
  write_text(tmp / "out/blobs/x", "x");
  write_text(tmp / "image.tar", "t");
  write_text(tmp / "keep", "k");
  struct stat out_dir {}, tarball {};
  ASSERT_EQ(::lstat((tmp / "out").c_str(), &out_dir), 0);
  ASSERT_EQ(::lstat((tmp / "image.tar").c_str(), &tarball), 0);
  WalkOptions options;
  options.exclude = {{out_dir.st_dev, out_dir.st_ino}, {tarball.st_dev, tarball.st_ino}};
  std::vector<std::string> warnings;
  auto items = walk_all(tmp.path(), options, &warnings);
  EXPECT_EQ(paths_of(items), std::vector<std::string>{"keep"});
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find(tmp / "image.tar"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find(tmp / "out"), std::string::npos) << warnings[1];
}

TEST(RootfsWalk, MissingRootIsAnErrorNamingThePath) {
  TempDir tmp;
  auto walker = RootfsWalker::open(tmp / "missing", {});
  ASSERT_FALSE(walker.ok());
  EXPECT_NE(walker.error().message.find(tmp / "missing"), std::string::npos)
      << walker.error().message;
  EXPECT_EQ(walker.error().kind, ErrorKind::input);
}

TEST(RootfsWalk, FileRootIsAnErrorNamingThePath) {
  TempDir tmp;
  write_text(tmp / "file", "f");
  auto walker = RootfsWalker::open(tmp / "file", {});
  ASSERT_FALSE(walker.ok());
  EXPECT_NE(walker.error().message.find(tmp / "file"), std::string::npos)
      << walker.error().message;
  EXPECT_NE(walker.error().message.find("not a directory"), std::string::npos)
      << walker.error().message;
}

TEST(RootfsWalk, WalkerCanBeMovedMidWalk) {
  TempDir tmp;
  make_dirs(tmp / "d");
  write_text(tmp / "d/a", "");
  write_text(tmp / "d/b", "");
  auto walker = RootfsWalker::open(tmp.path(), {});
  ASSERT_TRUE(walker.ok());
  auto first = walker->next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->entry.path, "d/");
  RootfsWalker moved(std::move(*walker));
  std::vector<std::string> rest;
  for (;;) {
    auto item = moved.next();
    ASSERT_TRUE(item.ok());
    if (!item->has_value()) break;
    rest.push_back((*item)->entry.path);
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"d/a", "d/b"}));
}


size_t open_descriptors() {
  auto names = list_directory("/proc/self/fd");
  return names.ok() ? names->size() : 0;
}

// A tree deeper than PATH_MAX (5000+ bytes of path, 2600 levels of one-letter
// names — more levels than a default RLIMIT_NOFILE of 1024 descriptors),
// with a file, a symlink, an xattr and a hard link at the bottom.
TEST(RootfsWalk, TreeDeeperThanPathMaxIsWalkedWithFewDescriptors) {
  TempDir tmp;
  make_dirs(tmp / "root");
  UniqueFd fd(::open((tmp / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  constexpr size_t k_levels = 2600;
  std::string rel;
  for (size_t i = 0; i < k_levels; ++i) {
    ASSERT_EQ(::mkdirat(fd.get(), "d", 0755), 0) << i;
    fd = UniqueFd(::openat(fd.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid()) << i;
    rel += "d/";
  }
  ASSERT_GT(rel.size(), 5000u);
  UniqueFd file(::openat(fd.get(), "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(file.valid());
  ASSERT_EQ(::write(file.get(), "deep data", 9), 9);
  const bool has_xattr = ::fsetxattr(file.get(), "user.deep", "v", 1, 0) == 0;
  file.reset();
  ASSERT_EQ(::symlinkat("file", fd.get(), "link"), 0);
  ASSERT_EQ(::linkat(fd.get(), "file", fd.get(), "hard", 0), 0);
  fd.reset();

  const size_t descriptors_before = open_descriptors();
  size_t most_descriptors = 0;
  std::vector<WalkItem> tail;
  auto walker = RootfsWalker::open(tmp / "root", {});
  ASSERT_TRUE(walker.ok()) << walker.error().message;
  size_t count = 0;
  for (;;) {
    auto item = walker->next();
    ASSERT_TRUE(item.ok()) << item.error().message.substr(0, 200);
    if (!item->has_value()) break;
    ++count;
    most_descriptors = std::max(most_descriptors, open_descriptors());
    if ((*item)->entry.type != EntryType::directory) tail.push_back(std::move(**item));
  }
  EXPECT_EQ(count, k_levels + 3);
  EXPECT_LE(most_descriptors, descriptors_before + RootfsWalker::k_open_ancestors + 4)
      << "descriptors grow with the depth";
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail[0].entry.path, rel + "file");
  EXPECT_EQ(tail[0].entry.type, EntryType::regular);
  EXPECT_EQ(tail[0].entry.size, 9u);
  if (has_xattr) {
    EXPECT_EQ(tail[0].entry.xattrs, (std::vector<std::pair<std::string, std::string>>{{"user.deep", "v"}}));
  }
  EXPECT_EQ(tail[1].entry.path, rel + "hard");
  EXPECT_EQ(tail[1].entry.type, EntryType::hard_link);
  EXPECT_EQ(tail[1].entry.link_target, rel + "file");
  EXPECT_EQ(tail[2].entry.path, rel + "link");
  EXPECT_EQ(tail[2].entry.link_target, "file");
  // The data opens relative to its directory although its path is too long for open(2).
  auto data = open_item_data(tail[0]);
  ASSERT_TRUE(data.ok()) << data.error().message.substr(0, 200);
  char buffer[16] = {};
  EXPECT_EQ(::read(data->get(), buffer, sizeof buffer), 9);
  EXPECT_STREQ(buffer, "deep data");
  // Without the walk's directory (as a delta holds it) it opens by its long path.
  WalkItem detached = tail[0];
  detached.parent_dir.reset();
  auto by_path = open_item_data(detached);
  ASSERT_TRUE(by_path.ok()) << by_path.error().message.substr(0, 200);
  char again[16] = {};
  EXPECT_EQ(::read(by_path->get(), again, sizeof again), 9);
  EXPECT_STREQ(again, "deep data");
  ASSERT_EQ(std::system(("rm -rf '" + (tmp / "root") + "'").c_str()), 0);
}

TEST(RootfsWalk, DirectoryReplacedBeforeItIsEnteredIsRefused) {
  // Between describing d (a directory) and listing it, d becomes a symlink
  // to elsewhere: the walk must not follow it.
  TempDir tmp;
  make_dirs(tmp / "root/d");
  make_dirs(tmp / "elsewhere");
  write_text(tmp / "elsewhere/secret", "x");
  auto dir = describe_path(tmp / "root/d", "d", {});
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  ASSERT_EQ(::rmdir((tmp / "root/d").c_str()), 0);
  ASSERT_EQ(::symlink((tmp / "elsewhere").c_str(), (tmp / "root/d").c_str()), 0);
  auto data = open_item_data(dir->item);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find(tmp / "root/d"), std::string::npos) << data.error().message;
}

TEST(RootfsWalk, DirectoryMovedWhileBeingWalkedKeepsToTheOpenParent) {
  // a/b is being listed when it is moved out of the tree. The walk holds a
  // open (k_open_ancestors), so it goes on in a, never where b went.
  TempDir tmp;
  make_dirs(tmp / "root/a/b");
  write_text(tmp / "root/a/b/f", "x");
  write_text(tmp / "root/a/z", "z");
  write_text(tmp / "outside", "o");
  auto walker = RootfsWalker::open(tmp / "root", {});
  ASSERT_TRUE(walker.ok());
  for (const char* expected : {"a/", "a/b/", "a/b/f"}) {
    auto item = walker->next();
    ASSERT_TRUE(item.ok() && item->has_value()) << expected;
    EXPECT_EQ((*item)->entry.path, expected);
  }
  ASSERT_EQ(::rename((tmp / "root/a/b").c_str(), (tmp / "moved").c_str()), 0);
  auto next = walker->next();
  ASSERT_TRUE(next.ok() && next->has_value()) << (next.ok() ? "" : next.error().message);
  EXPECT_EQ((*next)->entry.path, "a/z");
  auto end = walker->next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST(RootfsWalk, DirectoryMovedBelowTheOpenAncestorsIsRefused) {
  // Deeper than k_open_ancestors the parent is reached again through "..":
  // b, being listed, is moved out of the tree, so ".." is no longer its
  // parent — refused, never walked.
  TempDir tmp;
  std::string deep = tmp / "root";
  std::string rel;
  for (size_t i = 0; i < RootfsWalker::k_open_ancestors + 4; ++i) {
    deep += "/d";
    rel += "d/";
  }
  make_dirs(deep + "/b");
  write_text(deep + "/b/f", "x");
  write_text(deep + "/z", "z");
  auto walker = RootfsWalker::open(tmp / "root", {});
  ASSERT_TRUE(walker.ok());
  for (;;) {
    auto item = walker->next();
    ASSERT_TRUE(item.ok() && item->has_value());
    if ((*item)->entry.path == rel + "b/f") break;
  }
  ASSERT_EQ(::rename((deep + "/b").c_str(), (tmp / "moved").c_str()), 0);
  auto next = walker->next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message.find("was moved while being read"), std::string::npos) << next.error().message;
}

// The walk's items in order.
std::vector<WalkItem> walk_all(RootfsWalker& walker) {
  std::vector<WalkItem> items;
  for (;;) {
    auto item = walker.next();
    EXPECT_TRUE(item.ok()) << (item.ok() ? "" : item.error().message);
    if (!item.ok() || !item->has_value()) return items;
    items.push_back(std::move(**item));
  }
}

// A child blocked in open(fifo, O_WRONLY): it gets past the open only if
// somebody opens the FIFO for reading, and then exits.
struct BlockedWriter {
  pid_t pid = -1;
  explicit BlockedWriter(const std::string& fifo) {
    pid = ::fork();
    if (pid == 0) {
      ::open(fifo.c_str(), O_WRONLY);
      ::_exit(0);
    }
    ::usleep(100 * 1000);  // let it reach the open
  }
  bool still_blocked() {
    ::usleep(100 * 1000);  // a writer released by a reader exits at once
    return ::waitpid(pid, nullptr, WNOHANG) == 0;
  }
  ~BlockedWriter() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

TEST(RootfsWalk, EntriesThatChangedKindAfterTheListingAreNeverOpened) {
  // The listing (getdents' types) is taken when d is entered; then f (a
  // file) and s (a directory) become FIFOs with a writer waiting, l (a
  // file) and t (a directory) become symlinks out of the tree. The walk
  // describes what is there now, without opening either FIFO (its writer
  // would be released) or following either link.
  TempDir tmp;
  make_dirs(tmp / "root/d/s");
  make_dirs(tmp / "root/d/t");
  write_text(tmp / "root/d/f", "x");
  write_text(tmp / "root/d/l", "x");
  make_dirs(tmp / "elsewhere");
  write_text(tmp / "elsewhere/secret", "secret");
  auto walker = RootfsWalker::open(tmp / "root", {});
  ASSERT_TRUE(walker.ok());
  auto dir = walker->next();
  ASSERT_TRUE(dir.ok() && dir->has_value());
  ASSERT_EQ(::unlink((tmp / "root/d/f").c_str()), 0);
  ASSERT_EQ(::mkfifo((tmp / "root/d/f").c_str(), 0644), 0);
  ASSERT_EQ(::rmdir((tmp / "root/d/s").c_str()), 0);
  ASSERT_EQ(::mkfifo((tmp / "root/d/s").c_str(), 0644), 0);
  ASSERT_EQ(::unlink((tmp / "root/d/l").c_str()), 0);
  ASSERT_EQ(::symlink((tmp / "elsewhere/secret").c_str(), (tmp / "root/d/l").c_str()), 0);
  ASSERT_EQ(::rmdir((tmp / "root/d/t").c_str()), 0);
  ASSERT_EQ(::symlink((tmp / "elsewhere").c_str(), (tmp / "root/d/t").c_str()), 0);
  BlockedWriter file_fifo(tmp / "root/d/f");
  BlockedWriter dir_fifo(tmp / "root/d/s");
  const auto items = walk_all(*walker);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].entry.path, "d/f");
  EXPECT_EQ(items[0].entry.type, EntryType::fifo);
  EXPECT_EQ(items[1].entry.path, "d/l");
  EXPECT_EQ(items[1].entry.type, EntryType::symlink);
  EXPECT_EQ(items[1].entry.link_target, tmp / "elsewhere/secret");
  EXPECT_EQ(items[2].entry.path, "d/s");
  EXPECT_EQ(items[2].entry.type, EntryType::fifo);
  EXPECT_EQ(items[3].entry.path, "d/t");
  EXPECT_EQ(items[3].entry.type, EntryType::symlink);
  EXPECT_TRUE(file_fifo.still_blocked()) << "the FIFO listed as a file was opened";
  EXPECT_TRUE(dir_fifo.still_blocked()) << "the FIFO listed as a directory was opened";
}

TEST(RootfsWalk, AFileThatBecameADirectoryIsWalkedAsADirectory) {
  // Listed as a file, a directory when reached: described by lstat, then
  // opened and checked as any directory, its children walked.
  TempDir tmp;
  make_dirs(tmp / "root/d");
  write_text(tmp / "root/d/x", "x");
  auto walker = RootfsWalker::open(tmp / "root", {});
  ASSERT_TRUE(walker.ok());
  auto dir = walker->next();
  ASSERT_TRUE(dir.ok() && dir->has_value());
  ASSERT_EQ(::unlink((tmp / "root/d/x").c_str()), 0);
  make_dirs(tmp / "root/d/x");
  write_text(tmp / "root/d/x/inner", "i");
  const auto items = walk_all(*walker);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].entry.path, "d/x/");
  EXPECT_EQ(items[0].entry.type, EntryType::directory);
  EXPECT_EQ(items[1].entry.path, "d/x/inner");
}

}  // namespace
TEST(RootfsWalk, OpenItemDataRefusesAFifoOrSymlinkWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (dir / "link").c_str()), 0);
  WalkItem item;
  item.source_path = dir / "fifo";
  auto fifo = open_item_data(item);  // must not block
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().message.find("is now a FIFO, not a regular file"), std::string::npos);
  item.source_path = dir / "link";
  EXPECT_FALSE(open_item_data(item).ok());
}

}  // namespace ocipack
