// collect_garbage: the library side of `ocipack gc LAYOUT` — removes the
// blobs no image of index.json reaches and the temp files of killed builds.
// Mark-and-sweep over the content-addressed blob store, under LayoutLock
// (layout_lock.h), deleting only while index.json is byte-for-byte what the
// marking started from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace ocipack {

struct GcResult {
  uint64_t removed_blobs = 0;
  uint64_t freed_bytes = 0;          // apparent sizes (st_size) of the removed files
  std::vector<std::string> removed;  // hex names, sorted
  uint64_t removed_temp_files = 0;   // stale temp files of killed builds
  uint64_t removed_referrers = 0;    // index.json entries of referrers whose subject is gone
};

// Removes the files blobs/sha256/<64 hex> that no entry of index.json reaches
// (entry → manifest → config + layers; image indexes followed to any depth; a
// blob of unknown media type that parses as an index or manifest is followed
// too). Never touches hidden files (names starting with '.', the temp files
// of builds in progress), names that are not a sha256 hex digest, or
// directories. Holds LayoutLock for the whole run and re-reads index.json just
// before deleting: if it changed, the reachable set is computed again.
// Refuses, deleting nothing, when a reachable blob is missing or a reachable
// manifest/index does not match its digest or does not parse (a broken layout
// is better repaired than pruned), and when index.json has an entry it cannot
// read (a sha512 digest, a bad size, ...): what such an entry reaches is
// unknown, so nothing may be deleted. gc never deletes through a symlink:
// blobs/ and blobs/sha256 must be real directories (a symlink is refused),
// everything is listed, examined and unlinked relative to an
// O_DIRECTORY|O_NOFOLLOW descriptor of blobs/sha256 (and of the layout for
// temp files), so a directory swapped for a link meanwhile is not followed,
// and entries are never followed (a symlink named by a digest is removed as a
// link, a directory is left alone).
// Also removes the temp files killed builds left behind (is_blob_temp_name
// in blobs/sha256, is_layout_temp_name beside index.json: layout_paths.h):
// builds create those only while holding LayoutLock, so any that exist
// while gc holds it belong to no running build.
// Referrers (index.json entries with an artifactType and no ref.name,
// referrers.h) are kept while their manifest's subject is reachable from the
// other entries (or from a kept referrer); the others — the referrers of an
// image a build replaced under its tag, say — are dropped from index.json
// (rewritten atomically before any blob is deleted) and their blobs removed.
// An unfinished layout (a first build killed before its index.json; see
// check_unfinished_layout in layout_store.h) is pruned as one with no images.
// With `dry_run` nothing is written or removed: the result counts what a
// real run would remove (and the bytes it would free) at this moment.
Result<GcResult> collect_garbage(const std::string& layout_dir, bool dry_run = false);

}  // namespace ocipack
