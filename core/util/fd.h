// RAII for POSIX file descriptors and small, error-reporting file helpers
// (read fully, write fully, atomic replace). Every helper names the path it
// failed on so callers can hand the message straight to the user.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/path.h"
#include "core/util/result.h"

namespace ocipack {

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  int release() {
    int fd = m_fd;
    m_fd = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int m_fd = -1;
};

// What kind of file `mode` says ("a FIFO", "a symbolic link", ...), for
// messages such as "X is a FIFO, not a regular file".
const char* file_type_name(mode_t mode);

// errno as text, for messages.
std::string errno_text(int err);

// write() until all bytes are written; EINTR-safe. `what` names the file.
Status write_all(int fd, std::span<const std::byte> data, const std::string& what);
Status write_all(int fd, std::string_view data, const std::string& what);

// Reads a whole (small) file.
Result<std::string> read_file(const std::string& path);

// A file of a tree ocipack does not trust (an OCI layout): opened for
// reading, known to be a regular file of `size` bytes when it was opened.
struct RegularFile {
  UniqueFd fd;
  int64_t size = 0;
};

// Opens `relative` (plain components joined by '/', no "..") below the
// directory `dir` without blocking and without following any symlink below
// `dir`: each directory on the way is opened O_DIRECTORY|O_NOFOLLOW relative
// to the previous one, the file is looked at with fstatat(AT_SYMLINK_NOFOLLOW)
// before it is opened (so the driver of a device node is never asked to open
// it), then opened O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC|O_NOCTTY and
// checked again with fstat (it may have been swapped in between). `dir`
// itself is followed: the user named it. A FIFO, socket, device, directory or
// symlink gives an error naming `dir/relative` and what it is; nullopt means
// that it (or a directory on the way) does not exist, so callers word
// "missing" themselves. O_NONBLOCK does not change how a regular file reads.
Result<std::optional<RegularFile>> open_regular_file(const std::string& dir, std::string_view relative);

// The same walk for a directory below `dir`: an O_DIRECTORY|O_NOFOLLOW
// descriptor of `relative`, nullopt if it does not exist; a symlink or
// anything but a directory (on the way or at the end) is an error naming it.
Result<std::optional<UniqueFd>> open_directory_beneath(const std::string& dir, std::string_view relative);

// open_regular_file, then the whole content, refusing a file of more than
// `max_size` bytes (or one that grows past it while being read). nullopt: missing.
Result<std::optional<std::string>> read_regular_file(const std::string& dir, std::string_view relative,
                                                     int64_t max_size);

// Writes `data` to `path` atomically: temp file in the same directory, fsync,
// rename over `path`, fsync the directory. On failure the temp file is removed
// and `path` is untouched.
Status write_file_atomic(const std::string& path, std::string_view data);

// The entry names of `dir` without "." and "..", sorted bytewise (the order
// every walk and listing in ocipack uses). Errors name the directory.
Result<std::vector<std::string>> list_directory(const std::string& dir);
// The same for the open directory `dir_fd` (`dir` names it in errors), so
// paths of any length can be listed relative to it.
Result<std::vector<std::string>> list_directory_at(int dir_fd, const std::string& dir);

// fsync a directory so a rename inside it is durable.
Status fsync_dir(const std::string& dir);

// A temporary file next to its final name; removed on destruction unless
// commit() renamed it into place.
class TempFile {
 public:
  // Creates `<dir>/.<stem>.tmp-XXXXXX` (mkostemp, O_CLOEXEC).
  static Result<TempFile> create(const std::string& dir, const std::string& stem);
  // Whether `name` is one create(dir, stem) makes: ".<stem>.tmp-" and six
  // more characters (what cleanups of killed runs look for).
  static bool is_name_of(std::string_view name, std::string_view stem);
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

}  // namespace ocipack
