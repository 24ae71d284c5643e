// The platform a build writes when it stacks on a --base image: flags that
// name a platform (architecture, os, variant) must agree with the base
// image's, since its layers are binaries of that platform; a caller that
// means to relabel the image forces it. Plain functions, no threads: they
// live beside image_builder, which calls them once the base is loaded.
#pragma once

#include <string_view>

#include "core/oci/oci_json.h"
#include "core/oci/platform.h"
#include "core/util/result.h"
#include "pipeline/image_builder.h"

namespace ocipack {

// The platform of `config` (os, architecture, variant).
Platform platform_of_config(const ImageConfig& config);

// The platform `spec` asks for on top of `base` (may be null): the fields
// given, the base's for the rest (empty without a base); a changed
// architecture drops the base's variant unless one is given.
Platform requested_platform(const ImageSpec& spec, const ImageConfig* base);

// Refuses a requested platform that differs from the base image's (arm64 and
// arm64/v8 are the same) unless `force`, naming the first field that
// differs (image.os, image.architecture, image.variant), both platforms and
// the base (`base_name`, "LAYOUT:TAG"); and a variant the architecture (given
// or inherited) does not have, forced or not. A base that names no os or
// architecture (another tool's) has nothing to compare with.
Status check_base_platform(const ImageSpec& spec, const ImageConfig& base, bool force, std::string_view base_name);

}  // namespace ocipack
