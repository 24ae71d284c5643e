// Tests for core/fd.cc: the file helpers under the layout's crash-safety
// promise. write_file_atomic must replace a file's content in one step and
// leave no temporary file behind, whether it succeeds or fails; a TempFile
// must vanish unless commit() moved it into place; UniqueFd must close what it
// owns exactly once. Error messages must name the path involved.
#include "core/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

TEST(Fd, WriteFileAtomicCreatesAFile) {
  TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "index.json", "{\"a\":1}").ok());
  EXPECT_EQ(read_text(dir / "index.json"), "{\"a\":1}");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"index.json"});
}

TEST(Fd, WriteFileAtomicReplacesContent) {
  TempDir dir;
  write_text(dir / "index.json", "old content that is longer than the new one");
  ASSERT_TRUE(write_file_atomic(dir / "index.json", "new").ok());
  EXPECT_EQ(read_text(dir / "index.json"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"index.json"});
}

TEST(Fd, WriteFileAtomicWritesBinaryAndEmptyData) {
  TempDir dir;
  const std::string binary("\0\xff\n\0", 4);
  ASSERT_TRUE(write_file_atomic(dir / "bin", binary).ok());
  EXPECT_EQ(read_text(dir / "bin"), binary);
  ASSERT_TRUE(write_file_atomic(dir / "bin", "").ok());
  EXPECT_EQ(read_text(dir / "bin"), "");
}

TEST(Fd, WriteFileAtomicReplacesNotRewritesInPlace) {
  // A reader holding the old file keeps seeing the old content: the new file
  // is a different inode renamed over the name.
  TempDir dir;
  write_text(dir / "f", "old");
  struct stat before {};
  ASSERT_EQ(::stat((dir / "f").c_str(), &before), 0);
  ASSERT_TRUE(write_file_atomic(dir / "f", "new").ok());
  struct stat after {};
  ASSERT_EQ(::stat((dir / "f").c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
}

TEST(Fd, WriteFileAtomicIntoMissingDirectoryFailsNamingIt) {
  TempDir dir;
  Status status = write_file_atomic(dir / "missing/index.json", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(dir / "missing"), std::string::npos)
      << status.error().message;
}

TEST(Fd, FailedWriteFileAtomicLeavesNoTempFileAndTargetUntouched) {
  // Renaming a file over a non-empty directory fails after the temp file was
  // written: the temp file must be removed and the directory left alone.
  TempDir dir;
  ocipack::testing::make_dirs(dir / "target");
  write_text(dir / "target/keep", "keep");
  Status status = write_file_atomic(dir / "target", "data");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(dir / "target"), std::string::npos)
      << status.error().message;
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"target"});
  EXPECT_EQ(read_text(dir / "target/keep"), "keep");
}

TEST(Fd, TempFileIsHiddenNextToItsTarget) {
  TempDir dir;
  auto temp = TempFile::create(dir.path(), "blob");
  ASSERT_TRUE(temp.ok()) << temp.error().message;
  const std::string name = temp->path().substr(dir.path().size() + 1);
  EXPECT_EQ(temp->path().substr(0, dir.path().size() + 1), dir.path() + "/");
  EXPECT_EQ(name.rfind(".blob.tmp-", 0), 0u) << name;
  EXPECT_EQ(name.size(), std::string(".blob.tmp-XXXXXX").size());
  EXPECT_TRUE(exists(temp->path()));
  EXPECT_GE(temp->fd(), 0);
}

TEST(Fd, TempFileRemovesItselfWhenNotCommitted) {
  TempDir dir;
  std::string path;
  {
    auto temp = TempFile::create(dir.path(), "blob");
    ASSERT_TRUE(temp.ok()) << temp.error().message;
    path = temp->path();
    ASSERT_TRUE(write_all(temp->fd(), "partial", path).ok());
    EXPECT_TRUE(exists(path));
  }
  EXPECT_FALSE(exists(path));
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Fd, TempFileCommitMovesItIntoPlace) {
  TempDir dir;
  std::string temp_path;
  {
    auto temp = TempFile::create(dir.path(), "blob");
    ASSERT_TRUE(temp.ok()) << temp.error().message;
    temp_path = temp->path();
    ASSERT_TRUE(write_all(temp->fd(), "content", temp_path).ok());
    ASSERT_TRUE(temp->commit(dir / "final").ok());
  }
  EXPECT_FALSE(exists(temp_path));
  EXPECT_EQ(read_text(dir / "final"), "content");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"final"});
  // Blobs are read by other users' tools: the committed file is 0644.
  struct stat st {};
  ASSERT_EQ(::stat((dir / "final").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(Fd, MovedTempFileIsRemovedOnceByItsNewOwner) {
  TempDir dir;
  std::string path;
  {
    auto temp = TempFile::create(dir.path(), "blob");
    ASSERT_TRUE(temp.ok());
    path = temp->path();
    {
      TempFile moved(std::move(*temp));
      EXPECT_EQ(moved.path(), path);
      EXPECT_TRUE(exists(path));
    }
    EXPECT_FALSE(exists(path));
  }
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Fd, TempFileInMissingDirectoryFailsNamingIt) {
  TempDir dir;
  auto temp = TempFile::create(dir / "missing", "blob");
  ASSERT_FALSE(temp.ok());
  EXPECT_NE(temp.error().message.find(dir / "missing"), std::string::npos)
      << temp.error().message;
}

TEST(Fd, ReadFileReadsWholeContent) {
  TempDir dir;
  std::string big(200000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 253);
  write_text(dir / "big", big);
  auto content = read_file(dir / "big");
  ASSERT_TRUE(content.ok()) << content.error().message;
  EXPECT_EQ(*content, big);
}

TEST(Fd, ReadFileErrorNamesThePath) {
  TempDir dir;
  auto content = read_file(dir / "nope");
  ASSERT_FALSE(content.ok());
  EXPECT_NE(content.error().message.find(dir / "nope"), std::string::npos)
      << content.error().message;
}

TEST(Fd, WriteAllErrorNamesWhat) {
  Status status = write_all(-1, "data", "the-file-name");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("the-file-name"), std::string::npos)
      << status.error().message;
}

TEST(Fd, FsyncDirErrorNamesThePath) {
  TempDir dir;
  EXPECT_TRUE(fsync_dir(dir.path()).ok());
  Status status = fsync_dir(dir / "missing");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(dir / "missing"), std::string::npos);
}

TEST(Fd, UniqueFdClosesOnDestructionAndReset) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), raw);
  }
  EXPECT_FALSE(fd_is_open(raw));

  raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  UniqueFd fd(raw);
  fd.reset();
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(fd_is_open(raw));
}

TEST(Fd, UniqueFdReleaseAndMove) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the contract
    EXPECT_EQ(b.get(), raw);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_EQ(c.release(), raw);
    EXPECT_FALSE(c.valid());
  }
  EXPECT_TRUE(fd_is_open(raw));  // released: not closed
  ::close(raw);
}

TEST(Fd, ErrnoText) {
  EXPECT_FALSE(errno_text(ENOENT).empty());
  EXPECT_NE(errno_text(ENOENT), errno_text(EACCES));
}

}  // namespace
}  // namespace ocipack
