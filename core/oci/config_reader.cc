// Implementation of parse_config (see config_reader.h) on simdjson's DOM
// API, used through error codes only. Objects are walked key by key, so a key
// that appears twice takes its last value, as Go's encoding/json reads it.
#include "core/oci/config_reader.h"

#include <algorithm>

#include "core/oci/json_dom.h"
#include "core/util/text.h"

namespace ocipack {

namespace {

namespace dom = simdjson::dom;

// --- typed access to DOM values; `what` names the document, `field` the path in it.

Error type_error(const std::string& what, const std::string& field, const char* expected,
                 dom::element value) {
  return input_error(what + ": " + field + " is " + json_type_name(value) + ", expected " + expected);
}

bool is_null(dom::element value) { return is_json_null(value); }

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
  OCIPACK_TRY_ASSIGN(const dom::object object, as_object(value, what, field));
  for (dom::key_value_pair member : object) {
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
  if (!digest) return input_error(what + ": " + field + ": " + printable(digest.error().message));
  return *digest;
}

Result<bool> as_bool(dom::element value, const std::string& what, const std::string& field) {
  if (is_null(value)) return false;
  bool flag = false;
  if (value.get_bool().get(flag)) return type_error(what, field, "a boolean", value);
  return flag;
}

// --- documents, with `what` naming the document in every message.

Status parse_container_config(dom::element value, const std::string& what, ContainerConfig& out) {
  if (is_null(value)) return ok_status();
  OCIPACK_TRY_ASSIGN(const dom::object object, as_object(value, what, "config"));
  for (dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    const std::string field = "config." + std::string(key);
    auto take_string = [&](std::string& target) -> Status {
      OCIPACK_TRY_ASSIGN(target, as_string(member.value, what, field));
      return ok_status();
    };
    auto take_command = [&](std::vector<std::string>& target) -> Status {
      OCIPACK_TRY_ASSIGN(target, as_command(member.value, what, field));
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
      OCIPACK_TRY_ASSIGN(out.env, as_string_array(member.value, what, field));
    } else if (key == "Labels") {
      OCIPACK_TRY_ASSIGN(out.labels, as_string_map(member.value, what, field));
    } else if (key == "ExposedPorts") {
      // {"80/tcp": {}, ...}: the keys are the ports; the model keeps them sorted.
      out.exposed_ports.clear();
      if (is_null(member.value)) continue;
      OCIPACK_TRY_ASSIGN(const dom::object ports, as_object(member.value, what, field));
      for (dom::key_value_pair port : ports) out.exposed_ports.emplace_back(port.key);
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
  OCIPACK_TRY_ASSIGN(const dom::object object, as_object(value, what, "rootfs"));
  for (dom::key_value_pair member : object) {
    if (member.key != "diff_ids") continue;
    out.diff_ids.clear();
    if (is_null(member.value)) continue;
    dom::array array;
    if (member.value.get_array().get(array))
      return type_error(what, "rootfs.diff_ids", "an array of digests", member.value);
    size_t i = 0;
    for (dom::element item : array) {
      OCIPACK_TRY_ASSIGN(const Digest digest, as_digest(item, what, "rootfs.diff_ids[" + std::to_string(i++) + "]"));
      out.diff_ids.push_back(digest);
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
    OCIPACK_TRY_ASSIGN(const dom::object object, as_object(item, what, prefix));
    HistoryEntry entry;
    for (dom::key_value_pair member : object) {
      const std::string_view key = member.key;
      const std::string field = prefix + "." + std::string(key);
      std::string* target = key == "created"      ? &entry.created
                            : key == "created_by" ? &entry.created_by
                            : key == "author"     ? &entry.author
                            : key == "comment"    ? &entry.comment
                                                  : nullptr;
      if (target) {
        OCIPACK_TRY_ASSIGN(*target, as_string(member.value, what, field));
      } else if (key == "empty_layer") {
        OCIPACK_TRY_ASSIGN(entry.empty_layer, as_bool(member.value, what, field));
      }
    }
    out.history.push_back(std::move(entry));
  }
  return ok_status();
}

Result<ImageConfig> parse_config_document(std::string_view json, const std::string& what) {
  dom::parser parser;
  OCIPACK_TRY_ASSIGN(const dom::element root, parse_json_document(parser, json, what));
  OCIPACK_TRY_ASSIGN(const dom::object object, document_object(root, what));
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
      OCIPACK_TRY_ASSIGN(*target, as_string(member.value, what, std::string(key)));
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

}  // namespace

Result<ImageConfig> parse_config(std::string_view json, const std::string& what) {
  return parse_config_document(json, what);
}

}  // namespace ocipack
