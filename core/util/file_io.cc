// Implementation of the file and directory helpers (see file_io.h).
#include "core/util/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/util/unique_fd.h"

namespace ocipack {

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

std::string errno_text(int err) { return std::strerror(err); }

ssize_t pread_full(int fd, void* data, size_t size, uint64_t offset) {
  auto* out = static_cast<char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

Status write_all(int fd, std::span<const std::byte> data, const std::string& what) {
  const std::byte* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write " + what + ": " + errno_text(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return ok_status();
}

Status write_all(int fd, std::string_view data, const std::string& what) {
  return write_all(fd, std::as_bytes(std::span(data.data(), data.size())), what);
}

Status write_all(int fd, std::span<const std::span<const std::byte>> parts, const std::string& what) {
  constexpr size_t k_max_parts = 8;
  if (parts.size() > k_max_parts) {
    for (std::span<const std::byte> part : parts) OCIPACK_TRY(write_all(fd, part, what));
    return ok_status();
  }
  struct iovec iov[k_max_parts];
  size_t count = 0;
  for (std::span<const std::byte> part : parts)
    if (!part.empty()) iov[count++] = {const_cast<std::byte*>(part.data()), part.size()};
  struct iovec* next = iov;
  while (count > 0) {
    const ssize_t n = ::writev(fd, next, static_cast<int>(count));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write " + what + ": " + errno_text(errno));
    }
    // Skip what was written: whole buffers, then into the first one left.
    size_t done = static_cast<size_t>(n);
    while (count > 0 && done >= next->iov_len) {
      done -= next->iov_len;
      ++next;
      --count;
    }
    if (count > 0) {
      next->iov_base = static_cast<std::byte*>(next->iov_base) + done;
      next->iov_len -= done;
    }
  }
  return ok_status();
}

void start_writeback(int fd, uint64_t offset, uint64_t length) {
  ::sync_file_range(fd, static_cast<off64_t>(offset), static_cast<off64_t>(length), SYNC_FILE_RANGE_WRITE);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return input_error("cannot open " + path + ": " + errno_text(errno));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return input_error("cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open directory " + dir + ": " + errno_text(errno));
  if (::fsync(fd.get()) != 0) return io_error("cannot fsync " + dir + ": " + errno_text(errno));
  return ok_status();
}

namespace {
// std::string compares as unsigned bytes (char_traits<char>::compare is
// memcmp): exactly the bytewise order promised for layers.
void sort_bytewise(std::vector<std::string>& names) { std::sort(names.begin(), names.end()); }

// Reads and closes `d` (null: opening failed, errno says why).
Result<std::vector<std::string>> list_directory_of(DIR* d, const std::string& dir) {
  if (!d) return input_error("cannot open directory " + dir + ": " + errno_text(errno));
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
  if (read_error != 0) return input_error("cannot read directory " + dir + ": " + errno_text(read_error));
  sort_bytewise(names);
  return names;
}
}  // namespace

Result<std::vector<std::string>> list_directory(const std::string& dir) {
  return list_directory_of(::opendir(dir.c_str()), dir);
}

Result<std::vector<DirectoryName>> list_directory_typed_at(int dir_fd, const std::string& dir, bool fresh) {
  // getdents64 on dir_fd itself, from its start: opendir would want a
  // descriptor of its own (openat ".", fstat, two fcntl, close: five system
  // calls more per directory, in walks of thousands of directories). The
  // offset it leaves does not matter to the *at() calls the fd is kept for.
  if (!fresh && ::lseek(dir_fd, 0, SEEK_SET) < 0) return input_error("cannot read directory " + dir + ": " + errno_text(errno));
  std::vector<DirectoryName> names;
  alignas(struct dirent64) char buffer[32768];
  for (;;) {
    const ssize_t n = ::getdents64(dir_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return input_error("cannot read directory " + dir + ": " + errno_text(errno));
    if (n == 0) break;
    for (ssize_t pos = 0; pos < n;) {
      const auto* entry = reinterpret_cast<const struct dirent64*>(buffer + pos);
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.push_back({std::string(name), entry->d_type});
      pos += entry->d_reclen;
    }
  }
  std::sort(names.begin(), names.end(), [](const DirectoryName& a, const DirectoryName& b) { return a.name < b.name; });
  return names;
}

Result<std::vector<std::string>> list_directory_at(int dir_fd, const std::string& dir, bool fresh) {
  OCIPACK_TRY_ASSIGN(auto typed, list_directory_typed_at(dir_fd, dir, fresh));
  std::vector<std::string> names;
  names.reserve(typed.size());
  for (auto& entry : typed) names.push_back(std::move(entry.name));
  return names;
}

}  // namespace ocipack
