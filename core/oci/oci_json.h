// The OCI image documents ocipack writes — image config, manifest, image
// index (index.json and nested index blobs) — as plain structs and their
// canonical JSON encoding. Encoding is compact, keys in a fixed order (the
// spec's order), empty optional fields omitted (as Go's omitempty does), maps
// sorted by key, so the same inputs always give the same bytes and therefore
// the same digests. Media types are in media_types.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/oci/media_types.h"
#include "core/oci/platform.h"
#include "core/util/digest.h"
#include "core/util/result.h"

namespace ocipack {

// The oci-layout file ocipack writes.
inline constexpr const char* k_oci_layout_json = "{\"imageLayoutVersion\":\"1.0.0\"}";

// Limits of every JSON document ocipack reads or writes (index.json,
// oci-layout, image indexes, manifests, configs), in every reader (simdjson,
// nlohmann) and writer alike. Real documents are far below both: a config
// nests 4 levels, an index with annotations 4; 64 leaves room for unknown
// extension members, while nothing that walks a document recursively (the
// nlohmann serializer) can run out of stack.
inline constexpr int64_t k_max_document_size = 64 * 1024 * 1024;
inline constexpr int k_max_json_depth = 64;

// Checks `text` against both limits before it is parsed: at most
// k_max_document_size bytes and at most k_max_json_depth nested arrays and
// objects (counted outside strings, so this holds for any byte string, valid
// JSON or not). Errors name the document: "<what> is nested more than 64 levels deep".
Status check_json_limits(std::string_view text, const std::string& what);

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  // What the image runs on, for an entry of an image index that lists
  // several (written as the descriptor's "platform" object when set).
  std::optional<Platform> platform = std::nullopt;
  // The artifact type of the manifest it names (OCI 1.1; written as
  // "artifactType" when set): how index.json lists a referrer.
  std::string artifact_type = {};
};

struct HistoryEntry {
  std::string created;  // RFC 3339
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
};

// The runtime part of the config ("config" object), named as the spec does.
struct ContainerConfig {
  std::string user;
  std::vector<std::string> exposed_ports;  // "80/tcp"; stored as an object, sorted
  std::vector<std::string> env;            // "KEY=value", in the order given
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  // Members ocipack does not model (Volumes, Healthcheck, Shell, OnBuild,
  // StopTimeout, ArgsEscaped, anything newer): name → compact JSON text, kept
  // from a base config and written after the modelled ones, sorted by name.
  std::map<std::string, std::string> extra_fields;
};

struct ImageConfig {
  std::string created;  // RFC 3339
  std::string author;
  std::string architecture;
  std::string variant;
  std::string os;
  ContainerConfig config;
  std::vector<Digest> diff_ids;
  std::vector<HistoryEntry> history;
  // Top-level members not modelled ("os.version", "os.features", unknown
  // keys), as ContainerConfig::extra_fields.
  std::map<std::string, std::string> extra_fields;
};

struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;
  // OCI 1.1 members, each written only when set (so an image without them
  // encodes as before): the artifact type of an artifact manifest, the
  // manifest it refers to (a referrer's subject), and the manifest's
  // annotations.
  std::string artifact_type = {};
  std::optional<Descriptor> subject = std::nullopt;
  std::map<std::string, std::string> annotations = {};
};

// An image index stored as a blob (a nested index: one image for several
// platforms, each entry's descriptor carrying its platform).
struct ImageIndex {
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

// The platform an image config describes: its os, architecture and variant,
// and os.version / os.features when the config carries them (kept in
// extra_fields; values of the wrong JSON type are left out).
Platform platform_of(const ImageConfig& config);

// Checks annotation keys a user gives (`field` names them in errors): each
// non-empty, without '=', and not org.opencontainers.image.ref.name, which
// ocipack sets from the tag. Values may be any UTF-8 (the encoders check).
Status check_annotation_keys(const std::map<std::string, std::string>& annotations, const std::string& field);

// Canonical encodings. Errors (e.g. a label that is not valid UTF-8, an
// extra field that is not JSON) name the field. A config without extra
// fields encodes exactly as before they were kept.
Result<std::string> encode_config(const ImageConfig& config);
Result<std::string> encode_manifest(const Manifest& manifest);
// {"schemaVersion":2,"mediaType":<index>,"manifests":[…],"annotations":{…}}.
Result<std::string> encode_index(const ImageIndex& index);

// One entry of an edited image index (edit_image_index): the existing
// document's entry at position `kept`, as it is, or `added`, encoded.
struct IndexEntryEdit {
  std::optional<size_t> kept;
  Descriptor added = {};
};

// An image index document — a nested index blob, perhaps written by another
// tool — with its "manifests" replaced by `entries` and each of
// `annotations` set in its top-level "annotations" (the other keys kept).
// Everything else stays as it is, in its order: the other top-level members
// (annotations, subject, artifactType, unknown ones) and each kept entry
// whole (urls, data, unknown fields included). The existing text must be
// within the JSON limits, an object whose "manifests" is an array (or
// absent; null is refused, as update_index does) and whose "annotations", when set, is an object. `what` names
// it in errors.
Result<std::string> edit_image_index(std::string_view existing, const std::vector<IndexEntryEdit>& entries,
                                     const std::map<std::string, std::string>& annotations, const std::string& what);

// index.json: the existing document (if any) is updated entry by entry, in
// order: the descriptors whose ref.name annotation equals an entry's are
// replaced by it — the first in place, any later duplicates removed, so a tag
// names one image afterwards — or the entry is appended (always, when it has
// no ref.name, unless it has an artifactType — a referrer — and an entry
// without ref.name of the same digest is listed already: a referrer is
// listed once). Unknown fields of the existing index and its other
// descriptors are kept. The existing text must be within the JSON limits
// (check_json_limits), and so must the result. Errors name index.json and
// what is wrong with it.
Result<std::string> update_index(const std::optional<std::string>& existing_index,
                                 const std::vector<Descriptor>& entries);
inline Result<std::string> update_index(const std::optional<std::string>& existing_index,
                                        const Descriptor& entry) {
  return update_index(existing_index, std::vector<Descriptor>{entry});
}

// index.json without its untagged entries (no ref.name annotation) whose
// digest is in `digests` (sha256:… text); everything else is kept as it is.
// gc drops the referrers of images that are gone with it.
Result<std::string> drop_untagged_entries(const std::string& existing_index, const std::vector<Digest>& digests);
// index.json without the entries whose ref.name is `tag` (`ocipack untag`).
Result<std::string> drop_tagged_entries(const std::string& existing_index, std::string_view tag);

// Checks that an existing index.json can be updated (the checks update_index
// makes on the existing text, limits included), so a build can refuse a
// broken layout before writing anything.
Status check_index(const std::string& existing_index);

// Checks the oci-layout file: a JSON object with imageLayoutVersion 1.x.
Status check_oci_layout(const std::string& oci_layout);

}  // namespace ocipack

namespace ocipack {
// Checks a tag against the image-layout spec's ref.name grammar:
//   ref ::= component ("/" component)*;  component ::= alphanum (separator alphanum)*
//   alphanum ::= [A-Za-z0-9]+;  separator ::= [-._:@+] | "--"
Status validate_ref_name(std::string_view tag);
}  // namespace ocipack
