// Small helpers for reading JSON with simdjson's DOM, shared by the layout
// reader and the verifier. Included only by .cc files that use simdjson.
#pragma once

#include <simdjson.h>

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

}  // namespace ocipack
