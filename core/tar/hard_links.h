// Hard links in a layer, defined once. The names of one file (an inode) form
// a group. In a layer's tar stream the first name written carries the file —
// its data, xattrs and device numbers — and every later name is a hard-link
// entry ('1') pointing to that first name, with the file's mode, ids and
// mtime but no data, no xattrs (they travel with the first name, as GNU tar
// writes them) and no device numbers. A tar hard link must point to an
// earlier entry of the same layer: containers-storage extracts each layer on
// its own, so a link to a later entry or into a lower layer would not
// resolve.
//
// Every entry source applies the rule through HardLinkGroups, in the order
// it emits entries:
//   - the rootfs walk groups names by (st_dev, st_ino), in walk order;
//   - the tar input first turns each link it reads into another name of the
//     file it points to (another_name_of), sorts the entries in walk order,
//     then regroups — so a tree gives the same stream as a directory or tar;
//   - the tree diff groups the names it emits by the new tree's inode.
// The base model reads links with another_name_of too.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>

#include "core/tar/entry_source.h"

namespace ocipack {

// What makes two names one file: (st_dev, st_ino) for a walk, or a model's
// inode number (device 0).
struct FileId {
  uint64_t device = 0;
  uint64_t inode = 0;
  auto operator<=>(const FileId&) const = default;
};

// Turns `item` into the hard-link entry of a later name of a file whose
// first name in the stream is `first_path`.
void make_link_to(WalkItem& item, const std::string& first_path);

// `file` (the item carrying a file) under another of its names: the same
// entry, data and source, at `path`. What a hard link read from an archive
// stands for before the stream is regrouped.
WalkItem another_name_of(const WalkItem& file, const std::string& path);

// The first name of each file, in the order entries are emitted.
class HardLinkGroups {
 public:
  // `item` is the next emitted name of the file `id`: the first one is kept
  // as it is (and remembered); a later one becomes a link to the first
  // (make_link_to). Returns whether `item` became a link.
  bool add(const FileId& id, WalkItem& item);
  // Whether a name of the file `id` was added before.
  bool contains(const FileId& id) const { return m_first_path.contains(id); }

 private:
  std::map<FileId, std::string> m_first_path;
};

}  // namespace ocipack
