// JSON encoding of OCI documents with nlohmann::ordered_json, which keeps
// insertion order so the key order below is the byte order on disk.
#include "core/oci/oci_json.h"

#include <functional>

#include <nlohmann/json.hpp>

namespace ocipack {

using Json = nlohmann::ordered_json;

namespace {
Json string_map(const std::map<std::string, std::string>& values) {
  Json object = Json::object();
  for (const auto& [k, v] : values) object[k] = v;
  return object;
}

// Keys in the order of the image spec's Go struct (omitempty fields left out).
Json platform_json(const Platform& p) {
  Json j;
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

Json descriptor_json(const Descriptor& d) {
  Json j;
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.annotations.empty()) j["annotations"] = string_map(d.annotations);
  if (d.platform) j["platform"] = platform_json(*d.platform);
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

// Every document ocipack writes goes through here, and is held to the limits
// every reader applies (check_json_limits), so what is written can be read back.
Result<std::string> dump(const Json& j, const char* what) {
  std::string text;
  try {
    text = j.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return input_error(std::string("cannot encode ") + what +
                      ": a value is not valid UTF-8 (" + e.what() + ")");
  }
  OCIPACK_TRY(check_json_limits(text, std::string("the new ") + what));
  return text;
}

// Appends the kept members after the modelled ones (sorted by name).
Status append_extra_fields(Json& object, const std::map<std::string, std::string>& extra,
                           const std::string& prefix) {
  for (const auto& [key, text] : extra) {
    if (object.contains(key)) continue;  // a modelled member of that name wins
    try {
      object[key] = Json::parse(text);
    } catch (const Json::exception&) {
      return input_error("cannot encode image config: " + prefix + key + " is not valid JSON");
    }
  }
  return ok_status();
}

Json string_array(const std::vector<std::string>& values) {
  Json a = Json::array();
  for (const auto& v : values) a.push_back(v);
  return a;
}
}  // namespace

namespace {
// RFC 3629 UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; }
    else return false;
    if (i + extra >= n) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3f);
    }
    static constexpr uint32_t k_min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < k_min[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

Status require_utf8(std::string_view value, const std::string& field) {
  if (is_valid_utf8(value)) return ok_status();
  return input_error(field + " is not valid UTF-8 (OCI documents are JSON text)");
}

Status check_config_text(const ImageConfig& c) {
  OCIPACK_TRY(require_utf8(c.author, "author"));
  OCIPACK_TRY(require_utf8(c.architecture, "architecture"));
  OCIPACK_TRY(require_utf8(c.variant, "variant"));
  OCIPACK_TRY(require_utf8(c.os, "os"));
  const ContainerConfig& cc = c.config;
  OCIPACK_TRY(require_utf8(cc.user, "User"));
  OCIPACK_TRY(require_utf8(cc.working_dir, "WorkingDir"));
  OCIPACK_TRY(require_utf8(cc.stop_signal, "StopSignal"));
  for (const auto& p : cc.exposed_ports) OCIPACK_TRY(require_utf8(p, "ExposedPorts entry"));
  for (const auto& e : cc.env) OCIPACK_TRY(require_utf8(e, "Env entry '" + e.substr(0, e.find('=')) + "'"));
  for (const auto& e : cc.entrypoint) OCIPACK_TRY(require_utf8(e, "Entrypoint element"));
  for (const auto& e : cc.cmd) OCIPACK_TRY(require_utf8(e, "Cmd element"));
  for (const auto& [k, v] : cc.labels) {
    OCIPACK_TRY(require_utf8(k, "a label key in Labels"));
    OCIPACK_TRY(require_utf8(v, "the value of label '" + k + "' in Labels"));
  }
  for (const auto& h : c.history) {
    OCIPACK_TRY(require_utf8(h.author, "history author"));
    OCIPACK_TRY(require_utf8(h.comment, "history comment"));
    OCIPACK_TRY(require_utf8(h.created_by, "history created_by"));
  }
  return ok_status();
}
}  // namespace

Status check_annotation_keys(const std::map<std::string, std::string>& annotations, const std::string& field) {
  for (const auto& [key, value] : annotations) {
    if (key.empty()) return field_error(ErrorKind::usage, field, ": an annotation key is empty");
    if (key.find('=') != std::string::npos)
      return field_error(ErrorKind::usage, field, ": annotation key '" + key + "' contains '='");
    if (key == k_annotation_ref_name)
      return field_error(ErrorKind::usage, field,
                         ": " + key + " is the tag's (set by ocipack from the tag), not an annotation to give");
    OCIPACK_TRY(require_utf8(key, "annotation key"));
    OCIPACK_TRY(require_utf8(value, "the value of annotation '" + key + "'"));
  }
  return ok_status();
}

Result<std::string> encode_config(const ImageConfig& c) {
  OCIPACK_TRY(check_config_text(c));
  Json j;
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.author.empty()) j["author"] = c.author;
  j["architecture"] = c.architecture;
  if (!c.variant.empty()) j["variant"] = c.variant;
  j["os"] = c.os;

  const ContainerConfig& cc = c.config;
  Json config = Json::object();
  if (!cc.user.empty()) config["User"] = cc.user;
  if (!cc.exposed_ports.empty()) {
    std::map<std::string, int> sorted;
    for (const auto& p : cc.exposed_ports) sorted[p] = 0;
    Json ports = Json::object();
    for (const auto& [p, unused] : sorted) ports[p] = Json::object();
    config["ExposedPorts"] = ports;
  }
  if (!cc.env.empty()) config["Env"] = string_array(cc.env);
  if (!cc.entrypoint.empty()) config["Entrypoint"] = string_array(cc.entrypoint);
  if (!cc.cmd.empty()) config["Cmd"] = string_array(cc.cmd);
  if (!cc.working_dir.empty()) config["WorkingDir"] = cc.working_dir;
  if (!cc.labels.empty()) config["Labels"] = string_map(cc.labels);
  if (!cc.stop_signal.empty()) config["StopSignal"] = cc.stop_signal;
  OCIPACK_TRY(append_extra_fields(config, cc.extra_fields, "config."));
  j["config"] = config;

  Json rootfs;
  rootfs["type"] = "layers";
  Json diff_ids = Json::array();
  for (const auto& d : c.diff_ids) diff_ids.push_back(d.str());
  rootfs["diff_ids"] = diff_ids;
  j["rootfs"] = rootfs;

  if (!c.history.empty()) {
    Json history = Json::array();
    for (const auto& h : c.history) {
      Json e;
      if (!h.created.empty()) e["created"] = h.created;
      if (!h.created_by.empty()) e["created_by"] = h.created_by;
      if (!h.author.empty()) e["author"] = h.author;
      if (!h.comment.empty()) e["comment"] = h.comment;
      if (h.empty_layer) e["empty_layer"] = true;
      history.push_back(e);
    }
    j["history"] = history;
  }
  OCIPACK_TRY(append_extra_fields(j, c.extra_fields, ""));
  return dump(j, "image config");
}

Result<std::string> encode_manifest(const Manifest& m) {
  Json j;
  j["schemaVersion"] = 2;
  j["mediaType"] = k_media_type_manifest;
  if (!m.artifact_type.empty()) j["artifactType"] = m.artifact_type;
  j["config"] = descriptor_json(m.config);
  Json layers = Json::array();
  for (const auto& l : m.layers) layers.push_back(descriptor_json(l));
  j["layers"] = layers;
  if (m.subject) j["subject"] = descriptor_json(*m.subject);
  if (!m.annotations.empty()) j["annotations"] = string_map(m.annotations);
  return dump(j, "manifest");
}

Result<std::string> encode_index(const ImageIndex& index) {
  Json j;
  j["schemaVersion"] = 2;
  j["mediaType"] = k_media_type_index;
  Json manifests = Json::array();
  for (const auto& m : index.manifests) manifests.push_back(descriptor_json(m));
  j["manifests"] = manifests;
  if (!index.annotations.empty()) j["annotations"] = string_map(index.annotations);
  return dump(j, "image index");
}

Platform platform_of(const ImageConfig& config) {
  Platform platform;
  platform.architecture = config.architecture;
  platform.os = config.os;
  platform.variant = config.variant;
  auto extra = [&](const char* key) -> std::optional<Json> {
    auto it = config.extra_fields.find(key);
    if (it == config.extra_fields.end()) return std::nullopt;
    Json value = Json::parse(it->second, nullptr, false);
    return value.is_discarded() ? std::nullopt : std::optional<Json>(std::move(value));
  };
  if (auto version = extra("os.version"); version && version->is_string()) platform.os_version = *version;
  if (auto features = extra("os.features"); features && features->is_array())
    for (const auto& feature : *features)
      if (feature.is_string()) platform.os_features.push_back(feature);
  return platform;
}

Status check_json_limits(std::string_view text, const std::string& what) {
  if (static_cast<int64_t>(text.size()) > k_max_document_size)
    return input_error(what + " is too large (" + std::to_string(text.size()) + " bytes, limit " +
                      std::to_string(k_max_document_size) + ")");
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > k_max_json_depth)
        return input_error(what + " is nested more than " + std::to_string(k_max_json_depth) +
                          " levels deep (at byte " + std::to_string(i) + ")");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return ok_status();
}

namespace {
// index.json as the editor sees it: a JSON value kept whole (unknown members
// included) so that update_index can write it back with one entry changed.
// Reading an index for its content is layout_reader.h's job.
// `what` names the document in errors ("existing index.json").
// `null_is_empty`: a layout's index.json made by `umoci init` has
// "manifests": null, which reads as no images (a nested index blob's null is
// refused).
Result<Json> parse_index_for_update(std::string_view text, const std::string& what = "existing index.json",
                                    bool null_is_empty = true) {
  OCIPACK_TRY(check_json_limits(text, what));
  Json index;
  try {
    index = Json::parse(text);
  } catch (const Json::exception& e) {
    return input_error(what + " is not valid JSON: " + e.what());
  }
  if (!index.is_object()) return input_error(what + " is not a JSON object");
  if (null_is_empty && index.contains("manifests") && index["manifests"].is_null()) index["manifests"] = Json::array();
  if (index.contains("manifests") && !index["manifests"].is_array())
    return input_error(what + ": 'manifests' is not an array");
  return index;
}

// Whether an existing index.json entry carries a ref.name annotation.
bool has_any_ref(const Json& existing) {
  auto annotations = existing.find("annotations");
  return annotations != existing.end() && annotations->is_object() && annotations->contains(k_annotation_ref_name);
}

// Files `entry` into the index's "manifests" (see update_index).
void file_entry(Json& manifests, const Descriptor& entry) {
  const auto ref = entry.annotations.find(k_annotation_ref_name);
  auto has_ref = [&](const Json& existing) {
    if (ref == entry.annotations.end() || !existing.is_object()) return false;
    auto annotations = existing.find("annotations");
    if (annotations == existing.end() || !annotations->is_object()) return false;
    auto it = annotations->find(k_annotation_ref_name);
    return it != annotations->end() && it->is_string() && it->get<std::string>() == ref->second;
  };
  if (ref == entry.annotations.end() && !entry.artifact_type.empty()) {
    // A referrer (untagged, with an artifactType) is listed once.
    for (const auto& existing : manifests)
      if (existing.is_object() && existing.value("digest", Json()) == entry.digest.str() && !has_any_ref(existing))
        return;
    manifests.push_back(descriptor_json(entry));
    return;
  }
  bool replaced = false;
  Json kept = Json::array();
  for (auto& existing : manifests) {
    if (!has_ref(existing)) {
      kept.push_back(std::move(existing));
    } else if (!replaced) {
      kept.push_back(descriptor_json(entry));
      replaced = true;
    }
  }
  if (!replaced) kept.push_back(descriptor_json(entry));
  manifests = std::move(kept);
}
}  // namespace

namespace {
// index.json without the entries `dropped` accepts; everything else as it is.
Result<std::string> drop_entries_where(const std::string& existing_index,
                                       const std::function<bool(const Json&)>& dropped) {
  OCIPACK_TRY_ASSIGN(Json index, parse_index_for_update(existing_index));
  if (!index.contains("manifests")) return dump(index, "index.json");
  Json kept = Json::array();
  for (auto& entry : index["manifests"])
    if (!dropped(entry)) kept.push_back(std::move(entry));
  index["manifests"] = std::move(kept);
  return dump(index, "index.json");
}
}  // namespace

Result<std::string> drop_untagged_entries(const std::string& existing_index, const std::vector<Digest>& digests) {
  return drop_entries_where(existing_index, [&](const Json& entry) {
    if (!entry.is_object() || has_any_ref(entry)) return false;
    for (const auto& digest : digests)
      if (entry.value("digest", Json()) == digest.str()) return true;
    return false;
  });
}

Result<std::string> drop_tagged_entries(const std::string& existing_index, std::string_view tag) {
  return drop_entries_where(existing_index, [&](const Json& entry) {
    if (!entry.is_object() || !has_any_ref(entry)) return false;
    const Json& name = entry["annotations"][k_annotation_ref_name];
    return name.is_string() && name.get<std::string>() == tag;
  });
}

Status check_index(const std::string& existing_index) {
  OCIPACK_TRY(parse_index_for_update(existing_index));
  return ok_status();
}

Status check_oci_layout(const std::string& oci_layout) {
  OCIPACK_TRY(check_json_limits(oci_layout, "oci-layout"));
  Json j;
  try {
    j = Json::parse(oci_layout);
  } catch (const Json::exception&) {
    return input_error("oci-layout is not valid JSON");
  }
  if (!j.is_object() || !j.contains("imageLayoutVersion") || !j["imageLayoutVersion"].is_string())
    return input_error("oci-layout has no imageLayoutVersion");
  const std::string version = j["imageLayoutVersion"];
  if (version.rfind("1.", 0) != 0)
    return input_error("oci-layout: unsupported imageLayoutVersion '" + version + "' (expected 1.x)");
  return ok_status();
}

Result<std::string> edit_image_index(std::string_view existing, const std::vector<IndexEntryEdit>& entries,
                                     const std::map<std::string, std::string>& annotations, const std::string& what) {
  OCIPACK_TRY_ASSIGN(Json index, parse_index_for_update(existing, what, /*null_is_empty=*/false));
  const Json old_entries = index.contains("manifests") ? std::move(index["manifests"]) : Json::array();
  Json manifests = Json::array();
  for (const auto& entry : entries) {
    if (!entry.kept) {
      manifests.push_back(descriptor_json(entry.added));
    } else if (*entry.kept < old_entries.size()) {
      manifests.push_back(old_entries[*entry.kept]);
    } else {
      return input_error(what + " has no entry " + std::to_string(*entry.kept) + " to keep");
    }
  }
  index["manifests"] = std::move(manifests);
  if (!annotations.empty()) {
    Json& kept = index["annotations"];
    if (kept.is_null()) kept = Json::object();
    if (!kept.is_object()) return input_error(what + ": 'annotations' is not an object");
    for (const auto& [key, value] : annotations) kept[key] = value;
  }
  return dump(index, "image index");
}

Result<std::string> update_index(const std::optional<std::string>& existing_index,
                                 const std::vector<Descriptor>& entries) {
  Json index;
  if (existing_index) {
    OCIPACK_TRY_ASSIGN(index, parse_index_for_update(*existing_index));
  } else {
    index["schemaVersion"] = 2;
    index["mediaType"] = k_media_type_index;
  }
  if (!index.contains("manifests")) index["manifests"] = Json::array();
  for (const auto& entry : entries) file_entry(index["manifests"], entry);
  return dump(index, "index.json");
}

}  // namespace ocipack

namespace ocipack {
namespace {
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool valid_component(std::string_view part) {
  if (part.empty() || !is_alnum(part.front()) || !is_alnum(part.back())) return false;
  for (size_t i = 0; i < part.size(); ++i) {
    char c = part[i];
    if (is_alnum(c)) continue;
    bool single = c == '-' || c == '.' || c == '_' || c == ':' || c == '@' || c == '+';
    if (!single) return false;
    // Separators stand alone between alphanumerics, except "--".
    if (!is_alnum(part[i + 1])) {
      if (c == '-' && part[i + 1] == '-' && i + 2 < part.size() && is_alnum(part[i + 2])) {
        ++i;
        continue;
      }
      return false;
    }
  }
  return true;
}
}  // namespace

// At most this many characters (docker's limit for a full reference; a tag
// from a command line or a layout is never longer).
constexpr size_t k_max_ref_name_size = 255;

Status validate_ref_name(std::string_view tag) {
  if (tag.size() > k_max_ref_name_size)
    return usage_error("invalid tag '" + std::string(tag.substr(0, 32)) + "...': " + std::to_string(tag.size()) +
                       " characters, at most " + std::to_string(k_max_ref_name_size));
  size_t start = 0;
  for (;;) {
    size_t slash = tag.find('/', start);
    std::string_view part = tag.substr(start, slash == std::string_view::npos ? tag.npos : slash - start);
    if (!valid_component(part))
      return usage_error("invalid tag '" + std::string(tag) +
                        "' (letters and digits, joined by single - . _ : @ + or /)");
    if (slash == std::string_view::npos) return ok_status();
    start = slash + 1;
  }
}
}  // namespace ocipack
