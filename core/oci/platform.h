// Platform: the image spec's platform object (what a descriptor in an image
// index says its image runs on: os, architecture, variant, os.version,
// os.features), its short text form "os/arch[/variant]" (as docker, podman
// and skopeo write it), and how a wanted platform picks one of several.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace ocipack {

struct Platform {
  std::string architecture;  // Go name: amd64, arm64, arm, ...
  std::string os;            // linux, windows, ...
  std::string os_version;    // "os.version" (Windows builds), usually empty
  std::vector<std::string> os_features;  // "os.features", usually empty
  std::string variant;       // v5–v8 for arm, usually empty otherwise
  bool operator==(const Platform&) const = default;
};

// "os/architecture[/variant]" ("linux/arm64/v8"); an empty os or
// architecture reads as "unknown".
std::string platform_text(const Platform& platform);

// Parses "os/architecture[/variant]"; each part non-empty, at most three.
Result<Platform> parse_platform(std::string_view text);

// Whether an image for `offered` satisfies a request for `wanted`: the same
// os and architecture, and the same variant and os.version where `wanted`
// names one ("linux/arm" takes any arm variant, "linux/arm/v7" only v7).
bool platform_matches(const Platform& wanted, const Platform& offered);

// Whether two platforms are the same one, as an image index must not list
// twice: the same os, architecture, variant, os.version and os.features,
// where arm64 without a variant is arm64/v8 (as containerd normalises it).
bool same_platform(const Platform& a, const Platform& b);

}  // namespace ocipack
