// Table-driven architecture mapping; see arch.h.
#include "core/oci/arch.h"

#include <sys/utsname.h>

#include <array>

namespace ocipack {

namespace {
struct ArchAlias {
  std::string_view name;
  std::string_view go_name;
  std::string_view variant;
};

// Go names map to themselves; the rest are Yocto TARGET_ARCH and `uname -m` forms.
constexpr std::array k_aliases = {
    ArchAlias{"amd64", "amd64", ""},     ArchAlias{"x86_64", "amd64", ""},
    ArchAlias{"x86-64", "amd64", ""},    ArchAlias{"386", "386", ""},
    ArchAlias{"i386", "386", ""},        ArchAlias{"i486", "386", ""},
    ArchAlias{"i586", "386", ""},        ArchAlias{"i686", "386", ""},
    ArchAlias{"x86", "386", ""},         ArchAlias{"arm64", "arm64", ""},
    ArchAlias{"aarch64", "arm64", ""},   ArchAlias{"arm", "arm", ""},
    ArchAlias{"armv5", "arm", "v5"},     ArchAlias{"armv5te", "arm", "v5"},
    ArchAlias{"armv5tel", "arm", "v5"},  ArchAlias{"armv6", "arm", "v6"},
    ArchAlias{"armv6l", "arm", "v6"},    ArchAlias{"armv7", "arm", "v7"},
    ArchAlias{"armv7l", "arm", "v7"},    ArchAlias{"armv7a", "arm", "v7"},
    ArchAlias{"armhf", "arm", "v7"},     ArchAlias{"armel", "arm", "v5"},
    ArchAlias{"riscv64", "riscv64", ""}, ArchAlias{"ppc64le", "ppc64le", ""},
    ArchAlias{"powerpc64le", "ppc64le", ""}, ArchAlias{"ppc64el", "ppc64le", ""},
    ArchAlias{"ppc64", "ppc64", ""},     ArchAlias{"powerpc64", "ppc64", ""},
    ArchAlias{"mips", "mips", ""},       ArchAlias{"mipsle", "mipsle", ""},
    ArchAlias{"mipsel", "mipsle", ""},   ArchAlias{"mips64", "mips64", ""},
    ArchAlias{"mips64le", "mips64le", ""}, ArchAlias{"mips64el", "mips64le", ""},
    ArchAlias{"s390x", "s390x", ""},     ArchAlias{"loong64", "loong64", ""},
    ArchAlias{"loongarch64", "loong64", ""},
};
}  // namespace

Result<Platform> map_architecture(std::string_view name) {
  for (const auto& alias : k_aliases) {
    if (alias.name != name) continue;
    Platform platform;
    platform.architecture = alias.go_name;
    platform.variant = alias.variant;
    return platform;
  }
  return usage_error("unknown architecture '" + std::string(name) +
                    "' (expected a Go name such as amd64, arm64, arm, 386, riscv64, ppc64le, "
                    "or a Yocto/kernel name such as x86_64, aarch64, i686, powerpc64le)");
}

Status validate_variant(std::string_view variant) {
  if (variant.empty() || variant == "v5" || variant == "v6" || variant == "v7" || variant == "v8")
    return ok_status();
  return usage_error("unknown variant '" + std::string(variant) + "' (expected v5, v6, v7 or v8)");
}

Status validate_variant_for(std::string_view architecture, std::string_view variant) {
  OCIPACK_TRY(validate_variant(variant));
  if (variant.empty() || architecture == "arm" || (architecture == "arm64" && variant == "v8")) return ok_status();
  if (architecture == "arm64")
    return usage_error("variant '" + std::string(variant) + "' is not one of arm64's (v8)");
  return usage_error("variant '" + std::string(variant) + "': architecture '" + std::string(architecture) +
                     "' has no variants (arm and arm64 have)");
}

Status validate_os(std::string_view os) {
  // Go's list of known GOOS values (go/build/syslist.go).
  static constexpr std::string_view k_known_os[] = {"aix",   "android", "darwin",  "dragonfly", "freebsd", "hurd",
                                                    "illumos", "ios",   "js",      "linux",     "nacl",    "netbsd",
                                                    "openbsd", "plan9", "solaris", "wasip1",    "windows", "zos"};
  for (std::string_view known : k_known_os)
    if (os == known) return ok_status();
  return usage_error("unknown operating system '" + std::string(os) +
                     "' (expected a Go GOOS name: linux, windows, darwin, freebsd, …)");
}

std::string host_architecture() {
  struct utsname info {};
  if (::uname(&info) == 0) {
    auto mapped = map_architecture(info.machine);
    if (mapped) return mapped->architecture;
  }
  return "amd64";
}

}  // namespace ocipack
