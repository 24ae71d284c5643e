// Tests for core/oci/platform.cc: the "os/arch[/variant]" text both ways and
// how a wanted platform matches an offered one (variant and os.version only
// when asked for).
#include "core/oci/platform.h"

#include <gtest/gtest.h>

namespace ocipack {
namespace {

TEST(Platform, TextAndParseRoundTrip) {
  EXPECT_EQ(platform_text(Platform{"arm64", "linux", "", {}, "v8"}), "linux/arm64/v8");
  EXPECT_EQ(platform_text(Platform{"amd64", "linux", "", {}, ""}), "linux/amd64");
  EXPECT_EQ(platform_text(Platform{}), "unknown/unknown");
  auto parsed = parse_platform("linux/arm/v7");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, (Platform{"arm", "linux", "", {}, "v7"}));
  EXPECT_EQ(*parse_platform("windows/amd64"), (Platform{"amd64", "windows", "", {}, ""}));
  for (const char* bad : {"", "linux", "linux/", "/amd64", "linux//v7", "a/b/c/d"}) {
    auto refused = parse_platform(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_TRUE(refused.error().is(ErrorKind::usage));
    EXPECT_NE(refused.error().message.find("os/architecture[/variant]"), std::string::npos);
  }
}

TEST(Platform, MatchingAsksOnlyForWhatIsWanted) {
  const Platform arm_v7{"arm", "linux", "", {}, "v7"};
  EXPECT_TRUE(platform_matches(*parse_platform("linux/arm"), arm_v7));
  EXPECT_TRUE(platform_matches(*parse_platform("linux/arm/v7"), arm_v7));
  EXPECT_FALSE(platform_matches(*parse_platform("linux/arm/v6"), arm_v7));
  EXPECT_FALSE(platform_matches(*parse_platform("linux/arm64"), arm_v7));
  EXPECT_FALSE(platform_matches(*parse_platform("windows/arm"), arm_v7));
  Platform windows{"amd64", "windows", "10.0.1", {}, ""};
  Platform wanted = *parse_platform("windows/amd64");
  EXPECT_TRUE(platform_matches(wanted, windows));
  wanted.os_version = "10.0.2";
  EXPECT_FALSE(platform_matches(wanted, windows));
}

TEST(Platform, SamePlatformTreatsArm64AsArm64V8) {
  EXPECT_TRUE(same_platform(*parse_platform("linux/arm64"), *parse_platform("linux/arm64/v8")));
  EXPECT_TRUE(same_platform(*parse_platform("linux/arm/v7"), *parse_platform("linux/arm/v7")));
  EXPECT_FALSE(same_platform(*parse_platform("linux/arm"), *parse_platform("linux/arm/v7")));
  EXPECT_FALSE(same_platform(*parse_platform("linux/arm/v6"), *parse_platform("linux/arm/v7")));
  EXPECT_FALSE(same_platform(*parse_platform("linux/amd64"), *parse_platform("windows/amd64")));
  Platform windows = *parse_platform("windows/amd64");
  Platform newer = windows;
  newer.os_version = "10.0.20348";
  EXPECT_FALSE(same_platform(windows, newer));
}

}  // namespace
}  // namespace ocipack
