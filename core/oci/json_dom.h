// Small helpers for reading JSON with simdjson's DOM, shared by the document
// reader, the config reader and the verifier. Included only by .cc files
// that use simdjson (the header is not installed). Objects are read the way
// Go's encoding/json reads them (containerd, skopeo, umoci): a key that
// appears twice takes its last value.
#pragma once

#include <optional>
#include <simdjson.h>
#include <string>
#include <string_view>

#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

// "an array", "a string", … for messages such as "'size' is a string".
inline const char* json_type_name(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "a number";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "an unknown value";
}

inline bool is_json_null(simdjson::dom::element value) {
  return value.type() == simdjson::dom::element_type::NULL_VALUE;
}

// The value of the last member named `key`.
inline std::optional<simdjson::dom::element> find_member(simdjson::dom::object object, std::string_view key) {
  std::optional<simdjson::dom::element> found;
  for (simdjson::dom::key_value_pair member : object)
    if (member.key == key) found = member.value;
  return found;
}

inline std::optional<std::string_view> string_value(simdjson::dom::element value) {
  std::string_view text;
  if (value.get_string().get(text)) return std::nullopt;
  return text;
}

// Parses `json` after checking it against the limits every reader shares
// (oci_json.h). Errors (kind input) name the document: "<what> is not valid
// JSON (...)". The parser owns the returned DOM.
inline Result<simdjson::dom::element> parse_json_document(simdjson::dom::parser& parser, std::string_view json,
                                                          const std::string& what) {
  OCIPACK_TRY(check_json_limits(json, what));
  simdjson::dom::element root;
  // The text is copied into simdjson's padded buffer (realloc_if_needed).
  if (auto error = parser.parse(json.data(), json.size()).get(root); error)
    return input_error(what + " is not valid JSON (" + simdjson::error_message(error) + ")");
  return root;
}

// The document's top-level object, or the error "<what> is not a JSON object
// (it is an array)".
inline Result<simdjson::dom::object> document_object(simdjson::dom::element root, const std::string& what) {
  simdjson::dom::object object;
  if (root.get_object().get(object))
    return input_error(what + " is not a JSON object (it is " + json_type_name(root) + ")");
  return object;
}

}  // namespace ocipack
