// Platform text and matching (see platform.h).
#include "core/oci/platform.h"

#include <algorithm>

namespace ocipack {

std::string platform_text(const Platform& platform) {
  std::string text = (platform.os.empty() ? "unknown" : platform.os) + "/" +
                     (platform.architecture.empty() ? "unknown" : platform.architecture);
  if (!platform.variant.empty()) text += "/" + platform.variant;
  return text;
}

Result<Platform> parse_platform(std::string_view text) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? text.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const bool empty_part = std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (parts.size() < 2 || parts.size() > 3 || empty_part)
    return usage_error("invalid platform '" + std::string(text) + "' (expected os/architecture[/variant])");
  Platform platform;
  platform.os = parts[0];
  platform.architecture = parts[1];
  if (parts.size() == 3) platform.variant = parts[2];
  return platform;
}

bool platform_matches(const Platform& wanted, const Platform& offered) {
  return wanted.os == offered.os && wanted.architecture == offered.architecture &&
         (wanted.variant.empty() || wanted.variant == offered.variant) &&
         (wanted.os_version.empty() || wanted.os_version == offered.os_version);
}

namespace {
std::string normal_variant(const Platform& platform) {
  return platform.architecture == "arm64" && platform.variant.empty() ? "v8" : platform.variant;
}
}  // namespace

bool same_platform(const Platform& a, const Platform& b) {
  return a.os == b.os && a.architecture == b.architecture && normal_variant(a) == normal_variant(b) &&
         a.os_version == b.os_version && a.os_features == b.os_features;
}

}  // namespace ocipack
