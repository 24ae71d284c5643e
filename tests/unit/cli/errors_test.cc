// Tests for cli/errors.cc: every option field of the shared vocabulary is
// shown as the flag the user typed (an index in the field may be any
// number), unknown fields and errors without a field keep their message,
// the exit status follows the error's kind (usage 2, interrupted 130, any
// other 1), and an error found on the command line is a usage error whatever
// kind the library gave it.
#include "cli/errors.h"

#include <gtest/gtest.h>

namespace ocipack::cli {
namespace {

TEST(CliErrors, EveryFieldOfTheVocabularyHasItsFlag) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"layers[0].rootfs", "rootfs"},
      {"layers[12].rootfs", "rootfs"},
      {"layers[2].diff_base", "--diff-base"},
      {"layout_dir", "-o"},
      {"base_layout", "--base"},
      {"diff_against_base", "--diff-against-base"},
      {"tar_output", "--tar-output"},
      {"image.tag", "--tag"},
      {"codec.compression", "--compression-format"},
      {"codec.kind", "--compressor"},
      {"codec.level", "--level"},
      {"codec.format", "--gzip-format"},
      {"codec.dictionary", "--dictionary"},
      {"threads", "--threads"},
      {"chunking.target_size", "--chunk-size"},
  };
  for (const auto& [field, flag] : expected) {
    auto found = flag_for_field(field);
    ASSERT_TRUE(found.has_value()) << field;
    EXPECT_EQ(*found, flag) << field;
  }
  for (const char* unknown : {"", "layers", "layers[].rootfs", "layers[x].rootfs", "layers[1]].rootfs",
                              "layers[1", "layers[1].rootfsx", "tar_output2", "image.tags", "codec"})
    EXPECT_FALSE(flag_for_field(unknown).has_value()) << unknown;
}

TEST(CliErrors, MessagesShowTheFlagInsteadOfTheField) {
  const Error error = field_error(ErrorKind::usage, "tar_output", " '/out/x.tar' lies inside the output layout '/out'");
  EXPECT_EQ(message_for_user(error), "--tar-output '/out/x.tar' lies inside the output layout '/out'");
  const Error layered = field_error(ErrorKind::input, "layers[1].diff_base", " 'old' is not a directory")
                            .with_context("layer 2: ");
  EXPECT_EQ(message_for_user(layered), "layer 2: --diff-base 'old' is not a directory");
  const Error rootfs = field_error(ErrorKind::input, "layers[0].rootfs", " '/nope' does not exist");
  EXPECT_EQ(message_for_user(rootfs), "rootfs '/nope' does not exist");
  const Error unknown = field_error(ErrorKind::input, "annotations", " must be an object");
  EXPECT_EQ(message_for_user(unknown), "annotations must be an object");
  EXPECT_EQ(message_for_user(io_error("cannot write x: No space left on device")),
            "cannot write x: No space left on device");
}

TEST(CliErrors, ExitStatusFollowsTheKind) {
  EXPECT_EQ(exit_status(usage_error("u")), 2);
  EXPECT_EQ(exit_status(interrupted_error()), 130);
  EXPECT_EQ(exit_status(input_error("i")), 1);
  EXPECT_EQ(exit_status(io_error("o")), 1);
  EXPECT_EQ(exit_status(corrupt_error("c")), 1);
  // The text does not matter: an input error saying "interrupted" is a failure.
  EXPECT_EQ(exit_status(input_error("interrupted")), 1);
}

TEST(CliErrors, CommandLineErrorsAreUsageErrorsNamingTheFlag) {
  const Error from_library = field_error(ErrorKind::input, "codec.level", " 13 is out of range");
  const Error error = command_line_error(from_library);
  EXPECT_EQ(error.kind, ErrorKind::usage);
  EXPECT_EQ(error.message, "--level 13 is out of range");
  EXPECT_EQ(exit_status(error), 2);
}

}  // namespace
}  // namespace ocipack::cli

namespace ocipack::cli {
namespace {

// `ocipack index` (IndexRequest) and build's --platform (base_platform).
TEST(CliErrors, IndexFieldsHaveTheirFlags) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"sources", "SRC"},   {"sources[3]", "SRC"}, {"add", "--add"},       {"add[0]", "--add"},
      {"remove", "--remove"}, {"remove[1]", "--remove"}, {"flatten", "--flatten"}, {"tag", "--tag"},
      {"base_platform", "--platform"},
  };
  for (const auto& [field, flag] : expected) {
    auto found = flag_for_field(field);
    ASSERT_TRUE(found.has_value()) << field;
    EXPECT_EQ(*found, flag) << field;
  }
  const Error both = field_error(ErrorKind::input, "sources[0]", " 'a:latest' and ")
                         .then_field("sources[1]")
                         .then(" 'b:latest' are both for the platform linux/amd64");
  EXPECT_EQ(message_for_user(both), "SRC 'a:latest' and SRC 'b:latest' are both for the platform linux/amd64");
}

}  // namespace
}  // namespace ocipack::cli
