// Reading an OCI image layout back: the "LAYOUT[:TAG]" reference users type,
// index.json, image indexes, manifests and image configs (parsed with
// simdjson; writing stays with nlohmann in oci_json.cc), and load_image, which
// resolves a tag to its manifest and config and checks every blob it reads
// against its descriptor. This is what `ocipack tags|inspect|gc`
// (core/layout_ops.h) and any later "build on top of an image" stand on.
//
// The readers accept what other tools write, not only what ocipack writes:
// unknown fields are ignored, JSON null is read as "absent" (Go encodes nil
// slices and maps as null), and numbers must be integers where the spec says
// int64. Errors name the layout, the document and the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/digest.h"
#include "core/util/open_beneath.h"
#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

// A user's reference to one image of a layout.
struct ImageRef {
  std::string layout_dir;
  std::string tag;
};

// Parses "LAYOUT[:TAG]". Tags may contain ':' and '/' (the ref.name grammar
// allows both: "v1:rc", "library/busybox"), and layout paths may contain ':'
// too, so the split is decided by the file system first:
//  1. Every split is a candidate — at each ':' (layout left of it, tag right
//     of it) and the whole text (no tag). The candidates whose layout part is
//     an existing directory holding an oci-layout file are the layouts the
//     text can mean. Exactly one: that split ("L:a/b" with L a layout →
//     ("L", "a/b"); "/x:y/L:v1" with only /x:y/L a layout → ("/x:y/L",
//     "v1")). More than one (say both "L" and "L:a" are layouts): an error
//     naming them — the text is ambiguous, and the user must rename one.
//  2. None (e.g. the layout does not exist yet): the tag is what follows the
//     FIRST ':' after the last '/'; with no ':' there, the whole text is the
//     layout and the tag is `default_tag`. So "/a/b:v1" → ("/a/b", "v1"),
//     "host:5000/path" → ("host:5000/path", default), "dir:a:b" → ("dir",
//     "a:b").
// Trailing '/' of the layout are dropped ("/a/b/:v1" → "/a/b"; "/" stays "/").
// Errors: empty text or layout, an empty tag after ':', a tag (given or
// default) failing validate_ref_name, an ambiguous text (rule 1).
Result<ImageRef> parse_image_ref(std::string_view text, std::string_view default_tag = "latest");

// Media types that name image indexes (OCI index, Docker manifest list) and
// image manifests (OCI manifest, Docker schema 2 manifest).
bool is_index_media_type(std::string_view media_type);
bool is_manifest_media_type(std::string_view media_type);

// Every file of a layout is read with read_regular_file (core/util/open_beneath.h): a FIFO,
// socket, device, directory or symlink in place of oci-layout, index.json, a
// blob, blobs/ or blobs/sha256 is an error naming it, never a hang and never
// a read through a link (a layout is a plain tree). Every JSON document is
// checked against the limits of oci_json.h (k_max_document_size,
// k_max_json_depth) before it is parsed.

// The manifest descriptors of index.json, in file order (annotations kept).
// Checks first that `layout_dir` holds a valid oci-layout file. Errors name
// the layout and what is wrong: missing or invalid oci-layout, unreadable or
// invalid index.json, a descriptor with a bad digest, a negative size, ...
// A missing "manifests" member (or null) reads as no manifests. Strict: the
// first entry it cannot read fails the whole index (read_index_entries is
// the lenient form).
Result<std::vector<Descriptor>> read_index(const std::string& layout_dir);

// One entry of an index's "manifests", read as far as possible: an entry
// ocipack cannot understand (a sha512 or unknown-algorithm digest, a bad
// size, annotations that are not strings, not an object at all) is kept with
// its problem instead of failing the index, so the other entries stay usable.
struct IndexEntry {
  size_t position = 0;                   // index in "manifests"
  std::optional<std::string> tag;        // the ref.name annotation, when it is a string
  std::string digest_text;               // "digest" as written ("" when not a string)
  std::optional<Descriptor> descriptor;  // unset: the entry cannot be read
  std::string problem;                   // why not ("" when read), naming the field
};

// The entries of an index document; the error result is for the document
// itself (not JSON, too large or deep, not an object, "manifests" not an array).
Result<std::vector<IndexEntry>> parse_index_entries(std::string_view json, const std::string& what);
// The same for a layout's index.json, after read_index_text's checks.
Result<std::vector<IndexEntry>> read_index_entries(const std::string& layout_dir);

// The raw bytes of index.json, after the same checks of the layout and its
// oci-layout file as read_index (gc compares them to notice a concurrent change).
Result<std::string> read_index_text(const std::string& layout_dir);

// The "manifests" of an image index document (index.json or a nested index
// blob). `what` names the document in errors ("layout 'x': index.json").
Result<std::vector<Descriptor>> parse_index(std::string_view json, const std::string& what);

// What a blob of unknown media type looks like: an image index (an object
// with "manifests"), an image manifest (an object with "config" or
// "layers"), or anything else (including text that is not JSON).
enum class DocumentKind { index, manifest, other };
DocumentKind sniff_document_kind(std::string_view json);

// Parses an image config document: everything ImageConfig models (created,
// author, architecture, variant, os, config.{User, ExposedPorts (object keys
// → sorted vector), Env, Entrypoint, Cmd, WorkingDir, Labels, StopSignal},
// rootfs.diff_ids, history[]). Other top-level and config.* members are kept
// as compact JSON text in extra_fields (the last of a repeated key); missing
// fields stay empty. Errors name the field ("image config: config.Env[2] is not a string").
Result<ImageConfig> parse_config(std::string_view json);

// Parses an image manifest: the config descriptor (required) and the layer
// descriptors (mediaType, digest, size, annotations). A document whose
// mediaType says it is an image index is refused.
Result<Manifest> parse_manifest(std::string_view json);

// blobs/sha256/<hex> of a layout.
std::string blob_path(const std::string& layout_dir, const Digest& digest);

// Opens the blob `descriptor` names (blobs/sha256/<hex> of the layout) with
// open_regular_file: no symlink followed, no blocking, a regular file of
// exactly descriptor.size bytes. Errors start with `what` ("layout 'x':
// layer sha256:… of tag 't'") and say what is wrong (missing, a FIFO, the size).
Result<RegularFile> open_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what);

// Reads the blob `descriptor` names and checks it: it exists, is a regular
// file of exactly descriptor.size bytes (at most k_max_document_size), and its
// sha256 is the descriptor's digest. `what` says what the blob is for errors
// ("manifest of tag 'latest'"); every error names the digest and the layout.
Result<std::string> read_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what);

struct LoadedImage {
  Descriptor manifest;      // the index.json entry (for a tag naming a
                            // single-entry nested index: the inner manifest's)
  Manifest manifest_doc;
  std::string config_json;  // raw bytes of the config blob
  ImageConfig config;
};

// Finds the index.json entry whose org.opencontainers.image.ref.name is `tag`
// (the error lists the available tags if there is none; other entries that
// cannot be read do not matter; two entries with the tag are refused as
// ambiguous, as umoci does, naming their positions), reads the
// manifest and config blobs, checks their size and sha256 against their
// descriptors, checks that every layer blob exists with its descriptor's size
// (layers are not hashed: they may be gigabytes), and that the config's
// rootfs.diff_ids has one entry per layer. A tag naming an image index with
// exactly one manifest is followed to it; a multi-entry index is refused.
Result<LoadedImage> load_image(const std::string& layout_dir, const std::string& tag);

}  // namespace ocipack
