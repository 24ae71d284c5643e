// Architecture names: OCI configs use Go's GOARCH names (amd64, arm64, …),
// while Yocto and the kernel speak x86_64, aarch64, armv7l, powerpc64le. This
// maps either form to the Go name, and validates variants (v5–v8, only for
// arm and arm64) and operating systems (Go's GOOS names).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/oci/platform.h"
#include "core/util/result.h"

namespace ocipack {

// Maps a Go, Yocto or kernel architecture name to the Go name (the
// platform's architecture; its os is left empty). When the name itself
// implies a variant (armv7l → arm + v7), the variant is filled in.
Result<Platform> map_architecture(std::string_view name);

// Accepts "", v5, v6, v7, v8.
Status validate_variant(std::string_view variant);

// Accepts an empty variant for any architecture; otherwise only arm (v5–v8)
// and arm64 (v8) have variants. `architecture` is a Go name.
Status validate_variant_for(std::string_view architecture, std::string_view variant);

// Accepts the operating systems Go knows (GOOS: linux, windows, darwin, …).
Status validate_os(std::string_view os);

// The Go name of the machine ocipack runs on (uname -m mapped).
std::string host_architecture();

}  // namespace ocipack
