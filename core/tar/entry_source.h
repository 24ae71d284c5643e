// EntrySource: where a layer's tar stream gets its entries from, one at a
// time, in the order they are written. Three sources exist: RootfsWalker (a
// directory, core/tar/rootfs_walk.h), TarInputSource (a tar archive,
// core/tar/tar_input.h) and DeltaSource (the changes between two trees,
// core/layer/tree_diff.h). Each yields WalkItems: the TarEntry to write and
// where its data is read from. WalkOptions are the normalisations every
// source applies alike, so one tree gives the same entries through any of
// them.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tar/tar_entry.h"
#include "core/util/result.h"
#include "core/util/unique_fd.h"

namespace ocipack {

struct WalkOptions {
  // When set (SOURCE_DATE_EPOCH), mtimes later than this are clamped to it.
  std::optional<int64_t> clamp_mtime;
  // Owner root: every entry is stored as 0:0 (as umoci --rootless does);
  // otherwise the ids lstat (or the input tar) reports are kept.
  bool owner_root = false;
  // (st_dev, st_ino) of paths to leave out, with a warning: the build's own
  // output when it lies inside the rootfs.
  std::vector<std::pair<dev_t, ino_t>> exclude;
};

// One entry to write and where its data comes from. A regular file's data is
// read either from the host (open_item_data, core/tar/rootfs_walk.h) or from
// a spool file (spool_fd); other entries have none.
struct WalkItem {
  TarEntry entry;
  std::string source_path;  // host path of the entry: for messages, and for reading when parent_dir is unset
  uint64_t st_size = 0;     // for regular files: size lstat reported
  // Where to open the data (open_item_data): `name` in the directory
  // `parent_dir`, which must still be the inode (st_dev, st_ino).
  std::shared_ptr<const UniqueFd> parent_dir;
  std::string name;
  dev_t st_dev = 0;
  ino_t st_ino = 0;
  // Data kept in a spool file instead (tar input): entry.size bytes at
  // spool_offset of spool_fd (owned by the source, valid while it lives).
  int spool_fd = -1;
  uint64_t spool_offset = 0;
  // A regular file's data, already opened by a walk that opens while it
  // walks (RootfsWalker::open_data_while_walking) with open_item_data's
  // checks, and that open's fstat — or, when that open failed, its error,
  // which the reader reports instead of opening a second time (a device
  // swapped in must not have its driver's open run twice). The reader takes
  // the descriptor out; a copy of the item shares it. Null otherwise: the
  // reader opens the data.
  struct OpenedData {
    UniqueFd fd;
    struct stat st {};
    std::optional<Error> failure;
  };
  std::shared_ptr<OpenedData> opened;
};

class EntrySource {
 public:
  virtual ~EntrySource() = default;
  // The next entry, std::nullopt at the end, or an error naming the path.
  virtual Result<std::optional<WalkItem>> next() = 0;
  // Human-readable notes about skipped entries.
  virtual const std::vector<std::string>& warnings() const = 0;
};

}  // namespace ocipack
