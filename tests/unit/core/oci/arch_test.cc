// Tests for core/arch.cc: OCI configs carry Go's GOARCH names, while Yocto and
// `uname -m` use kernel names. These tests pin the mapping table: every Go
// name maps to itself, the common Yocto/kernel spellings map to their Go name
// (with the variant an ARM name implies), unknown names are errors that quote
// the value, and only v5–v8 (or no variant) are accepted as variants.
#include "core/oci/arch.h"

#include <gtest/gtest.h>

#include <string>

namespace ocipack {
namespace {

void expect_maps(const std::string& name, const std::string& go_name,
                 const std::string& variant = "") {
  auto platform = map_architecture(name);
  ASSERT_TRUE(platform.ok()) << name << ": " << platform.error().message;
  EXPECT_EQ(platform->architecture, go_name) << name;
  EXPECT_EQ(platform->variant, variant) << name;
}

TEST(Arch, GoNamesMapToThemselves) {
  for (const char* go : {"amd64", "386", "arm64", "arm", "riscv64", "ppc64le", "ppc64", "mips",
                         "mipsle", "mips64", "mips64le", "s390x", "loong64"}) {
    expect_maps(go, go);
  }
}

TEST(Arch, X86Names) {
  expect_maps("x86_64", "amd64");
  expect_maps("x86-64", "amd64");
  expect_maps("i386", "386");
  expect_maps("i486", "386");
  expect_maps("i586", "386");
  expect_maps("i686", "386");
}

TEST(Arch, ArmNames) {
  expect_maps("aarch64", "arm64");
  expect_maps("armv7l", "arm", "v7");
  expect_maps("armv7a", "arm", "v7");
  expect_maps("armhf", "arm", "v7");
  expect_maps("armv6l", "arm", "v6");
  expect_maps("armv5te", "arm", "v5");
  expect_maps("armel", "arm", "v5");
}

TEST(Arch, PowerMipsAndOthers) {
  expect_maps("powerpc64le", "ppc64le");
  expect_maps("ppc64el", "ppc64le");
  expect_maps("powerpc64", "ppc64");
  expect_maps("mipsel", "mipsle");
  expect_maps("mips64el", "mips64le");
  expect_maps("loongarch64", "loong64");
}

TEST(Arch, UnknownNameIsAnErrorNamingTheValue) {
  for (const char* bad : {"sparc64", "", "AMD64", "x86_64 ", "arm/v7", "armv9"}) {
    auto platform = map_architecture(bad);
    ASSERT_FALSE(platform.ok()) << "accepted '" << bad << "'";
    EXPECT_NE(platform.error().message.find("'" + std::string(bad) + "'"), std::string::npos)
        << platform.error().message;
  }
}

TEST(Arch, ValidVariants) {
  for (const char* variant : {"", "v5", "v6", "v7", "v8"}) {
    EXPECT_TRUE(validate_variant(variant).ok()) << variant;
  }
}

TEST(Arch, InvalidVariantIsAnErrorNamingTheValue) {
  for (const char* variant : {"v4", "v9", "V7", "7", "armv7", "v7 "}) {
    Status status = validate_variant(variant);
    ASSERT_FALSE(status.ok()) << "accepted '" << variant << "'";
    EXPECT_NE(status.error().message.find(variant), std::string::npos) << status.error().message;
  }
}

TEST(Arch, HostArchitectureIsAGoName) {
  const std::string host = host_architecture();
  auto platform = map_architecture(host);
  ASSERT_TRUE(platform.ok()) << host;
  EXPECT_EQ(platform->architecture, host);
}

TEST(Arch, VariantsOnlyWhereTheArchitectureHasThem) {
  EXPECT_TRUE(validate_variant_for("amd64", "").ok());
  EXPECT_TRUE(validate_variant_for("arm", "v5").ok());
  EXPECT_TRUE(validate_variant_for("arm", "v7").ok());
  EXPECT_TRUE(validate_variant_for("arm64", "v8").ok());
  EXPECT_FALSE(validate_variant_for("arm64", "v7").ok());
  EXPECT_FALSE(validate_variant_for("amd64", "v8").ok());
  EXPECT_FALSE(validate_variant_for("riscv64", "v7").ok());
  EXPECT_FALSE(validate_variant_for("arm", "v9").ok());
}

TEST(Arch, OperatingSystemsAreGoNames) {
  for (const char* os : {"linux", "windows", "darwin", "freebsd", "wasip1", "zos"}) EXPECT_TRUE(validate_os(os).ok()) << os;
  for (const char* os : {"", "Linux", "gnu/linux", "macos"}) {
    auto status = validate_os(os);
    ASSERT_FALSE(status.ok()) << os;
    EXPECT_EQ(status.error().kind, ErrorKind::usage);
  }
}

}  // namespace
}  // namespace ocipack
