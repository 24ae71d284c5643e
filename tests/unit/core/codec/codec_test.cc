// Tests for core/codec/codec.cc and its backends (codec_libdeflate.cc,
// codec_isal.cc). Compressed bytes are never pinned (a library upgrade may
// change them, DESIGN.md "Conventions" 9); the tests check what is specified:
//  - settings: level ranges per backend and the shapes each backend writes;
//    refusals are usage errors naming the field (codec.level, codec.kind)
//    and the values;
//  - gzip_member shape, for every backend and level: each member decodes (with
//    zlib, an independent decoder) to its input, fits bound(), has gzip mtime
//    0, is the same bytes for the same input (also on a reused or a second
//    compressor, and from every one of several compressor objects alive at
//    once, whatever they compressed before), and members concatenate into a
//    valid multi-member stream;
//  - deflate_piece shape (ISA-L): pieces end byte-aligned on a full flush without a
//    final block, and header + pieces + final block + trailer is ONE gzip
//    member that decodes to the whole input, with and without dictionaries;
//    a dictionary lets a piece refer back into the previous chunk; pieces
//    too are the same bytes from every compressor object;
//  - framing: the gzip header bytes, the final block, CRC-32 chaining
//    (checked against zlib's crc32) and the little-endian trailer.
#include "core/codec/codec.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstddef>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::count_gzip_members;
using ocipack::testing::gunzip_all;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string to_string(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::unique_ptr<Compressor> make(CodecKind kind, int level,
                                 CompressedShape shape = CompressedShape::gzip_member) {
  auto compressor = make_compressor(kind, level, shape);
  EXPECT_TRUE(compressor.ok()) << compressor.error().message;
  return compressor.ok() ? std::move(*compressor) : nullptr;
}

std::string compress_member(Compressor& compressor, const std::string& input) {
  std::vector<std::byte> output(compressor.bound(input.size()));
  auto size = compressor.compress(bytes_of(input), {}, output);
  EXPECT_TRUE(size.ok()) << size.error().message;
  if (!size.ok()) return {};
  EXPECT_LE(*size, output.size());
  return to_string(std::span(output).first(*size));
}

std::string compress_piece(Compressor& compressor, const std::string& input,
                           const std::string& dictionary) {
  std::vector<std::byte> output(compressor.bound(input.size()));
  auto size = compressor.compress(bytes_of(input), bytes_of(dictionary), output);
  EXPECT_TRUE(size.ok()) << size.error().message;
  if (!size.ok()) return {};
  EXPECT_LE(*size, output.size());
  return to_string(std::span(output).first(*size));
}

// Mixed data: compressible text, runs of zeros and incompressible noise.
std::string sample_input(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string data;
  data.reserve(size);
  while (data.size() < size) {
    switch (rng() % 3) {
      case 0:
        data += "usr/lib/x86_64-linux-gnu/libexample.so.1.2.3 ";
        break;
      case 1:
        data.append(rng() % 700, '\0');
        break;
      default:
        for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(rng()));
    }
  }
  data.resize(size);
  return data;
}

std::string noise(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string data(size, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  return data;
}

// Inputs that show whether output depends on anything but the input. ISA-L
// levels 1 and 2 used to hash the address of their stream structure into
// the match finder at the first bytes of a chunk (see codec_isal.cc), which
// changed a chunk's matches when that bucket was the one of its first bytes:
// short chunks repeating a random pattern (the repeat is found through the
// bucket of position 0, and a short chunk has a small hash table, so about 1
// compressor address in 16-256 hits it), plus 64 KiB chunks of mixed data.
std::vector<std::string> determinism_inputs() {
  std::mt19937 rng(77);
  std::vector<std::string> inputs;
  for (int i = 0; i < 1500; ++i) {
    const std::string pattern = noise(8 + rng() % 40, static_cast<unsigned>(rng()));
    const size_t size = 17 + rng() % 400;
    std::string input;
    while (input.size() < size) input += pattern;
    input.resize(size);
    inputs.push_back(input);
  }
  for (unsigned i = 0; i < 6; ++i) inputs.push_back(sample_input(64 << 10, 100 + i));
  return inputs;
}

// Compresses every input with each of several compressors that are alive
// together (so their state lives at different addresses), in an order
// rotated per input (so each comes after a different previous input), and
// with a fresh compressor: all must give the same bytes.
void expect_same_bytes_from_every_compressor(
    const std::function<std::unique_ptr<Compressor>()>& make_one,
    const std::function<std::string(Compressor&, size_t input_index)>& compress) {
  constexpr size_t k_compressors = 8;
  std::vector<std::unique_ptr<Compressor>> compressors;
  for (size_t i = 0; i < k_compressors; ++i) {
    compressors.push_back(make_one());
    ASSERT_NE(compressors.back(), nullptr);
  }
  const size_t inputs = determinism_inputs().size();
  size_t disagreements = 0;
  for (size_t index = 0; index < inputs; ++index) {
    auto fresh = make_one();
    ASSERT_NE(fresh, nullptr);
    const std::string expected = compress(*fresh, index);
    for (size_t k = 0; k < k_compressors; ++k) {
      if (compress(*compressors[(index + k) % k_compressors], index) == expected) continue;
      if (++disagreements == 1) ADD_FAILURE() << "input " << index << ": compressor " << k << " differs";
    }
  }
  EXPECT_EQ(disagreements, 0u) << "of " << inputs * k_compressors << " compressions";
}

// ------------------------------------------------------------------ options

TEST(CodecSettings, DefaultLevels) {
  EXPECT_EQ(default_level(CodecKind::libdeflate), 6);
  EXPECT_EQ(default_level(CodecKind::isal), 1);
}

TEST(CodecSettings, LevelRangesPerBackend) {
  for (int level = 0; level <= 12; ++level)
    EXPECT_TRUE(make_compressor(CodecKind::libdeflate, level, CompressedShape::gzip_member).ok()) << "libdeflate " << level;
  for (int level = 0; level <= 3; ++level)
    EXPECT_TRUE(make_compressor(CodecKind::isal, level, CompressedShape::gzip_member).ok()) << "isal " << level;
}

TEST(CodecSettings, LevelsOutOfRangeAreErrorsNamingLevelAndBackend) {
  const std::vector<std::pair<CodecKind, int>> bad = {
      {CodecKind::libdeflate, -1}, {CodecKind::libdeflate, 13}, {CodecKind::isal, -1},
      {CodecKind::isal, 4}, {CodecKind::isal, 12}};
  for (const auto& [kind, level] : bad) {
    auto compressor = make_compressor(kind, level, CompressedShape::gzip_member);
    ASSERT_FALSE(compressor.ok()) << codec_name(kind) << " accepted level " << level;
    EXPECT_NE(compressor.error().message.find(std::to_string(level)), std::string::npos)
        << compressor.error().message;
    EXPECT_NE(compressor.error().message.find(codec_name(kind)), std::string::npos)
        << compressor.error().message;
    EXPECT_TRUE(compressor.error().is(ErrorKind::usage));
    EXPECT_EQ(compressor.error().field(), "codec.level");
    EXPECT_EQ(compressor.error().with_field_named("--level").rfind("--level " + std::to_string(level) + ":", 0), 0u)
        << compressor.error().message;
    EXPECT_FALSE(check_compressor(kind, level, CompressedShape::gzip_member).ok());
  }
}

TEST(CodecSettings, LibdeflateCannotWriteDeflatePieces) {
  EXPECT_TRUE(codec_writes(CodecKind::libdeflate, CompressedShape::gzip_member));
  EXPECT_FALSE(codec_writes(CodecKind::libdeflate, CompressedShape::deflate_piece));
  auto compressor = make_compressor(CodecKind::libdeflate, 6, CompressedShape::deflate_piece);
  ASSERT_FALSE(compressor.ok());
  EXPECT_TRUE(compressor.error().is(ErrorKind::usage));
  EXPECT_EQ(compressor.error().field(), "codec.kind");
  EXPECT_NE(compressor.error().message.find("libdeflate"), std::string::npos) << compressor.error().message;
  // And a member compressor refuses a dictionary rather than ignoring it.
  auto members = make(CodecKind::libdeflate, 6);
  ASSERT_NE(members, nullptr);
  std::vector<std::byte> output(members->bound(10));
  EXPECT_FALSE(members->compress(bytes_of("0123456789"), bytes_of("before"), output).ok());
}

TEST(CodecSettings, IsalWritesBothShapes) {
  EXPECT_TRUE(codec_available(CodecKind::isal));
  EXPECT_TRUE(codec_writes(CodecKind::isal, CompressedShape::gzip_member));
  EXPECT_TRUE(codec_writes(CodecKind::isal, CompressedShape::deflate_piece));
  EXPECT_TRUE(make_compressor(CodecKind::isal, 1, CompressedShape::deflate_piece).ok());
  EXPECT_TRUE(make_compressor(CodecKind::isal, 3, CompressedShape::deflate_piece).ok());
}

TEST(CodecSettings, Names) {
  EXPECT_STREQ(codec_name(CodecKind::libdeflate), "libdeflate");
  EXPECT_STREQ(codec_name(CodecKind::isal), "isal");
}

TEST(CodecSettings, DescriptionNamesBackendAndVersion) {
  const std::string libdeflate = codec_description(CodecKind::libdeflate);
  EXPECT_EQ(libdeflate.rfind("libdeflate ", 0), 0u) << libdeflate;
  EXPECT_GT(libdeflate.size(), std::string("libdeflate ").size());
  const std::string isal = codec_description(CodecKind::isal);
  EXPECT_EQ(isal.rfind("isa-l", 0), 0u) << isal;
}

// ------------------------------------------------------- members, per level

class MembersFormat : public ::testing::TestWithParam<std::tuple<CodecKind, int>> {
 protected:
  std::unique_ptr<Compressor> compressor() {
    return make(std::get<0>(GetParam()), std::get<1>(GetParam()));
  }
};

TEST_P(MembersFormat, MemberDecodesToTheInput) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  const std::string input = sample_input(300000, 1);
  const std::string member = compress_member(*c, input);
  EXPECT_EQ(count_gzip_members(member), 1u);
  EXPECT_EQ(gunzip_all(member), input);
}

TEST_P(MembersFormat, EmptyAndTinyInputs) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  // Sizes around 8 and 16 bytes: ISA-L levels 1-2 compress the first 8 bytes
  // of longer chunks in a call of their own (codec_isal.cc).
  for (const std::string& input :
       {std::string(), std::string("a"), std::string(1, '\0'), std::string("abcdefgh"),
        std::string("abcdefghi"), std::string(16, 'x'), noise(17, 1), noise(24, 2)}) {
    const std::string member = compress_member(*c, input);
    EXPECT_GE(member.size(), 18u);  // 10-byte header + 8-byte trailer at least
    EXPECT_EQ(count_gzip_members(member), 1u);
    EXPECT_EQ(gunzip_all(member), input);
  }
}

TEST_P(MembersFormat, OutputRespectsTheBoundEvenForNoise) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{65536}, size_t{1} << 20}) {
    const std::string input = noise(size, static_cast<unsigned>(size));
    const size_t bound = c->bound(size);
    EXPECT_GE(bound, size);
    const std::string member = compress_member(*c, input);
    EXPECT_LE(member.size(), bound) << size;
    EXPECT_EQ(gunzip_all(member), input);
  }
}

TEST_P(MembersFormat, SameInputGivesSameBytes) {
  auto first = compressor();
  auto second = compressor();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  const std::string a = sample_input(1 << 20, 2);
  const std::string b = sample_input(200000, 3);
  const std::string a1 = compress_member(*first, a);
  const std::string b1 = compress_member(*first, b);
  const std::string a2 = compress_member(*first, a);  // a reused compressor keeps no state
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(compress_member(*second, b), b1);  // another compressor object
  EXPECT_EQ(compress_member(*second, a), a1);
}

TEST_P(MembersFormat, EveryCompressorObjectGivesTheSameBytes) {
  const std::vector<std::string> inputs = determinism_inputs();
  expect_same_bytes_from_every_compressor([this] { return compressor(); },
                                          [&](Compressor& c, size_t index) {
                                            return compress_member(c, inputs[index]);
                                          });
}

TEST_P(MembersFormat, GzipHeaderHasZeroMtime) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  const std::string member = compress_member(*c, sample_input(5000, 4));
  ASSERT_GE(member.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(member[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(member[1]), 0x8b);
  EXPECT_EQ(static_cast<unsigned char>(member[2]), 8);   // deflate
  EXPECT_EQ(static_cast<unsigned char>(member[3]) & 0x08, 0);  // no file name
  EXPECT_EQ(member.substr(4, 4), std::string(4, '\0'));  // MTIME = 0: reproducible
}

TEST_P(MembersFormat, MembersConcatenateIntoOneStream) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  std::string stream, expected;
  for (unsigned i = 0; i < 5; ++i) {
    const std::string chunk = sample_input(70000 + i * 1000, 10 + i);
    stream += compress_member(*c, chunk);
    expected += chunk;
  }
  EXPECT_EQ(count_gzip_members(stream), 5u);
  EXPECT_EQ(gunzip_all(stream), expected);
}

TEST(CodecLevels, CompressibleInputShrinksAboveLevelZero) {
  // Level 0 is excluded by design (it stores, or nearly so).
  const std::string zeros(1 << 20, '\0');
  for (auto [kind, max_level] : {std::pair{CodecKind::libdeflate, 12}, std::pair{CodecKind::isal, 3}}) {
    for (int level = 1; level <= max_level; ++level) {
      auto c = make_compressor(kind, level, CompressedShape::gzip_member);
      ASSERT_TRUE(c.ok());
      EXPECT_LT(compress_member(**c, zeros).size(), zeros.size() / 100) << codec_name(kind) << " " << level;
    }
  }
}

TEST_P(MembersFormat, TooSmallOutputBufferIsAnError) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  const std::string input = noise(10000, 5);
  std::vector<std::byte> output(100);
  EXPECT_FALSE(c->compress(bytes_of(input), {}, output).ok());
}

std::vector<std::tuple<CodecKind, int>> all_levels() {
  std::vector<std::tuple<CodecKind, int>> out;
  for (int level = 0; level <= 12; ++level) out.emplace_back(CodecKind::libdeflate, level);
  for (int level = 0; level <= 3; ++level) out.emplace_back(CodecKind::isal, level);
  return out;
}

std::string backend_level_name(
    const ::testing::TestParamInfo<std::tuple<CodecKind, int>>& param_info) {
  return std::string(codec_name(std::get<0>(param_info.param))) + "_level" +
         std::to_string(std::get<1>(param_info.param));
}

INSTANTIATE_TEST_SUITE_P(AllBackendsAndLevels, MembersFormat, ::testing::ValuesIn(all_levels()),
                         backend_level_name);

// ------------------------------------------------------- single, ISA-L only

// Frames pieces the way the pipeline does: header, pieces, final block, trailer.
std::string frame_single(const std::vector<std::string>& pieces, const std::string& data) {
  std::string out = to_string(gzip_header());
  for (const auto& piece : pieces) out += piece;
  out += to_string(k_deflate_final_block);
  out += to_string(gzip_trailer(crc32_update(0, bytes_of(data)), data.size()));
  return out;
}

// Raw-inflates `stream`; reports whether the final block was reached.
std::string raw_inflate(const std::string& stream, bool& reached_end) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, -MAX_WBITS), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stream.data()));
  zs.avail_in = static_cast<uInt>(stream.size());
  std::string out;
  char buffer[65536];
  reached_end = false;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    int rc = inflate(&zs, Z_SYNC_FLUSH);
    out.append(buffer, sizeof buffer - zs.avail_out);
    if (rc == Z_STREAM_END) {
      reached_end = true;
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // needs more input: not final
    if (rc != Z_OK) {
      ADD_FAILURE() << "inflate error " << rc;
      break;
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) break;
  }
  inflateEnd(&zs);
  return out;
}

class SingleFormat : public ::testing::TestWithParam<int> {
 protected:
  std::unique_ptr<Compressor> compressor() {
    return make(CodecKind::isal, GetParam(), CompressedShape::deflate_piece);
  }
};

TEST_P(SingleFormat, PieceEndsOnAFullFlushWithoutFinalBlock) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  const std::string input = sample_input(100000, 6);
  const std::string piece = compress_piece(*c, input, "");
  ASSERT_GE(piece.size(), 4u);
  // A full flush ends with an empty stored block: 00 00 ff ff.
  EXPECT_EQ(piece.substr(piece.size() - 4), std::string("\0\0\xff\xff", 4));
  bool reached_end = true;
  EXPECT_EQ(raw_inflate(piece, reached_end), input);
  EXPECT_FALSE(reached_end) << "the piece carries a final block";
}

TEST_P(SingleFormat, PiecesFrameIntoOneMember) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  std::vector<std::string> pieces;
  std::string data;
  for (unsigned i = 0; i < 4; ++i) {
    const std::string chunk = sample_input(50000 + i * 3000, 20 + i);
    pieces.push_back(compress_piece(*c, chunk, ""));
    data += chunk;
  }
  pieces.push_back(compress_piece(*c, "", ""));  // an empty chunk is harmless
  for (size_t size : {1, 8, 9, 16, 17, 40}) {      // around ISA-L's 8-byte first call
    const std::string chunk = sample_input(size, 40 + static_cast<unsigned>(size));
    pieces.push_back(compress_piece(*c, chunk, ""));
    data += chunk;
  }
  const std::string stream = frame_single(pieces, data);
  EXPECT_EQ(count_gzip_members(stream), 1u);
  EXPECT_EQ(gunzip_all(stream), data);
}

TEST_P(SingleFormat, PiecesWithDictionariesFrameIntoOneMember) {
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  std::vector<std::string> pieces;
  std::string data;
  for (unsigned i = 0; i < 4; ++i) {
    const std::string chunk = sample_input(50000 + i * 3000, 30 + i);
    // The dictionary is the (up to) 32 KiB of stream before the chunk; a
    // longer one must be cut to its last 32 KiB by the compressor.
    const std::string dictionary =
        i == 2 ? data : data.substr(data.size() - std::min(data.size(), k_deflate_window));
    pieces.push_back(compress_piece(*c, chunk, dictionary));
    data += chunk;
  }
  const std::string stream = frame_single(pieces, data);
  EXPECT_EQ(count_gzip_members(stream), 1u);
  EXPECT_EQ(gunzip_all(stream), data);
}

TEST(IsalDictionary, LetsAPieceReferToThePreviousChunk) {
  // Levels 1-3 (level 0 makes no back-references worth measuring).
  for (int level = 1; level <= 3; ++level) {
    auto made = make_compressor(CodecKind::isal, level, CompressedShape::deflate_piece);
    ASSERT_TRUE(made.ok());
    Compressor& c = **made;
    const std::string block = noise(20000, 7);  // incompressible on its own
    const std::string without = compress_piece(c, block, "");
    const std::string with = compress_piece(c, block, block);
    EXPECT_GT(without.size(), block.size() / 2) << level;
    EXPECT_LT(with.size(), block.size() / 10) << level;
    const std::string stream = frame_single({compress_piece(c, block, ""), with}, block + block);
    EXPECT_EQ(gunzip_all(stream), block + block) << level;
  }
}

TEST_P(SingleFormat, PieceDependsOnlyOnChunkAndDictionary) {
  auto c = compressor();
  auto fresh = compressor();
  ASSERT_NE(c, nullptr);
  ASSERT_NE(fresh, nullptr);
  const std::string a = sample_input(80000, 8);
  const std::string b = sample_input(80000, 9);
  const std::string dictionary = a.substr(a.size() - k_deflate_window);
  const std::string b_after_a = [&] {
    (void)compress_piece(*c, a, "");
    return compress_piece(*c, b, dictionary);
  }();
  EXPECT_EQ(compress_piece(*fresh, b, dictionary), b_after_a);
  EXPECT_EQ(compress_piece(*c, b, dictionary), b_after_a);
  EXPECT_EQ(compress_piece(*c, b, ""), compress_piece(*fresh, b, ""));
}

TEST_P(SingleFormat, EveryCompressorObjectGivesTheSameBytes) {
  const std::vector<std::string> inputs = determinism_inputs();
  for (bool dictionary : {false, true}) {
    SCOPED_TRACE(dictionary ? "with dictionaries" : "without dictionary");
    expect_same_bytes_from_every_compressor(
        [&] { return compressor(); },
        [&](Compressor& c, size_t index) {
          // The dictionary is the input before, as the pipeline gives it.
          const std::string& before = inputs[index == 0 ? inputs.size() - 1 : index - 1];
          return compress_piece(c, inputs[index], dictionary ? before : "");
        });
  }
}

TEST_P(SingleFormat, PieceRespectsTheBoundForNoise) {
  // 1 MiB is the default chunk size; incompressible chunks (already
  // compressed files) are common in a rootfs.
  auto c = compressor();
  ASSERT_NE(c, nullptr);
  const std::string input = noise(1 << 20, 10);
  const std::string dictionary = noise(k_deflate_window, 11);
  EXPECT_LE(compress_piece(*c, input, "").size(), c->bound(input.size()));
  EXPECT_LE(compress_piece(*c, input, dictionary).size(), c->bound(input.size()));
}

std::string level_name(const ::testing::TestParamInfo<int>& param_info) {
  return "level" + std::to_string(param_info.param);
}

INSTANTIATE_TEST_SUITE_P(IsalLevels, SingleFormat, ::testing::Values(0, 1, 2, 3), level_name);

// ------------------------------------------------------------------ framing

TEST(GzipFraming, HeaderBytes) {
  EXPECT_EQ(to_string(gzip_header()), std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10));
}

TEST(GzipFraming, FinalBlockBytes) {
  EXPECT_EQ(to_string(k_deflate_final_block), std::string("\x03\x00", 2));
}

TEST(GzipFraming, Crc32MatchesZlibAndChains) {
  EXPECT_EQ(crc32_update(0, {}), 0u);
  EXPECT_EQ(crc32_update(0, bytes_of("123456789")), 0xcbf43926u);  // the CRC-32 check value
  const std::string data = sample_input(300001, 12);
  const uLong zlib_crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()),
                               static_cast<uInt>(data.size()));
  EXPECT_EQ(crc32_update(0, bytes_of(data)), static_cast<uint32_t>(zlib_crc));
  uint32_t chained = 0;
  for (size_t pos = 0; pos < data.size(); pos += 7777)
    chained = crc32_update(chained, bytes_of(data.substr(pos, 7777)));
  EXPECT_EQ(chained, static_cast<uint32_t>(zlib_crc));
}

TEST(GzipFraming, TrailerIsLittleEndianCrcAndSizeModulo4GiB) {
  EXPECT_EQ(to_string(gzip_trailer(0x11223344u, 0x55667788u)),
            std::string("\x44\x33\x22\x11\x88\x77\x66\x55", 8));
  EXPECT_EQ(to_string(gzip_trailer(0xcbf43926u, (uint64_t{1} << 32) + 5)),
            std::string("\x26\x39\xf4\xcb\x05\x00\x00\x00", 8));
}

TEST(GzipFraming, EmptyStreamIsAValidMember) {
  const std::string stream = frame_single({}, "");
  EXPECT_EQ(count_gzip_members(stream), 1u);
  EXPECT_EQ(gunzip_all(stream), "");
}

}  // namespace
}  // namespace ocipack
