// Path-set layers: one rootfs split into several layers without copying it
// (Yocto's OCI_LAYER_MODE = "multi"). The rootfs is walked ONCE; each layer
// claims paths of that walk (a path and, when recursive, everything below
// it) or brings files from elsewhere (a "host" layer). The first layer that
// claims a path wins: a later layer leaves it out. A layer holds the paths it
// won plus their parent directories (with the rootfs's attributes), so every
// layer extracts on its own. What no layer took can form a last "remainder"
// layer.
//
// Hard links: each layer regroups the names it holds by inode (the rule of
// core/tar/hard_links.h), so names of one file within a layer stay links and
// a file whose names fall into different layers is stored whole in each
// (a tar hard link cannot point into another layer).
//
// The result is a list of items per layer; ItemListSource streams one of
// them as an EntrySource. Memory: one WalkItem per entry of the rootfs (no
// descriptor kept per item: data is opened by path and checked against the
// inode the walk saw, as open_item_data does for any item).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tar/entry_source.h"
#include "core/tar/hard_links.h"
#include "core/util/result.h"

namespace ocipack {

// Paths of the rootfs a layer claims, relative ("etc/app.conf", no leading
// '/'), checked for "..", "." and emptiness by the caller.
struct PathClaimGroup {
  std::vector<std::string> paths;
  bool recursive = false;            // a claimed directory brings everything below it
  std::string warn_if_none;          // warning when none of `paths` is in the rootfs ("" = none)
  std::string warn_if_not_directory; // warning when the (single) path is not a directory
};

// A file or tree from outside the rootfs, stored at `destination` (relative)
// owned by root; its parents take the rootfs's attributes where the rootfs
// has them as directories, else 0755 root directories dated `created`.
struct HostCopy {
  std::string source;       // absolute host path (a symlink is copied as one)
  std::string destination;  // relative path in the image
};

struct PathLayerSpec {
  std::string name;
  std::vector<PathClaimGroup> claims;  // a claiming layer
  std::vector<HostCopy> host;          // a host layer (claims empty)
  std::string empty_warning;           // warning when the layer ends up empty (it is left out)
};

struct PathLayersPlan {
  std::string rootfs;
  std::vector<PathLayerSpec> layers;
  bool remainder = true;  // one last layer of everything no layer took
  std::string remainder_name = "rootfs-remainder";
};

struct PlannedLayer {
  std::string name;
  std::vector<WalkItem> items;  // walk order; hard links not yet grouped
};

struct PlannedLayers {
  std::vector<PlannedLayer> layers;  // empty layers left out
  std::vector<std::string> warnings;
};

// Walks plan.rootfs once (with `options`: clamp, exclusions) and splits it.
// `created` dates the parent directories a host layer has to invent.
Result<PlannedLayers> plan_path_layers(const PathLayersPlan& plan, const WalkOptions& options, int64_t created);

// One planned layer as an EntrySource: its items in order, hard links
// grouped within the layer.
class ItemListSource final : public EntrySource {
 public:
  explicit ItemListSource(std::vector<WalkItem> items) : m_items(std::move(items)) {}
  Result<std::optional<WalkItem>> next() override;
  const std::vector<std::string>& warnings() const override { return m_warnings; }

 private:
  std::vector<WalkItem> m_items;
  size_t m_next = 0;
  HardLinkGroups m_links;
  std::vector<std::string> m_warnings;
};

// Orders paths as the rootfs walk does (bytewise per component, a directory
// before its children): "a" < "a/b" < "a.b". Paths without a trailing '/'.
bool walk_order_less(const std::string& a, const std::string& b);

}  // namespace ocipack
