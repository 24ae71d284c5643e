// TreeModel: a root filesystem held in memory — path → metadata (type, mode,
// ids, mtime, size, link target, device numbers, xattrs), the SHA-256 of each
// regular file's data, and which paths are hard links of one inode. It is
// what a delta layer is computed against (core/layer/tree_diff.h), built
// either by streaming an image's layer blobs through libarchive (gzip, multi-member
// gzip, zstd or plain tar; never extracted to disk, so a hostile base cannot
// make ocipack write, delete or follow anything on the host) or from a walk
// of a directory (a layer's diff base, and the new tree of a delta).
//
// Layers follow the OCI image-spec changeset rules (layer.md): a layer's
// whiteouts (`.wh.NAME`, `.wh..wh..opq`) remove paths of the layers BELOW it
// only, never entries of the same layer, so each layer's whiteouts are
// applied to the model first and its entries after them, in tar order. What
// a layer may not do is an error naming the layer and the entry: absolute or
// `..` paths, malformed whiteout names (bare `.wh.`, `.wh..`, `.wh...`, any
// other `.wh..wh.` name than the opaque marker, a whiteout with data, `.wh.`
// as a directory on the way), an entry or whiteout below a non-directory
// (`a -> /x` then `a/evil`), hard links to a missing entry or to a directory.
// A missing parent directory is implied (mode 0755, 0:0, mtime 0, no path).
// Paths have no length limit, but a layer entry more than k_max_model_depth
// components deep is refused: the model, its diff and its destruction
// recurse once per level, and a hostile path of 500 000 levels fits in one
// 1 MiB PAX header. A refused layer is an input error, a blob whose content
// does not hash to its digest a corrupt one, a set cancel flag gives an
// interrupted error. Not thread-safe (link_group() fills a cache): one
// thread at a time uses a model. The long readers take a PhaseReport
// (core/util/phase_report.h): from_layers reports "reading base" in blob
// bytes of the layers' total size, from_directory "walking" or "hashing" in
// entries (total unknown).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/layout_source.h"
#include "core/oci/oci_json.h"
#include "core/tar/rootfs_walk.h"
#include "core/util/digest.h"
#include "core/util/phase_report.h"
#include "core/util/result.h"
#include "core/util/sha256.h"

namespace ocipack {

// The deepest layer entry a model takes (components of its path): twice
// what fits in PATH_MAX, so trees packed past PATH_MAX still load.
inline constexpr size_t k_max_model_depth = 4096;

// Told how many bytes of a blob have been read so far.
using ReadCounter = std::function<void(uint64_t bytes_read)>;

struct ModelNode {
  // entry.path is the tar path (directories end in '/'); the root's and an
  // implied directory's are "".
  // For nodes from a walk, item.source_path etc. say where the data lives.
  WalkItem item;
  std::optional<Digest> content;  // regular files whose data was hashed
  uint64_t inode = 0;             // equal (non-zero) on names of one file
  bool implied = false;           // a parent directory no entry described
  std::map<std::string, std::unique_ptr<ModelNode>> children;  // directories only

  const TarEntry& entry() const { return item.entry; }
  bool is_directory() const { return item.entry.type == EntryType::directory; }
};

class TreeModel {
 public:
  TreeModel();
  TreeModel(TreeModel&&) noexcept;
  TreeModel& operator=(TreeModel&&) noexcept;
  ~TreeModel();

  // The merged rootfs of `layers` (blobs of `source`, a layout directory or
  // tarball: core/oci/layout_source.h), bottom to top. Each blob is opened
  // read-only without following a symlink or blocking (a tarball member is
  // read in place), must be of its descriptor's size, and must hash to its
  // digest (checked as it streams). Errors name the layer ("base layer 2
  // (sha256:…)") and, where one is at fault, the entry. The path form opens
  // `layout_dir` with open_layout_source.
  static Result<TreeModel> from_layers(const LayoutSource& source, const std::vector<Descriptor>& layers,
                                       const std::atomic<bool>* cancel, const PhaseReport& report = {});
  static Result<TreeModel> from_layers(const std::string& layout_dir, const std::vector<Descriptor>& layers,
                                       const std::atomic<bool>* cancel, const PhaseReport& report = {});

  // The tree under `root` as RootfsWalker sees it with `options`. With
  // `hash_contents` every regular file's data is hashed now (an old tree);
  // without, nodes keep their WalkItem and are hashed when compared.
  static Result<TreeModel> from_directory(const std::string& root, const WalkOptions& options,
                                          bool hash_contents, const std::atomic<bool>* cancel,
                                          std::vector<std::string>* warnings = nullptr,
                                          const PhaseReport& report = {});

  // Applies one layer's tar stream read from `fd` (any compression above).
  // `where` prefixes every error. When `blob_hash` is set, every byte of the
  // stream is fed to it, to the end of the file. A refused layer leaves the
  // model partly applied: callers discard it.
  // `on_read`, when set, hears the blob bytes read so far.
  Status apply_layer(int fd, const std::string& where, const std::atomic<bool>* cancel,
                     Sha256* blob_hash = nullptr, const ReadCounter& on_read = {});
  // The same for the bytes of `blob` (a blob file, or a tarball member).
  Status apply_layer(BlobReader& blob, const std::string& where, const std::atomic<bool>* cancel,
                     Sha256* blob_hash = nullptr, const ReadCounter& on_read = {});
  // Applies the layer blob `layer` of `source` as from_layers does (opened
  // without following links, of its descriptor's size, hashed to its digest
  // as it streams); `where` ("layer 2 (sha256:…)") prefixes every error;
  // `on_read` as for apply_layer.
  Status apply_layer_blob(const LayoutSource& source, const Descriptor& layer, const std::string& where,
                          const std::atomic<bool>* cancel, const ReadCounter& on_read = {});
  // The whiteouts of the last layer applied, normalised paths in tar order
  // (".wh.NAME" and ".wh..wh..opq" names kept), for listing one layer.
  const std::vector<std::string>& last_layer_whiteouts() const { return m_last_whiteouts; }

  const ModelNode& root() const { return *m_root; }
  // The node of a normalised path ("a/b", "" for the root), or null.
  const ModelNode* find(std::string_view path) const;
  // The paths that share `node`'s inode, sorted (just its own for a file
  // that is not hard-linked; empty for directories).
  std::vector<std::string> link_group(const ModelNode& node) const;
  // Number of nodes below the root.
  size_t size() const;

 private:
  struct Layer;
  friend struct Layer;
  // The directory `path` goes into; missing parents are implied when
  // `create`, else null. A non-directory on the way is an error for `named`.
  Result<ModelNode*> parent_for(const std::string& path, const std::string& named, bool create);
  // Puts `item` at its path (a hard link takes its target's identity).
  Status insert(WalkItem item, std::optional<Digest> content, const std::string& hard_link_target,
                const std::string& named);

  std::unique_ptr<ModelNode> m_root;
  uint64_t m_next_inode = 1;
  // inode → sorted paths, built on the first link_group() call.
  mutable std::optional<std::map<uint64_t, std::vector<std::string>>> m_groups;
  std::vector<std::string> m_last_whiteouts;
};

// SHA-256 of a walked regular file's data, read through open_item_data
// (core/tar/rootfs_walk.h), the one place that opens walked file data.
Result<Digest> hash_item_data(const WalkItem& item, const std::atomic<bool>* cancel);

}  // namespace ocipack
