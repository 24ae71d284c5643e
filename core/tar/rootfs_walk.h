// RootfsWalker: the EntrySource (core/tar/entry_source.h) of a rootfs
// directory — a deterministic, pull-style walk that yields one tar entry at a
// time. Names are sorted bytewise at every level, a directory comes before
// its children, the root itself is not an entry. Hard links are detected by
// (dev, ino) and follow the rules of core/tar/hard_links.h: the first path in
// walk order carries the data, later paths become link entries. Sockets and
// other kinds tar cannot hold are skipped with a warning.
//
// Paths of any length: every lookup is relative to an open directory
// (fstatat, readlinkat, openat with O_NOFOLLOW), so a tree deeper than
// PATH_MAX is walked like any other. xattrs are read by the host path
// (llistxattr/lgetxattr) when it fits in PATH_MAX, else through
// /proc/self/fd/N/NAME — or, in a walk that opens while it walks, from the
// open file (flistxattr/fgetxattr). libc's *at and *xattr calls are the ones
// fakeroot and Yocto's pseudo wrap, so they supply the real ownership
// (fakeroot is tested; pseudo is not, here).
// A file is read only through open_item_data(), which opens it without
// blocking or following links and checks it is the regular file the walk saw:
// a FIFO or device swapped in gives an error, never a hang.
//
// Memory is O(depth × widest directory) plus the first path of every inode
// with more than one link, not O(number of files). Open descriptors are
// bounded whatever the depth: the directory being listed and its ancestors
// up to k_open_ancestors levels stay open (a rootfs is rarely deeper than
// 20, so going back up costs no system call); below that depth a level's
// parent is closed while it is listed and, on the way back up, reopened
// through ".." and checked to be the same directory (dev, ino). A walk that
// opens while it walks holds, besides, the file of the item it last gave.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tar/entry_source.h"
#include "core/tar/hard_links.h"
#include "core/util/file_io.h"
#include "core/util/result.h"
#include "core/util/unique_fd.h"

namespace ocipack {

class RootfsWalker final : public EntrySource {
 public:
  // Directories kept open above the one being listed (see above).
  static constexpr size_t k_open_ancestors = 48;

  // Fails (naming the path) when `root` does not exist or is not a directory.
  static Result<RootfsWalker> open(const std::string& root, const WalkOptions& options);

  RootfsWalker(RootfsWalker&&) noexcept;
  RootfsWalker& operator=(RootfsWalker&&) noexcept;
  ~RootfsWalker() override;

  Result<std::optional<WalkItem>> next() override;
  // For a consumer that reads each item's data before asking for the next
  // (the layer's chunker; never one that keeps items: a kept item keeps
  // its file open): a non-empty regular file is opened right after its
  // lstat, by open_item_data (so with its flags and inode check), its
  // xattrs are read from that descriptor instead of by a path lookup, and
  // the descriptor travels in WalkItem::opened (or the open's error, which
  // the reader then reports without opening again). A later name of a
  // hard-linked file (a link entry, no data) is not opened. A file renamed
  // or deleted after this open is still read from the inode lstat saw,
  // and a size change shows while it is read. Saves a warm rebuild of
  // minbase ~3 % of its wall time: the path lookups of llistxattr and of
  // the later open. Off by default.
  void open_data_while_walking() { m_open_data = true; }
  // Skipped sockets and unknown file types.
  const std::vector<std::string>& warnings() const override { return m_warnings; }

 private:
  struct Level {
    std::string rel_path;  // tar path prefix with trailing '/' ("" at the root)
    std::vector<DirectoryName> names;  // with getdents' type: which call to make first
    size_t next = 0;
    dev_t dev = 0;
    ino_t ino = 0;
    // Open while this level is listed; null while a child level is.
    std::shared_ptr<const UniqueFd> fd;
  };
  RootfsWalker(std::string root, WalkOptions options);
  // (dev, ino): the fstat of `fd`, or what the caller checked it against.
  Status push_directory(UniqueFd fd, std::string rel_path, dev_t dev, ino_t ino);
  Status return_to_parent();
  // `dir` receives the directory opened to describe it, if it was.
  Result<std::optional<WalkItem>> make_item(const DirectoryName& name, std::string rel_path, UniqueFd& dir);

  std::string m_root;
  WalkOptions m_options;
  bool m_open_data = false;
  std::vector<Level> m_stack;
  HardLinkGroups m_hard_links;
  std::vector<std::string> m_warnings;
};

// One path's entry, without hard-link detection (which needs the walk's
// memory of inodes). `skip_reason` is set for sockets, unknown kinds and
// excluded paths (the item is then meaningless).
struct DescribedPath {
  WalkItem item;
  dev_t dev = 0;
  ino_t ino = 0;
  nlink_t nlink = 0;
  std::string skip_reason;
};
Result<DescribedPath> describe_path(const std::string& host_path, std::string rel_path,
                                   const WalkOptions& options);
// The same for `name` in the open directory `dir` (host_path names it in
// messages); the item can be read with open_item_data.
Result<DescribedPath> describe_at(const std::shared_ptr<const UniqueFd>& dir, const std::string& name,
                                  const std::string& host_path, std::string rel_path, const WalkOptions& options);

// Opens a regular file's data for reading: O_RDONLY | O_NONBLOCK |
// O_NOFOLLOW | O_CLOEXEC relative to item.parent_dir (or by source_path, of any
// length, when that is unset), then fstat checks it is a regular file and, when the walk
// recorded one, the same inode. Otherwise an error naming the path ("changed
// while being read": a FIFO, device, directory or another file is there now).
// The fstat result goes to *opened when given, so a reader that needs the
// size or the block count does not ask the kernel again.
Result<UniqueFd> open_item_data(const WalkItem& item, struct stat* opened = nullptr);

// Refuses a file name starting with ".wh.": in a layer it would be read as a
// whiteout and delete a path instead of adding one.
Status check_not_whiteout_name(const std::string& host_path);

// Reads all xattrs of `path` (not following symlinks), sorted by name.
Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(const std::string& path);

}  // namespace ocipack
