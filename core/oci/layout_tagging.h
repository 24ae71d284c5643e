// Tags as names of images already in a layout: `ocipack tag` gives the
// manifest one tag names more tags, `ocipack untag` removes a tag's
// index.json entry (its blobs stay until gc), and replaced_tags tells a
// build (or tag) which tags a commit moves from another manifest, so the
// user hears that the old image lost its name. Writers hold the layout lock
// (LayoutStore) and change index.json only through plan_index/commit_index.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

// A tag that a commit takes from the manifest it named before.
struct ReplacedTag {
  std::string tag;
  std::string previous_digest;  // as index.json wrote it
};

// The tags (ref.name) of `entries` that `existing_index` gives to another
// digest, in the order of `entries`. An unreadable index reads as no tags.
std::vector<ReplacedTag> replaced_tags(const std::optional<std::string>& existing_index,
                                       const std::vector<Descriptor>& entries);

struct TagResult {
  Descriptor target;                  // the entry `source_tag` names (with its ref.name)
  std::vector<ReplacedTag> replaced;  // new tags that named something else before
};

// Adds `new_tags` to the manifest (or index) `source_tag` names in the layout
// `layout_dir`: one index.json entry each, a copy of the source's entry
// (annotations, platform) with its own ref.name. Errors: a missing or broken
// layout or index.json (input; nothing written), no entry tagged
// `source_tag` or an unreadable one (input, naming the field `source_tag`),
// a new tag failing validate_ref_name (usage, `new_tags[N]`).
Result<TagResult> add_tags(const std::string& layout_dir, const std::string& source_tag,
                           const std::vector<std::string>& new_tags);

// Removes the index.json entry tagged `tag` (its blobs stay until gc) and
// returns it. Errors as add_tags'; no such tag is an input error naming `removed_tag`.
Result<Descriptor> remove_tag(const std::string& layout_dir, const std::string& tag);

// The tag a reader (`inspect LAYOUT`) means when none is given, as skopeo
// picks: "latest" when the layout has it, else a tag of the layout's only
// image (several tags of one manifest are one image). Several images, or one
// without a tag, is a usage error that lists
// the choices (tags, and the digests of untagged entries); a missing or
// broken layout is list_tags' error.
Result<std::string> default_image_tag(const std::string& layout_dir);

}  // namespace ocipack
