// The one reader of descriptors, image indexes (index.json and nested index
// blobs) and image manifests, shared by the loader (layout_reader.h: stops at
// the first problem) and by verify (core/image/layout_verify.h: reports every
// problem). The reader walks the whole document and reports each problem it
// finds to a ProblemSink, graded by what a reader can still do:
//   unreadable    — a value ocipack needs cannot be read as the spec defines
//                   it (a field of the wrong type, a malformed digest, a
//                   negative size): the loader refuses the entry or document;
//   nonconforming — the document breaks a rule of the spec but reads (a
//                   missing mediaType or schemaVersion, a media type that
//                   names something else, a null where an array belongs):
//                   the loader reads on, verify reports it.
// It accepts what other tools write: unknown members are ignored, a repeated
// key takes its last value, JSON null reads as absent. Every message names
// the document (`what`, e.g. "index.json") and the field
// ("manifests[2].size is negative (-5)").
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

enum class Severity { unreadable, nonconforming };

// Where a reader's problems go.
class ProblemSink {
 public:
  virtual ~ProblemSink() = default;
  virtual void report(Severity severity, std::string message) = 0;
};

// The loader's sink: keeps the first unreadable problem, ignores the others.
class FirstUnreadable final : public ProblemSink {
 public:
  void report(Severity severity, std::string message) override;
  bool found() const { return m_first.has_value(); }
  // The problem as an error of kind input (only when found()).
  Error error() const { return input_error(m_first.value_or("")); }

 private:
  std::optional<std::string> m_first;
};

// One entry of an index's "manifests", read as far as possible: an entry
// ocipack cannot read (a sha512 or unknown-algorithm digest, a bad size,
// annotations that are not strings, not an object at all) keeps its problem
// instead of failing the index, so the other entries stay usable.
struct IndexEntry {
  size_t position = 0;                   // index in "manifests"
  std::optional<std::string> tag;        // the ref.name annotation, when it is a string
  std::string digest_text;               // "digest" as written ("" when not a string)
  std::optional<Descriptor> descriptor;  // unset: the entry cannot be read
  std::string problem;                   // why not ("" when read), naming the field
  // The entry as far as it reads, whenever its digest does (even when
  // `descriptor` is unset): the blob it names can still be examined. A
  // missing or unreadable mediaType reads as "", an unreadable size as -1.
  std::optional<Descriptor> located;
};

struct IndexDocument {
  // False when the document cannot be read as an index at all (not JSON,
  // beyond the limits, not an object, "manifests" not an array).
  bool readable = false;
  std::vector<IndexEntry> entries;
};

// Reads an image index document. `referrer` is the descriptor that points at
// a nested index blob (its mediaType must be an index type and agree with
// the document's); null for a layout's index.json, whose mediaType, when
// present, must be the OCI index type.
IndexDocument read_index_document(std::string_view json, const std::string& what, const Descriptor* referrer,
                                  ProblemSink& sink);

struct ManifestDocument {
  bool readable = false;  // false: not JSON, beyond the limits, or not an object
  std::optional<Descriptor> config;               // located, as IndexEntry::located
  std::vector<std::optional<Descriptor>> layers;  // each located, in order
  std::string artifact_type;                       // OCI 1.1 "artifactType" ("" when absent)
  std::optional<Descriptor> subject;               // OCI 1.1 "subject" (a referrer's), located
  std::map<std::string, std::string> annotations;  // a member that is not a string: unreadable
};

// Reads an image manifest document. A mediaType that names an image index is
// unreadable (the document is not a manifest); no config descriptor is
// unreadable; missing or null "layers" reads as none (nonconforming).
// `referrer` (may be null) is the descriptor that points at it.
ManifestDocument read_manifest_document(std::string_view json, const std::string& what, const Descriptor* referrer,
                                        ProblemSink& sink);

}  // namespace ocipack
