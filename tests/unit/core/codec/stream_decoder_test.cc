// Tests for core/codec/stream_decoder.cc, gzip_decoder.cc and
// zstd_decoder.cc: each decoder restores the content whatever size the
// input pieces have (down to one byte), reads members/frames back to back,
// and refuses — with an error of kind corrupt naming the member or frame — a
// bad checksum, data after the last member/frame that is not another one, a
// stream that ends inside one, and an empty stream. Passthrough is the
// identity; magic numbers are recognised. Compressed inputs are made with
// zlib and libzstd directly, never taken from a golden file.
#include "core/codec/stream_decoder.h"

#include <zlib.h>
#include <zstd.h>

#include <gtest/gtest.h>

#include <string>

namespace ocipack {
namespace {

std::string gzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string zstd(const std::string& data, bool checksum = true) {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress2(context, out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(n));
  ZSTD_freeCCtx(context);
  out.resize(n);
  return out;
}

// Some content that compresses, bigger than one output buffer (1 MiB).
std::string content() {
  std::string text;
  for (uint64_t i = 0; text.size() < 3 * 1024 * 1024; ++i) text += "line " + std::to_string(i * 7919 % 100003) + "\n";
  return text;
}

// Decodes `input` fed in pieces of `piece` bytes; the error if any.
Result<std::string> decode(Compression compression, const std::string& input, size_t piece) {
  OCIPACK_TRY_ASSIGN(auto decoder, make_stream_decoder(compression));
  std::string out;
  for (size_t at = 0; at < input.size(); at += piece)
    OCIPACK_TRY(decoder->feed(std::string_view(input).substr(at, piece), [&](std::string_view d) { out += d; }));
  OCIPACK_TRY(decoder->finish());
  return out;
}

void expect_corrupt(const Result<std::string>& result, const std::string& part) {
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().is(ErrorKind::corrupt)) << result.error().message;
  EXPECT_NE(result.error().message.find(part), std::string::npos) << result.error().message;
}

TEST(StreamDecoder, GzipMembersBackToBackInAnyPieces) {
  const std::string data = content();
  const std::string stream = gzip(data.substr(0, 1000)) + gzip(data.substr(1000)) + gzip("");
  for (size_t piece : {size_t(1) << 20, size_t(4096), size_t(7)}) {
    auto out = decode(Compression::gzip, stream, piece);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, data);
  }
  auto tiny = decode(Compression::gzip, gzip("hello"), 1);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(*tiny, "hello");
}

TEST(StreamDecoder, GzipChecksumsTrailingGarbageAndTruncationAreCorrupt) {
  const std::string one = gzip("some content\n");
  std::string bad_crc = one;
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 0xff);
  expect_corrupt(decode(Compression::gzip, bad_crc, 4096), "gzip member 1 is corrupt");
  std::string bad_length = one + one;
  bad_length[bad_length.size() - 1] = static_cast<char>(bad_length[bad_length.size() - 1] ^ 0x01);
  expect_corrupt(decode(Compression::gzip, bad_length, 4096), "gzip member 2 is corrupt");
  expect_corrupt(decode(Compression::gzip, one + "garbage", 4096), "data after gzip member 1 is not a gzip member");
  expect_corrupt(decode(Compression::gzip, one + one.substr(0, 10), 4096), "member 2 has no end");
  expect_corrupt(decode(Compression::gzip, "", 4096), "gzip stream is empty");
}

TEST(StreamDecoder, ZstdFramesBackToBackInAnyPieces) {
  const std::string data = content();
  // A skippable frame (magic 0x184D2A50, 4 bytes of payload) between two frames.
  const std::string skippable("\x50\x2a\x4d\x18\x04\x00\x00\x00skip", 12);
  const std::string stream = zstd(data.substr(0, 1000)) + skippable + zstd(data.substr(1000), false);
  for (size_t piece : {size_t(1) << 20, size_t(4096), size_t(7)}) {
    auto out = decode(Compression::zstd, stream, piece);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, data);
  }
}

TEST(StreamDecoder, ZstdChecksumsTrailingGarbageAndTruncationAreCorrupt) {
  const std::string one = zstd("some content, some content, some content\n");
  std::string bad_checksum = one;
  bad_checksum[bad_checksum.size() - 1] = static_cast<char>(bad_checksum[bad_checksum.size() - 1] ^ 0xff);
  expect_corrupt(decode(Compression::zstd, bad_checksum, 4096), "zstd frame 1 is corrupt");
  expect_corrupt(decode(Compression::zstd, one + "garbage", 4096), "data after zstd frame 1 is not a zstd frame");
  expect_corrupt(decode(Compression::zstd, one + one.substr(0, one.size() - 3), 4096), "frame 2 has no end");
  expect_corrupt(decode(Compression::zstd, "", 4096), "zstd stream is empty");
}

TEST(StreamDecoder, PassthroughAndMagicNumbers) {
  auto out = decode(Compression::none, "plain tar bytes", 3);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "plain tar bytes");
  EXPECT_EQ(sniff_compression(gzip("x").substr(0, k_compression_magic_size)), Compression::gzip);
  EXPECT_EQ(sniff_compression(zstd("x").substr(0, k_compression_magic_size)), Compression::zstd);
  EXPECT_EQ(sniff_compression("ustar"), Compression::none);
  EXPECT_EQ(sniff_compression("\x28\xb5"), Compression::none);
  EXPECT_EQ(sniff_compression(""), Compression::none);
}

}  // namespace
}  // namespace ocipack
