// parse_config: reads an image config document into ImageConfig (the inverse
// of encode_config in oci_json.h), accepting what other tools write: unknown
// fields are kept as JSON text, JSON null reads as "absent" (Go encodes nil
// slices and maps as null), Entrypoint and Cmd may be a single string.
#pragma once

#include <string>
#include <string_view>

#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

// Parses an image config document: everything ImageConfig models (created,
// author, architecture, variant, os, config.{User, ExposedPorts (object keys
// → sorted vector), Env, Entrypoint, Cmd, WorkingDir, Labels, StopSignal},
// rootfs.diff_ids, history[]). Other top-level and config.* members are kept
// as compact JSON text in extra_fields (the last of a repeated key); missing
// fields stay empty. Errors (kind input) name the document (`what`) and the
// field ("image config: config.Env[2] is a number, expected a string").
Result<ImageConfig> parse_config(std::string_view json, const std::string& what = "image config");

}  // namespace ocipack
