// Tests for core/util/unique_fd.h: UniqueFd closes what it owns exactly
// once, and not what it released or gave away by moving.
#include "core/util/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <gtest/gtest.h>

namespace ocipack {
namespace {

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

TEST(UniqueFd, UniqueFdClosesOnDestructionAndReset) {
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

TEST(UniqueFd, UniqueFdReleaseAndMove) {
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

}  // namespace
}  // namespace ocipack
