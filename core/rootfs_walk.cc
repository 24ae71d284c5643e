// Implementation of the deterministic rootfs walk (see rootfs_walk.h).
#include "core/rootfs_walk.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/fd.h"

namespace ocipack {

namespace {

Result<std::string> read_link(const std::string& path, size_t size_hint) {
  std::string target(std::max<size_t>(size_hint, 64) + 1, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return make_error("cannot read symlink " + path + ": " + errno_text(errno));
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}
}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> result;
  ssize_t list_size = ::llistxattr(path.c_str(), nullptr, 0);
  if (list_size < 0) {
    if (errno == ENOTSUP || errno == ENOSYS) return result;
    return make_error("cannot list xattrs of " + path + ": " + errno_text(errno));
  }
  if (list_size == 0) return result;
  std::string names(static_cast<size_t>(list_size), '\0');
  list_size = ::llistxattr(path.c_str(), names.data(), names.size());
  if (list_size < 0) return make_error("cannot list xattrs of " + path + ": " + errno_text(errno));
  names.resize(static_cast<size_t>(list_size));
  size_t pos = 0;
  while (pos < names.size()) {
    size_t end = names.find('\0', pos);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    ssize_t value_size = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (value_size < 0) {
      if (errno == ENODATA) continue;  // removed between list and get
      return make_error("cannot read xattr " + name + " of " + path + ": " + errno_text(errno));
    }
    std::string value(static_cast<size_t>(value_size), '\0');
    if (value_size > 0) {
      value_size = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (value_size < 0)
        return make_error("cannot read xattr " + name + " of " + path + ": " + errno_text(errno));
      value.resize(static_cast<size_t>(value_size));
    }
    result.emplace_back(std::move(name), std::move(value));
  }
  std::sort(result.begin(), result.end());
  return result;
}

RootfsWalker::RootfsWalker(std::string root, WalkOptions options)
    : m_root(std::move(root)), m_options(options) {}
RootfsWalker::RootfsWalker(RootfsWalker&&) noexcept = default;
RootfsWalker& RootfsWalker::operator=(RootfsWalker&&) noexcept = default;
RootfsWalker::~RootfsWalker() = default;

Result<RootfsWalker> RootfsWalker::open(const std::string& root, const WalkOptions& options) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    if (errno == ENOENT) return make_error("rootfs '" + root + "' does not exist");
    return make_error("cannot access rootfs '" + root + "': " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) return make_error("rootfs '" + root + "' is not a directory");
  std::string dir = root;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir != "/") dir += '/';
  RootfsWalker walker(dir, options);
  OCIPACK_TRY(walker.push_directory(dir, ""));
  return walker;
}

Status RootfsWalker::push_directory(std::string dir_path, std::string rel_path) {
  auto names = list_directory(dir_path);
  if (!names) return names.error();
  m_stack.push_back(Level{std::move(dir_path), std::move(rel_path), std::move(*names), 0});
  return ok_status();
}

Result<std::optional<WalkItem>> RootfsWalker::next() {
  while (!m_stack.empty()) {
    Level& top = m_stack.back();
    if (top.next == top.names.size()) {
      m_stack.pop_back();
      continue;
    }
    const std::string& name = top.names[top.next++];
    std::string host_path = top.dir_path + name;
    std::string rel_path = top.rel_path + name;
    auto item = make_item(host_path, std::move(rel_path));
    if (!item) return item.error();
    if (!item->has_value()) continue;  // skipped (warning recorded)
    if ((*item)->entry.type == EntryType::directory) {
      // Children follow their directory; `top` may dangle after this push.
      OCIPACK_TRY(push_directory(host_path + "/", (*item)->entry.path));
    }
    return item;
  }
  return std::optional<WalkItem>{};
}

Status check_not_whiteout_name(const std::string& host_path) {
  const auto slash = host_path.rfind('/');
  const std::string_view name = std::string_view(host_path).substr(slash == std::string::npos ? 0 : slash + 1);
  if (name.rfind(".wh.", 0) == 0)
    return make_error(host_path + " has a .wh. name, which image consumers would read as a whiteout");
  return ok_status();
}

Result<DescribedPath> describe_path(const std::string& host_path, std::string rel_path,
                                   const WalkOptions& options) {
  DescribedPath described;
  struct stat st {};
  if (::lstat(host_path.c_str(), &st) != 0)
    return make_error("cannot stat " + host_path + ": " + errno_text(errno));
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

  switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
      entry.type = EntryType::directory;
      entry.path += '/';
      break;
    case S_IFREG:
      entry.type = EntryType::regular;
      entry.size = static_cast<uint64_t>(st.st_size);
      item.st_size = entry.size;
      break;
    case S_IFLNK: {
      entry.type = EntryType::symlink;
      auto target = read_link(host_path, static_cast<size_t>(st.st_size));
      if (!target) return target.error();
      entry.link_target = std::move(*target);
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
  auto xattrs = read_xattrs(host_path);
  if (!xattrs) return xattrs.error();
  entry.xattrs = std::move(*xattrs);
  return described;
}

Result<std::optional<WalkItem>> RootfsWalker::make_item(const std::string& host_path,
                                                        std::string rel_path) {
  OCIPACK_TRY(check_not_whiteout_name(host_path));
  auto described = describe_path(host_path, std::move(rel_path), m_options);
  if (!described) return described.error();
  if (!described->skip_reason.empty()) {
    m_warnings.push_back(std::move(described->skip_reason));
    return std::optional<WalkItem>{};
  }
  WalkItem& item = described->item;
  TarEntry& entry = item.entry;
  if (entry.type != EntryType::directory && described->nlink > 1) {
    auto key = std::make_pair(described->dev, described->ino);
    auto [it, inserted] = m_first_link_path.try_emplace(key, entry.path);
    if (!inserted) {
      // A later name of an inode already stored: a link entry, no data; its
      // xattrs travel with the first name, as GNU tar does.
      entry.type = EntryType::hard_link;
      entry.link_target = it->second;
      entry.size = 0;
      item.st_size = 0;
      entry.dev_major = entry.dev_minor = 0;
      entry.xattrs.clear();
    }
  }
  return std::optional<WalkItem>(std::move(item));
}

}  // namespace ocipack
