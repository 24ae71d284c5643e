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
// numbers, xattrs, hard-link group and, for regular files, content (SHA-256).
// The old side is a TreeModel (core/layer/base_model.h): the merged layers of a
// base image, or a walk of a directory — one delta implementation for both.
// The new side is walked (RootfsWalker) into a model too; its files are read
// only to hash those whose metadata matches the old side.
//
// Hard links: names of one inode form a group. A path whose group differs
// between the trees (restricted to paths present in the new tree) counts as
// changed, so a new link to an unchanged base file brings the whole group
// into the layer: the first name emitted carries the data and the others are
// hard links to it (the rule of core/tar/hard_links.h). Each pair of an old
// and a new file is compared once, however many names they have.
//
// The diff is computed once up front (memory grows with both trees).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/layer/base_model.h"
#include "core/tar/entry_source.h"
#include "core/tar/whiteout.h"
#include "core/util/result.h"

namespace ocipack {

struct DeltaCounters {
  uint64_t added_or_changed = 0;
  uint64_t whiteouts = 0;
  uint64_t opaque_dirs = 0;
  // Hard-link groups compared: once per (old inode, new inode) pair whose
  // names are compared, however many names the two files have.
  uint64_t link_group_comparisons = 0;
};

class DeltaSource final : public EntrySource {
 public:
  // The delta from `old_tree` to the directory `new_root`. Errors name the
  // path that could not be read; `new_root` missing or not a directory is an
  // error naming it. `cancel` is polled per entry and data block; `report`
  // hears the walk of the new tree ("walking", entries) and the comparison
  // ("comparing", entries of the new tree).
  static Result<std::unique_ptr<DeltaSource>> compute(const TreeModel& old_tree,
                                                      const std::string& new_root,
                                                      const WalkOptions& options,
                                                      const std::atomic<bool>* cancel = nullptr,
                                                      const PhaseReport& report = {});
  // The same with the old tree walked (and hashed: "hashing") from the
  // directory `old_root`.
  static Result<std::unique_ptr<DeltaSource>> compute(const std::string& old_root,
                                                      const std::string& new_root,
                                                      const WalkOptions& options,
                                                      const std::atomic<bool>* cancel = nullptr,
                                                      const PhaseReport& report = {});

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

}  // namespace ocipack
