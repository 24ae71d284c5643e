// Referrers in a layout (see referrers.h): the artifact type sniffed from a
// document's content, the artifact manifest and its blobs, attach (written
// and committed like a build: blobs first, index.json last), and the reading
// side that inspect, verify and gc use.
#include "core/oci/referrers.h"

#include <nlohmann/json.hpp>

#include "core/oci/image_writer.h"
#include "core/oci/layout_reader.h"
#include "core/oci/media_types.h"
#include "core/util/open_beneath.h"
#include "core/util/path.h"
#include "core/util/sha256.h"
#include "core/util/text.h"

namespace ocipack {

namespace {
using Json = nlohmann::json;

bool mentions_spdx3_context(const Json& context) {
  constexpr std::string_view k_spdx3 = "spdx.org/rdf/3.0";
  if (context.is_string()) return context.get<std::string>().find(k_spdx3) != std::string::npos;
  if (context.is_array())
    for (const auto& item : context)
      if (mentions_spdx3_context(item)) return true;
  return false;
}
}  // namespace

std::optional<std::string> detect_artifact_type(std::string_view document) {
  if (!check_json_limits(document, "the document")) return std::nullopt;
  const Json j = Json::parse(document, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (j.contains("spdxVersion") && j["spdxVersion"].is_string()) return std::string(k_artifact_type_spdx);
  if (j.contains("@context") && mentions_spdx3_context(j["@context"])) return std::string(k_artifact_type_spdx);
  if (j.contains("bomFormat") && j["bomFormat"] == "CycloneDX") return std::string(k_artifact_type_cyclonedx);
  return std::nullopt;
}

Result<std::string> resolve_artifact_type(std::string_view document, const std::optional<std::string>& given,
                                          const std::string& field) {
  if (given) {
    if (!is_valid_media_type(*given))
      return field_error(ErrorKind::usage, "artifact_type", " " + in_quotes(*given) + " is not a valid media type");
    return *given;
  }
  if (auto detected = detect_artifact_type(document)) return *detected;
  return field_error(ErrorKind::usage, field,
                     ": the document is neither SPDX (2.x JSON, 3.0 JSON-LD) nor CycloneDX JSON; "
                     "an artifact type is required");
}

Result<std::string> read_attachment(const std::string& path, const std::string& field) {
  const std::string trimmed = trim_trailing_slashes(path);
  const std::string name = base_name(trimmed);
  if (path.empty() || name.empty() || name == "." || name == ".." || trimmed != path)
    return field_error(ErrorKind::usage, field, " " + in_quotes(path) + " is not a file");
  const std::string dir = trimmed.find('/') == std::string::npos ? "." : parent_directory(trimmed);
  auto text = read_regular_file(dir.empty() ? "/" : dir, name, k_max_document_size);
  if (!text) return field_error(ErrorKind::input, field, " " + in_quotes(path) + ": " + text.error().message);
  if (!*text) return field_error(ErrorKind::input, field, " " + in_quotes(path) + " does not exist");
  return std::move(**text);
}

Manifest make_artifact_manifest(const Descriptor& subject, const Descriptor& document,
                                const std::string& artifact_type) {
  Manifest manifest;
  manifest.artifact_type = artifact_type;
  auto plain = [](std::string media_type, const Digest& digest, int64_t size) {
    Descriptor d;
    d.media_type = std::move(media_type);
    d.digest = digest;
    d.size = size;
    return d;
  };
  manifest.config = plain(k_media_type_empty, Sha256::of(k_empty_json), 2);
  manifest.layers.push_back(plain(artifact_type, document.digest, document.size));
  manifest.subject = plain(subject.media_type, subject.digest, subject.size);
  return manifest;
}

Result<Descriptor> write_referrer(LayoutStore& store, const Descriptor& subject, std::string_view document,
                                  const std::string& artifact_type) {
  OCIPACK_TRY(store.put_blob(k_empty_json, k_media_type_empty));
  OCIPACK_TRY_ASSIGN(const Descriptor blob, store.put_blob(document, artifact_type));
  OCIPACK_TRY_ASSIGN(const std::string manifest_json,
                     encode_manifest(make_artifact_manifest(subject, blob, artifact_type)));
  OCIPACK_TRY_ASSIGN(Descriptor entry, store.put_blob(manifest_json, k_media_type_manifest));
  entry.artifact_type = artifact_type;
  return entry;
}

namespace {
// The descriptor of what `tag` names, checked: an image is loaded
// (load_image reads and verifies its documents), an index blob read.
Result<Descriptor> attach_subject(const std::string& dir, const std::string& tag) {
  OCIPACK_TRY_ASSIGN(Descriptor entry, find_tagged_entry(dir, tag));
  if (is_index_media_type(entry.media_type)) {
    OCIPACK_TRY(read_index_blob(dir, entry, "image index of tag " + in_quotes(tag)));
  } else {
    OCIPACK_TRY(load_image(dir, tag));
  }
  return entry;
}
}  // namespace

Result<Descriptor> attach_document(const AttachRequest& request) {
  OCIPACK_TRY_ASSIGN(const std::string document, read_attachment(request.document_path, "document"));
  auto resolved = resolve_artifact_type(document, request.artifact_type, "document");
  if (!resolved && !request.artifact_type)
    return std::move(resolved).error().then(" (give it with ").then_field("artifact_type").then(")");
  OCIPACK_TRY_ASSIGN(const std::string artifact_type, std::move(resolved));
  OCIPACK_TRY(validate_ref_name(request.tag));
  OCIPACK_TRY_ASSIGN(LayoutStore store, LayoutStore::open_or_create(request.layout_dir));
  if (!store.existing_index())
    return input_error("layout " + in_quotes(request.layout_dir) + " has no index.json: nothing to attach to");
  auto entry = [&]() -> Result<Descriptor> {
    OCIPACK_TRY_ASSIGN(const Descriptor subject, attach_subject(store.dir(), request.tag));
    OCIPACK_TRY_ASSIGN(Descriptor written, write_referrer(store, subject, document, artifact_type));
    OCIPACK_TRY_ASSIGN(const IndexPlan plan, plan_index(store, {written}));
    OCIPACK_TRY(commit_index(store, plan));
    return written;
  }();
  if (!entry) store.discard_changes();
  return entry;
}

bool is_referrer_entry(const Descriptor& entry) {
  return !entry.artifact_type.empty() && !entry.annotations.count(k_annotation_ref_name);
}

Result<std::vector<Referrer>> list_referrers(const std::string& layout_dir, const std::optional<Digest>& subject) {
  OCIPACK_TRY_ASSIGN(const auto source, open_layout_source(trim_trailing_slashes(layout_dir)));
  return list_referrers(*source, subject);
}

Result<std::vector<Referrer>> list_referrers(const LayoutSource& source, const std::optional<Digest>& subject) {
  OCIPACK_TRY_ASSIGN(const auto entries, read_index_entries(source));
  std::vector<Referrer> out;
  for (const auto& index_entry : entries) {
    if (!index_entry.descriptor) continue;  // not readable: tags and verify report it
    const Descriptor& entry = *index_entry.descriptor;
    if (!is_referrer_entry(entry) || !is_manifest_media_type(entry.media_type)) continue;
    const std::string what = "referrer " + entry.digest.str();
    OCIPACK_TRY_ASSIGN(const std::string text, source.read_document(entry, what));
    OCIPACK_TRY_ASSIGN(Manifest manifest, parse_manifest(text, source.where() + ": " + what));
    if (!manifest.subject || (subject && manifest.subject->digest != *subject)) continue;
    Referrer referrer{entry, manifest.artifact_type.empty() ? entry.artifact_type : manifest.artifact_type,
                      *manifest.subject, {manifest.config}};
    for (auto& layer : manifest.layers) referrer.blobs.push_back(std::move(layer));
    out.push_back(std::move(referrer));
  }
  return out;
}

Result<std::vector<Referrer>> referrers_of_image(const std::string& layout_dir, const LoadedImage& image) {
  OCIPACK_TRY_ASSIGN(auto all, list_referrers(layout_dir));
  std::vector<Referrer> out;
  for (auto& referrer : all) {
    bool about = referrer.subject.digest == image.manifest.digest;
    for (const auto& index : image.indexes) about = about || referrer.subject.digest == index.digest;
    if (about) out.push_back(std::move(referrer));
  }
  return out;
}

}  // namespace ocipack
