// Tests for cli/image_files.cc and the ls/diff command lines of
// cli/options.cc: image references ("oci:" dropped, default tag latest), the
// --layer and --largest values (0 refused as usage), both images of diff
// required. Listing and comparing real images is test_ls_diff.sh's; the
// model logic is tests/unit/core/layer/tree_listing_test.cc's.
#include "cli/image_files.h"

#include <gtest/gtest.h>

#include "cli/errors.h"
#include "cli/options.h"

namespace ocipack::cli {
namespace {

Result<CommandLine> parse(std::vector<std::string> args) { return parse_command_line(args, Environment{}); }

TEST(ImageFiles, ImageArgumentDropsTheOciPrefixAndDefaultsTheTag) {
  // ls/diff read their images through layout_refs' parse_layout_argument.
  auto cl = parse({"ls", "oci:/x/layout:v1"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->files.image.layout_dir, "/x/layout");
  EXPECT_EQ(cl->files.image.tag, "v1");
  cl = parse({"diff", "layout", "oci:other:v2"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->files.image.layout_dir, "layout");
  EXPECT_EQ(cl->files.image.tag, "latest");
  EXPECT_EQ(cl->files.other.layout_dir, "other");
  EXPECT_EQ(cl->files.other.tag, "v2");
  EXPECT_FALSE(parse({"ls", "oci:"}).ok());
  EXPECT_EQ(parse({"ls", ""}).error().kind, ErrorKind::usage);
}

TEST(ImageFiles, LsTakesAnImageALayerAndALargestCount) {
  auto cl = parse({"ls", "oci:/l:v2", "--layer", "2", "--largest", "10"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->action, CommandLine::Action::ls);
  EXPECT_EQ(cl->files.image.layout_dir, "/l");
  EXPECT_EQ(cl->files.image.tag, "v2");
  EXPECT_EQ(cl->files.layer, std::optional<size_t>(2));
  EXPECT_EQ(cl->files.largest, std::optional<size_t>(10));
  cl = parse({"ls", "/l"});
  ASSERT_TRUE(cl.ok());
  EXPECT_FALSE(cl->files.layer);
  EXPECT_FALSE(cl->files.largest);
  for (auto args : std::vector<std::vector<std::string>>{
           {"ls"}, {"ls", "/l", "--layer", "0"}, {"ls", "/l", "--largest", "0"}, {"ls", "/l", "--layer", "x"}}) {
    auto refused = parse(args);
    ASSERT_FALSE(refused.ok()) << args.back();
    EXPECT_EQ(exit_status(refused.error()), k_exit_usage) << refused.error().message;
  }
}

TEST(ImageFiles, DiffTakesTwoImagesInAnyLayouts) {
  auto cl = parse({"diff", "a:v1", "oci:b"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->action, CommandLine::Action::diff);
  EXPECT_EQ(cl->files.image.layout_dir, "a");
  EXPECT_EQ(cl->files.image.tag, "v1");
  EXPECT_EQ(cl->files.other.layout_dir, "b");
  EXPECT_EQ(cl->files.other.tag, "latest");
  auto refused = parse({"diff", "a:v1"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("B is required"), std::string::npos);
  EXPECT_EQ(k_exit_diff_trouble, k_exit_usage);  // diff(1): trouble and usage are both 2
}

}  // namespace
}  // namespace ocipack::cli
