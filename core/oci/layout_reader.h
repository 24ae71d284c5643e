// Reading an OCI image layout back: the "LAYOUT[:TAG]" reference users type,
// index.json, image indexes and manifests (through the one document reader
// of document_reader.h, here in its strict form: the first unreadable
// problem is the error), image configs (config_reader.h), blobs checked
// against their descriptors, and load_image, which resolves a tag — through
// nested and multi-platform image indexes — to one image's manifest and
// config. Writing stays with nlohmann in oci_json.cc. This is what
// `ocipack tags|inspect|gc` (layout_ops.h), `--base` and verify stand on.
// The image readers (find_tagged_entry, load_image) take a LayoutSource
// (layout_source.h), so they read a layout tarball as well as a directory;
// their path forms open the path with open_layout_source (a regular file is
// a tarball). The other path forms read a layout directory.
//
// The readers accept what other tools write, not only what ocipack writes:
// unknown fields are ignored, JSON null is read as "absent" (Go encodes nil
// slices and maps as null), and numbers must be integers where the spec says
// int64. Errors name the layout, the document and the field; their kind is
// input, or corrupt for a blob whose size or sha256 differs from its
// descriptor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/config_reader.h"
#include "core/oci/document_reader.h"
#include "core/oci/layout_paths.h"
#include "core/oci/layout_source.h"
#include "core/oci/oci_json.h"
#include "core/oci/platform.h"
#include "core/util/digest.h"
#include "core/util/open_beneath.h"
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
//     an existing directory holding an oci-layout file, or an existing
//     regular file (a layout tarball, layout_source.h), are the layouts the
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
// Errors (kind usage): empty text or layout, an empty tag after ':', a tag
// (given or default) failing validate_ref_name, an ambiguous text (rule 1).
Result<ImageRef> parse_image_ref(std::string_view text, std::string_view default_tag = "latest");

// Whether `dir` is an existing directory holding an oci-layout file
// (parse_image_ref's rule 1).
bool is_layout_dir(const std::string& dir);

// Every file of a layout is read with read_regular_file (core/util/open_beneath.h):
// a FIFO, socket, device, directory or symlink in place of oci-layout,
// index.json, a blob, blobs/ or blobs/sha256 is an error naming it, never a
// hang and never a read through a link (a layout is a plain tree). Every JSON
// document is checked against the limits of oci_json.h (k_max_document_size,
// k_max_json_depth) before it is parsed.

// The raw bytes of index.json, after checking that `layout_dir` is a
// directory holding a valid oci-layout file (gc compares them to notice a
// concurrent change). Errors name the layout and what is wrong: missing or
// invalid oci-layout, a missing or unreadable index.json.
Result<std::string> read_index_text(const std::string& layout_dir);

// The entries of an image index document (index.json or a nested index
// blob), in file order, each read as far as it can be (IndexEntry); `what`
// names the document in messages ("layout 'x': index.json"). The error is for
// the document itself: not JSON, too large or deep, not an object,
// "manifests" not an array. A missing or null "manifests" reads as none.
Result<std::vector<IndexEntry>> parse_index_entries(std::string_view json, const std::string& what);
// The same for a layout's index.json, after read_index_text's checks.
Result<std::vector<IndexEntry>> read_index_entries(const std::string& layout_dir);

// The descriptors of an image index document, annotations and platforms
// kept. Strict: an entry that cannot be read fails the whole index (with
// that entry's problem).
Result<std::vector<Descriptor>> parse_index(std::string_view json, const std::string& what);
// The same for a layout's index.json.
Result<std::vector<Descriptor>> read_index(const std::string& layout_dir);

// What a blob of unknown media type looks like: an image index (an object
// with "manifests"), an image manifest (an object with "config" or
// "layers"), or anything else (including text that is not JSON).
enum class DocumentKind { index, manifest, other };
DocumentKind sniff_document_kind(std::string_view json);

// Parses an image manifest: the config descriptor (required) and the layer
// descriptors (mediaType, digest, size, annotations). A document whose
// mediaType says it is an image index is refused. `what` names it in errors.
Result<Manifest> parse_manifest(std::string_view json, const std::string& what = "manifest");

// Opens the blob `descriptor` names (blobs/sha256/<hex> of the layout) with
// open_regular_file: no symlink followed, no blocking, a regular file of
// exactly descriptor.size bytes (else kind corrupt). Errors start with `what`
// ("layout 'x': layer sha256:… of tag 't'") and say what is wrong (missing,
// a FIFO, the size).
Result<RegularFile> open_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what);

// Reads the blob `descriptor` names and checks it: it exists, is a regular
// file of exactly descriptor.size bytes (at most k_max_document_size), and its
// sha256 is the descriptor's digest (else kind corrupt). `what` says what the
// blob is for errors ("manifest of tag 'latest'"); every error names the
// digest and the layout.
Result<std::string> read_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what);

// The entries of the image index blob `descriptor` names (read_blob, then
// parse_index); `what` as for read_blob.
Result<std::vector<Descriptor>> read_index_blob(const std::string& layout_dir, const Descriptor& descriptor,
                                                const std::string& what);

// The one entry of `entries` (an index.json's) whose ref.name is `tag`, with
// load_image's errors: none (listing the tags there are), two or more
// (ambiguous, naming their positions), or one that cannot be read. `where`
// names the layout ("layout 'x'").
Result<Descriptor> find_tagged_descriptor(const std::vector<IndexEntry>& entries, const std::string& tag,
                                          const std::string& where);
// The index.json entry whose ref.name is `tag` (an image manifest or an
// image index), with load_image's errors for a missing or ambiguous tag.
Result<Descriptor> find_tagged_entry(const std::string& layout_dir, const std::string& tag);
Result<Descriptor> find_tagged_entry(const LayoutSource& source, const std::string& tag);

// The index.json entries and image index blobs of any LayoutSource, as
// read_index_entries and read_index_blob read a directory's.
Result<std::vector<IndexEntry>> read_index_entries(const LayoutSource& source);
Result<std::vector<Descriptor>> read_index_blob(const LayoutSource& source, const Descriptor& descriptor,
                                                const std::string& what);

struct LoadedImage {
  Descriptor manifest;      // the image manifest's descriptor: the index.json
                            // entry, or the image index entry chosen for it
  std::vector<Descriptor> indexes;  // the image indexes followed from
                                    // index.json to it, outermost first
  Manifest manifest_doc;
  std::string config_json;  // raw bytes of the config blob
  ImageConfig config;
};

// Finds the index.json entry whose org.opencontainers.image.ref.name is `tag`
// (the error lists the available tags if there is none; other entries that
// cannot be read do not matter; two entries with the tag are refused as
// ambiguous, as umoci does, naming their positions), reads the manifest and
// config blobs, checks their size and sha256 against their descriptors,
// checks that every layer blob exists with its descriptor's size (layers are
// not hashed: they may be gigabytes), and that the config's rootfs.diff_ids
// has one entry per layer.
// A tag that names an image index is followed (nested indexes up to 8 deep):
// with `platform` unset, an index of exactly one entry is followed to it, and
// one of several is refused with an error that lists the platforms to choose
// from ("linux/amd64, linux/arm64/v8"); with `platform` set, the one entry
// whose platform matches it (platform_matches) is followed, and none or
// several is an error naming the platforms there are. A tag naming an image
// manifest directly must then be for that platform (its config says).
Result<LoadedImage> load_image(const std::string& layout_dir, const std::string& tag,
                               const std::optional<Platform>& platform = std::nullopt);
Result<LoadedImage> load_image(const LayoutSource& source, const std::string& tag,
                               const std::optional<Platform>& platform = std::nullopt);

// The bytes of the image's manifest, config and layer blobs.
uint64_t image_size(const LoadedImage& image);

}  // namespace ocipack
