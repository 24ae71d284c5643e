// RootfsWalker: a deterministic, pull-style walk of a rootfs directory that
// yields one tar entry at a time. Names are sorted bytewise at every level, a
// directory comes before its children, the root itself is not an entry.
// Metadata comes from libc's lstat/llistxattr/lgetxattr/readlink/opendir so
// that fakeroot and Yocto's pseudo (which wrap those calls) supply the real
// ownership. Hard links are detected by (dev, ino): the first path in walk
// order carries the data, later paths become link entries. Sockets and other
// kinds tar cannot hold are skipped with a warning.
//
// Memory is O(depth × widest directory), not O(number of files).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/tar_writer.h"

namespace ocipack {

struct WalkOptions {
  // When set (SOURCE_DATE_EPOCH), mtimes later than this are clamped to it.
  std::optional<int64_t> clamp_mtime;
  // --owner root: every entry is stored as 0:0 (as umoci --rootless does);
  // otherwise the ids lstat (or the input tar) reports are kept.
  bool owner_root = false;
  // (st_dev, st_ino) of paths to leave out, with a warning: the build's own
  // output when it lies inside the rootfs.
  std::vector<std::pair<dev_t, ino_t>> exclude;
};

struct WalkItem {
  TarEntry entry;
  std::string source_path;  // absolute/host path of the entry, for reading data
  uint64_t st_size = 0;     // for regular files: size lstat reported
  // Data kept in a spool file instead (foreign tar input): entry.size bytes
  // at spool_offset of spool_fd (owned by the source, valid while it lives).
  int spool_fd = -1;
  uint64_t spool_offset = 0;
};

// Where the chunker gets its entries from. RootfsWalker is the directory
// source; tests (and later, foreign tar input) provide others.
class EntrySource {
 public:
  virtual ~EntrySource() = default;
  // The next entry, std::nullopt at the end, or an error naming the path.
  virtual Result<std::optional<WalkItem>> next() = 0;
  // Human-readable notes about skipped entries.
  virtual const std::vector<std::string>& warnings() const = 0;
};

class RootfsWalker final : public EntrySource {
 public:
  // Fails (naming the path) when `root` does not exist or is not a directory.
  static Result<RootfsWalker> open(const std::string& root, const WalkOptions& options);

  RootfsWalker(RootfsWalker&&) noexcept;
  RootfsWalker& operator=(RootfsWalker&&) noexcept;
  ~RootfsWalker() override;

  Result<std::optional<WalkItem>> next() override;
  // Skipped sockets and unknown file types.
  const std::vector<std::string>& warnings() const override { return m_warnings; }

 private:
  struct Level {
    std::string dir_path;  // host path with trailing '/'
    std::string rel_path;  // tar path prefix with trailing '/' ("" at the root)
    std::vector<std::string> names;
    size_t next = 0;
  };
  RootfsWalker(std::string root, WalkOptions options);
  Status push_directory(std::string dir_path, std::string rel_path);
  Result<std::optional<WalkItem>> make_item(const std::string& host_path, std::string rel_path);

  std::string m_root;
  WalkOptions m_options;
  std::vector<Level> m_stack;
  std::map<std::pair<dev_t, ino_t>, std::string> m_first_link_path;
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

// Refuses a file name starting with ".wh.": in a layer it would be read as a
// whiteout and delete a path instead of adding one.
Status check_not_whiteout_name(const std::string& host_path);

// Reads all xattrs of `path` (not following symlinks), sorted by name.
Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(const std::string& path);

}  // namespace ocipack
