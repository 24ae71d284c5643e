// Tests for core/util/open_beneath.cc: open_regular_file/read_regular_file,
// the one way a layout file is read, must refuse a FIFO, socket, device,
// directory or symlink in place of the file — and a symlink or non-directory
// on the way to it — naming the path and what it is, without blocking;
// report a missing file as nullopt; and honour the size cap. Refusals are
// input errors.
#include "core/util/open_beneath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/file_io.h"
#include "hostile_files.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::make_dirs;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

TEST(OpenBeneath, ReadsARegularFileBelowADirectory) {
  TempDir tmp;
  make_dirs(tmp / "blobs/sha256");
  write_text(tmp / "blobs/sha256/x", "content");
  auto text = read_regular_file(tmp.path(), "blobs/sha256/x", 100);
  ASSERT_TRUE(text.ok()) << text.error().message;
  ASSERT_TRUE(text->has_value());
  EXPECT_EQ(**text, "content");
  auto file = open_regular_file(tmp.path(), "blobs/sha256/x");
  ASSERT_TRUE(file.ok() && file->has_value());
  EXPECT_EQ((*file)->size, 7);
  // Opened O_NONBLOCK, and still read normally.
  EXPECT_NE(::fcntl((*file)->fd.get(), F_GETFL) & O_NONBLOCK, 0);
  char buffer[16] = {};
  EXPECT_EQ(::read((*file)->fd.get(), buffer, sizeof buffer), 7);
  EXPECT_NE(::fcntl((*file)->fd.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(OpenBeneath, MissingIsNulloptNotAnError) {
  TempDir tmp;
  for (const char* relative : {"index.json", "blobs/sha256/x", "a/b/c"}) {
    auto text = read_regular_file(tmp.path(), relative, 100);
    ASSERT_TRUE(text.ok()) << relative << ": " << text.error().message;
    EXPECT_FALSE(text->has_value()) << relative;
  }
  auto in_missing_dir = read_regular_file(tmp / "absent", "index.json", 100);
  ASSERT_TRUE(in_missing_dir.ok());
  EXPECT_FALSE(in_missing_dir->has_value());
}

TEST(OpenBeneath, EveryKindOfNonRegularFileIsRefusedByName) {
  TempDir tmp;
  write_text(tmp / "target", "x");
  for (const auto& hostile : ocipack::testing::hostile_kinds()) {
    SCOPED_TRACE(hostile.name);
    const std::string path = tmp / "index.json";
    ASSERT_TRUE(ocipack::testing::make_hostile(path, hostile.kind, tmp / "target"));
    auto text = read_regular_file(tmp.path(), "index.json", 100);
    ASSERT_FALSE(text.ok());
    EXPECT_NE(text.error().message.find(path + " " + hostile.expected), std::string::npos) << text.error().message;
    auto file = open_regular_file(tmp.path(), "index.json");
    EXPECT_FALSE(file.ok());
  }
}

TEST(OpenBeneath, DirectoriesOnTheWayMustBeRealDirectories) {
  TempDir tmp;
  make_dirs(tmp / "elsewhere/sha256");
  write_text(tmp / "elsewhere/sha256/x", "decoy");
  make_dirs(tmp / "blobs");
  // blobs/sha256 -> elsewhere/sha256, and blobs -> elsewhere: never followed.
  ASSERT_EQ(::symlink((tmp / "elsewhere/sha256").c_str(), (tmp / "blobs/sha256").c_str()), 0);
  auto through_inner = read_regular_file(tmp.path(), "blobs/sha256/x", 100);
  ASSERT_FALSE(through_inner.ok());
  EXPECT_NE(through_inner.error().message.find(tmp / "blobs/sha256 is a symbolic link"), std::string::npos)
      << through_inner.error().message;
  ASSERT_EQ(::unlink((tmp / "blobs/sha256").c_str()), 0);
  ASSERT_EQ(::rmdir((tmp / "blobs").c_str()), 0);
  ASSERT_EQ(::symlink((tmp / "elsewhere").c_str(), (tmp / "blobs").c_str()), 0);
  auto through_outer = read_regular_file(tmp.path(), "blobs/sha256/x", 100);
  ASSERT_FALSE(through_outer.ok());
  EXPECT_NE(through_outer.error().message.find(tmp / "blobs is a symbolic link"), std::string::npos);
  auto dir = open_directory_beneath(tmp.path(), "blobs/sha256");
  EXPECT_FALSE(dir.ok());
  // A regular file or a FIFO where a directory should be.
  ASSERT_EQ(::unlink((tmp / "blobs").c_str()), 0);
  write_text(tmp / "blobs", "file");
  auto file_on_the_way = read_regular_file(tmp.path(), "blobs/sha256/x", 100);
  ASSERT_FALSE(file_on_the_way.ok());
  EXPECT_NE(file_on_the_way.error().message.find("is a regular file, not a directory"), std::string::npos);
  ASSERT_TRUE(ocipack::testing::make_hostile(tmp / "blobs", ocipack::testing::Hostile::fifo));
  auto fifo_on_the_way = read_regular_file(tmp.path(), "blobs/sha256/x", 100);
  ASSERT_FALSE(fifo_on_the_way.ok());
  EXPECT_NE(fifo_on_the_way.error().message.find("is a FIFO, not a directory"), std::string::npos);
  // The directory the caller names may itself be a symlink: the user chose it.
  ASSERT_EQ(::symlink((tmp / "elsewhere").c_str(), (tmp / "named").c_str()), 0);
  auto through_named = read_regular_file(tmp / "named", "sha256/x", 100);
  ASSERT_TRUE(through_named.ok() && through_named->has_value());
  EXPECT_EQ(**through_named, "decoy");
  auto opened_dir = open_directory_beneath(tmp / "named", "sha256");
  ASSERT_TRUE(opened_dir.ok() && opened_dir->has_value());
  auto names = list_directory_at((*opened_dir)->get(), "sha256");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"x"});
}

TEST(OpenBeneath, PathsMustBePlainComponents) {
  TempDir tmp;
  make_dirs(tmp / "a");
  write_text(tmp / "x", "x");
  for (const char* relative : {"a/../x", "./x", "a//x", "", "a/"}) {
    auto text = read_regular_file(tmp / "a", relative, 100);
    EXPECT_FALSE(text.ok()) << relative;
  }
}

TEST(OpenBeneath, SizeCapIsEnforced) {
  TempDir tmp;
  write_text(tmp / "big", std::string(1000, 'x'));
  auto capped = read_regular_file(tmp.path(), "big", 999);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.error().message.find(tmp / "big"), std::string::npos);
  EXPECT_NE(capped.error().message.find("too large"), std::string::npos);
  auto exact = read_regular_file(tmp.path(), "big", 1000);
  ASSERT_TRUE(exact.ok() && exact->has_value());
  EXPECT_EQ((*exact)->size(), 1000u);
}

TEST(OpenBeneath, RefusalsAreInputErrors) {
  TempDir tmp;
  ASSERT_EQ(::symlink("elsewhere", (tmp / "index.json").c_str()), 0);
  auto symlink = read_regular_file(tmp.path(), "index.json", 100);
  ASSERT_FALSE(symlink.ok());
  EXPECT_EQ(symlink.error().kind, ErrorKind::input);
  write_text(tmp / "big", std::string(10, 'x'));
  auto too_large = read_regular_file(tmp.path(), "big", 9);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().kind, ErrorKind::input);
  auto not_plain = open_regular_file(tmp.path(), "../big");
  ASSERT_FALSE(not_plain.ok());
  EXPECT_EQ(not_plain.error().kind, ErrorKind::input);
}

}  // namespace
}  // namespace ocipack
