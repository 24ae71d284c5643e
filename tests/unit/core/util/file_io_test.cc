// Tests for core/util/file_io.cc: whole-file reads, full writes and
// directory fsyncs name the path they failed on; write failures are io
// errors, read failures input errors; directory listings are sorted
// bytewise.
#include "core/util/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/unique_fd.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::TempDir;
using ocipack::testing::write_text;

TEST(FileIo, ReadFileReadsWholeContent) {
  TempDir dir;
  std::string big(200000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 253);
  write_text(dir / "big", big);
  auto content = read_file(dir / "big");
  ASSERT_TRUE(content.ok()) << content.error().message;
  EXPECT_EQ(*content, big);
}

TEST(FileIo, ReadFileErrorNamesThePath) {
  TempDir dir;
  auto content = read_file(dir / "nope");
  ASSERT_FALSE(content.ok());
  EXPECT_NE(content.error().message.find(dir / "nope"), std::string::npos)
      << content.error().message;
}

TEST(FileIo, WriteAllErrorNamesWhat) {
  Status status = write_all(-1, "data", "the-file-name");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("the-file-name"), std::string::npos)
      << status.error().message;
}

TEST(FileIo, WriteAllPartsWritesThemInOrderSkippingEmptyOnes) {
  TempDir dir;
  for (size_t count : {size_t{3}, size_t{12}}) {  // 12: more than one writev takes
    const std::string path = dir / ("parts" + std::to_string(count));
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    std::vector<std::string> texts;
    std::string expected;
    for (size_t i = 0; i < count; ++i) {
      texts.push_back(i % 3 == 1 ? std::string() : std::string(1000 * (i + 1), static_cast<char>('a' + i)));
      expected += texts.back();
    }
    std::vector<std::span<const std::byte>> parts;
    for (const std::string& t : texts) parts.push_back(std::as_bytes(std::span(t.data(), t.size())));
    ASSERT_TRUE(write_all(fd.get(), parts, "parts").ok());
    auto back = read_file(path);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, expected) << count;
  }
  const std::string text = "x";
  const std::span<const std::byte> one[] = {std::as_bytes(std::span(text.data(), text.size()))};
  auto failed = write_all(-1, one, "the file");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("the file"), std::string::npos);
}

// A descriptor listed before is rewound (the default); a fresh one is
// listed as it is (the walk's one system call less per directory).
TEST(FileIo, ListDirectoryAtRewindsUnlessFresh) {
  TempDir dir;
  for (const char* name : {"b", "a", "c"}) write_text(dir / name, "x");
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  const std::vector<std::string> all{"a", "b", "c"};
  auto fresh = list_directory_at(fd.get(), dir.path(), /*fresh=*/true);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, all);
  auto again = list_directory_at(fd.get(), dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, all);
  // Not rewound: the offset is at the end, nothing is left to list.
  auto at_end = list_directory_at(fd.get(), dir.path(), /*fresh=*/true);
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->empty());
}

TEST(FileIo, FsyncDirErrorNamesThePath) {
  TempDir dir;
  EXPECT_TRUE(fsync_dir(dir.path()).ok());
  Status status = fsync_dir(dir / "missing");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(dir / "missing"), std::string::npos);
}

TEST(FileIo, ErrnoText) {
  EXPECT_FALSE(errno_text(ENOENT).empty());
  EXPECT_NE(errno_text(ENOENT), errno_text(EACCES));
}

TEST(FileIo, WritingFailuresAreIoErrorsReadingFailuresInputErrors) {
  TempDir dir;
  Status write = write_all(-1, "data", "the-file-name");
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().kind, ErrorKind::io);
  Status sync = fsync_dir(dir / "missing");
  ASSERT_FALSE(sync.ok());
  EXPECT_EQ(sync.error().kind, ErrorKind::io);
  auto read = read_file(dir / "nope");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().kind, ErrorKind::input);
  auto listed = list_directory(dir / "missing");
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().kind, ErrorKind::input);
  EXPECT_NE(listed.error().message.find(dir / "missing"), std::string::npos);
}

TEST(FileIo, ListDirectoryIsSortedBytewise) {
  TempDir dir;
  for (const char* name : {"b", "B", "a", "\xc3\xa9", "a.b"}) write_text(dir / name, "");
  auto names = list_directory(dir.path());
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_EQ(*names, (std::vector<std::string>{"B", "a", "a.b", "b", "\xc3\xa9"}));
}

TEST(FileIo, FileTypeNames) {
  EXPECT_STREQ(file_type_name(S_IFIFO | 0644), "a FIFO");
  EXPECT_STREQ(file_type_name(S_IFLNK | 0777), "a symbolic link");
  EXPECT_STREQ(file_type_name(S_IFREG | 0644), "a regular file");
  EXPECT_STREQ(file_type_name(S_IFDIR | 0755), "a directory");
}

}  // namespace
}  // namespace ocipack
