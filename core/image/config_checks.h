// check_config_document: verify's checks of an image config — what a strict
// consumer requires beyond what parse_config (core/oci/config_reader.h) reads:
// architecture and os present and non-empty, rootfs.type "layers",
// rootfs.diff_ids a list of digests, and `created` (of the config and of
// each history entry) an RFC 3339 time as Go reads it. Every problem is one
// line; the typed reader's first error is added only when these checks find
// nothing (it would mostly repeat them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/platform.h"
#include "core/util/digest.h"

namespace ocipack {

using DiffIds = std::vector<std::optional<Digest>>;  // nullopt: unknown or invalid

struct ConfigFacts {
  std::optional<DiffIds> diff_ids;   // when rootfs.diff_ids is an array
  std::optional<Platform> platform;  // os, architecture, variant, when they are strings
};

// Checks the config document `text`; appends one line per problem to
// `problems`, each starting with `what` ("tag 'v1': config sha256:…").
ConfigFacts check_config_document(std::string_view text, const std::string& what, std::vector<std::string>& problems);

}  // namespace ocipack
