// Tests for cli/codec_names.cc: the --compressor and --gzip-format names
// parse to the library's enums (and back, through codec_name), and unknown
// names are usage errors that name the flag and quote the value.
#include "cli/codec_names.h"

#include <gtest/gtest.h>

#include <string>

namespace ocipack::cli {
namespace {

TEST(CodecNames, ParseNames) {
  EXPECT_EQ(*parse_codec_kind("libdeflate"), CodecKind::libdeflate);
  EXPECT_EQ(*parse_codec_kind("isal"), CodecKind::isal);
  EXPECT_EQ(*parse_codec_kind("isa-l"), CodecKind::isal);
  EXPECT_EQ(*parse_codec_kind("igzip"), CodecKind::isal);
  EXPECT_EQ(*parse_gzip_format("members"), GzipFormat::members);
  EXPECT_EQ(*parse_gzip_format("single"), GzipFormat::single);
  for (CodecKind kind : {CodecKind::libdeflate, CodecKind::isal})
    EXPECT_EQ(*parse_codec_kind(codec_name(kind)), kind);
}

TEST(CodecNames, UnknownNamesAreErrorsNamingTheValue) {
  for (const char* bad : {"zlib", "", "LIBDEFLATE", "pigz"}) {
    auto kind = parse_codec_kind(bad);
    ASSERT_FALSE(kind.ok()) << bad;
    EXPECT_NE(kind.error().message.find("'" + std::string(bad) + "'"), std::string::npos)
        << kind.error().message;
    EXPECT_EQ(kind.error().message.rfind("--compressor ", 0), 0u) << kind.error().message;
    EXPECT_TRUE(kind.error().is(ErrorKind::usage));
  }
  for (const char* bad : {"multi", "", "Single", "member"}) {
    auto format = parse_gzip_format(bad);
    ASSERT_FALSE(format.ok()) << bad;
    EXPECT_NE(format.error().message.find("'" + std::string(bad) + "'"), std::string::npos)
        << format.error().message;
    EXPECT_EQ(format.error().message.rfind("--gzip-format ", 0), 0u) << format.error().message;
    EXPECT_TRUE(format.error().is(ErrorKind::usage));
  }
}

TEST(CodecNames, CodecFieldsAreShownAsFlags) {
  const Error level = field_error(ErrorKind::usage, "codec.level", " 42 is out of range for libdeflate (0-12)");
  const Error shown = with_codec_flags(level);
  EXPECT_EQ(shown.message, "--level 42 is out of range for libdeflate (0-12)");
  EXPECT_TRUE(shown.is(ErrorKind::usage));
  const Error kind = field_error(ErrorKind::usage, "codec.kind", " isal").with_context("gzip-format single needs ");
  EXPECT_EQ(with_codec_flags(kind).message, "gzip-format single needs --compressor isal");
  EXPECT_EQ(with_codec_flags(field_error(ErrorKind::usage, "codec.dictionary", " x")).message, "--dictionary x");
  EXPECT_EQ(with_codec_flags(field_error(ErrorKind::usage, "codec.format", " x")).message, "--gzip-format x");
  // Other fields are the CLI's general mapping's business.
  const Error other = field_error(ErrorKind::input, "tar_output", " '/x' is a FIFO");
  EXPECT_EQ(with_codec_flags(other).message, other.message);
  EXPECT_EQ(with_codec_flags(other).field, "tar_output");
}

}  // namespace
}  // namespace ocipack::cli
