// Tests for core/util/temp_file.cc: the durable-write helpers under the
// layout's crash-safety promise. write_file_atomic must replace a file's
// content in one step and leave no temporary file behind, whether it
// succeeds or fails; a TempFile must vanish unless commit() moved it into
// place. Error messages name the path involved and are io errors (they
// concern ocipack's own output). The temp-name rule matches exactly the
// names TempFile makes.
#include "core/util/temp_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/file_io.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::list_dir;

using ocipack::testing::path_exists;

using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

TEST(TempFile, WriteFileAtomicCreatesAFile) {
  TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "index.json", "{\"a\":1}").ok());
  EXPECT_EQ(read_text(dir / "index.json"), "{\"a\":1}");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"index.json"});
}

TEST(TempFile, WriteFileAtomicReplacesContent) {
  TempDir dir;
  write_text(dir / "index.json", "old content that is longer than the new one");
  ASSERT_TRUE(write_file_atomic(dir / "index.json", "new").ok());
  EXPECT_EQ(read_text(dir / "index.json"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"index.json"});
}

TEST(TempFile, WriteFileAtomicWritesBinaryAndEmptyData) {
  TempDir dir;
  const std::string binary("\0\xff\n\0", 4);
  ASSERT_TRUE(write_file_atomic(dir / "bin", binary).ok());
  EXPECT_EQ(read_text(dir / "bin"), binary);
  ASSERT_TRUE(write_file_atomic(dir / "bin", "").ok());
  EXPECT_EQ(read_text(dir / "bin"), "");
}

TEST(TempFile, WriteFileAtomicReplacesNotRewritesInPlace) {
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

TEST(TempFile, WriteFileAtomicIntoMissingDirectoryFailsNamingIt) {
  TempDir dir;
  Status status = write_file_atomic(dir / "missing/index.json", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(dir / "missing"), std::string::npos)
      << status.error().message;
}

TEST(TempFile, FailedWriteFileAtomicLeavesNoTempFileAndTargetUntouched) {
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

TEST(TempFile, TempFileIsHiddenNextToItsTarget) {
  TempDir dir;
  auto temp = TempFile::create(dir.path(), "blob");
  ASSERT_TRUE(temp.ok()) << temp.error().message;
  const std::string name = temp->path().substr(dir.path().size() + 1);
  EXPECT_EQ(temp->path().substr(0, dir.path().size() + 1), dir.path() + "/");
  EXPECT_EQ(name.rfind(".blob.tmp-", 0), 0u) << name;
  EXPECT_EQ(name.size(), std::string(".blob.tmp-XXXXXX").size());
  EXPECT_TRUE(path_exists(temp->path()));
  EXPECT_GE(temp->fd(), 0);
}

TEST(TempFile, TempFileRemovesItselfWhenNotCommitted) {
  TempDir dir;
  std::string path;
  {
    auto temp = TempFile::create(dir.path(), "blob");
    ASSERT_TRUE(temp.ok()) << temp.error().message;
    path = temp->path();
    ASSERT_TRUE(write_all(temp->fd(), "partial", path).ok());
    EXPECT_TRUE(path_exists(path));
  }
  EXPECT_FALSE(path_exists(path));
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(TempFile, TempFileCommitMovesItIntoPlace) {
  TempDir dir;
  std::string temp_path;
  {
    auto temp = TempFile::create(dir.path(), "blob");
    ASSERT_TRUE(temp.ok()) << temp.error().message;
    temp_path = temp->path();
    ASSERT_TRUE(write_all(temp->fd(), "content", temp_path).ok());
    ASSERT_TRUE(temp->commit(dir / "final").ok());
  }
  EXPECT_FALSE(path_exists(temp_path));
  EXPECT_EQ(read_text(dir / "final"), "content");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"final"});
  // Blobs are read by other users' tools: the committed file is 0644.
  struct stat st {};
  ASSERT_EQ(::stat((dir / "final").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(TempFile, MovedTempFileIsRemovedOnceByItsNewOwner) {
  TempDir dir;
  std::string path;
  {
    auto temp = TempFile::create(dir.path(), "blob");
    ASSERT_TRUE(temp.ok());
    path = temp->path();
    {
      TempFile moved(std::move(*temp));
      EXPECT_EQ(moved.path(), path);
      EXPECT_TRUE(path_exists(path));
    }
    EXPECT_FALSE(path_exists(path));
  }
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

// The registry a second Ctrl-C empties (remove_registered_temp_files): a live
// TempFile is listed, a committed, destroyed or moved-from one is not, and
// emptying it unlinks exactly the live temp files, leaving committed ones.
TEST(TempFile, RegistryListsLiveTempFilesAndTheHandlerRemovesThem) {
  TempDir dir;
  const size_t before = registered_temp_file_count();
  auto kept = TempFile::create(dir.path(), "blob");
  auto committed = TempFile::create(dir.path(), "index.json");
  ASSERT_TRUE(kept.ok() && committed.ok());
  EXPECT_EQ(registered_temp_file_count(), before + 2);
  ASSERT_TRUE(committed->commit(dir / "index.json").ok());
  EXPECT_EQ(registered_temp_file_count(), before + 1);
  {
    TempFile moved(std::move(*kept));
    EXPECT_EQ(registered_temp_file_count(), before + 1);  // listed once, by its new owner
    auto gone = TempFile::create(dir.path(), "blob");
    ASSERT_TRUE(gone.ok());
    EXPECT_EQ(registered_temp_file_count(), before + 2);
    EXPECT_EQ(remove_registered_temp_files(), before + 2);
    EXPECT_FALSE(path_exists(moved.path()));
    EXPECT_FALSE(path_exists(gone->path()));
    EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"index.json"});
  }
  EXPECT_EQ(registered_temp_file_count(), before);
  EXPECT_EQ(remove_registered_temp_files(), 0u);
}

// More live temp files than slots: each still works and is removed by its
// destructor; the registry frees its slots again.
TEST(TempFile, RegistryFullStillCreatesAndCleansUp) {
  TempDir dir;
  const size_t before = registered_temp_file_count();
  {
    std::vector<TempFile> many;
    for (int i = 0; i < 200; ++i) {
      auto temp = TempFile::create(dir.path(), "blob");
      ASSERT_TRUE(temp.ok());
      many.push_back(std::move(*temp));
    }
    EXPECT_LE(registered_temp_file_count(), 200u);
    EXPECT_GE(registered_temp_file_count(), 100u);
  }
  EXPECT_TRUE(list_dir(dir.path()).empty());
  EXPECT_EQ(registered_temp_file_count(), before);
}

TEST(TempFile, TempFileInMissingDirectoryFailsNamingIt) {
  TempDir dir;
  auto temp = TempFile::create(dir / "missing", "blob");
  ASSERT_FALSE(temp.ok());
  EXPECT_NE(temp.error().message.find(dir / "missing"), std::string::npos)
      << temp.error().message;
}

TEST(TempFile, FailuresAreIoErrors) {
  TempDir dir;
  auto temp = TempFile::create(dir / "missing", "blob");
  ASSERT_FALSE(temp.ok());
  EXPECT_EQ(temp.error().kind, ErrorKind::io);
  ocipack::testing::make_dirs(dir / "target");
  write_text(dir / "target/keep", "keep");
  Status status = write_file_atomic(dir / "target", "data");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::io) << status.error().message;
}

TEST(TempFile, NameRuleMatchesExactlyTheNamesTempFileMakes) {
  TempDir dir;
  auto temp = TempFile::create(dir.path(), "index.json");
  ASSERT_TRUE(temp.ok()) << temp.error().message;
  const std::string name = temp->path().substr(dir.path().size() + 1);
  EXPECT_EQ(name.rfind(temp_file_prefix("index.json"), 0), 0u) << name;
  EXPECT_TRUE(is_temp_file_name(name, "index.json")) << name;
  EXPECT_FALSE(is_temp_file_name(name, "blob")) << name;
  EXPECT_FALSE(is_temp_file_name(name + "x", "index.json"));
  EXPECT_FALSE(is_temp_file_name(name.substr(0, name.size() - 1), "index.json"));
  EXPECT_FALSE(is_temp_file_name("index.json", "index.json"));
  EXPECT_TRUE(is_temp_file_name(".blob.tmp-abcdef", "blob"));
}

}  // namespace
}  // namespace ocipack
