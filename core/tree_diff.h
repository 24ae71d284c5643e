// DeltaSource: the entries of a layer that turns the tree `old_root` into the
// tree `new_root`, following the OCI layer changeset rules:
//   - added and modified paths are stored in full (a directory with any change
//     below it is stored too, so its metadata is right after unpacking);
//   - a removed path becomes a whiteout `.wh.NAME` in its directory;
//   - a directory whose old children are all gone while new ones arrived gets
//     one opaque marker `.wh..wh..opq` instead of a whiteout per child;
//   - a directory replaced by a non-directory gets a whiteout and the new entry
//     (the whiteout applies to the lower layer only, per the spec).
// Paths are compared by type, mode, ids, mtime, size, link target, device
// numbers, xattrs and, for regular files, content. The diff is computed once
// up front (memory grows with the number of changed entries, not the tree).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/rootfs_walk.h"

namespace ocipack {

struct DeltaCounters {
  uint64_t added_or_changed = 0;
  uint64_t whiteouts = 0;
  uint64_t opaque_dirs = 0;
};

class DeltaSource final : public EntrySource {
 public:
  // Errors name the path that could not be read; either root missing or not a
  // directory is an error naming it.
  static Result<std::unique_ptr<DeltaSource>> compute(const std::string& old_root,
                                                      const std::string& new_root,
                                                      const WalkOptions& options);

  Result<std::optional<WalkItem>> next() override;
  const std::vector<std::string>& warnings() const override { return m_warnings; }
  const DeltaCounters& counters() const { return m_counters; }

 private:
  DeltaSource() = default;
  struct State;
  std::vector<WalkItem> m_items;
  size_t m_next = 0;
  std::vector<std::string> m_warnings;
  DeltaCounters m_counters;
};

inline constexpr const char* k_whiteout_prefix = ".wh.";
inline constexpr const char* k_opaque_whiteout = ".wh..wh..opq";

}  // namespace ocipack
