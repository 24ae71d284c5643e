// Durable replacement of a file: a TempFile is written next to its final
// name and renamed over it only when complete (fsync, rename, fsync of the
// directory), so a build that fails or is killed half-way never leaves a
// half-written file under a real name; write_file_atomic does the whole dance
// for a small buffer. The temp names follow one rule, defined here, which the
// clean-up of stale temp files (gc, the layout store, the tarball writer)
// matches through is_temp_file_name instead of spelling the pattern again.
// Failures are io errors: they concern ocipack's own output.
//
// Every live TempFile is also listed in a fixed-size, process-wide registry
// that a signal handler can read: remove_registered_temp_files() unlinks
// them with async-signal-safe calls only, so a process that must exit at
// once (a second Ctrl-C, cli/main.cc) still leaves no temp file behind. Each
// slot carries a sequence number, odd while its path is being written; the
// handler unlinks only a path it read between two equal even numbers, so a
// slot changing under it (another thread, or the interrupted one) is skipped,
// never half-read. A TempFile that finds no free slot is simply not listed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/util/result.h"
#include "core/util/unique_fd.h"

namespace ocipack {

// Temp names are ".<stem>.tmp-" followed by k_temp_file_random_chars
// characters chosen by mkostemp.
inline constexpr size_t k_temp_file_random_chars = 6;
std::string temp_file_prefix(std::string_view stem);
// Whether `name` (a directory entry, no '/') is a TempFile name for `stem`.
bool is_temp_file_name(std::string_view name, std::string_view stem);

// Unlinks every TempFile currently listed in the registry. Async-signal-safe
// (atomic loads and unlink only; no allocation, no locks); returns how many
// were unlinked. Meant for a signal handler that then calls _exit.
size_t remove_registered_temp_files() noexcept;
// How many TempFiles are listed now (for tests).
size_t registered_temp_file_count() noexcept;

// A temporary file next to its final name; removed on destruction unless
// commit() renamed it into place.
class TempFile {
 public:
  // Creates `<dir>/.<stem>.tmp-XXXXXX` (mkostemp, O_CLOEXEC, mode 0644).
  static Result<TempFile> create(const std::string& dir, const std::string& stem);
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  ~TempFile();

  int fd() const { return m_fd.get(); }
  const std::string& path() const { return m_path; }
  // fsync, close, rename to `final_path`, fsync the directory.
  Status commit(const std::string& final_path);

 private:
  TempFile(UniqueFd fd, std::string path);
  UniqueFd m_fd;
  std::string m_path;
  bool m_committed = false;
  int m_slot = -1;  // its registry slot, -1 when not listed
};

// Writes `data` to `path` atomically: a TempFile in the same directory,
// committed over `path`. On failure the temp file is removed and `path` is
// untouched.
Status write_file_atomic(const std::string& path, std::string_view data);

}  // namespace ocipack
