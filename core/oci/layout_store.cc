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
#include "core/util/sha256.h"
#include "core/util/file_io.h"

namespace ocipack {

namespace {
enum class PathKind { missing, directory, other };

Result<PathKind> path_kind(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return PathKind::missing;
    return make_error("cannot access " + path + ": " + errno_text(errno));
  }
  return S_ISDIR(st.st_mode) ? PathKind::directory : PathKind::other;
}

// TempFile names (core/util/temp_file.h): ".<stem>.tmp-" and six more characters.
bool is_temp_name(std::string_view name, std::string_view stem) {
  const std::string prefix = "." + std::string(stem) + ".tmp-";
  return name.size() == prefix.size() + 6 && name.rfind(prefix, 0) == 0;
}

Status check_entry_kind(const std::string& path, bool directory) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return make_error("cannot access " + path + ": " + errno_text(errno));
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return make_error(path + " is not a " + (directory ? "directory" : "regular file"));
  return ok_status();
}

// oci-layout or index.json of the output layout: a regular file (no FIFO,
// device or symlink; see read_regular_file) within the JSON size limit.
Result<std::string> read_layout_file(const std::string& dir, std::string_view name) {
  auto text = read_regular_file(dir, name, k_max_document_size);
  if (!text) return make_error("output '" + dir + "': " + text.error().message);
  if (!*text) return make_error("output '" + dir + "': " + std::string(name) + " disappeared while being read");
  return std::move(**text);
}
}  // namespace

Status check_unfinished_layout(const std::string& dir) {
  auto foreign = [&](const std::string& path) {
    return make_error("'" + dir + "' is a non-empty directory that is not an OCI layout (it holds " + path +
                      ", which no unfinished ocipack build leaves)");
  };
  auto top = list_directory(dir);
  if (!top) return top.error();
  for (const auto& name : *top) {
    const std::string path = dir + "/" + name;
    if (name == "blobs") {
      if (!check_entry_kind(path, true)) return foreign(path);
      continue;
    }
    const bool ours = name == "oci-layout" || is_temp_name(name, "index.json") || is_temp_name(name, "oci-layout") ||
                      (name.size() == 21 && name.rfind(".ocipack-spool-", 0) == 0);
    if (!ours || !check_entry_kind(path, false)) return foreign(path);
  }
  if (std::find(top->begin(), top->end(), "blobs") == top->end()) return ok_status();
  auto blobs = list_directory(dir + "/blobs");
  if (!blobs) return blobs.error();
  for (const auto& name : *blobs) {
    const std::string path = dir + "/blobs/" + name;
    if (name != "sha256" || !check_entry_kind(path, true)) return foreign(path);
  }
  if (blobs->empty()) return ok_status();
  auto files = list_directory(dir + "/blobs/sha256");
  if (!files) return files.error();
  for (const auto& name : *files) {
    const std::string path = dir + "/blobs/sha256/" + name;
    if (!(Digest::is_hex(name) || is_temp_name(name, "blob")) || !check_entry_kind(path, false))
      return foreign(path);
  }
  return ok_status();
}

Result<LayoutStore> LayoutStore::open_or_create(const std::string& dir_in) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return make_error("output layout path is empty");
  // Create, lock, then look: until the lock is held the directory may be
  // another first build's work in progress. A directory removed and made
  // again meanwhile (that build failed and cleaned up) is locked afresh.
  for (int attempt = 0;; ++attempt) {
    auto kind = path_kind(dir);
    if (!kind) return kind.error();
    if (*kind == PathKind::other) return make_error("output '" + dir + "' exists and is not a directory");
    std::vector<std::string> created;
    if (*kind == PathKind::missing) {
      std::vector<std::string> missing;
      for (std::string path = dir;;) {
        auto parent_kind = path_kind(path);
        if (!parent_kind) return parent_kind.error();
        if (*parent_kind == PathKind::directory) break;
        if (*parent_kind == PathKind::other) return make_error("'" + path + "' exists and is not a directory");
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
          return make_error("cannot create directory " + *it + ": " + errno_text(errno));
        }
      }
    }
    auto lock = LayoutLock::acquire(dir);
    if (!lock) return lock.error();
    auto current = lock->names_locked_directory();
    if (!current) return current.error();
    if (!*current) {
      if (attempt < 10) continue;
      return make_error("output '" + dir + "' keeps being removed and made again by another process");
    }
    LayoutStore store(dir, std::move(*lock));
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
  auto layout_kind = path_kind(dir + "/oci-layout");
  if (!layout_kind) return layout_kind.error();
  auto index_kind = path_kind(dir + "/index.json");
  if (!index_kind) return index_kind.error();
  if (*index_kind == PathKind::missing) {
    if (auto status = check_unfinished_layout(dir); !status) return make_error("output " + status.error().message);
    if (*layout_kind == PathKind::missing) return ok_status();
  }
  if (*layout_kind == PathKind::missing)
    return make_error("output '" + dir + "' is a non-empty directory that is not an OCI layout (no oci-layout file)");
  if (*layout_kind != PathKind::other) return make_error("output '" + dir + "': oci-layout is not a regular file");
  m_has_oci_layout = true;
  auto layout_text = read_layout_file(dir, "oci-layout");
  if (!layout_text) return layout_text.error();
  if (auto status = check_oci_layout(*layout_text); !status)
    return make_error("output '" + dir + "': " + status.error().message);
  m_oci_layout = std::move(*layout_text);
  if (*index_kind == PathKind::other) {
    auto index = read_layout_file(dir, "index.json");
    if (!index) return index.error();
    if (auto status = check_index(*index); !status)
      return make_error("output '" + dir + "': " + status.error().message);
    m_existing_index = std::move(*index);
  } else if (*index_kind == PathKind::directory) {
    return make_error("output '" + dir + "': index.json is a directory");
  }
  return ok_status();
}

Status LayoutStore::ensure_directories() {
  // Create missing parents too, remembering what we made so a failed first
  // build can leave the file system as it found it.
  std::vector<std::string> missing;
  std::string path = m_dir + "/blobs/sha256";
  for (;;) {
    auto kind = path_kind(path);
    if (!kind) return kind.error();
    if (*kind == PathKind::directory) break;
    if (*kind == PathKind::other) return make_error("'" + path + "' exists and is not a directory");
    missing.push_back(path);
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    path = path.substr(0, slash);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
      return make_error("cannot create directory " + *it + ": " + errno_text(errno));
    m_created_dirs.push_back(*it);
  }
  return ok_status();
}

Result<TempFile> LayoutStore::begin_blob() {
  OCIPACK_TRY(ensure_directories());
  return TempFile::create(blobs_dir(), "blob");
}

Status LayoutStore::commit_blob(TempFile& temp, const Digest& digest) {
  const std::string path = blob_path(digest);
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  OCIPACK_TRY(temp.commit(path));
  if (!existed) m_created_blobs.push_back(path);
  return ok_status();
}

namespace {
// Whether the whole of `fd` (from offset 0) is `descriptor`'s content; with
// `copy_to` set, every byte read is also written there.
Result<bool> matches_descriptor(int fd, const Descriptor& descriptor, const std::string& what,
                                int copy_to = -1, const std::string& copy_name = {}) {
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  int64_t total = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot read " + what + ": " + errno_text(errno));
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

Status LayoutStore::import_blob(const std::string& source_layout, const Descriptor& descriptor) {
  const std::string target = blob_path(descriptor.digest);
  // A copy already in the output is kept only if it is sound.
  auto existing = open_regular_file(m_dir, "blobs/sha256/" + descriptor.digest.hex());
  if (!existing) return existing.error();
  const bool target_exists = existing->has_value();
  if (target_exists) {
    auto sound = matches_descriptor((*existing)->fd.get(), descriptor, target);
    if (!sound) return sound.error();
    if (*sound) return ok_status();
  }
  OCIPACK_TRY(ensure_directories());
  const std::string source = ocipack::blob_path(source_layout, descriptor.digest);
  auto opened = open_blob(source_layout, descriptor, "base blob " + descriptor.digest.str());
  if (!opened) return opened.error();
  UniqueFd* in = &opened->fd;
  const std::string mismatch = "base blob " + source + " does not match its digest " + descriptor.digest.str();
  if (!target_exists) {
    // Verify, then link the very inode that was verified (through its fd).
    auto sound = matches_descriptor(in->get(), descriptor, source);
    if (!sound) return sound.error();
    if (!*sound) return make_error(mismatch);
    const std::string by_fd = "/proc/self/fd/" + std::to_string(in->get());
    if (::linkat(AT_FDCWD, by_fd.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      m_created_blobs.push_back(target);
      return ok_status();
    }
  }
  // A copy, hashed again as it is written (the source may have changed).
  auto temp = begin_blob();
  if (!temp) return temp.error();
  auto sound = matches_descriptor(in->get(), descriptor, source, temp->fd(), target);
  if (!sound) return sound.error();
  if (!*sound) return make_error(mismatch);
  return commit_blob(*temp, descriptor.digest);
}

Result<Descriptor> LayoutStore::put_blob(std::string_view data, std::string media_type) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = Sha256::of(data);
  d.size = static_cast<int64_t>(data.size());
  auto kind = path_kind(blob_path(d.digest));
  if (!kind) return kind.error();
  if (*kind == PathKind::other) {
    struct stat st {};
    if (::stat(blob_path(d.digest).c_str(), &st) == 0 && st.st_size == d.size) return d;
  }
  auto temp = begin_blob();
  if (!temp) return temp.error();
  OCIPACK_TRY(write_all(temp->fd(), data, blob_path(d.digest)));
  OCIPACK_TRY(commit_blob(*temp, d.digest));
  return d;
}

Status LayoutStore::write_index(std::string_view index_json) {
  OCIPACK_TRY(ensure_directories());
  if (!m_has_oci_layout) {
    OCIPACK_TRY(write_file_atomic(m_dir + "/oci-layout", k_oci_layout_json));
    m_has_oci_layout = true;
  }
  return write_file_atomic(m_dir + "/index.json", index_json);
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
