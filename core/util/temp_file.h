// Durable replacement of a file: a TempFile is written next to its final
// name and renamed over it only when complete (fsync, rename, fsync of the
// directory), so a build that fails or is killed half-way never leaves a
// half-written file under a real name; write_file_atomic does the whole dance
// for a small buffer. The temp names follow one rule, defined here, which the
// clean-up of stale temp files (gc, the layout store, the tarball writer)
// matches through is_temp_file_name instead of spelling the pattern again.
// Failures are io errors: they concern ocipack's own output.
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
  TempFile(UniqueFd fd, std::string path) : m_fd(std::move(fd)), m_path(std::move(path)) {}
  UniqueFd m_fd;
  std::string m_path;
  bool m_committed = false;
};

// Writes `data` to `path` atomically: a TempFile in the same directory,
// committed over `path`. On failure the temp file is removed and `path` is
// untouched.
Status write_file_atomic(const std::string& path, std::string_view data);

}  // namespace ocipack
