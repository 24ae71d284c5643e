// Implementation of the untrusted-tree openers (see open_beneath.h): one
// component at a time, each looked at before it is opened and checked again
// after.
#include "core/util/open_beneath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/util/file_io.h"

namespace ocipack {

namespace {
Error not_regular(const std::string& path, mode_t mode, bool is_component) {
  if (S_ISLNK(mode))
    return input_error(path + " is a symbolic link (a layout is a plain tree: symlinks in it are not followed)");
  if (is_component) return input_error(path + " is " + file_type_name(mode) + ", not a directory");
  return input_error(path + " is " + file_type_name(mode) + ", not a regular file");
}

// Every component of `relative` is a plain name (not empty, ".", or "..").
Status check_plain_relative(const std::string& dir, std::string_view relative) {
  for (size_t start = 0;;) {
    const size_t slash = relative.find('/', start);
    const std::string_view name = relative.substr(start, slash == std::string_view::npos ? relative.npos : slash - start);
    if (name.empty() || name == "." || name == "..")
      return input_error(dir + "/" + std::string(relative) + ": not a plain relative path");
    if (slash == std::string_view::npos) return ok_status();
    start = slash + 1;
  }
}

// The walk behind open_regular_file and open_directory_beneath: the last
// component must be a regular file (`want_directory` false) or a directory.
Result<std::optional<RegularFile>> open_beneath(const std::string& dir, std::string_view relative,
                                                bool want_directory) {
  OCIPACK_TRY(check_plain_relative(dir, relative));
  std::string path = dir;
  UniqueFd parent(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent.valid()) {
    if (errno == ENOENT) return std::optional<RegularFile>();
    return input_error("cannot open directory " + dir + ": " + errno_text(errno));
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
      return input_error("cannot access " + path + ": " + errno_text(errno));
    }
    if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) return not_regular(path, st.st_mode, directory);
    const int flags = directory ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                                : O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    UniqueFd fd(::openat(parent.get(), name.c_str(), flags));
    if (!fd.valid()) {
      if (errno == ENOENT) return std::optional<RegularFile>();
      if (errno == ELOOP) return not_regular(path, S_IFLNK, directory);
      return input_error("cannot open " + path + ": " + errno_text(errno));
    }
    if (::fstat(fd.get(), &st) != 0) return input_error("cannot stat " + path + ": " + errno_text(errno));
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
  OCIPACK_TRY_ASSIGN(auto opened, open_beneath(dir, relative, true));
  if (!opened) return std::optional<UniqueFd>();
  return std::optional<UniqueFd>(std::move(opened->fd));
}

Result<std::optional<std::string>> read_regular_file(const std::string& dir, std::string_view relative,
                                                     int64_t max_size) {
  OCIPACK_TRY_ASSIGN(auto file, open_regular_file(dir, relative));
  if (!file) return std::optional<std::string>();
  const std::string path = dir + "/" + std::string(relative);
  auto too_large = [&](int64_t size) {
    return input_error(path + " is too large (" + std::to_string(size) + " bytes, limit " +
                       std::to_string(max_size) + ")");
  };
  if (file->size > max_size) return too_large(file->size);
  std::string out;
  out.reserve(static_cast<size_t>(file->size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(file->fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return input_error("cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > max_size) return too_large(static_cast<int64_t>(out.size()));
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace ocipack
