// Tests for core/fd.cc: the file helpers under the layout's crash-safety
// promise. write_file_atomic must replace a file's content in one step and
// leave no temporary file behind, whether it succeeds or fails; a TempFile
// must vanish unless commit() moved it into place; UniqueFd must close what it
// owns exactly once. Error messages must name the path involved.
// open_regular_file/read_regular_file, the one way a layout file is read, must
// refuse a FIFO, socket, device, directory or symlink in place of the file —
// and a symlink or non-directory on the way to it — naming the path and what
// it is, without blocking; report a missing file as nullopt; and honour the
// size cap.
#include "core/util/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hostile_files.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::make_dirs;
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

TEST(FdRegularFile, ReadsARegularFileBelowADirectory) {
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

TEST(FdRegularFile, MissingIsNulloptNotAnError) {
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

TEST(FdRegularFile, EveryKindOfNonRegularFileIsRefusedByName) {
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

TEST(FdRegularFile, DirectoriesOnTheWayMustBeRealDirectories) {
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

TEST(FdRegularFile, PathsMustBePlainComponents) {
  TempDir tmp;
  make_dirs(tmp / "a");
  write_text(tmp / "x", "x");
  for (const char* relative : {"a/../x", "./x", "a//x", "", "a/"}) {
    auto text = read_regular_file(tmp / "a", relative, 100);
    EXPECT_FALSE(text.ok()) << relative;
  }
}

TEST(FdRegularFile, SizeCapIsEnforced) {
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

TEST(Fd, ErrnoText) {
  EXPECT_FALSE(errno_text(ENOENT).empty());
  EXPECT_NE(errno_text(ENOENT), errno_text(EACCES));
}

}  // namespace
}  // namespace ocipack
