// Tests for pipeline/base_platform.cc: a build on a --base image keeps the
// base's platform unless told otherwise; a different os, architecture or
// variant is refused naming the field, both platforms and the base, unless
// forced; a variant the (inherited) architecture lacks is refused even when
// forced; make_image_config writes the forced platform without the base's
// variant.
#include "pipeline/base_platform.h"

#include <gtest/gtest.h>

#include <optional>

namespace ocipack {
namespace {

ImageConfig config_of(std::string os, std::string architecture, std::string variant = "") {
  ImageConfig config;
  config.os = std::move(os);
  config.architecture = std::move(architecture);
  config.variant = std::move(variant);
  return config;
}

TEST(BasePlatform, NothingGivenOrTheSamePlatformPasses) {
  const ImageConfig base = config_of("linux", "arm64", "v8");
  ImageSpec spec;
  EXPECT_TRUE(check_base_platform(spec, base, false, "b:latest").ok());
  spec.architecture = "arm64";  // arm64 is arm64/v8
  EXPECT_TRUE(check_base_platform(spec, base, false, "b:latest").ok());
  spec.variant = "v8";
  spec.os = "linux";
  EXPECT_TRUE(check_base_platform(spec, base, false, "b:latest").ok());
  EXPECT_EQ(platform_text(requested_platform(spec, &base)), "linux/arm64/v8");
}

// The error check_base_platform gives (a usage error), or none.
std::optional<Error> refusal(const ImageSpec& spec, const ImageConfig& base, bool force = false) {
  auto status = check_base_platform(spec, base, force, "b:t");
  if (status.ok()) return std::nullopt;
  EXPECT_EQ(status.error().kind, ErrorKind::usage);
  return status.error();
}

TEST(BasePlatform, AnotherArchitectureIsRefusedNamingBoth) {
  const ImageConfig base = config_of("linux", "arm64", "v8");
  ImageSpec spec;
  spec.architecture = "amd64";
  const auto error = refusal(spec, base);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field(), "image.architecture");
  EXPECT_EQ(error->message,
            "image.architecture 'amd64' asks for linux/amd64, but the base_layout image 'b:t' is "
            "linux/arm64/v8 (force_platform writes linux/amd64 anyway)");
  EXPECT_FALSE(refusal(spec, base, /*force=*/true));
}

TEST(BasePlatform, AnotherOsOrVariantIsRefused) {
  const ImageConfig base = config_of("linux", "arm", "v7");
  ImageSpec os;
  os.os = "windows";
  auto error = refusal(os, base);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field(), "image.os");
  ImageSpec variant;
  variant.variant = "v6";
  error = refusal(variant, base);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field(), "image.variant");
  EXPECT_NE(error->message.find("linux/arm/v6"), std::string::npos) << error->message;
  EXPECT_NE(error->message.find("linux/arm/v7"), std::string::npos) << error->message;
}

TEST(BasePlatform, AVariantTheInheritedArchitectureLacksIsRefusedEvenForced) {
  const ImageConfig base = config_of("linux", "amd64");
  ImageSpec spec;
  spec.variant = "v7";
  for (bool force : {false, true}) {
    const auto error = refusal(spec, base, force);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->field(), "image.variant");
    EXPECT_NE(error->message.find("architecture 'amd64' has no variants"), std::string::npos) << error->message;
  }
}

TEST(BasePlatform, ABaseWithoutPlatformHasNothingToCompare) {
  const ImageConfig base = config_of("", "");
  ImageSpec spec;
  spec.architecture = "riscv64";
  EXPECT_FALSE(refusal(spec, base));
}

TEST(BasePlatform, TheForcedConfigDropsTheBaseVariant) {
  const ImageConfig base = config_of("linux", "arm", "v7");
  ImageSpec spec;
  spec.architecture = "amd64";
  const ImageConfig forced = make_image_config(spec, &base, {});
  EXPECT_EQ(platform_text(platform_of_config(forced)), "linux/amd64");
  spec.architecture = "arm";  // the same architecture keeps the base's variant
  EXPECT_EQ(platform_text(platform_of_config(make_image_config(spec, &base, {}))), "linux/arm/v7");
  spec.architecture.reset();
  spec.variant = "v6";
  EXPECT_EQ(platform_text(platform_of_config(make_image_config(spec, &base, {}))), "linux/arm/v6");
}

}  // namespace
}  // namespace ocipack
