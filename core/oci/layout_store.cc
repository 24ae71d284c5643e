// Implementation of LayoutStore (see layout_store.h).
#include "core/oci/layout_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/oci/layout_reader.h"
#include "core/util/path.h"
#include "core/util/sha256.h"
#include "core/util/file_io.h"

namespace ocipack {

namespace {
enum class PathKind { missing, directory, other };

Result<PathKind> path_kind(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return PathKind::missing;
    return input_error("cannot access " + path + ": " + errno_text(errno));
  }
  return S_ISDIR(st.st_mode) ? PathKind::directory : PathKind::other;
}

Status check_entry_kind(const std::string& path, bool directory) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return input_error("cannot access " + path + ": " + errno_text(errno));
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return input_error(path + " is not a " + (directory ? "directory" : "regular file"));
  return ok_status();
}

// oci-layout or index.json of the output layout: a regular file (no FIFO,
// device or symlink; see read_regular_file) within the JSON size limit.
Result<std::string> read_layout_file(const std::string& dir, std::string_view name) {
  auto text = read_regular_file(dir, name, k_max_document_size);
  if (!text) return std::move(text).error().with_context("output '" + dir + "': ");
  if (!*text) return input_error("output '" + dir + "': " + std::string(name) + " disappeared while being read");
  return std::move(**text);
}
}  // namespace

Status check_unfinished_layout(const std::string& dir) {
  auto foreign = [&](const std::string& path) {
    return input_error("'" + dir + "' is a non-empty directory that is not an OCI layout (it holds " + path +
                       ", which no unfinished ocipack build leaves)");
  };
  OCIPACK_TRY_ASSIGN(const auto top, list_directory(dir));
  for (const auto& name : top) {
    const std::string path = dir + "/" + name;
    if (name == k_blobs_dir) {
      if (!check_entry_kind(path, true)) return foreign(path);
      continue;
    }
    const bool ours = name == k_oci_layout_file || is_layout_temp_name(name);
    if (!ours || !check_entry_kind(path, false)) return foreign(path);
  }
  if (std::find(top.begin(), top.end(), k_blobs_dir) == top.end()) return ok_status();
  OCIPACK_TRY_ASSIGN(const auto blobs, list_directory(dir + "/" + k_blobs_dir));
  for (const auto& name : blobs) {
    const std::string path = dir + "/" + k_blobs_dir + "/" + name;
    if (std::string(k_blobs_dir) + "/" + name != k_blob_dir || !check_entry_kind(path, true)) return foreign(path);
  }
  if (blobs.empty()) return ok_status();
  OCIPACK_TRY_ASSIGN(const auto files, list_directory(blob_dir_path(dir)));
  for (const auto& name : files) {
    const std::string path = blob_dir_path(dir) + "/" + name;
    if (!(Digest::is_hex(name) || is_blob_temp_name(name)) || !check_entry_kind(path, false)) return foreign(path);
  }
  return ok_status();
}

Result<LayoutStore> LayoutStore::open_or_create(const std::string& dir_in, const std::function<void()>& on_lock_wait) {
  const std::string dir = trim_trailing_slashes(dir_in);
  if (dir.empty()) return usage_error("output layout path is empty");
  // Create, lock, then look: until the lock is held the directory may be
  // another first build's work in progress. A directory removed and made
  // again meanwhile (that build failed and cleaned up) is locked afresh.
  for (int attempt = 0;; ++attempt) {
    OCIPACK_TRY_ASSIGN(const PathKind kind, path_kind(dir));
    if (kind == PathKind::other) return input_error("output '" + dir + "' exists and is not a directory");
    std::vector<std::string> created;
    if (kind == PathKind::missing) {
      std::vector<std::string> missing;
      for (std::string path = dir;;) {
        OCIPACK_TRY_ASSIGN(const PathKind parent_kind, path_kind(path));
        if (parent_kind == PathKind::directory) break;
        if (parent_kind == PathKind::other) return input_error("'" + path + "' exists and is not a directory");
        missing.push_back(path);
        const auto slash = path.rfind('/');
        if (slash == std::string::npos || slash == 0) break;
        path = path.substr(0, slash);
      }
      for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0755) == 0) {
          created.push_back(*it);
        } else if (errno != EEXIST) {
          for (auto made = created.rbegin(); made != created.rend(); ++made) ::rmdir(made->c_str());
          return io_error("cannot create directory " + *it + ": " + errno_text(errno));
        }
      }
    }
    OCIPACK_TRY_ASSIGN(LayoutLock lock, LayoutLock::acquire(dir, on_lock_wait));
    OCIPACK_TRY_ASSIGN(const bool current, lock.names_locked_directory());
    if (!current) {
      if (attempt < 10) continue;
      return input_error("output '" + dir + "' keeps being removed and made again by another process");
    }
    LayoutStore store(dir, std::move(lock));
    store.m_created_dirs = std::move(created);
    if (auto status = store.inspect(); !status) {
      store.discard_changes();
      return status.error();
    }
    return store;
  }
}

Status LayoutStore::inspect() {
  const std::string& dir = m_dir;
  const std::string output = "output '" + dir + "'";
  OCIPACK_TRY_ASSIGN(const PathKind layout_kind, path_kind(dir + "/" + k_oci_layout_file));
  OCIPACK_TRY_ASSIGN(const PathKind index_kind, path_kind(dir + "/" + k_index_file));
  if (index_kind == PathKind::missing) {
    if (auto status = check_unfinished_layout(dir); !status) return std::move(status).error().with_context("output ");
    if (layout_kind == PathKind::missing) return ok_status();
  }
  if (layout_kind == PathKind::missing)
    return input_error(output + " is a non-empty directory that is not an OCI layout (no oci-layout file)");
  if (layout_kind != PathKind::other) return input_error(output + ": oci-layout is not a regular file");
  m_has_oci_layout = true;
  OCIPACK_TRY_ASSIGN(m_oci_layout, read_layout_file(dir, k_oci_layout_file));
  if (auto status = check_oci_layout(m_oci_layout); !status)
    return std::move(status).error().with_context(output + ": ");
  if (index_kind == PathKind::other) {
    OCIPACK_TRY_ASSIGN(m_existing_index, read_layout_file(dir, k_index_file));
    if (auto status = check_index(*m_existing_index); !status)
      return std::move(status).error().with_context(output + ": ");
  } else if (index_kind == PathKind::directory) {
    return input_error(output + ": index.json is a directory");
  }
  return ok_status();
}

Status LayoutStore::ensure_directories() {
  // Create missing parents too, remembering what we made so a failed first
  // build can leave the file system as it found it.
  std::vector<std::string> missing;
  std::string path = blobs_dir();
  for (;;) {
    OCIPACK_TRY_ASSIGN(const PathKind kind, path_kind(path));
    if (kind == PathKind::directory) break;
    if (kind == PathKind::other) return input_error("'" + path + "' exists and is not a directory");
    missing.push_back(path);
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    path = path.substr(0, slash);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
      return io_error("cannot create directory " + *it + ": " + errno_text(errno));
    m_created_dirs.push_back(*it);
  }
  return ok_status();
}

Result<TempFile> LayoutStore::begin_blob() {
  OCIPACK_TRY(ensure_directories());
  return TempFile::create(blobs_dir(), k_blob_temp_stem);
}

Status LayoutStore::commit_blob(TempFile& temp, const Digest& digest) {
  const std::string path = blob_path(digest);
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  OCIPACK_TRY(temp.commit(path));
  if (!existed) m_created_blobs.push_back(path);
  return ok_status();
}

namespace {
// Whether `fd` from offset `start` to its end (or, with `bounded`, its
// descriptor.size bytes from `start`) is `descriptor`'s content; with
// `copy_to` set, every byte read is also written there.
Result<bool> matches_descriptor(int fd, const Descriptor& descriptor, const std::string& what,
                                int copy_to = -1, const std::string& copy_name = {}, int64_t start = 0,
                                bool bounded = false) {
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  int64_t total = 0;
  for (;;) {
    size_t want = buffer.size();
    if (bounded) want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(want), descriptor.size - total));
    if (want == 0) break;
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(start + total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return input_error("cannot read " + what + ": " + errno_text(errno));
    if (n == 0) break;
    std::string_view piece(buffer.data(), static_cast<size_t>(n));
    hash.update(piece);
    total += n;
    if (total > descriptor.size) return false;
    if (copy_to >= 0) OCIPACK_TRY(write_all(copy_to, piece, copy_name));
  }
  return total == descriptor.size && hash.finish() == descriptor.digest;
}
}  // namespace

Result<LayoutStore::ExistingCopy> LayoutStore::existing_copy(const Descriptor& descriptor) const {
  OCIPACK_TRY_ASSIGN(const auto existing, open_regular_file(m_dir, blob_relative_path(descriptor.digest)));
  if (!existing) return ExistingCopy::missing;
  OCIPACK_TRY_ASSIGN(const bool sound, matches_descriptor(existing->fd.get(), descriptor, blob_path(descriptor.digest)));
  return sound ? ExistingCopy::sound : ExistingCopy::unsound;
}

Status LayoutStore::import_blob(const std::string& source_layout, const Descriptor& descriptor) {
  const std::string target = blob_path(descriptor.digest);
  // A copy already in the output is kept only if it is sound.
  OCIPACK_TRY_ASSIGN(const ExistingCopy existing, existing_copy(descriptor));
  if (existing == ExistingCopy::sound) return ok_status();
  const bool target_exists = existing == ExistingCopy::unsound;
  OCIPACK_TRY(ensure_directories());
  const std::string source = ocipack::blob_path(source_layout, descriptor.digest);
  OCIPACK_TRY_ASSIGN(const RegularFile opened, open_blob(source_layout, descriptor, "base blob " + descriptor.digest.str()));
  const UniqueFd* in = &opened.fd;
  const std::string mismatch = "base blob " + source + " does not match its digest " + descriptor.digest.str();
  if (!target_exists) {
    // Verify, then link the very inode that was verified (through its fd).
    OCIPACK_TRY_ASSIGN(const bool sound, matches_descriptor(in->get(), descriptor, source));
    if (!sound) return corrupt_error(mismatch);
    const std::string by_fd = "/proc/self/fd/" + std::to_string(in->get());
    if (::linkat(AT_FDCWD, by_fd.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      m_created_blobs.push_back(target);
      return ok_status();
    }
  }
  // A copy, hashed again as it is written (the source may have changed).
  OCIPACK_TRY_ASSIGN(TempFile temp, begin_blob());
  OCIPACK_TRY_ASSIGN(const bool sound, matches_descriptor(in->get(), descriptor, source, temp.fd(), target));
  if (!sound) return corrupt_error(mismatch);
  return commit_blob(temp, descriptor.digest);
}

Status LayoutStore::import_blob_range(int fd, int64_t offset, const Descriptor& descriptor,
                                      const std::string& source) {
  OCIPACK_TRY_ASSIGN(const ExistingCopy existing, existing_copy(descriptor));
  if (existing == ExistingCopy::sound) return ok_status();
  OCIPACK_TRY_ASSIGN(TempFile temp, begin_blob());
  const std::string target = blob_path(descriptor.digest);
  OCIPACK_TRY_ASSIGN(const bool sound,
                     matches_descriptor(fd, descriptor, source, temp.fd(), target, offset, true));
  if (!sound) return corrupt_error(source + " does not match its digest " + descriptor.digest.str());
  return commit_blob(temp, descriptor.digest);
}

Result<Descriptor> LayoutStore::put_blob(std::string_view data, std::string media_type) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = Sha256::of(data);
  d.size = static_cast<int64_t>(data.size());
  OCIPACK_TRY_ASSIGN(const PathKind kind, path_kind(blob_path(d.digest)));
  if (kind == PathKind::other) {
    struct stat st {};
    if (::stat(blob_path(d.digest).c_str(), &st) == 0 && st.st_size == d.size) return d;
  }
  OCIPACK_TRY_ASSIGN(TempFile temp, begin_blob());
  OCIPACK_TRY(write_all(temp.fd(), data, blob_path(d.digest)));
  OCIPACK_TRY(commit_blob(temp, d.digest));
  return d;
}

Status LayoutStore::write_index(std::string_view index_json) {
  OCIPACK_TRY(ensure_directories());
  if (!m_has_oci_layout) {
    OCIPACK_TRY(write_file_atomic(m_dir + "/" + k_oci_layout_file, k_oci_layout_json));
    m_has_oci_layout = true;
  }
  OCIPACK_TRY(write_file_atomic(m_dir + "/" + k_index_file, index_json));
  m_existing_index = std::string(index_json);
  return ok_status();
}

void LayoutStore::keep_changes() {
  m_created_blobs.clear();
  m_created_dirs.clear();
}

void LayoutStore::discard_changes() {
  for (const auto& blob : m_created_blobs) ::unlink(blob.c_str());
  m_created_blobs.clear();
  for (auto it = m_created_dirs.rbegin(); it != m_created_dirs.rend(); ++it) ::rmdir(it->c_str());
  m_created_dirs.clear();
}

}  // namespace ocipack
