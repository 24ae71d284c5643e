// Tests for core/oci/layout_lock.cc: LayoutLock excludes a second holder
// (another descriptor in this process, or a forked child), moves keep it,
// destruction releases it, and a missing directory is named.
#include "core/oci/layout_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "fake_layout.h"
#include "test_helpers.h"
#include "expect_error.h"

namespace ocipack {
namespace {

using ocipack::testing::expect_error;

using ocipack::testing::FakeLayout;
using ocipack::testing::TempDir;

TEST(LayoutLockTest, ExcludesASecondHolder) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto lock = LayoutLock::acquire(layout.dir());
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EXPECT_EQ(lock->path(), layout.dir());

  // flock locks belong to open file descriptions: a second open in this
  // process is a second holder.
  expect_error(LayoutLock::try_acquire(layout.dir()), {"locked by another process", layout.dir()});
  {
    int fd = ::open(lock->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
    ::close(fd);
  }
  // A forked child cannot take it either.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = ::open(layout.dir().c_str(), O_RDONLY | O_DIRECTORY);
    ::_exit(fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // Moving keeps the lock; destruction releases it.
  LayoutLock moved = std::move(*lock);
  EXPECT_FALSE(LayoutLock::try_acquire(layout.dir()).ok());
  { LayoutLock gone = std::move(moved); }
  auto again = LayoutLock::try_acquire(layout.dir());
  ASSERT_TRUE(again.ok()) << again.error().message;

  expect_error(LayoutLock::acquire(tmp / "absent"), {"cannot open layout directory", tmp / "absent"});
}

}  // namespace
}  // namespace ocipack
