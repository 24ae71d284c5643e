// What the CLI asks of the terminal: its width for the progress line (read
// with TIOCGWINSZ, re-read after SIGWINCH), and whether a build's stdin is
// one (a tar cannot come from the keyboard: refused at once with a hint
// instead of waiting silently).
#pragma once

#include <string>
#include <vector>

namespace ocipack::cli {

// The width of the terminal on `fd` in columns, or 0 when it is not a
// terminal or does not say.
int terminal_columns(int fd);

// The width of the terminal on `fd`, read once and again at the first call
// after a SIGWINCH (its handler only sets a flag); 80 when the terminal does
// not say. The handler is installed by the constructor (SA_RESTART, so no
// read is cut short by a resize). One instance per process.
class TerminalWidth {
 public:
  explicit TerminalWidth(int fd);
  int columns();

 private:
  int m_fd;
  int m_columns;
};

// The one-line refusal when a rootfs is "-" and stdin is a terminal (exit
// status 2); empty otherwise.
std::string refuse_terminal_stdin(const std::vector<std::string>& rootfs_inputs, bool stdin_is_terminal);

}  // namespace ocipack::cli
