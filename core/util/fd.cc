// Implementation of the RAII fd and the durable-write helpers. The write path
// (temp file + fsync + rename + directory fsync) is what keeps an existing
// layout valid when a build fails or is killed half-way.
#include "core/util/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ocipack {

void UniqueFd::reset(int fd) {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = fd;
}

std::string errno_text(int err) { return std::strerror(err); }

Status write_all(int fd, std::span<const std::byte> data, const std::string& what) {
  const std::byte* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot write " + what + ": " + errno_text(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return ok_status();
}

Status write_all(int fd, std::string_view data, const std::string& what) {
  return write_all(fd, std::as_bytes(std::span(data.data(), data.size())), what);
}

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error("cannot open " + path + ": " + errno_text(errno));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

const char* file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISREG(mode)) return "a regular file";
  return "of an unknown file type";
}

namespace {
Error not_regular(const std::string& path, mode_t mode, bool is_component) {
  if (S_ISLNK(mode))
    return make_error(path + " is a symbolic link (a layout is a plain tree: symlinks in it are not followed)");
  if (is_component) return make_error(path + " is " + file_type_name(mode) + ", not a directory");
  return make_error(path + " is " + file_type_name(mode) + ", not a regular file");
}

// The walk behind open_regular_file and open_directory_beneath: the last
// component must be a regular file (`want_directory` false) or a directory.
Result<std::optional<RegularFile>> open_beneath(const std::string& dir, std::string_view relative,
                                                bool want_directory) {
  std::string path = dir;
  for (size_t start = 0;;) {
    const size_t slash = relative.find('/', start);
    const std::string_view name = relative.substr(start, slash == std::string_view::npos ? relative.npos : slash - start);
    if (name.empty() || name == "." || name == "..")
      return make_error(dir + "/" + std::string(relative) + ": not a plain relative path");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  UniqueFd parent(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent.valid()) {
    if (errno == ENOENT) return std::optional<RegularFile>();
    return make_error("cannot open directory " + dir + ": " + errno_text(errno));
  }
  size_t start = 0;
  for (;;) {
    const size_t slash = relative.find('/', start);
    const bool last = slash == std::string_view::npos;
    const bool directory = !last || want_directory;
    const std::string name(relative.substr(start, last ? std::string_view::npos : slash - start));
    path += "/" + name;
    struct stat st {};
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return std::optional<RegularFile>();
      return make_error("cannot access " + path + ": " + errno_text(errno));
    }
    if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) return not_regular(path, st.st_mode, directory);
    const int flags = directory ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                                : O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    UniqueFd fd(::openat(parent.get(), name.c_str(), flags));
    if (!fd.valid()) {
      if (errno == ENOENT) return std::optional<RegularFile>();
      if (errno == ELOOP) return not_regular(path, S_IFLNK, directory);
      return make_error("cannot open " + path + ": " + errno_text(errno));
    }
    if (::fstat(fd.get(), &st) != 0) return make_error("cannot stat " + path + ": " + errno_text(errno));
    if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) return not_regular(path, st.st_mode, directory);
    if (last) return std::optional<RegularFile>(RegularFile{std::move(fd), static_cast<int64_t>(st.st_size)});
    parent = std::move(fd);
    start = slash + 1;
  }
}
}  // namespace

Result<std::optional<RegularFile>> open_regular_file(const std::string& dir, std::string_view relative) {
  return open_beneath(dir, relative, false);
}

Result<std::optional<UniqueFd>> open_directory_beneath(const std::string& dir, std::string_view relative) {
  auto opened = open_beneath(dir, relative, true);
  if (!opened) return opened.error();
  if (!*opened) return std::optional<UniqueFd>();
  return std::optional<UniqueFd>(std::move((*opened)->fd));
}

Result<std::optional<std::string>> read_regular_file(const std::string& dir, std::string_view relative,
                                                     int64_t max_size) {
  auto file = open_regular_file(dir, relative);
  if (!file) return file.error();
  if (!*file) return std::optional<std::string>();
  const std::string path = dir + "/" + std::string(relative);
  auto too_large = [&](int64_t size) {
    return make_error(path + " is too large (" + std::to_string(size) + " bytes, limit " +
                      std::to_string(max_size) + ")");
  };
  if ((*file)->size > max_size) return too_large((*file)->size);
  std::string out;
  out.reserve(static_cast<size_t>((*file)->size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read((*file)->fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > max_size) return too_large(static_cast<int64_t>(out.size()));
  }
  return std::optional<std::string>(std::move(out));
}

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return make_error("cannot open directory " + dir + ": " + errno_text(errno));
  if (::fsync(fd.get()) != 0) return make_error("cannot fsync " + dir + ": " + errno_text(errno));
  return ok_status();
}

namespace {
// Reads and closes `d` (null: opening failed, errno says why).
Result<std::vector<std::string>> list_directory_of(DIR* d, const std::string& dir) {
  if (!d) return make_error("cannot open directory " + dir + ": " + errno_text(errno));
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* ent = ::readdir(d);
    if (!ent) break;
    std::string_view name = ent->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int read_error = errno;
  ::closedir(d);
  if (read_error != 0) return make_error("cannot read directory " + dir + ": " + errno_text(read_error));
  // std::string compares as unsigned bytes (char_traits<char>::compare is
  // memcmp): exactly the bytewise order promised for layers.
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

Result<std::vector<std::string>> list_directory(const std::string& dir) {
  return list_directory_of(::opendir(dir.c_str()), dir);
}

Result<std::vector<std::string>> list_directory_at(int dir_fd, const std::string& dir) {
  // A descriptor of its own: readdir moves the offset of the one it reads.
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!d && fd >= 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
  }
  return list_directory_of(d, dir);
}

Result<TempFile> TempFile::create(const std::string& dir, const std::string& stem) {
  std::string pattern = dir + "/." + stem + ".tmp-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return make_error("cannot create a temporary file in " + dir + ": " + errno_text(errno));
  ::fchmod(fd, 0644);
  return TempFile(UniqueFd(fd), std::string(buf.data()));
}

bool TempFile::is_name_of(std::string_view name, std::string_view stem) {
  constexpr std::string_view k_suffix = ".tmp-";
  constexpr size_t k_random = 6;  // the XXXXXX of mkostemp
  return name.size() == 1 + stem.size() + k_suffix.size() + k_random && name[0] == '.' &&
         name.substr(1, stem.size()) == stem && name.substr(1 + stem.size(), k_suffix.size()) == k_suffix;
}

TempFile::TempFile(TempFile&& other) noexcept
    : m_fd(std::move(other.m_fd)), m_path(std::move(other.m_path)), m_committed(other.m_committed) {
  other.m_committed = true;  // the moved-from object owns nothing
}

TempFile::~TempFile() {
  if (!m_committed && !m_path.empty()) ::unlink(m_path.c_str());
}

Status TempFile::commit(const std::string& final_path) {
  if (::fsync(m_fd.get()) != 0)
    return make_error("cannot fsync " + final_path + ": " + errno_text(errno));
  int fd = m_fd.release();
  if (::close(fd) != 0) return make_error("cannot write " + final_path + ": " + errno_text(errno));
  if (::rename(m_path.c_str(), final_path.c_str()) != 0)
    return make_error("cannot rename into " + final_path + ": " + errno_text(errno));
  m_committed = true;
  return fsync_dir(parent_directory(final_path));
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  auto temp = TempFile::create(parent_directory(path), base_name(path));
  if (!temp) return temp.error();
  OCIPACK_TRY(write_all(temp->fd(), data, path));
  return temp->commit(path);
}

}  // namespace ocipack
