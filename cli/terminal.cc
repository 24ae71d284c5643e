// Terminal width and the stdin check (see terminal.h).
#include "cli/terminal.h"

#include <signal.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <atomic>

namespace ocipack::cli {

namespace {
constexpr int k_default_columns = 80;

std::atomic<bool> g_resized{false};

extern "C" void on_window_change(int) { g_resized.store(true); }
}  // namespace

int terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

TerminalWidth::TerminalWidth(int fd) : m_fd(fd) {
  struct sigaction action {};
  action.sa_handler = on_window_change;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGWINCH, &action, nullptr);
  const int columns = terminal_columns(fd);
  m_columns = columns > 0 ? columns : k_default_columns;
}

int TerminalWidth::columns() {
  if (g_resized.exchange(false)) {
    const int columns = terminal_columns(m_fd);
    if (columns > 0) m_columns = columns;
  }
  return m_columns;
}

std::string refuse_terminal_stdin(const std::vector<std::string>& rootfs_inputs, bool stdin_is_terminal) {
  if (!stdin_is_terminal || std::find(rootfs_inputs.begin(), rootfs_inputs.end(), "-") == rootfs_inputs.end())
    return "";
  return "stdin is a terminal; pipe a tar into it, e.g. tar -C DIR -c . | ocipack build - -o x";
}

}  // namespace ocipack::cli
