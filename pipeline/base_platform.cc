// Checking the requested platform against the base image's (see
// base_platform.h).
#include "pipeline/base_platform.h"

#include <string>

#include "core/oci/arch.h"

namespace ocipack {

Platform platform_of_config(const ImageConfig& config) {
  Platform platform;
  platform.os = config.os;
  platform.architecture = config.architecture;
  platform.variant = config.variant;
  return platform;
}

Platform requested_platform(const ImageSpec& spec, const ImageConfig* base) {
  Platform platform = base ? platform_of_config(*base) : Platform{};
  if (spec.os) platform.os = *spec.os;
  if (spec.architecture && *spec.architecture != platform.architecture) {
    platform.architecture = *spec.architecture;
    platform.variant.clear();
  }
  if (spec.variant) platform.variant = *spec.variant;
  return platform;
}

namespace {
// The field of ImageSpec where `wanted` first differs from `base`.
const char* first_difference(const Platform& wanted, const Platform& base) {
  if (wanted.os != base.os) return "image.os";
  if (wanted.architecture != base.architecture) return "image.architecture";
  return "image.variant";
}

// The value `field` was given in `spec`.
std::string given_value(const ImageSpec& spec, std::string_view field) {
  if (field == "image.os") return spec.os.value_or("");
  if (field == "image.architecture") return spec.architecture.value_or("");
  return spec.variant.value_or("");
}
}  // namespace

Status check_base_platform(const ImageSpec& spec, const ImageConfig& base, bool force, std::string_view base_name) {
  const Platform wanted = requested_platform(spec, &base);
  if (spec.variant) {
    if (auto status = validate_variant_for(wanted.architecture, *spec.variant); !status)
      return field_error(ErrorKind::usage, "image.variant", ": " + status.error().message + " (the architecture of ")
          .then_field("base_layout")
          .then(" '" + std::string(base_name) + "' is " + wanted.architecture + ")");
  }
  const Platform have = platform_of_config(base);
  if (force || have.os.empty() || have.architecture.empty() || same_platform(wanted, have)) return ok_status();
  const std::string field = first_difference(wanted, have);
  return field_error(ErrorKind::usage, field,
                     " '" + given_value(spec, field) + "' asks for " + platform_text(wanted) + ", but the ")
      .then_field("base_layout")
      .then(" image '" + std::string(base_name) + "' is " + platform_text(have) + " (")
      .then_field("force_platform")
      .then(" writes " + platform_text(wanted) + " anyway)");
}

}  // namespace ocipack
