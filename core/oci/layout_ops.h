// The read-only operations behind `ocipack tags` and `ocipack inspect --json`
// on an existing OCI image layout (gc is layout_gc.h, the human-readable
// inspect text is cli/inspect_text.h). Everything here returns data or a
// machine format; printing is the CLI's job. Readers take no lock
// (layout_lock.h says why that is safe).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/util/unique_fd.h"
#include "core/oci/layout_reader.h"
#include "core/oci/oci_json.h"
#include "core/oci/platform.h"
#include "core/oci/referrers.h"
#include "core/util/result.h"

namespace ocipack {

// What an index.json entry names.
enum class EntryKind {
  image,  // an image manifest
  index,  // an image index (one image per platform, or a nested index)
  other,  // an entry that cannot be read, or of another media type
};

struct TagInfo {
  std::string tag;  // "" for an index.json entry without a ref.name annotation
  bool readable = true;  // false: the entry could not be read, `manifest` is empty
  Descriptor manifest;
  std::string digest_text;  // the digest as index.json writes it (for entries that cannot be read too)
  EntryKind kind = EntryKind::other;
  // For an image index whose blob could be read: the platform of each of its
  // entries, in order (nullopt: that entry says none).
  struct IndexSummary {
    std::vector<std::optional<Platform>> platforms;
  };
  std::optional<IndexSummary> index;
  // Why the entry is not something ocipack can read ("" when it is): the
  // reader's problem (a sha512 or unknown digest, a bad size, ...), an
  // unknown media type, an image index blob that cannot be read, or a tag
  // that other entries carry too.
  std::string note;
};

// The entries of index.json in file order — referrers (is_referrer_entry)
// left out: they are no tags — with their ref.name and kind; an
// image index entry's blob is read for its platforms. Entries ocipack does
// not understand are listed with a note instead of failing the listing (see
// IndexEntry); only an unreadable index.json itself is an error.
Result<std::vector<TagInfo>> list_tags(const std::string& layout_dir);

// The listing as one JSON array (no trailing newline), a machine format:
// [{"tag":…|null, "digest":…, "size":…|null, "kind":"image"|"index"|"other",
//   "platforms":["linux/amd64", null…] (index only), "note":… (when there is one)}…]
std::string tags_json(const std::vector<TagInfo>& tags);

// One image (load_image: `platform` picks one of a multi-platform index) as
// one JSON object (no trailing newline), a machine format:
//   {"tag":…, "manifest":{"digest":…,"size":…}, "config_digest":<the config's
//    digest, the image id>, "config":<the config blob as
//    stored, surrounding whitespace trimmed>, "layers":[{"digest","size",
//    "mediaType","diff_id"}…], "size":<manifest + config + layers bytes>,
//    "referrers":[{"artifactType","digest","size"}…] (only when it has some:
//    referrers.h)}
Result<std::string> inspect_json(const std::string& layout_dir, const std::string& tag,
                                 const std::optional<Platform>& platform = std::nullopt);

// A tag that names an image index, as `inspect` lists it when no platform
// is chosen: the index.json entry, the index's entries (each an image's
// manifest descriptor with its platform), in order, and the layout's
// referrers whose subject is the index or one of its entries (in index.json
// order; referrers_about picks those of one).
struct TaggedIndex {
  Descriptor index;
  std::vector<Descriptor> entries;
  std::vector<Referrer> referrers;
};

// The referrers of `referrers` whose subject is `subject`, in order.
std::vector<Referrer> referrers_about(const std::vector<Referrer>& referrers, const Digest& subject);

// The index `tag` names (its blob read and checked), or nullopt when the tag
// names an image manifest. Errors as load_image's for the tag and the blob.
Result<std::optional<TaggedIndex>> read_tagged_index(const std::string& layout_dir, const std::string& tag);

// A TaggedIndex as one JSON object (no trailing newline), a machine format:
//   {"tag":…, "index":{"digest":…,"size":…,"mediaType":…},
//    "manifests":[{"platform":"linux/arm64/v8"|null,"digest","size","mediaType",
//                  "referrers":[{"artifactType","digest","size"}…] (when it has some)}…],
//    "referrers":[…] (the index's own, when it has some)}
std::string tagged_index_json(const std::string& tag, const TaggedIndex& index);

}  // namespace ocipack
