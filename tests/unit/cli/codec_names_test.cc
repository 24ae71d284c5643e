// Tests for cli/codec_names.cc: the --compression-format, --compressor and
// --gzip-format names
// parse to the library's enums (and back, through codec_name), and unknown
// names are usage errors that name the flag and quote the value.
#include "cli/codec_names.h"
#include "cli/errors.h"

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

TEST(CodecNames, CompressionFormatNames) {
  EXPECT_EQ(*parse_layer_compression("gzip"), LayerCompression::gzip);
  EXPECT_EQ(*parse_layer_compression("zstd"), LayerCompression::zstd);
  EXPECT_EQ(*parse_layer_compression("zstd:chunked"), LayerCompression::zstd_chunked);
  EXPECT_EQ(*parse_layer_compression("none"), LayerCompression::none);
  for (const char* bad : {"", "ZSTD", "zstd:", "tar", "uncompressed", "gz"}) {
    auto compression = parse_layer_compression(bad);
    ASSERT_FALSE(compression.ok()) << bad;
    EXPECT_TRUE(compression.error().is(ErrorKind::usage));
    EXPECT_EQ(compression.error().message,
              "--compression-format '" + std::string(bad) + "': expected gzip, zstd, zstd:chunked or none");
  }
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
  const Error level = field_error(ErrorKind::usage, "codec.level", " 42: expected 0-12 for libdeflate");
  EXPECT_EQ(message_for_user(level), "--level 42: expected 0-12 for libdeflate");
  // A message naming two fields shows both as flags.
  const Error single = field_error(ErrorKind::usage, "codec.format", " single needs ").then_field("codec.kind").then(" isal");
  EXPECT_EQ(single.message, "codec.format single needs codec.kind isal");
  EXPECT_EQ(message_for_user(single), "--gzip-format single needs --compressor isal");
  EXPECT_EQ(message_for_user(field_error(ErrorKind::usage, "codec.dictionary", " x")), "--dictionary x");
  // The codec's own errors, as the command line shows them.
  auto resolved = resolve_layer_format({CodecKind::libdeflate, 6, GzipFormat::single, false});
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(message_for_user(resolved.error()).rfind("--gzip-format single needs --compressor isal (", 0), 0u)
      << resolved.error().message;
  resolved = resolve_layer_format({CodecKind::isal, 4, GzipFormat::members, false});
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(message_for_user(resolved.error()), "--level 4: expected 0-3 for isal");
  resolved = resolve_layer_format({CodecKind::libdeflate, 6, GzipFormat::members, true});
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(message_for_user(resolved.error()), "--dictionary only applies to --gzip-format single");
}

}  // namespace
}  // namespace ocipack::cli
