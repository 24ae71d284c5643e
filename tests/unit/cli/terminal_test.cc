// Tests for cli/terminal.cc: a build refuses "-" from a terminal with the
// hint, and only then; the width of something that is not a terminal is 0.
#include "cli/terminal.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace ocipack::cli {
namespace {

TEST(RefuseTerminalStdin, OnlyForDashFromATerminal) {
  EXPECT_EQ(refuse_terminal_stdin({"-"}, true),
            "stdin is a terminal; pipe a tar into it, e.g. tar -C DIR -c . | ocipack build - -o x");
  EXPECT_EQ(refuse_terminal_stdin({"base", "-"}, true).rfind("stdin is a terminal", 0), 0u);
  EXPECT_EQ(refuse_terminal_stdin({"-"}, false), "");
  EXPECT_EQ(refuse_terminal_stdin({"rootfs", "rootfs.tar"}, true), "");
}

TEST(TerminalColumns, ZeroForAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_EQ(terminal_columns(fds[0]), 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace ocipack::cli
