// What `ocipack ls` and `ocipack diff` show of images: the files of a
// TreeModel (core/layer/base_model.h — the merged layers of an image, with
// whiteouts applied, or one layer on its own) as a list sorted by path, and
// the differences between two models as added, removed and changed paths.
// The comparison is the base model's own data: type, mode, owner, size,
// content (the SHA-256 the model keeps of every regular file), link target,
// device numbers and xattrs. Modification times are not compared (two builds
// of one tree at different times are the same files), nor hard-link groups
// (names of one file with the same content). Pure functions of the models.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/layer/base_model.h"

namespace ocipack {

// One path of a model: its normalised path ("etc/passwd", no trailing '/')
// and its node (an implied directory has mode 0755, owner 0:0).
struct ListedPath {
  std::string path;
  const ModelNode* node = nullptr;
};

// Every path below the root, sorted by path (byte order).
std::vector<ListedPath> list_tree(const TreeModel& model);

// The `count` largest regular files of `listed`, by size (largest first),
// then by path.
std::vector<ListedPath> largest_files(const std::vector<ListedPath>& listed, size_t count);

enum class ChangeKind { added, removed, changed };

struct TreeChange {
  ChangeKind kind = ChangeKind::changed;
  std::string path;
  // For changed paths, what differs, in this order: "type", "mode",
  // "owner", "size", "content", "target", "device", "xattrs".
  std::vector<std::string> what;
};

// The differences from `before` to `after`, sorted by path. A directory
// present on one side only is listed with everything below it; a path whose
// type changed is "changed" (with "type"), its old or new children added or
// removed.
std::vector<TreeChange> compare_trees(const TreeModel& before, const TreeModel& after);

// The differing fields of two nodes (empty when they are the same files).
std::vector<std::string> node_differences(const ModelNode& before, const ModelNode& after);

}  // namespace ocipack
