// OCI 1.1 referrers kept in a layout: a document about an image (an SBOM)
// becomes an artifact manifest — an image manifest with an artifactType, the
// empty config (application/vnd.oci.empty.v1+json, "{}"), one layer that is
// the document, and a subject that is the image manifest's descriptor — and
// is listed in index.json as an entry with that artifactType and WITHOUT a
// ref.name annotation, so it is no tag but can be found without a registry
// (registries answer the referrers API from the subject; a layout has only
// index.json). Writing goes through LayoutStore and plan_index/commit_index
// like a build; reading through read_blob and parse_manifest.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/layout_reader.h"
#include "core/oci/layout_store.h"
#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

// The artifact type a document's content says: SPDX 2.x JSON ("spdxVersion"
// at the top) or SPDX 3.0 JSON-LD ("@context" naming spdx.org/rdf/3.0) →
// application/spdx+json; CycloneDX JSON ("bomFormat": "CycloneDX") →
// application/vnd.cyclonedx+json; anything else (not JSON, other JSON) →
// nullopt.
std::optional<std::string> detect_artifact_type(std::string_view document);

// The artifact type to use: `given` when set (it must be a valid media
// type), else the detected one; neither is a usage error naming `field`
// (which says the type is required).
Result<std::string> resolve_artifact_type(std::string_view document, const std::optional<std::string>& given,
                                          const std::string& field);

// Reads the file to attach: a regular file (not followed if a symlink; a
// FIFO, device or directory refused without blocking) of at most
// k_max_document_size bytes. Errors name `field` and the path.
Result<std::string> read_attachment(const std::string& path, const std::string& field);

// The artifact manifest for `document` (its blob's descriptor, media type =
// the artifact type) about `subject` (media type, digest and size kept; its
// annotations and platform dropped).
Manifest make_artifact_manifest(const Descriptor& subject, const Descriptor& document,
                                const std::string& artifact_type);

// Writes the empty config blob, the document blob and the artifact manifest
// into `store`; returns the index.json entry for it (media type, digest,
// size, artifactType; no annotations). Nothing is committed.
Result<Descriptor> write_referrer(LayoutStore& store, const Descriptor& subject, std::string_view document,
                                  const std::string& artifact_type);

// What an attach asks for.
struct AttachRequest {
  std::string layout_dir;
  std::string tag;                           // the image the document is about
  std::string document_path;
  std::optional<std::string> artifact_type;  // unset: detect_artifact_type
};

// `ocipack attach`: the referrer written and index.json committed (a
// failure leaves the layout as it was). The same document attached to the
// same image again gives the same manifest, listed once. Returns the entry.
Result<Descriptor> attach_document(const AttachRequest& request);

// Whether an index.json entry is listed as a referrer: no ref.name
// annotation and an artifactType.
bool is_referrer_entry(const Descriptor& entry);

// A referrer of a layout, read from its index.json entry and manifest.
struct Referrer {
  Descriptor manifest;  // the index.json entry
  std::string artifact_type;
  Descriptor subject;
  std::vector<Descriptor> blobs;  // config, then layers
};

// The referrer entries of the layout's index.json whose manifests read and
// carry a subject, in index.json order; `subject` (when set) keeps only
// those about that digest. An entry whose manifest cannot be read is an error.
// The path form reads a layout directory or tarball (open_layout_source).
Result<std::vector<Referrer>> list_referrers(const std::string& layout_dir,
                                             const std::optional<Digest>& subject = std::nullopt);
Result<std::vector<Referrer>> list_referrers(const LayoutSource& source,
                                             const std::optional<Digest>& subject = std::nullopt);

// The referrers of a loaded image: those whose subject is its manifest or
// one of the image indexes followed to it.
Result<std::vector<Referrer>> referrers_of_image(const std::string& layout_dir, const LoadedImage& image);

}  // namespace ocipack
