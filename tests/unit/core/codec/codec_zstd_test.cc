// Tests for core/codec/codec_zstd.cc (and the store compressor of
// codec.cc). Compressed bytes are never pinned (a libzstd upgrade may change
// them); the tests check what is specified of the zstd_frame shape:
//  - settings: levels 1-19, default 3, from level_bounds; other levels are
//    usage errors naming codec.level and zstd; zstd writes zstd frames only
//    and the gzip backends write none; a dictionary is refused;
//  - each compress() call is ONE complete frame whose header carries the
//    content size and the checksum flag and no dictionary ID, with the
//    window pinned (never above 8 MiB); the frame decodes to the input with
//    libzstd's one-shot decoder, with ocipack's stream decoder and, when the
//    zstd program is installed, passes `zstd -t`; frames concatenate into
//    one valid stream;
//  - determinism: the same input gives the same bytes from a fresh, a
//    reused and a second compressor, whatever they compressed before.
#include <gtest/gtest.h>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/codec/codec.h"
#include "core/codec/zstd_decoder.h"

namespace ocipack {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string sample(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string data;
  while (data.size() < size) data += (rng() % 3) ? "usr/lib/x86_64-linux-gnu/" : std::string(1, static_cast<char>(rng()));
  data.resize(size);
  return data;
}

std::unique_ptr<Compressor> make_zstd(int level) {
  auto compressor = make_compressor(CodecKind::zstd, level, CompressedShape::zstd_frame);
  EXPECT_TRUE(compressor.ok()) << compressor.error().message;
  return compressor.ok() ? std::move(*compressor) : nullptr;
}

std::string frame_of(Compressor& compressor, const std::string& input) {
  std::vector<std::byte> output(compressor.bound(input.size()));
  auto size = compressor.compress(bytes_of(input), {}, output);
  EXPECT_TRUE(size.ok()) << size.error().message;
  if (!size.ok()) return {};
  return std::string(reinterpret_cast<const char*>(output.data()), *size);
}

std::string decode_with_ocipack(const std::string& stream) {
  auto decoder = make_zstd_decoder();
  EXPECT_TRUE(decoder.ok());
  std::string out;
  const Status fed = (*decoder)->feed(stream, [&](std::string_view piece) { out += piece; });
  EXPECT_TRUE(fed.ok()) << fed.error().message;
  const Status finished = (*decoder)->finish();
  EXPECT_TRUE(finished.ok()) << finished.error().message;
  return out;
}

TEST(ZstdCodec, LevelBoundsAreOneToNineteenDefaultThree) {
  const LevelBounds bounds = level_bounds(CodecKind::zstd);
  EXPECT_EQ(bounds.min, 1);
  EXPECT_EQ(bounds.max, 19);
  EXPECT_EQ(default_level(CodecKind::zstd), 3);
  EXPECT_TRUE(codec_available(CodecKind::zstd));
  EXPECT_STREQ(codec_name(CodecKind::zstd), "zstd");
  EXPECT_EQ(codec_description(CodecKind::zstd).rfind(std::string("libzstd ") + ZSTD_versionString(), 0), 0u);
  for (int level = 1; level <= 19; ++level) EXPECT_NE(make_zstd(level), nullptr) << level;
}

TEST(ZstdCodec, LevelsOutOfBoundsAreUsageErrorsNamingTheLevel) {
  for (int level : {-5, 0, 20, 22}) {
    auto compressor = make_compressor(CodecKind::zstd, level, CompressedShape::zstd_frame);
    ASSERT_FALSE(compressor.ok()) << level;
    EXPECT_TRUE(compressor.error().is(ErrorKind::usage));
    EXPECT_EQ(compressor.error().field(), "codec.level");
    EXPECT_EQ(compressor.error().message, "codec.level " + std::to_string(level) + ": expected 1-19 for zstd");
  }
}

TEST(ZstdCodec, ShapesEachBackendWrites) {
  EXPECT_TRUE(codec_writes(CodecKind::zstd, CompressedShape::zstd_frame));
  EXPECT_FALSE(codec_writes(CodecKind::zstd, CompressedShape::gzip_member));
  EXPECT_FALSE(codec_writes(CodecKind::zstd, CompressedShape::deflate_piece));
  EXPECT_FALSE(codec_writes(CodecKind::libdeflate, CompressedShape::zstd_frame));
  EXPECT_FALSE(codec_writes(CodecKind::isal, CompressedShape::zstd_frame));
  auto refused = make_compressor(CodecKind::libdeflate, 6, CompressedShape::zstd_frame);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "codec.kind libdeflate cannot write zstd frames");
  refused = make_compressor(CodecKind::zstd, 3, CompressedShape::gzip_member);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field(), "codec.kind");
  EXPECT_EQ(refused.error().message, "codec.kind zstd cannot write gzip members");
  auto compressor = make_zstd(3);
  ASSERT_NE(compressor, nullptr);
  std::vector<std::byte> output(compressor->bound(10));
  EXPECT_FALSE(compressor->compress(bytes_of("0123456789"), bytes_of("before"), output).ok());
}

TEST(ZstdCodec, EachCallIsOneFrameWithContentSizeChecksumAndPinnedWindow) {
  for (int level : {1, 3, 9, 19}) {
    auto compressor = make_zstd(level);
    ASSERT_NE(compressor, nullptr);
    for (size_t size : {size_t{0}, size_t{1}, size_t{70000}, size_t{3} << 20}) {
      const std::string input = sample(size, static_cast<unsigned>(size + level));
      const std::string frame = frame_of(*compressor, input);
      EXPECT_EQ(ZSTD_findFrameCompressedSize(frame.data(), frame.size()), frame.size()) << "one frame, nothing after";
      ZSTD_frameHeader header{};
      ASSERT_EQ(ZSTD_getFrameHeader(&header, frame.data(), frame.size()), 0u);
      EXPECT_EQ(header.frameType, ZSTD_frame);
      EXPECT_EQ(header.frameContentSize, size) << "level " << level;
      EXPECT_TRUE(header.checksumFlag);
      EXPECT_EQ(header.dictID, 0u);
      EXPECT_LE(header.windowSize, uint64_t{1} << 23);
      std::string decoded(size, '\0');
      EXPECT_EQ(ZSTD_decompress(decoded.data(), decoded.size(), frame.data(), frame.size()), size);
      EXPECT_EQ(decoded, input);
    }
  }
}

TEST(ZstdCodec, FramesConcatenateIntoOneStream) {
  auto compressor = make_zstd(3);
  ASSERT_NE(compressor, nullptr);
  const std::vector<std::string> chunks = {sample(100000, 1), "", sample(7, 2), sample(1 << 20, 3)};
  std::string stream, expected;
  for (const auto& chunk : chunks) {
    stream += frame_of(*compressor, chunk);
    expected += chunk;
  }
  EXPECT_EQ(decode_with_ocipack(stream), expected);
  EXPECT_EQ(ZSTD_decompressBound(stream.data(), stream.size()), expected.size());  // content sizes known

  // The zstd program agrees, when it is installed.
  if (std::system("zstd --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "the zstd program is not installed";
  char path[] = "/tmp/ocipack_zstd_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  FILE* file = fdopen(fd, "wb");
  ASSERT_EQ(std::fwrite(stream.data(), 1, stream.size(), file), stream.size());
  std::fclose(file);
  const int tested = std::system((std::string("zstd -q -t ") + path).c_str());
  std::remove(path);
  EXPECT_EQ(tested, 0) << "zstd -t refused the frames";
}

TEST(ZstdCodec, SameBytesFromAnyCompressorWhateverItDidBefore) {
  const std::string input = sample(600000, 9);
  for (int level : {1, 3, 19}) {
    auto first = make_zstd(level);
    auto second = make_zstd(level);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    const std::string fresh = frame_of(*first, input);
    frame_of(*second, sample(5 << 20, 10));  // a big input before, on the second
    frame_of(*second, "x");
    EXPECT_EQ(frame_of(*second, input), fresh) << "level " << level;
    EXPECT_EQ(frame_of(*first, input), fresh) << "level " << level;
  }
  EXPECT_NE(frame_of(*make_zstd(1), input), frame_of(*make_zstd(19), input)) << "the level reaches libzstd";
}

TEST(StoreCompressor, CopiesItsInput) {
  auto store = make_store_compressor();
  const std::string input = sample(12345, 4);
  EXPECT_EQ(store->bound(input.size()), input.size());
  std::vector<std::byte> output(input.size());
  auto size = store->compress(bytes_of(input), {}, output);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(output.data()), *size), input);
  EXPECT_FALSE(store->compress(bytes_of(input), bytes_of("x"), output).ok());
}

}  // namespace
}  // namespace ocipack
