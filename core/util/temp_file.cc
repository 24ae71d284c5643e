// Implementation of TempFile and write_file_atomic (see temp_file.h). The
// order in commit() — data fsync, close, rename, directory fsync — is what
// keeps an existing layout valid when a build fails or is killed half-way.
#include "core/util/temp_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/util/file_io.h"
#include "core/util/path.h"

namespace ocipack {

std::string temp_file_prefix(std::string_view stem) { return "." + std::string(stem) + ".tmp-"; }

bool is_temp_file_name(std::string_view name, std::string_view stem) {
  const std::string prefix = temp_file_prefix(stem);
  return name.size() == prefix.size() + k_temp_file_random_chars && name.substr(0, prefix.size()) == prefix;
}

Result<TempFile> TempFile::create(const std::string& dir, const std::string& stem) {
  const std::string pattern = dir + "/" + temp_file_prefix(stem) + std::string(k_temp_file_random_chars, 'X');
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return io_error("cannot create a temporary file in " + dir + ": " + errno_text(errno));
  ::fchmod(fd, 0644);
  return TempFile(UniqueFd(fd), std::string(buf.data()));
}

TempFile::TempFile(TempFile&& other) noexcept
    : m_fd(std::move(other.m_fd)), m_path(std::move(other.m_path)), m_committed(other.m_committed) {
  other.m_committed = true;  // the moved-from object owns nothing
}

TempFile::~TempFile() {
  if (!m_committed && !m_path.empty()) ::unlink(m_path.c_str());
}

Status TempFile::commit(const std::string& final_path) {
  if (::fsync(m_fd.get()) != 0) return io_error("cannot fsync " + final_path + ": " + errno_text(errno));
  int fd = m_fd.release();
  if (::close(fd) != 0) return io_error("cannot write " + final_path + ": " + errno_text(errno));
  if (::rename(m_path.c_str(), final_path.c_str()) != 0)
    return io_error("cannot rename into " + final_path + ": " + errno_text(errno));
  m_committed = true;
  return fsync_dir(parent_directory(final_path));
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  OCIPACK_TRY_ASSIGN(auto temp, TempFile::create(parent_directory(path), base_name(path)));
  OCIPACK_TRY(write_all(temp.fd(), data, path));
  return temp.commit(path);
}

}  // namespace ocipack
