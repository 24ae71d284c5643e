// Implementation of the deterministic rootfs walk (see rootfs_walk.h).
#include "core/tar/rootfs_walk.h"
#include "core/tar/hard_links.h"
#include "core/tar/whiteout.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/util/file_io.h"
#include "core/util/path.h"

namespace ocipack {

namespace {

constexpr int k_open_data_flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
constexpr int k_open_dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

Result<std::string> read_link_at(int dir, const std::string& name, const std::string& host_path,
                                 size_t size_hint) {
  std::string target(std::max<size_t>(size_hint, 64) + 1, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
    if (n < 0) return input_error("cannot read symlink " + host_path + ": " + errno_text(errno));
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

// `syscall_path` is what the l*xattr calls get, or, when `fd` is a file's
// open descriptor, the f*xattr calls read that file instead (no path
// lookup); `display` names it in errors.
Result<std::vector<std::pair<std::string, std::string>>> read_xattrs_as(const std::string& syscall_path,
                                                                        const std::string& display, int fd = -1) {
  std::vector<std::pair<std::string, std::string>> result;
  const char* const path = syscall_path.c_str();
  auto list = [&](char* names, size_t size) {
    return fd >= 0 ? ::flistxattr(fd, names, size) : ::llistxattr(path, names, size);
  };
  auto get = [&](const char* name, void* value, size_t size) {
    return fd >= 0 ? ::fgetxattr(fd, name, value, size) : ::lgetxattr(path, name, value, size);
  };
  ssize_t list_size = list(nullptr, 0);
  if (list_size < 0) {
    if (errno == ENOTSUP || errno == ENOSYS) return result;
    return input_error("cannot list xattrs of " + display + ": " + errno_text(errno));
  }
  if (list_size == 0) return result;
  std::string names(static_cast<size_t>(list_size), '\0');
  list_size = list(names.data(), names.size());
  if (list_size < 0) return input_error("cannot list xattrs of " + display + ": " + errno_text(errno));
  names.resize(static_cast<size_t>(list_size));
  size_t pos = 0;
  while (pos < names.size()) {
    size_t end = names.find('\0', pos);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    ssize_t value_size = get(name.c_str(), nullptr, 0);
    if (value_size < 0) {
      if (errno == ENODATA) continue;  // removed between list and get
      return input_error("cannot read xattr " + name + " of " + display + ": " + errno_text(errno));
    }
    std::string value(static_cast<size_t>(value_size), '\0');
    if (value_size > 0) {
      value_size = get(name.c_str(), value.data(), value.size());
      if (value_size < 0)
        return input_error("cannot read xattr " + name + " of " + display + ": " + errno_text(errno));
      value.resize(static_cast<size_t>(value_size));
    }
    result.emplace_back(std::move(name), std::move(value));
  }
  std::sort(result.begin(), result.end());
  return result;
}


// What was opened must be what the walk described: same kind, same inode.
Status check_same(const struct stat& st, mode_t want_type, dev_t dev, ino_t ino, const std::string& host_path) {
  if ((st.st_mode & S_IFMT) != want_type)
    return input_error("file changed while being read: " + host_path + " is now " + file_type_name(st.st_mode) +
                      ", not " + file_type_name(want_type));
  if ((dev != 0 || ino != 0) && (st.st_dev != dev || st.st_ino != ino))
    return input_error("file changed while being read: " + host_path + " was replaced by another file");
  return ok_status();
}
}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(const std::string& path) {
  return read_xattrs_as(path, path);
}

namespace {
// open(path, flags) for a path that may be longer than PATH_MAX: the
// directories are opened in pieces that each fit (each openat relative to
// the last), then the file itself with `flags`. Directories on the way are
// followed as open(2) would follow them; open_item_data's inode check says
// whether the result is the file the walk saw.
UniqueFd open_long_path(const std::string& path, int flags) {
  if (path.size() < PATH_MAX) return UniqueFd(::open(path.c_str(), flags));
  const size_t last = path.rfind('/');
  UniqueFd dir(::open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (size_t start = path[0] == '/' ? 1 : 0; dir.valid() && start < last;) {
    size_t end = std::min(last, start + PATH_MAX - 1);
    if (end < last) end = path.rfind('/', end);
    if (end == std::string::npos || end <= start) {
      errno = ENAMETOOLONG;
      return UniqueFd();
    }
    dir = UniqueFd(::openat(dir.get(), path.substr(start, end - start).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    start = end + 1;
  }
  if (!dir.valid()) return UniqueFd();
  return UniqueFd(::openat(dir.get(), path.c_str() + last + 1, flags));
}
}  // namespace

Result<UniqueFd> open_item_data(const WalkItem& item, struct stat* opened) {
  UniqueFd fd = item.parent_dir ? UniqueFd(::openat(item.parent_dir->get(), item.name.c_str(), k_open_data_flags))
                                : open_long_path(item.source_path, k_open_data_flags);
  if (!fd.valid()) {
    if (errno == ELOOP) return input_error("file changed while being read: " + item.source_path + " is now a symbolic link");
    return input_error("cannot read " + item.source_path + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return input_error("cannot stat " + item.source_path + ": " + errno_text(errno));
  OCIPACK_TRY(check_same(st, S_IFREG, item.st_dev, item.st_ino, item.source_path));
  if (opened) *opened = st;
  return fd;
}

RootfsWalker::RootfsWalker(std::string root, WalkOptions options)
    : m_root(std::move(root)), m_options(options) {}
RootfsWalker::RootfsWalker(RootfsWalker&&) noexcept = default;
RootfsWalker& RootfsWalker::operator=(RootfsWalker&&) noexcept = default;
RootfsWalker::~RootfsWalker() = default;

Result<RootfsWalker> RootfsWalker::open(const std::string& root, const WalkOptions& options) {
  // The root may be a symlink (the user names it); nothing below it is followed.
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == ENOENT) return input_error("rootfs '" + root + "' does not exist");
    return input_error("cannot access rootfs '" + root + "': " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return input_error("cannot access rootfs '" + root + "': " + errno_text(errno));
  if (!S_ISDIR(st.st_mode)) return input_error("rootfs '" + root + "' is not a directory");
  std::string dir = trim_trailing_slashes(root);
  if (dir != "/") dir += '/';
  RootfsWalker walker(dir, options);
  OCIPACK_TRY(walker.push_directory(std::move(fd), "", st.st_dev, st.st_ino));
  return walker;
}

Status RootfsWalker::push_directory(UniqueFd fd, std::string rel_path, dev_t dev, ino_t ino) {
  // Every caller passes a directory it has just opened.
  OCIPACK_TRY_ASSIGN(auto names, list_directory_typed_at(fd.get(), m_root + rel_path, /*fresh=*/true));
  // The levels above stay open up to k_open_ancestors deep (going back up
  // needs no system call then); deeper, the parent is closed and reached
  // again through "..", so a tree of any depth needs a bounded number of
  // descriptors.
  if (m_stack.size() > k_open_ancestors) m_stack.back().fd.reset();
  m_stack.push_back(Level{std::move(rel_path), std::move(names), 0, dev, ino,
                          std::make_shared<const UniqueFd>(std::move(fd))});
  return ok_status();
}

Status RootfsWalker::return_to_parent() {
  Level& child = m_stack.back();
  Level& parent = m_stack[m_stack.size() - 2];
  if (parent.fd) return ok_status();  // kept open (see push_directory)
  const std::string parent_path = m_root + parent.rel_path;
  UniqueFd fd(::openat(child.fd->get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return input_error("cannot open directory " + parent_path + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return input_error("cannot stat " + parent_path + ": " + errno_text(errno));
  if (st.st_dev != parent.dev || st.st_ino != parent.ino)
    return input_error("directory " + m_root + child.rel_path + " was moved while being read");
  parent.fd = std::make_shared<const UniqueFd>(std::move(fd));
  return ok_status();
}

namespace {
// A directory the walk described by lstat, opened (never following a link)
// and checked to be that same directory.
Result<UniqueFd> open_described_directory(const WalkItem& dir) {
  UniqueFd fd(::openat(dir.parent_dir->get(), dir.name.c_str(), k_open_dir_flags));
  if (!fd.valid()) {
    if (errno == ENOTDIR || errno == ELOOP)
      return input_error("file changed while being read: " + dir.source_path + " is no longer a directory");
    return input_error("cannot open directory " + dir.source_path + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return input_error("cannot stat " + dir.source_path + ": " + errno_text(errno));
  OCIPACK_TRY(check_same(st, S_IFDIR, dir.st_dev, dir.st_ino, dir.source_path));
  return fd;
}
}  // namespace

Result<std::optional<WalkItem>> RootfsWalker::next() {
  while (!m_stack.empty()) {
    Level& top = m_stack.back();
    if (top.next == top.names.size()) {
      if (m_stack.size() > 1) OCIPACK_TRY(return_to_parent());
      m_stack.pop_back();
      continue;
    }
    const DirectoryName& name = top.names[top.next++];
    UniqueFd opened_dir;
    OCIPACK_TRY_ASSIGN(auto item, make_item(name, top.rel_path + name.name, opened_dir));
    if (!item) continue;  // skipped (warning recorded)
    if (item->entry.type == EntryType::directory) {
      // Children follow their directory; `top` may dangle after this push.
      // Unless make_item opened it (and described it by that descriptor's
      // fstat), it is opened now and checked to be what lstat described.
      const WalkItem& dir = *item;
      if (!opened_dir.valid()) {
        OCIPACK_TRY_ASSIGN(opened_dir, open_described_directory(dir));
      }
      OCIPACK_TRY(push_directory(std::move(opened_dir), dir.entry.path, dir.st_dev, dir.st_ino));
    }
    return item;
  }
  return std::optional<WalkItem>{};
}

Status check_not_whiteout_name(const std::string& host_path) {
  const auto slash = host_path.rfind('/');
  const std::string_view name = std::string_view(host_path).substr(slash == std::string::npos ? 0 : slash + 1);
  if (is_whiteout_name(name))
    return input_error(host_path + " has a .wh. name, which image consumers would read as a whiteout");
  return ok_status();
}

Result<DescribedPath> describe_path(const std::string& host_path, std::string rel_path,
                                   const WalkOptions& options) {
  const std::string parent = parent_directory(host_path);
  UniqueFd fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return input_error("cannot stat " + host_path + ": " + errno_text(errno));
  return describe_at(std::make_shared<const UniqueFd>(std::move(fd)), base_name(host_path), host_path,
                     std::move(rel_path), options);
}

namespace {
// describe_at's work once the path's stat `st` is known (by fstatat, or by
// fstat of the directory the walk opened first).
Result<DescribedPath> describe_stat(const std::shared_ptr<const UniqueFd>& dir, const std::string& name,
                                    const std::string& host_path, std::string rel_path, const WalkOptions& options,
                                    const struct stat& st, bool open_regular = false) {
  DescribedPath described;
  described.dev = st.st_dev;
  described.ino = st.st_ino;
  described.nlink = st.st_nlink;

  for (const auto& [dev, ino] : options.exclude) {
    if (st.st_dev == dev && st.st_ino == ino) {
      described.skip_reason = "skipping " + host_path + " (the output of this build)";
      return described;
    }
  }

  WalkItem& item = described.item;
  TarEntry& entry = item.entry;
  entry.path = std::move(rel_path);
  entry.mode = st.st_mode & 07777;
  entry.uid = options.owner_root ? 0 : st.st_uid;
  entry.gid = options.owner_root ? 0 : st.st_gid;
  entry.mtime = static_cast<int64_t>(st.st_mtim.tv_sec);
  if (options.clamp_mtime && entry.mtime > *options.clamp_mtime) entry.mtime = *options.clamp_mtime;
  item.source_path = host_path;
  item.parent_dir = dir;
  item.name = name;
  item.st_dev = st.st_dev;
  item.st_ino = st.st_ino;

  switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
      entry.type = EntryType::directory;
      entry.path += '/';
      break;
    case S_IFREG:
      entry.type = EntryType::regular;
      entry.size = static_cast<uint64_t>(st.st_size);
      item.st_size = entry.size;
      if (open_regular && st.st_size > 0) {
        // The reader's own open and check, only sooner. If it fails (the
        // file went, or is no longer what lstat saw, or is unreadable), the
        // item carries the error: the reader reports it at the same point of
        // the stream as a walk that does not open, without a second open.
        struct stat opened_st {};
        auto fd = open_item_data(item, &opened_st);
        item.opened = std::make_shared<WalkItem::OpenedData>();
        if (fd.ok()) {
          item.opened->fd = std::move(*fd);
          item.opened->st = opened_st;
        } else {
          item.opened->failure = std::move(fd.error());
        }
      }
      break;
    case S_IFLNK: {
      entry.type = EntryType::symlink;
      OCIPACK_TRY_ASSIGN(entry.link_target, read_link_at(dir->get(), name, host_path, static_cast<size_t>(st.st_size)));
      break;
    }
    case S_IFCHR:
    case S_IFBLK:
      entry.type = S_ISCHR(st.st_mode) ? EntryType::char_device : EntryType::block_device;
      entry.dev_major = major(st.st_rdev);
      entry.dev_minor = minor(st.st_rdev);
      break;
    case S_IFIFO:
      entry.type = EntryType::fifo;
      break;
    case S_IFSOCK:
      described.skip_reason = "skipping socket " + host_path + " (tar cannot hold sockets)";
      return described;
    default:
      described.skip_reason = "skipping " + host_path + " (unknown file type)";
      return described;
  }
  // From the open file when there is one (pseudo and fakeroot answer
  // f*xattr too), else by host path while it fits (what pseudo's xattr
  // database is keyed by), else relative to the open directory.
  OCIPACK_TRY_ASSIGN(entry.xattrs,
                     item.opened && item.opened->fd.valid() ? read_xattrs_as(host_path, host_path, item.opened->fd.get())
                     : host_path.size() < PATH_MAX
                         ? read_xattrs_as(host_path, host_path)
                         : read_xattrs_as("/proc/self/fd/" + std::to_string(dir->get()) + "/" + name, host_path));
  return described;
}
}  // namespace

Result<DescribedPath> describe_at(const std::shared_ptr<const UniqueFd>& dir, const std::string& name,
                                  const std::string& host_path, std::string rel_path, const WalkOptions& options) {
  struct stat st {};
  if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return input_error("cannot stat " + host_path + ": " + errno_text(errno));
  return describe_stat(dir, name, host_path, std::move(rel_path), options, st);
}

Result<std::optional<WalkItem>> RootfsWalker::make_item(const DirectoryName& name, std::string rel_path,
                                                        UniqueFd& dir) {
  const std::string host_path = m_root + rel_path;
  OCIPACK_TRY(check_not_whiteout_name(host_path));
  const std::shared_ptr<const UniqueFd>& parent = m_stack.back().fd;
  // A directory (by getdents' type) is opened first and described by fstat
  // of that descriptor, which the walk lists next anyway: one fstatat less.
  // O_DIRECTORY makes the kernel refuse anything else before any driver
  // runs, so a lying type (a crafted file system image, FUSE) or a swap
  // cannot make the walk open a device or a FIFO; it is then described by
  // lstat, as is everything else. A regular file is never opened on the
  // type's word: lstat first, then open_item_data's open and inode check.
  UniqueFd opened;
  struct stat st {};
  if (name.type == DT_DIR) {
    opened = UniqueFd(::openat(parent->get(), name.name.c_str(), k_open_dir_flags));
    if (opened.valid() && (::fstat(opened.get(), &st) != 0 || !S_ISDIR(st.st_mode))) opened.reset();
  }
  DescribedPath described;
  if (opened.valid()) {
    OCIPACK_TRY_ASSIGN(described, describe_stat(parent, name.name, host_path, std::move(rel_path), m_options, st));
  } else {
    if (::fstatat(parent->get(), name.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return input_error("cannot stat " + host_path + ": " + errno_text(errno));
    // A later name of a hard-linked file becomes a link entry (no data):
    // it is not opened.
    const bool open_data =
        m_open_data && !(st.st_nlink > 1 && m_hard_links.contains(FileId{static_cast<uint64_t>(st.st_dev),
                                                                          static_cast<uint64_t>(st.st_ino)}));
    OCIPACK_TRY_ASSIGN(described, describe_stat(parent, name.name, host_path, std::move(rel_path), m_options, st,
                                                open_data));
  }
  if (!described.skip_reason.empty()) {
    m_warnings.push_back(std::move(described.skip_reason));
    return std::optional<WalkItem>{};
  }
  WalkItem& item = described.item;
  // Only inodes with other names are remembered: the walk's memory does not
  // grow with the number of plain files.
  if (item.entry.type != EntryType::directory && described.nlink > 1)
    m_hard_links.add(FileId{static_cast<uint64_t>(described.dev), static_cast<uint64_t>(described.ino)}, item);
  if (item.entry.type == EntryType::directory) dir = std::move(opened);
  return std::optional<WalkItem>(std::move(item));
}

}  // namespace ocipack
