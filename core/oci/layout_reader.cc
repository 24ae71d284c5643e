// Implementation of the layout readers (see layout_reader.h) on simdjson's DOM
// API, used through error codes only (no exceptions cross this file). Objects
// are walked key by key rather than looked up, so a key that appears twice
// takes its last value — what Go's encoding/json (containerd, skopeo, umoci)
// does with the same document.
#include "core/oci/layout_reader.h"
#include "core/oci/json_dom.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <simdjson.h>

#include "core/util/file_io.h"
#include "core/util/sha256.h"
#include "core/util/text.h"

namespace ocipack {

namespace {

namespace dom = simdjson::dom;

// A layout path as it should appear in messages and be joined with names.
std::string layout_name(const std::string& layout_dir) {
  std::string dir = layout_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// --- typed access to DOM values; `what` names the document, `field` the path in it.


Error type_error(const std::string& what, const std::string& field, const char* expected,
                 dom::element value) {
  return make_error(what + ": " + field + " is " + json_type_name(value) + ", expected " + expected);
}

bool is_null(dom::element value) { return value.type() == dom::element_type::NULL_VALUE; }

Result<dom::element> parse_json(dom::parser& parser, std::string_view json, const std::string& what) {
  OCIPACK_TRY(check_json_limits(json, what));
  dom::element root;
  // The text is copied into simdjson's padded buffer (realloc_if_needed).
  if (auto error = parser.parse(json.data(), json.size()).get(root); error)
    return make_error(what + " is not valid JSON (" + simdjson::error_message(error) + ")");
  return root;
}

Result<dom::object> as_object(dom::element value, const std::string& what, const std::string& field) {
  dom::object object;
  if (value.get_object().get(object)) return type_error(what, field, "an object", value);
  return object;
}

// Strings: null reads as "" (absent).
Result<std::string> as_string(dom::element value, const std::string& what, const std::string& field) {
  if (is_null(value)) return std::string();
  std::string_view text;
  if (value.get_string().get(text)) return type_error(what, field, "a string", value);
  return std::string(text);
}

// Arrays of strings: null reads as empty.
Result<std::vector<std::string>> as_string_array(dom::element value, const std::string& what,
                                                 const std::string& field) {
  std::vector<std::string> out;
  if (is_null(value)) return out;
  dom::array array;
  if (value.get_array().get(array)) return type_error(what, field, "an array of strings", value);
  size_t i = 0;
  for (dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text))
      return type_error(what, field + "[" + std::to_string(i) + "]", "a string", item);
    out.emplace_back(text);
    ++i;
  }
  return out;
}

// Entrypoint and Cmd: Docker's strslice also accepts a single string.
Result<std::vector<std::string>> as_command(dom::element value, const std::string& what,
                                            const std::string& field) {
  std::string_view text;
  if (!value.get_string().get(text)) return std::vector<std::string>{std::string(text)};
  return as_string_array(value, what, field);
}

// Objects of strings (annotations, labels): null reads as empty; a repeated key keeps its last value.
Result<std::map<std::string, std::string>> as_string_map(dom::element value, const std::string& what,
                                                         const std::string& field) {
  std::map<std::string, std::string> out;
  if (is_null(value)) return out;
  auto object = as_object(value, what, field);
  if (!object) return object.error();
  for (dom::key_value_pair member : *object) {
    std::string_view text;
    if (member.value.get_string().get(text))
      return type_error(what, field + "." + printable(member.key), "a string", member.value);
    out[std::string(member.key)] = std::string(text);
  }
  return out;
}

Result<Digest> as_digest(dom::element value, const std::string& what, const std::string& field) {
  std::string_view text;
  if (value.get_string().get(text)) return type_error(what, field, "a digest string", value);
  auto digest = Digest::parse(text);
  if (!digest) return make_error(what + ": " + field + ": " + printable(digest.error().message));
  return *digest;
}

Result<bool> as_bool(dom::element value, const std::string& what, const std::string& field) {
  if (is_null(value)) return false;
  bool flag = false;
  if (value.get_bool().get(flag)) return type_error(what, field, "a boolean", value);
  return flag;
}

Result<Descriptor> as_descriptor(dom::element value, const std::string& what, const std::string& field) {
  auto object = as_object(value, what, field);
  if (!object) return object.error();
  Descriptor d;
  bool has_digest = false;
  bool has_size = false;
  for (dom::key_value_pair member : *object) {
    const std::string_view key = member.key;
    if (key == "mediaType") {
      auto text = as_string(member.value, what, field + ".mediaType");
      if (!text) return text.error();
      d.media_type = std::move(*text);
    } else if (key == "digest") {
      auto digest = as_digest(member.value, what, field + ".digest");
      if (!digest) return digest.error();
      d.digest = *digest;
      has_digest = true;
    } else if (key == "size") {
      // int64 per the spec: simdjson types a number by the range it fits.
      switch (member.value.type()) {
        case dom::element_type::INT64: {
          int64_t size = 0;
          if (member.value.get_int64().get(size))
            return make_error(what + ": " + field + ".size is out of range");
          if (size < 0)
            return make_error(what + ": " + field + ".size is negative (" + std::to_string(size) + ")");
          d.size = size;
          break;
        }
        case dom::element_type::UINT64:
          return make_error(what + ": " + field + ".size is out of range");
        case dom::element_type::DOUBLE:
          return make_error(what + ": " + field + ".size is not an integer");
        default:
          return type_error(what, field + ".size", "an integer", member.value);
      }
      has_size = true;
    } else if (key == "annotations") {
      auto annotations = as_string_map(member.value, what, field + ".annotations");
      if (!annotations) return annotations.error();
      d.annotations = std::move(*annotations);
    }
  }
  if (!has_digest) return make_error(what + ": " + field + " has no digest");
  if (!has_size) return make_error(what + ": " + field + " has no size");
  return d;
}

Result<std::vector<Descriptor>> as_descriptor_array(dom::element value, const std::string& what,
                                                    const std::string& field) {
  std::vector<Descriptor> out;
  if (is_null(value)) return out;
  dom::array array;
  if (value.get_array().get(array)) return type_error(what, field, "an array", value);
  size_t i = 0;
  for (dom::element item : array) {
    auto d = as_descriptor(item, what, field + "[" + std::to_string(i++) + "]");
    if (!d) return d.error();
    out.push_back(std::move(*d));
  }
  return out;
}

// --- documents, with `what` naming the document in every message.

Status parse_container_config(dom::element value, const std::string& what, ContainerConfig& out) {
  if (is_null(value)) return ok_status();
  auto object = as_object(value, what, "config");
  if (!object) return object.error();
  for (dom::key_value_pair member : *object) {
    const std::string_view key = member.key;
    const std::string field = "config." + std::string(key);
    auto take_string = [&](std::string& target) -> Status {
      auto text = as_string(member.value, what, field);
      if (!text) return text.error();
      target = std::move(*text);
      return ok_status();
    };
    auto take_command = [&](std::vector<std::string>& target) -> Status {
      auto values = as_command(member.value, what, field);
      if (!values) return values.error();
      target = std::move(*values);
      return ok_status();
    };
    if (key == "User") {
      OCIPACK_TRY(take_string(out.user));
    } else if (key == "WorkingDir") {
      OCIPACK_TRY(take_string(out.working_dir));
    } else if (key == "StopSignal") {
      OCIPACK_TRY(take_string(out.stop_signal));
    } else if (key == "Entrypoint") {
      OCIPACK_TRY(take_command(out.entrypoint));
    } else if (key == "Cmd") {
      OCIPACK_TRY(take_command(out.cmd));
    } else if (key == "Env") {
      auto env = as_string_array(member.value, what, field);
      if (!env) return env.error();
      out.env = std::move(*env);
    } else if (key == "Labels") {
      auto labels = as_string_map(member.value, what, field);
      if (!labels) return labels.error();
      out.labels = std::move(*labels);
    } else if (key == "ExposedPorts") {
      // {"80/tcp": {}, ...}: the keys are the ports; the model keeps them sorted.
      out.exposed_ports.clear();
      if (is_null(member.value)) continue;
      auto ports = as_object(member.value, what, field);
      if (!ports) return ports.error();
      for (dom::key_value_pair port : *ports) out.exposed_ports.emplace_back(port.key);
      std::sort(out.exposed_ports.begin(), out.exposed_ports.end());
      out.exposed_ports.erase(std::unique(out.exposed_ports.begin(), out.exposed_ports.end()),
                              out.exposed_ports.end());
    } else {
      out.extra_fields[std::string(key)] = simdjson::minify(member.value);
    }
  }
  return ok_status();
}

Status parse_rootfs(dom::element value, const std::string& what, ImageConfig& out) {
  if (is_null(value)) return ok_status();
  auto object = as_object(value, what, "rootfs");
  if (!object) return object.error();
  for (dom::key_value_pair member : *object) {
    if (member.key != "diff_ids") continue;
    out.diff_ids.clear();
    if (is_null(member.value)) continue;
    dom::array array;
    if (member.value.get_array().get(array))
      return type_error(what, "rootfs.diff_ids", "an array of digests", member.value);
    size_t i = 0;
    for (dom::element item : array) {
      auto digest = as_digest(item, what, "rootfs.diff_ids[" + std::to_string(i++) + "]");
      if (!digest) return digest.error();
      out.diff_ids.push_back(*digest);
    }
  }
  return ok_status();
}

Status parse_history(dom::element value, const std::string& what, ImageConfig& out) {
  out.history.clear();
  if (is_null(value)) return ok_status();
  dom::array array;
  if (value.get_array().get(array)) return type_error(what, "history", "an array", value);
  size_t i = 0;
  for (dom::element item : array) {
    const std::string prefix = "history[" + std::to_string(i++) + "]";
    auto object = as_object(item, what, prefix);
    if (!object) return object.error();
    HistoryEntry entry;
    for (dom::key_value_pair member : *object) {
      const std::string_view key = member.key;
      const std::string field = prefix + "." + std::string(key);
      std::string* target = key == "created"      ? &entry.created
                            : key == "created_by" ? &entry.created_by
                            : key == "author"     ? &entry.author
                            : key == "comment"    ? &entry.comment
                                                  : nullptr;
      if (target) {
        auto text = as_string(member.value, what, field);
        if (!text) return text.error();
        *target = std::move(*text);
      } else if (key == "empty_layer") {
        auto flag = as_bool(member.value, what, field);
        if (!flag) return flag.error();
        entry.empty_layer = *flag;
      }
    }
    out.history.push_back(std::move(entry));
  }
  return ok_status();
}

Result<ImageConfig> parse_config_document(std::string_view json, const std::string& what) {
  dom::parser parser;
  auto root = parse_json(parser, json, what);
  if (!root) return root.error();
  dom::object object;
  if (root->get_object().get(object)) return make_error(what + " is not a JSON object");
  ImageConfig config;
  for (dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    std::string* target = key == "created"        ? &config.created
                          : key == "author"       ? &config.author
                          : key == "architecture" ? &config.architecture
                          : key == "variant"      ? &config.variant
                          : key == "os"           ? &config.os
                                                  : nullptr;
    if (target) {
      auto text = as_string(member.value, what, std::string(key));
      if (!text) return text.error();
      *target = std::move(*text);
    } else if (key == "config") {
      config.config = ContainerConfig{};
      OCIPACK_TRY(parse_container_config(member.value, what, config.config));
    } else if (key == "rootfs") {
      OCIPACK_TRY(parse_rootfs(member.value, what, config));
    } else if (key == "history") {
      OCIPACK_TRY(parse_history(member.value, what, config));
    } else {
      config.extra_fields[std::string(key)] = simdjson::minify(member.value);
    }
  }
  return config;
}

Result<Manifest> parse_manifest_document(std::string_view json, const std::string& what) {
  dom::parser parser;
  auto root = parse_json(parser, json, what);
  if (!root) return root.error();
  dom::object object;
  if (root->get_object().get(object)) return make_error(what + " is not a JSON object");
  Manifest manifest;
  bool has_config = false;
  for (dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    if (key == "mediaType") {
      std::string_view media_type;
      if (!member.value.get_string().get(media_type) && is_index_media_type(media_type))
        return make_error(what + " is an image index (mediaType " + std::string(media_type) +
                          "), not an image manifest");
    } else if (key == "config") {
      auto config = as_descriptor(member.value, what, "config");
      if (!config) return config.error();
      manifest.config = std::move(*config);
      has_config = true;
    } else if (key == "layers") {
      auto layers = as_descriptor_array(member.value, what, "layers");
      if (!layers) return layers.error();
      manifest.layers = std::move(*layers);
    }
  }
  if (!has_config) return make_error(what + " has no config descriptor");
  return manifest;
}

// Reads a layout file that must exist (see read_regular_file); a missing one
// gets the caller's wording.
Result<std::string> read_required(const std::string& dir, std::string_view name,
                                  const std::string& missing_message) {
  auto text = read_regular_file(dir, name, k_max_document_size);
  if (!text) return text.error();
  if (!*text) return make_error(missing_message);
  return std::move(**text);
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + in_quotes(name);
  return out;
}

// An existing directory holding an oci-layout file (parse_image_ref's rule 1).
bool is_layout_dir(const std::string& dir) {
  struct stat st {};
  return !dir.empty() && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         ::fstatat(AT_FDCWD, (dir + "/oci-layout").c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

// The ref.name annotation and the digest text of an index entry, read
// without the descriptor's other checks (for entries that fail them).
void read_entry_labels(dom::element item, IndexEntry& entry) {
  dom::object object;
  if (item.get_object().get(object)) return;
  for (dom::key_value_pair member : object) {
    std::string_view text;
    if (member.key == "digest") {
      entry.digest_text = member.value.get_string().get(text) ? std::string() : std::string(text);
    } else if (member.key == "annotations") {
      dom::object annotations;
      if (member.value.get_object().get(annotations)) continue;
      for (dom::key_value_pair annotation : annotations)
        if (annotation.key == k_annotation_ref_name)
          entry.tag = annotation.value.get_string().get(text) ? std::optional<std::string>()
                                                               : std::optional<std::string>(text);
    }
  }
}

}  // namespace

Result<ImageRef> parse_image_ref(std::string_view text, std::string_view default_tag) {
  const std::string quoted = "image reference " + in_quotes(text);
  if (text.empty()) return make_error("empty image reference (expected LAYOUT[:TAG])");
  // Rule 1: the splits whose layout part is a layout on disk.
  std::vector<ImageRef> layouts;
  for (size_t colon = text.find(':');; colon = text.find(':', colon + 1)) {
    const bool whole = colon == std::string_view::npos;
    ImageRef candidate{layout_name(std::string(text.substr(0, colon))),
                       whole ? std::string(default_tag) : std::string(text.substr(colon + 1))};
    if (is_layout_dir(candidate.layout_dir)) layouts.push_back(std::move(candidate));
    if (whole) break;
  }
  ImageRef ref;
  if (layouts.size() > 1) {
    std::vector<std::string> names;
    for (const auto& candidate : layouts) names.push_back(candidate.layout_dir);
    return make_error(quoted + " is ambiguous: it can name the layouts " + quoted_list(names));
  }
  if (layouts.size() == 1) {
    ref = std::move(layouts[0]);
    if (ref.tag.empty()) return make_error(quoted + " has an empty tag after ':'");
  } else {
    // Rule 2: the tag follows the first ':' after the last '/'.
    const size_t last_slash = text.rfind('/');
    const size_t colon = text.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
    if (colon != std::string_view::npos) {
      ref.layout_dir = std::string(text.substr(0, colon));
      ref.tag = std::string(text.substr(colon + 1));
      if (ref.tag.empty()) return make_error(quoted + " has an empty tag after ':'");
    } else {
      ref.layout_dir = std::string(text);
      ref.tag = std::string(default_tag);
    }
    ref.layout_dir = layout_name(ref.layout_dir);
  }
  if (ref.layout_dir.empty()) return make_error(quoted + " has an empty layout path");
  if (auto valid = validate_ref_name(ref.tag); !valid)
    return make_error(quoted + ": " + printable(valid.error().message));
  return ref;
}

bool is_index_media_type(std::string_view media_type) {
  return media_type == k_media_type_index ||
         media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == k_media_type_manifest ||
         media_type == "application/vnd.docker.distribution.manifest.v2+json";
}

std::string blob_path(const std::string& layout_dir, const Digest& digest) {
  return layout_name(layout_dir) + "/blobs/sha256/" + digest.hex();
}

Result<std::string> read_index_text(const std::string& layout_dir) {
  const std::string dir = layout_name(layout_dir);
  const std::string where = "layout '" + dir + "'";
  struct stat st {};
  if (dir.empty()) return make_error("empty layout path");
  if (::stat(dir.c_str(), &st) != 0) return make_error("cannot access " + where + ": " + errno_text(errno));
  if (!S_ISDIR(st.st_mode)) return make_error(where + " is not a directory");
  auto oci_layout = read_required(dir, "oci-layout", "'" + dir + "' is not an OCI image layout (no oci-layout file)");
  if (!oci_layout) return oci_layout.error();
  if (auto valid = check_oci_layout(*oci_layout); !valid)
    return make_error(where + ": " + valid.error().message);
  return read_required(dir, "index.json", where + " has no index.json");
}

Result<std::vector<IndexEntry>> parse_index_entries(std::string_view json, const std::string& what) {
  dom::parser parser;
  auto root = parse_json(parser, json, what);
  if (!root) return root.error();
  dom::object object;
  if (root->get_object().get(object)) return make_error(what + " is not a JSON object");
  std::optional<dom::element> manifests;
  for (dom::key_value_pair member : object)
    if (member.key == "manifests") manifests = member.value;
  std::vector<IndexEntry> entries;
  if (!manifests || is_null(*manifests)) return entries;
  dom::array array;
  if (manifests->get_array().get(array)) return type_error(what, "manifests", "an array", *manifests);
  for (dom::element item : array) {
    IndexEntry entry;
    entry.position = entries.size();
    read_entry_labels(item, entry);
    auto descriptor = as_descriptor(item, what, "manifests[" + std::to_string(entry.position) + "]");
    if (descriptor)
      entry.descriptor = std::move(*descriptor);
    else
      entry.problem = descriptor.error().message;
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::vector<Descriptor>> parse_index(std::string_view json, const std::string& what) {
  auto entries = parse_index_entries(json, what);
  if (!entries) return entries.error();
  std::vector<Descriptor> manifests;
  for (auto& entry : *entries) {
    if (!entry.descriptor) return make_error(entry.problem);
    manifests.push_back(std::move(*entry.descriptor));
  }
  return manifests;
}

DocumentKind sniff_document_kind(std::string_view json) {
  if (!check_json_limits(json, "")) return DocumentKind::other;
  dom::parser parser;
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return DocumentKind::other;
  dom::object object;
  if (root.get_object().get(object)) return DocumentKind::other;
  DocumentKind kind = DocumentKind::other;
  for (dom::key_value_pair member : object) {
    if (member.key == "manifests") return DocumentKind::index;
    if (member.key == "config" || member.key == "layers") kind = DocumentKind::manifest;
  }
  return kind;
}

Result<std::vector<Descriptor>> read_index(const std::string& layout_dir) {
  auto text = read_index_text(layout_dir);
  if (!text) return text.error();
  return parse_index(*text, "layout '" + layout_name(layout_dir) + "': index.json");
}

Result<std::vector<IndexEntry>> read_index_entries(const std::string& layout_dir) {
  auto text = read_index_text(layout_dir);
  if (!text) return text.error();
  return parse_index_entries(*text, "layout '" + layout_name(layout_dir) + "': index.json");
}

Result<ImageConfig> parse_config(std::string_view json) { return parse_config_document(json, "image config"); }

Result<Manifest> parse_manifest(std::string_view json) { return parse_manifest_document(json, "manifest"); }

Result<RegularFile> open_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what) {
  auto file = open_regular_file(layout_name(layout_dir), "blobs/sha256/" + descriptor.digest.hex());
  if (!file) return make_error(what + ": " + file.error().message);
  if (!*file) return make_error(what + " is missing");
  if ((*file)->size != descriptor.size)
    return make_error(what + " is " + std::to_string((*file)->size) + " bytes, but its descriptor says " +
                      std::to_string(descriptor.size));
  return std::move(**file);
}

Result<std::string> read_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what) {
  const std::string dir = layout_name(layout_dir);
  const std::string path = blob_path(dir, descriptor.digest);
  const std::string name = "layout '" + dir + "': blob " + descriptor.digest.str() + " (" + what + ")";
  auto file = open_blob(dir, descriptor, name);
  if (!file) return file.error();
  const UniqueFd& fd = file->fd;
  if (descriptor.size > k_max_document_size)
    return make_error(name + " is too large to read (" + std::to_string(descriptor.size) + " bytes, limit " +
                      std::to_string(k_max_document_size) + ")");
  std::string data;
  data.resize(static_cast<size_t>(descriptor.size));
  size_t filled = 0;
  for (;;) {
    // Read one byte past the expected end to notice a file that grew.
    char extra = 0;
    char* target = filled < data.size() ? data.data() + filled : &extra;
    size_t room = filled < data.size() ? data.size() - filled : 1;
    ssize_t n = ::read(fd.get(), target, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(name + ": cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    if (filled >= data.size()) return make_error(name + " changed size while being read");
    filled += static_cast<size_t>(n);
  }
  if (filled != data.size()) return make_error(name + " changed size while being read");
  const Digest actual = Sha256::of(data);
  if (actual != descriptor.digest)
    return make_error(name + " is corrupted: its content hashes to " + actual.str());
  return data;
}

Result<LoadedImage> load_image(const std::string& layout_dir, const std::string& tag) {
  const std::string dir = layout_name(layout_dir);
  const std::string where = "layout '" + dir + "'";
  auto entries = read_index_entries(dir);
  if (!entries) return entries.error();

  std::vector<const IndexEntry*> found;
  std::vector<std::string> tags;
  size_t untagged = 0;
  for (const auto& entry : *entries) {
    if (!entry.tag) {
      ++untagged;
      continue;
    }
    if (*entry.tag == tag) found.push_back(&entry);
    if (std::find(tags.begin(), tags.end(), *entry.tag) == tags.end()) tags.push_back(*entry.tag);
  }
  if (found.empty()) {
    std::string message = where + " has no image tagged " + in_quotes(tag);
    if (tags.empty())
      message += " (it has no tagged images";
    else
      message += " (available tags: " + quoted_list(tags);
    if (untagged > 0) message += "; " + std::to_string(untagged) + " untagged manifest(s)";
    return make_error(message + ")");
  }
  if (found.size() > 1) {
    std::string positions;
    for (const auto* entry : found)
      positions += (positions.empty() ? "manifests[" : ", manifests[") + std::to_string(entry->position) + "]";
    return make_error(where + ": tag " + in_quotes(tag) + " is ambiguous: index.json has " +
                      std::to_string(found.size()) + " entries with it (" + positions + ")");
  }
  if (!found[0]->descriptor) return make_error(found[0]->problem);

  LoadedImage image;
  image.manifest = *found[0]->descriptor;
  const std::string of_tag = " of tag " + in_quotes(tag);
  // A tag may name an image index; one with a single manifest is followed.
  constexpr int k_max_nesting = 8;
  for (int depth = 0; is_index_media_type(image.manifest.media_type); ++depth) {
    if (depth == k_max_nesting)
      return make_error(where + ": image indexes" + of_tag + " are nested too deeply");
    auto text = read_blob(dir, image.manifest, "image index" + of_tag);
    if (!text) return text.error();
    auto inner = parse_index(*text, where + ": image index " + image.manifest.digest.str() + of_tag);
    if (!inner) return inner.error();
    if (inner->size() != 1)
      return make_error(where + ": tag " + in_quotes(tag) + " names an image index with " +
                        std::to_string(inner->size()) +
                        " manifests (only single-platform images can be read)");
    image.manifest = (*inner)[0];
  }

  auto manifest_text = read_blob(dir, image.manifest, "manifest" + of_tag);
  if (!manifest_text) return manifest_text.error();
  auto manifest = parse_manifest_document(*manifest_text, where + ": manifest " +
                                                              image.manifest.digest.str() + of_tag);
  if (!manifest) return manifest.error();
  image.manifest_doc = std::move(*manifest);

  const Descriptor& config_descriptor = image.manifest_doc.config;
  auto config_text = read_blob(dir, config_descriptor, "config" + of_tag);
  if (!config_text) return config_text.error();
  const std::string config_what = where + ": config " + config_descriptor.digest.str() + of_tag;
  auto config = parse_config_document(*config_text, config_what);
  if (!config) return config.error();
  image.config_json = std::move(*config_text);
  image.config = std::move(*config);

  for (const auto& layer : image.manifest_doc.layers) {
    const std::string name = where + ": layer " + layer.digest.str() + of_tag;
    OCIPACK_TRY(open_blob(dir, layer, name));
  }
  if (image.config.diff_ids.size() != image.manifest_doc.layers.size())
    return make_error(config_what + " lists " + std::to_string(image.config.diff_ids.size()) +
                      " diff_ids for " + std::to_string(image.manifest_doc.layers.size()) +
                      " layers");
  return image;
}

}  // namespace ocipack
