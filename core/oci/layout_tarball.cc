// Layout tarball writer (see layout_tarball.h). Blob contents are streamed
// through a fixed buffer, so memory does not depend on the layer size.
#include "core/oci/layout_tarball.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "core/oci/layout_paths.h"
#include "core/tar/tar_writer.h"
#include "core/util/file_io.h"
#include "core/util/open_beneath.h"
#include "core/util/temp_file.h"
#include "core/util/path.h"

namespace ocipack {

namespace {
// Blob names in sorted order, without hidden files (temp files of builds).
Result<std::vector<std::string>> list_blob_names(const std::string& dir) {
  OCIPACK_TRY_ASSIGN(auto names, list_directory(dir));
  std::erase_if(names, [](const std::string& name) { return name[0] == '.'; });
  return names;
}

class TarFileWriter {
 public:
  // `prefix`: "" or "TOP/", put before every entry's path.
  TarFileWriter(int fd, std::string what, int64_t mtime, const std::atomic<bool>* cancel, std::string prefix)
      : m_fd(fd), m_what(std::move(what)), m_mtime(mtime), m_cancel(cancel), m_prefix(std::move(prefix)) {}

  Status directory(const std::string& path) {
    TarEntry e;
    e.path = path;
    e.type = EntryType::directory;
    e.mode = 0755;
    e.mtime = m_mtime;
    return header(e);
  }

  Status file_from_memory(const std::string& name, std::string_view data) {
    TarEntry e;
    e.path = name;
    e.mode = 0644;
    e.mtime = m_mtime;
    e.size = data.size();
    OCIPACK_TRY(header(e));
    OCIPACK_TRY(write_all(m_fd, data, m_what));
    return write_all(m_fd, std::string(tar_padding(e.size), '\0'), m_what);
  }

  // A blob of the layout: opened with open_regular_file (core/util/open_beneath.h), so a
  // FIFO, device or symlink in blobs/sha256 is an error, not a hang or a read
  // of something outside the layout.
  Status file(const std::string& name, const std::string& layout_dir) {
    const std::string source = layout_dir + "/" + name;
    OCIPACK_TRY_ASSIGN(const auto file, open_regular_file(layout_dir, name));
    if (!file) return input_error("cannot open " + source + ": it disappeared");
    const UniqueFd& in = file->fd;
    TarEntry e;
    e.path = name;
    e.mode = 0644;
    e.mtime = m_mtime;
    e.size = static_cast<uint64_t>(file->size);
    OCIPACK_TRY(header(e));
    std::vector<char> buffer(1 << 20);
    uint64_t left = e.size;
    while (left > 0) {
      if (m_cancel && m_cancel->load(std::memory_order_relaxed)) return interrupted_error();
      ssize_t n = ::read(in.get(), buffer.data(), std::min<uint64_t>(left, buffer.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return input_error("cannot read " + source + ": " + errno_text(errno));
      if (n == 0) return input_error(source + " shrank while being packed");
      OCIPACK_TRY(write_all(m_fd, std::string_view(buffer.data(), static_cast<size_t>(n)), m_what));
      left -= static_cast<uint64_t>(n);
    }
    return write_all(m_fd, std::string(tar_padding(e.size), '\0'), m_what);
  }

  Status trailer() { return write_all(m_fd, std::string(k_tar_trailer_size, '\0'), m_what); }

 private:
  Status header(TarEntry e) {
    e.path = m_prefix + e.path;
    m_header.clear();
    OCIPACK_TRY(append_tar_header(e, m_header));
    return write_all(m_fd, m_header, m_what);
  }
  int m_fd;
  std::string m_what;
  int64_t m_mtime;
  const std::atomic<bool>* m_cancel;
  std::string m_prefix;
  std::string m_header;
};
bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// A second descriptor of `path`, flock'ed (LOCK_EX; LOCK_NB unless `wait`),
// when `path` is a regular file and still the one the descriptor names.
Result<UniqueFd> lock_temp(const std::string& path, bool wait) {
  struct stat first {};
  if (::lstat(path.c_str(), &first) != 0 || !S_ISREG(first.st_mode))  // never open a device or FIFO
    return io_error(path + " is not a regular file");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open " + path + ": " + errno_text(errno));
  struct stat held {}, named {};
  if (::fstat(fd.get(), &held) != 0 || !S_ISREG(held.st_mode)) return io_error(path + " is not a regular file");
  while (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0)
    if (errno != EINTR) return io_error(path + " is locked by another build");
  if (::lstat(path.c_str(), &named) != 0 || !same_file(held, named)) return io_error(path + " was replaced");
  return fd;
}

// TempFile's names for `output`.
bool is_temp_of(const std::string& name, const std::string& output) {
  return is_temp_file_name(name, base_name(output));
}
}  // namespace

size_t remove_stale_tarball_temps(const std::string& output) {
  const std::string dir = parent_directory(output);
  auto names = list_directory(dir);
  if (!names) return 0;
  size_t removed = 0;
  for (const auto& name : *names) {
    if (!is_temp_of(name, output)) continue;
    const std::string path = dir + "/" + name;
    // Unlocked: no build is staging it (a build holds the lock from creation).
    if (auto held = lock_temp(path, false); held && ::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

Result<StagedTarball> stage_layout_tarball(const std::string& layout_dir, const std::string& output,
                                           std::string_view oci_layout, std::string_view index_json,
                                           int64_t mtime, const std::atomic<bool>* cancel,
                                           const std::string& top_dir) {
  OCIPACK_TRY_ASSIGN(const auto blobs, list_blob_names(blob_dir_path(layout_dir)));
  remove_stale_tarball_temps(output);
  std::optional<TempFile> temp;
  UniqueFd lock;
  // Between mkostemp and flock another build's cleanup may take the new file
  // for a leftover and remove it: then make another.
  for (int attempt = 0; !lock.valid(); ++attempt) {
    OCIPACK_TRY_ASSIGN(TempFile created, TempFile::create(parent_directory(output), base_name(output)));
    temp.emplace(std::move(created));
    auto held = lock_temp(temp->path(), true);
    if (held) lock = std::move(*held);
    else if (attempt == 10) return held.error();
    else temp.reset();
  }
  TarFileWriter writer(temp->fd(), output, mtime, cancel, top_dir.empty() ? "" : top_dir + "/");
  if (!top_dir.empty()) OCIPACK_TRY(writer.directory(""));
  OCIPACK_TRY(writer.file_from_memory(k_oci_layout_file, oci_layout));
  OCIPACK_TRY(writer.file_from_memory(k_index_file, index_json));
  OCIPACK_TRY(writer.directory(std::string(k_blobs_dir) + "/"));
  OCIPACK_TRY(writer.directory(std::string(k_blob_dir) + "/"));
  for (const auto& name : blobs) OCIPACK_TRY(writer.file(std::string(k_blob_dir) + "/" + name, layout_dir));
  OCIPACK_TRY(writer.trailer());
  return StagedTarball{std::move(*temp), std::move(lock)};
}

}  // namespace ocipack
