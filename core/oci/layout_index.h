// Assembling a multi-platform image (`ocipack index`): the images of other
// layouts (directories or their tarballs, layout_tarball_reader.h) become the
// entries of one image index blob in the output layout, each entry the
// image's manifest descriptor with the platform its config describes (os,
// architecture, variant, os.version/os.features: platform_of), and
// index.json lists that blob under a tag — the nested form `skopeo copy
// --all` and meta-virtualization's oci-multiarch use. Blobs are copied once
// (a directory's hard-linked when possible), each checked against its
// digest and size on the way; the index.json commit comes last
// (image_writer.h), so a failure leaves the output layout as it was.
//
// A request makes a new index from `sources` (in their order), or edits the
// index already under the tag: `add` replaces the entry of its image's
// platform (in place) or appends one, `remove` drops the entry of a platform;
// the other entries keep their order. Errors name the request's fields
// ("sources[1]", "add[0]", "remove[0]", "flatten", "tag", "layout_dir").
#pragma once

#include <string>
#include <vector>

#include "core/oci/oci_json.h"
#include "core/oci/platform.h"
#include "core/util/result.h"

namespace ocipack {

// One image to take: the entry tagged `tag` in the layout or layout tarball
// at `path`.
struct IndexSource {
  std::string path;
  std::string tag = "latest";
};

struct IndexRequest {
  std::string layout_dir;  // the output layout (created when missing)
  std::string tag;         // the index's ref.name in it
  // A new index (replacing whatever the tag named): one entry per source.
  std::vector<IndexSource> sources;
  // Or an edit of the index under `tag` (used when either is non-empty):
  std::vector<IndexSource> add;   // replaces the entry of its platform, else appended
  std::vector<Platform> remove;   // the one entry matching it (platform_matches) goes
  // A source that names an image index contributes its images (nested
  // indexes followed, at most 8 deep) instead of being refused.
  bool flatten = false;
};

struct IndexResult {
  Descriptor index;                // the index.json entry (with its ref.name)
  std::vector<Descriptor> entries;  // the index's entries, in order
};

// Reads and checks every source, refuses two entries of the same platform
// (same_platform; the error names both sources and the platform), copies the
// blobs, writes the index blob and commits index.json. A source's index.json
// annotations other than ref.name are kept on its entry.
Result<IndexResult> write_layout_index(const IndexRequest& request);

}  // namespace ocipack
