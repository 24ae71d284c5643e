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
// the other entries keep their order. An edit keeps what it does not change
// (edit_image_index): the index document's top-level members (annotations,
// subject, artifactType, unknown ones) and every other entry whole (urls,
// data, unknown fields), so an index another tool wrote (skopeo copy --all)
// loses nothing. Errors name the request's fields ("sources[1]", "add[0]",
// "remove[0]", "flatten", "tag", "layout_dir", "document_annotations",
// "index_annotations").
//
// The referrers a source lists for an image taken (index.json entries with
// an artifactType and no ref.name whose manifest's subject is that image's
// manifest — an SBOM, referrers.h — and, in rounds, referrers of those) come
// along: their blobs are copied (checked like the image's) and their entries
// added to the output's index.json after the index's, in source order and
// then index.json order; a referrer already listed is listed once.
#pragma once

#include <map>
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
  // Annotations of the image index document itself (its top-level
  // "annotations"; an edit sets these keys and keeps the others), and of its
  // index.json entry (beside ref.name; an edit keeps the entry's others).
  // Checked as build's are (check_annotation_keys: ref.name refused).
  std::map<std::string, std::string> document_annotations;
  std::map<std::string, std::string> index_annotations;
};

struct IndexResult {
  Descriptor index;                // the index.json entry (with its ref.name)
  std::vector<Descriptor> entries;  // the index's entries, in order
  std::vector<Descriptor> referrers;  // the sources' referrers listed with it
};

// Reads and checks every source, refuses two entries of the same platform
// (same_platform; the error names both sources and the platform), copies the
// blobs, writes the index blob and commits index.json. A source's index.json
// annotations other than ref.name are kept on its entry.
Result<IndexResult> write_layout_index(const IndexRequest& request);

}  // namespace ocipack
