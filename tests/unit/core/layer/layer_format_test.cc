// Tests for core/layer/layer_format.cc and the format files
// (format_gzip_members.cc, format_gzip_single.cc, format_zstd.cc,
// format_none.cc): resolve_layer_format() picks the format the options ask
// for and refuses bad options with usage errors naming the field; each
// format's media type, history and framing are what its blobs need —
// chunks compressed with the format's compressor and framed by its
// BlobFraming decode (zlib, libzstd) to the stream, as one member per chunk
// or as ONE member for the whole stream, as one zstd frame per chunk, or
// are the stream itself (none).
#include "core/layer/layer_format.h"

#include <gtest/gtest.h>

#include <random>
#include <span>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::count_gzip_members;
using ocipack::testing::count_zstd_frames;
using ocipack::testing::gunzip_all;
using ocipack::testing::unzstd_all;

constexpr const char* k_gzip_layer = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* k_zstd_layer = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr const char* k_tar_layer = "application/vnd.oci.image.layer.v1.tar";

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string text_of(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::unique_ptr<const LayerFormat> resolve(const CodecOptions& options) {
  auto format = resolve_layer_format(options);
  EXPECT_TRUE(format.ok()) << format.error().message;
  return format.ok() ? std::move(*format) : nullptr;
}

std::string sample(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string data;
  while (data.size() < size) data += (rng() % 2) ? "usr/share/doc/" : std::string(1, static_cast<char>(rng()));
  data.resize(size);
  return data;
}

// Runs `chunks` through a format the way the pipeline does: prologue, each
// chunk compressed with the stream before it (history_size() of it) and
// observed, epilogue.
std::string encode(const LayerFormat& format, const std::vector<std::string>& chunks) {
  auto compressor = format.make_compressor();
  EXPECT_TRUE(compressor.ok());
  if (!compressor.ok()) return {};
  auto framing = format.begin_blob();
  std::string blob = text_of(framing->prologue());
  std::string stream;
  for (const auto& chunk : chunks) {
    const size_t history = std::min(stream.size(), format.history_size());
    const std::string dictionary = stream.substr(stream.size() - history);
    std::vector<std::byte> output((*compressor)->bound(chunk.size()));
    auto size = (*compressor)->compress(bytes_of(chunk), bytes_of(dictionary), output);
    EXPECT_TRUE(size.ok()) << size.error().message;
    if (!size.ok()) return {};
    blob += text_of(std::span(output).first(*size));
    framing->observe(bytes_of(chunk));
    stream += chunk;
  }
  return blob + text_of(framing->epilogue(stream.size()));
}

TEST(CodecOptions, Defaults) {
  // An empty kind and level mean the compression's own codec at its default
  // level: gzip with libdeflate at 6, as before.
  CodecOptions options;
  EXPECT_FALSE(options.kind.has_value());
  EXPECT_FALSE(options.level.has_value());
  EXPECT_EQ(options.compression, LayerCompression::gzip);
  EXPECT_EQ(options.format, GzipFormat::members);
  EXPECT_FALSE(options.dictionary);
  EXPECT_EQ(codec_choice(options).kind, CodecKind::libdeflate);
  EXPECT_EQ(codec_choice(options).level, 6);
  auto format = resolve(options);
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->name(), "gzip members");
  EXPECT_EQ(format->codec_text(), "libdeflate level 6");
}

TEST(CodecOptions, EachCompressionHasItsOwnCodecAndDefaultLevel) {
  EXPECT_EQ(default_codec_kind(LayerCompression::gzip), CodecKind::libdeflate);
  EXPECT_EQ(default_codec_kind(LayerCompression::zstd), CodecKind::zstd);
  EXPECT_EQ(default_codec_kind(LayerCompression::zstd_chunked), CodecKind::zstd);
  EXPECT_FALSE(default_codec_kind(LayerCompression::none).has_value());
  CodecOptions zstd;
  zstd.compression = LayerCompression::zstd;
  EXPECT_EQ(codec_choice(zstd).kind, CodecKind::zstd);
  EXPECT_EQ(codec_choice(zstd).level, level_bounds(CodecKind::zstd).default_level);
  zstd.kind = CodecKind::isal;  // given: kept (and refused by the format)
  EXPECT_EQ(codec_choice(zstd).kind, CodecKind::isal);
  EXPECT_STREQ(layer_compression_name(LayerCompression::zstd_chunked), "zstd:chunked");
  EXPECT_STREQ(layer_compression_name(LayerCompression::none), "none");
}

TEST(LayerFormat, ZstdForEveryLevelIsOneFramePerChunk) {
  for (int level = level_bounds(CodecKind::zstd).min; level <= level_bounds(CodecKind::zstd).max; ++level) {
    CodecOptions options;
    options.compression = LayerCompression::zstd;
    options.level = level;
    auto format = resolve(options);
    ASSERT_NE(format, nullptr) << level;
    EXPECT_EQ(format->name(), "zstd");
    EXPECT_EQ(format->media_type(), k_zstd_layer);
    EXPECT_EQ(format->codec_text(), "zstd level " + std::to_string(level));
    EXPECT_EQ(format->history_size(), 0u);
  }
  CodecOptions options;
  options.compression = LayerCompression::zstd;
  auto format = resolve(options);
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->codec_text(), "zstd level 3");
  auto framing = format->begin_blob();
  EXPECT_TRUE(framing->prologue().empty());
  EXPECT_TRUE(framing->epilogue(12345).empty());
  const std::vector<std::string> chunks = {sample(70000, 1), sample(10, 2), "", sample(50000, 3)};
  const std::string blob = encode(*format, chunks);
  EXPECT_EQ(count_zstd_frames(blob), chunks.size());
  EXPECT_EQ(unzstd_all(blob), chunks[0] + chunks[1] + chunks[2] + chunks[3]);
}

TEST(LayerFormat, NoneBlobIsTheStream) {
  CodecOptions options;
  options.compression = LayerCompression::none;
  auto format = resolve(options);
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->name(), "none");
  EXPECT_EQ(format->media_type(), k_tar_layer);
  EXPECT_EQ(format->codec_text(), "stored");
  EXPECT_EQ(format->history_size(), 0u);
  const std::vector<std::string> chunks = {sample(70000, 1), "", sample(9, 2)};
  EXPECT_EQ(encode(*format, chunks), chunks[0] + chunks[1] + chunks[2]);
}

TEST(LayerFormat, ZstdChunkedHasNoRowYet) {
  CodecOptions options;
  options.compression = LayerCompression::zstd_chunked;
  auto format = resolve_layer_format(options);
  ASSERT_FALSE(format.ok());
  EXPECT_TRUE(format.error().is(ErrorKind::usage));
  EXPECT_EQ(format.error().field(), "codec.compression");
  EXPECT_EQ(format.error().message, "codec.compression zstd:chunked is not supported yet");
}

TEST(LayerFormat, GzipOnlyOptionsAreRefusedByOtherCompressions) {
  struct Case {
    CodecOptions options;
    const char* field;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{CodecKind::isal, std::nullopt, GzipFormat::members, false, LayerCompression::zstd}, "codec.kind",
       "codec.kind isal does not apply to codec.compression zstd (it chooses the gzip engine)"},
      {{CodecKind::libdeflate, std::nullopt, GzipFormat::members, false, LayerCompression::zstd}, "codec.kind",
       "codec.kind libdeflate does not apply to codec.compression zstd (it chooses the gzip engine)"},
      {{std::nullopt, std::nullopt, GzipFormat::members, true, LayerCompression::zstd}, "codec.dictionary",
       "codec.dictionary does not apply to codec.compression zstd (it primes the pieces of a single gzip member)"},
      {{std::nullopt, std::nullopt, GzipFormat::single, false, LayerCompression::zstd}, "codec.format",
       "codec.format single does not apply to codec.compression zstd (it lays out gzip layers)"},
      {{std::nullopt, 20, GzipFormat::members, false, LayerCompression::zstd}, "codec.level",
       "codec.level 20: expected 1-19 for zstd"},
      {{std::nullopt, 0, GzipFormat::members, false, LayerCompression::zstd}, "codec.level",
       "codec.level 0: expected 1-19 for zstd"},
      {{CodecKind::libdeflate, std::nullopt, GzipFormat::members, false, LayerCompression::none}, "codec.kind",
       "codec.kind libdeflate does not apply to codec.compression none (it chooses the gzip engine)"},
      {{std::nullopt, 3, GzipFormat::members, false, LayerCompression::none}, "codec.level",
       "codec.level 3 does not apply to codec.compression none (nothing is compressed)"},
      {{std::nullopt, std::nullopt, GzipFormat::single, true, LayerCompression::none}, "codec.dictionary",
       "codec.dictionary does not apply to codec.compression none (it primes the pieces of a single gzip member)"},
      {{CodecKind::zstd, 3, GzipFormat::members, false, LayerCompression::gzip}, "codec.kind",
       "codec.kind zstd cannot write gzip members"},
  };
  for (const auto& c : cases) {
    auto format = resolve_layer_format(c.options);
    ASSERT_FALSE(format.ok()) << c.message;
    EXPECT_TRUE(format.error().is(ErrorKind::usage));
    EXPECT_EQ(format.error().field(), c.field);
    EXPECT_EQ(format.error().message, c.message);
  }
  // The compression's own kind, given explicitly, is fine.
  EXPECT_NE(resolve({CodecKind::zstd, 19, GzipFormat::members, false, LayerCompression::zstd}), nullptr);
}

TEST(LayerFormat, MembersForEveryBackendAndLevel) {
  for (CodecKind kind : {CodecKind::libdeflate, CodecKind::isal}) {
    for (int level = level_bounds(kind).min; level <= level_bounds(kind).max; ++level) {
      auto format = resolve({kind, level, GzipFormat::members, false});
      ASSERT_NE(format, nullptr) << codec_name(kind) << " " << level;
      EXPECT_EQ(format->name(), "gzip members");
      EXPECT_EQ(format->media_type(), k_gzip_layer);
      EXPECT_EQ(format->history_size(), 0u);
      EXPECT_TRUE(format->chunk_output_is_self_contained());
    }
  }
}

TEST(LayerFormat, MembersBlobIsOneMemberPerChunkWithoutFraming) {
  auto format = resolve({CodecKind::libdeflate, 6, GzipFormat::members, false});
  ASSERT_NE(format, nullptr);
  auto framing = format->begin_blob();
  EXPECT_TRUE(framing->prologue().empty());
  EXPECT_TRUE(framing->epilogue(12345).empty());
  const std::vector<std::string> chunks = {sample(70000, 1), sample(10, 2), "", sample(50000, 3)};
  const std::string blob = encode(*format, chunks);
  EXPECT_EQ(count_gzip_members(blob), chunks.size());
  EXPECT_EQ(gunzip_all(blob), chunks[0] + chunks[1] + chunks[2] + chunks[3]);
}

TEST(LayerFormat, SingleIsOneMemberWithAndWithoutDictionary) {
  for (bool dictionary : {false, true}) {
    for (int level = 0; level <= 3; ++level) {
      auto format = resolve({CodecKind::isal, level, GzipFormat::single, dictionary});
      ASSERT_NE(format, nullptr);
      EXPECT_EQ(format->name(), "gzip single");
      EXPECT_EQ(format->media_type(), k_gzip_layer);
      EXPECT_EQ(format->history_size(), dictionary ? k_deflate_window : 0u);
      EXPECT_EQ(format->chunk_output_is_self_contained(), !dictionary);
      const std::vector<std::string> chunks = {sample(70000, 4), sample(40000, 5), "", sample(9, 6)};
      const std::string blob = encode(*format, chunks);
      EXPECT_EQ(count_gzip_members(blob), 1u) << "level " << level << (dictionary ? " with dictionary" : "");
      EXPECT_EQ(gunzip_all(blob), chunks[0] + chunks[1] + chunks[2] + chunks[3]);
    }
  }
}

TEST(LayerFormat, SingleFramingIsHeaderThenFinalBlockAndTrailerOfWhatItObserved) {
  auto format = resolve({CodecKind::isal, 1, GzipFormat::single, false});
  ASSERT_NE(format, nullptr);
  auto framing = format->begin_blob();
  EXPECT_EQ(text_of(framing->prologue()), text_of(gzip_header()));
  const std::string data = sample(100000, 7);
  framing->observe(bytes_of(data.substr(0, 777)));
  framing->observe(bytes_of(data.substr(777)));
  const auto trailer = gzip_trailer(crc32_update(0, bytes_of(data)), data.size());
  EXPECT_EQ(text_of(framing->epilogue(data.size())), text_of(k_deflate_final_block) + text_of(trailer));
  // Each blob has its own framing state.
  EXPECT_EQ(text_of(format->begin_blob()->epilogue(0)), text_of(k_deflate_final_block) + text_of(gzip_trailer(0, 0)));
}

TEST(LayerFormat, LibdeflateCannotWriteTheSingleFormat) {
  auto format = resolve_layer_format({CodecKind::libdeflate, 6, GzipFormat::single, false});
  ASSERT_FALSE(format.ok());
  const Error& error = format.error();
  EXPECT_TRUE(error.is(ErrorKind::usage));
  EXPECT_EQ(error.field(), "codec.format");
  ASSERT_EQ(error.fields.size(), 2u);
  EXPECT_EQ(error.fields[1].name, "codec.kind");
  EXPECT_NE(error.message.find("single"), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find("--"), std::string::npos) << "the library names no flag: " << error.message;
  EXPECT_EQ(error.message.rfind("codec.format single needs codec.kind isal (", 0), 0u) << error.message;
}

TEST(LayerFormat, OptionErrorsNameTheirField) {
  struct Case {
    CodecOptions options;
    const char* field;
    const char* text;
  };
  const std::vector<Case> cases = {
      {{CodecKind::libdeflate, 13, GzipFormat::members, false}, "codec.level", "13: expected 0-12 for libdeflate"},
      {{CodecKind::isal, 4, GzipFormat::members, false}, "codec.level", "4: expected 0-3 for isal"},
      {{CodecKind::isal, -1, GzipFormat::single, true}, "codec.level", "-1: expected 0-3 for isal"},
      {{CodecKind::libdeflate, 6, GzipFormat::members, true}, "codec.dictionary", "only applies to codec.format single"},
      {{CodecKind::isal, 1, GzipFormat::members, true}, "codec.dictionary", "only applies to codec.format single"},
  };
  for (const auto& c : cases) {
    auto format = resolve_layer_format(c.options);
    ASSERT_FALSE(format.ok()) << c.field << " " << c.text;
    EXPECT_TRUE(format.error().is(ErrorKind::usage));
    EXPECT_EQ(format.error().field(), c.field);
    EXPECT_EQ(format.error().message.rfind(c.field, 0), 0u) << format.error().message;
    EXPECT_NE(format.error().message.find(c.text), std::string::npos) << format.error().message;
  }
}

TEST(LayerFormat, FormatsMakeIndependentCompressors) {
  // One compressor per worker thread: two from one format work side by side.
  auto format = resolve({CodecKind::isal, 2, GzipFormat::single, true});
  ASSERT_NE(format, nullptr);
  auto a = format->make_compressor();
  auto b = format->make_compressor();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->get(), b->get());
}

}  // namespace
}  // namespace ocipack
