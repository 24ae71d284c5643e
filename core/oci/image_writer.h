// Writing images into a layout, apart from committing them: write_image puts
// one image's config and manifest blobs into a LayoutStore (its layer blobs
// are there already) and returns the manifest's descriptor; write_image_index
// puts an image index blob (several images, one per platform) the same way;
// and index.json — the layout's commit point — is changed in two steps, so a
// caller can do something between deciding the new index.json and making it
// the layout's (a build stages its --tar-output tarball from the planned
// text, so a failure there leaves the layout as it was):
//   plan_index(store, entries)  → the new index.json text (nothing written)
//   commit_index(store, plan)   → oci-layout if needed, then index.json
//                                 atomically; the new blobs now belong to
//                                 the layout (LayoutStore::keep_changes).
// A multi-platform image is: write_image per platform, write_image_index of
// the index document over their descriptors (encode_index), then plan_index/commit_index with the index's
// descriptor tagged by a ref.name annotation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/oci/layout_store.h"
#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

struct WrittenImage {
  // The manifest blob's descriptor, with the platform the config describes
  // (platform_of) and the annotations given to write_image.
  Descriptor manifest;
  Descriptor config;
};

// Writes `config` (encode_config) and then the manifest over it and `layers`
// (encode_manifest) as blobs of `store`, each complete before anything
// refers to it. The layer blobs must be in the store already. `annotations`
// go on the returned descriptor (the index entry), `manifest_annotations`
// into the manifest document itself.
Result<WrittenImage> write_image(LayoutStore& store, const ImageConfig& config, const std::vector<Descriptor>& layers,
                                 const std::map<std::string, std::string>& annotations = {},
                                 const std::map<std::string, std::string>& manifest_annotations = {});

// Writes an image index document (a new one from encode_index, or an
// existing one edited by edit_image_index) as a blob and returns its
// descriptor (no platform; the given annotations).
Result<Descriptor> write_image_index(LayoutStore& store, const std::string& index_json,
                                     const std::map<std::string, std::string>& annotations = {});

// The index.json a commit of `entries` would write: the store's existing
// index.json (if any) with each entry filed in as update_index does (an
// entry's ref.name replaces the entries carrying it).
struct IndexPlan {
  std::string index_json;
};
Result<IndexPlan> plan_index(const LayoutStore& store, const std::vector<Descriptor>& entries);

// Commits a plan: the layout's commit point (see above).
Status commit_index(LayoutStore& store, const IndexPlan& plan);

}  // namespace ocipack
