// Tests for cli/inspect_text.cc: the text `ocipack inspect` prints shows
// every field a user looks for, leaves out empty ones and escapes control
// characters; an image chosen from a multi-platform index says which index;
// a tag naming such an index without a platform is refused with the
// platforms to choose from; the rows of `ocipack tags` keep the TAG, DIGEST,
// SIZE fields and say what an image index holds; sizes read as people write them.
#include "cli/inspect_text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/sha256.h"
#include "fake_layout.h"
#include "test_helpers.h"
#include "expect_error.h"

namespace ocipack {
namespace {

using ocipack::testing::expect_error;
using ocipack::testing::contains;
using ocipack::testing::rich_config;

using ocipack::testing::FakeLayout;
using ocipack::testing::TempDir;

TEST(CliInspectText, TextShowsTheKeyFields) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer one", std::string(3000, 'x')}, rich_config());
  layout.tag(image.manifest, "v1");
  auto text = cli::inspect_text(layout.dir(), "v1");
  ASSERT_TRUE(text.ok()) << text.error().message;
  const std::string& t = *text;
  for (const std::string& part : {
           std::string("Tag:          v1\n"),
           "Manifest:     " + image.manifest.digest.str(),
           "Config:       " + image.config.digest.str(),
           std::string("Created:      2024-01-02T03:04:05Z\n"),
           std::string("Author:       Jane <jane@example.com>\n"),
           std::string("Platform:     linux/arm64/v8\n"),
           std::string("User:         1000:1000\n"),
           std::string("Entrypoint:   [\"/bin/sh\",\"-c\"]\n"),
           std::string("Cmd:          [\"echo hi\"]\n"),
           std::string("WorkingDir:   /srv\n"),
           std::string("StopSignal:   SIGTERM\n"),
           std::string("ExposedPorts: 443/tcp 80/tcp\n"),
           std::string("Env:\n  PATH=/usr/bin:/bin\n  GREETING=hello world\n"),
           std::string("  org.opencontainers.image.title=demo\n"),
           std::string("  evil=a\\x1b[2Jb\n"),  // escaped, never raw
           std::string("Layers:       2\n"),
           "  " + image.layers[0].digest.str() + "  9 B\n",
           "    diff_id " + Sha256::of("tar:layer one").str() + "\n    format  gzip\n",
           "  " + image.layers[1].digest.str() + "  2.9 KiB (3000 bytes)\n",
           std::string("History:\n  2024-01-02T03:04:05Z  ocipack build  author: Jane  comment: first\n"),
       }) {
    EXPECT_TRUE(contains(t, part)) << "missing: " << part << "\nin:\n" << t;
  }
  const uint64_t total = static_cast<uint64_t>(image.manifest.size + image.config.size) + 9 + 3000;
  EXPECT_TRUE(contains(t, "Total size:   ")) << t;
  EXPECT_TRUE(contains(t, "(" + std::to_string(total) + " bytes)")) << t;
  EXPECT_FALSE(contains(t, "\x1b"));
  EXPECT_EQ(t.back(), '\n');
}

TEST(CliInspectText, TextLeavesOutEmptyFields) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({});
  layout.tag(image.manifest, "bare");
  auto text = cli::inspect_text(layout.dir(), "bare");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_TRUE(contains(*text, "Platform:     linux/amd64\n"));
  EXPECT_TRUE(contains(*text, "Layers:       0\n"));
  for (const char* absent : {"Author:", "User:", "Entrypoint:", "Cmd:", "Env:", "Labels:", "History:"})
    EXPECT_FALSE(contains(*text, absent)) << absent;
}

TEST(CliInspectText, UnknownTagIsAnError) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  layout.tag(layout.image({"a"}).manifest, "v1");
  expect_error(cli::inspect_text(layout.dir(), "v9"), {"no image tagged 'v9'", "'v1'"});
}

TEST(CliInspectText, AMultiPlatformIndexAsksForAPlatformAndNamesTheIndexChosenFrom) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto amd = layout.image({"amd"});
  auto arm = layout.image({"arm"});
  amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
  arm.manifest.platform = Platform{"arm64", "linux", "", {}, "v8"};
  const Descriptor index =
      layout.blob(*encode_index(ImageIndex{{amd.manifest, arm.manifest}, {}}), k_media_type_index);
  layout.tag(index, "multi");
  expect_error(cli::inspect_text(layout.dir(), "multi"),
               {"tag 'multi' names an image index with 2 manifests", "choose a platform", "linux/amd64, linux/arm64/v8"});
  auto text = cli::inspect_text(layout.dir(), "multi", *parse_platform("linux/amd64"));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_TRUE(contains(*text, "Index:        " + index.digest.str())) << *text;
  EXPECT_TRUE(contains(*text, "Manifest:     " + amd.manifest.digest.str())) << *text;
}

TEST(CliInspectText, SizesAreBytesBelowAKibibyteAndShowTheExactCountAbove) {
  EXPECT_EQ(cli::size_text(0), "0 B");
  EXPECT_EQ(cli::size_text(1023), "1023 B");
  EXPECT_EQ(cli::size_text(1024), "1.0 KiB (1024 bytes)");
  EXPECT_EQ(cli::size_text(3000), "2.9 KiB (3000 bytes)");
  EXPECT_EQ(cli::size_text(5ull << 30), "5.0 GiB (5368709120 bytes)");
}

TEST(CliTagRows, KeepTheThreeFieldsAndDescribeIndexes) {
  TagInfo image;
  image.tag = "v1";
  image.digest_text = "sha256:" + std::string(64, 'a');
  image.manifest.size = 42;
  image.kind = EntryKind::image;
  EXPECT_EQ(cli::format_tag_row(image), "v1\tsha256:" + std::string(64, 'a') + "\t42");

  TagInfo index = image;
  index.tag = "";
  index.kind = EntryKind::index;
  index.index.emplace();
  index.index->platforms = {Platform{"amd64", "linux", "", {}, ""}, std::nullopt};
  EXPECT_EQ(cli::format_tag_row(index),
            "<untagged>\tsha256:" + std::string(64, 'a') + "\t42\t(image index, 2 platforms: linux/amd64, unknown)");
  index.note = "tag 'x' is ambiguous";
  EXPECT_TRUE(contains(cli::format_tag_row(index), "unknown; tag 'x' is ambiguous)"));

  TagInfo unreadable;
  unreadable.tag = "evil\x1b";
  unreadable.readable = false;
  unreadable.note = "bad\nnote";
  EXPECT_EQ(cli::format_tag_row(unreadable), "evil\\x1b\t-\t-\t(bad\\nnote)");
}

}  // namespace
}  // namespace ocipack
