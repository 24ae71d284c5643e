// Unit tests of the zstd:chunked metadata (core/layer/zstd_chunked_toc.h):
// the rolling sum and CRC-64 against values computed with Debian's
// containers/storage and Go's hash/crc64 (the generator below, run through
// compressor.NewRollSum / OnSplitWithBits(16) and crc64.Checksum(ISO)), the
// exact TOC and tar-split JSON, the footer's bytes and the annotations.
#include "core/layer/zstd_chunked_toc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/util/sha256.h"

namespace ocipack::zstd_chunked {
namespace {

std::span<const std::byte> bytes_of(const std::string& text) { return std::as_bytes(std::span(text.data(), text.size())); }

// 1 MiB from a 64-bit LCG (the Go reference used the same one).
std::vector<std::byte> lcg_bytes() {
  std::vector<std::byte> data(1 << 20);
  uint64_t x = 1;
  for (auto& b : data) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    b = static_cast<std::byte>(x >> 56);
  }
  return data;
}

TEST(ZstdChunkedRollSum, SplitsWhereContainersStorageSplits) {
  const auto data = lcg_bytes();
  RollSum sum;
  std::vector<size_t> cuts;
  for (size_t i = 0; i < data.size(); ++i) {
    sum.roll(std::to_integer<uint8_t>(data[i]));
    if (sum.at_split()) cuts.push_back(i + 1);
  }
  const std::vector<size_t> go = {106529, 290415, 334627, 369018, 377539, 406597, 498101, 559689, 585639, 586650,
                                  691429, 741247, 747594, 764949, 766269, 809389, 856952, 957592, 989902};
  EXPECT_EQ(cuts, go);
}

// scan() over spans of random sizes (often under 64 and 128 bytes, where
// the ring carries bytes from span to span) finds the cuts roll() finds
// byte by byte, and leaves the same state for the next span (else the
// later cuts would move).
TEST(ZstdChunkedRollSum, ScanOfSpansCutsWhereRollCuts) {
  const auto data = lcg_bytes();
  RollSum reference;
  std::vector<size_t> expected;
  for (size_t i = 0; i < data.size(); ++i) {
    reference.roll(std::to_integer<uint8_t>(data[i]));
    if (reference.at_split()) expected.push_back(i + 1);
  }
  ASSERT_EQ(expected.size(), 19u);  // the Go cuts of the test above
  std::mt19937_64 random(7);
  for (int round = 0; round < 20; ++round) {
    RollSum sum;
    std::vector<size_t> found, cuts;
    for (size_t at = 0; at < data.size();) {
      const size_t limits[] = {3, 70, 200, 70000};
      const size_t n = std::min<size_t>(data.size() - at, 1 + random() % limits[random() % 4]);
      cuts.clear();
      sum.scan(std::span(data).subspan(at, n), cuts);
      for (size_t cut : cuts) found.push_back(at + cut);
      at += n;
    }
    EXPECT_EQ(found, expected) << "round " << round;
  }
}

TEST(ZstdChunkedCrc64, IsGoIsoCrc64) {
  EXPECT_EQ(crc64_iso(0, bytes_of("123456789")), 0xb90956c775a41001ULL);
  const auto data = lcg_bytes();
  EXPECT_EQ(crc64_iso(0, data), 0x9f209f6c2233506cULL);
  // In pieces, as the stream arrives.
  const std::span<const std::byte> all(data);
  EXPECT_EQ(crc64_iso(crc64_iso(0, all.first(1000)), all.subspan(1000)), 0x9f209f6c2233506cULL);
}

Digest digest_of(const std::string& text) { return Sha256::of(text); }

TEST(ZstdChunkedToc, ListsEntriesAndChunksLikeContainersStorage) {
  TocEntry dir;
  dir.entry = {"etc/", EntryType::directory, 0755, 0, 0, 86400, 0, "", 0, 0, {}};
  TocEntry file;
  file.entry = {"etc/motd", EntryType::regular, 0644, 1000, 100, 0, 5, "", 0, 0, {{"user.a", "xy"}}};
  file.digest = digest_of("hello");
  file.offset = 40;
  file.end_offset = 70;
  file.chunks = {{40, 0, 3, digest_of("hel")}, {55, 3, 2, digest_of("lo")}};
  TocEntry link;
  link.entry = {"etc/link", EntryType::symlink, 0777, 0, 0, 0, 0, "motd", 0, 0, {}};
  TocEntry dev;
  dev.entry = {"dev/null", EntryType::char_device, 0666, 0, 0, 0, 0, "", 1, 3, {}};
  const std::vector<TocEntry> entries = {dir, file, link, dev};
  const std::string split = digest_of("split").str();
  const std::string expected =
      R"({"version":1,"entries":[)"
      R"({"type":"dir","name":"etc/","mode":493,"modtime":"1970-01-02T00:00:00Z","ModTime":"1970-01-02T00:00:00Z"},)"
      R"({"type":"reg","name":"etc/motd","mode":420,"size":5,"uid":1000,"UID":1000,"gid":100,"GID":100,)"
      R"("modtime":"1970-01-01T00:00:00Z","ModTime":"1970-01-01T00:00:00Z",)"
      R"("xattrs":{"user.a":"eHk="},"digest":")" + digest_of("hello").str() +
      R"(","offset":40,"endOffset":70,"chunkSize":3,"chunkDigest":")" + digest_of("hel").str() + R"("},)"
      R"({"type":"chunk","name":"etc/motd","offset":55,"chunkSize":2,"chunkOffset":3,"chunkDigest":")" +
      digest_of("lo").str() + R"("},)"
      R"({"type":"symlink","name":"etc/link","linkName":"motd","mode":511,"modtime":"1970-01-01T00:00:00Z",)"
      R"("ModTime":"1970-01-01T00:00:00Z"},)"
      R"({"type":"char","name":"dev/null","mode":438,"modtime":"1970-01-01T00:00:00Z",)"
      R"("ModTime":"1970-01-01T00:00:00Z","devMajor":1,"devMinor":3}],)"
      R"("tarSplitDigest":")" + split + R"("})";
  EXPECT_EQ(toc_json(entries, digest_of("split")), expected);
}

TEST(ZstdChunkedToc, OneChunkFilesHaveNoChunkFieldsAndBadUtf8IsReplaced) {
  TocEntry file;
  file.entry = {"caf\xe9", EntryType::regular, 0600, 0, 0, 0, 1, "", 0, 0, {}};
  file.digest = digest_of("x");
  file.offset = 8;
  file.end_offset = 20;
  file.chunks = {{8, 0, 1, digest_of("x")}};
  const std::string json = toc_json(std::vector<TocEntry>{file}, digest_of(""));
  EXPECT_EQ(json.find("chunk"), std::string::npos);
  EXPECT_NE(json.find("\"name\":\"caf\xef\xbf\xbd\""), std::string::npos) << json;
}

TEST(ZstdChunkedToc, CanNameOnlyUtf8Names) {
  TarEntry entry{"etc/caf\xc3\xa9", EntryType::symlink, 0777, 0, 0, 0, 0, "x", 0, 0, {{"user.k", "\xff"}}};
  EXPECT_TRUE(toc_can_name(entry));  // xattr values are base64: any bytes
  entry.link_target = "caf\xe9";
  EXPECT_FALSE(toc_can_name(entry));
  entry.link_target = "x";
  entry.xattrs = {{"user.\xff", "v"}};
  EXPECT_FALSE(toc_can_name(entry));
  entry.xattrs.clear();
  entry.path = "\xc3";  // a sequence cut short
  EXPECT_FALSE(toc_can_name(entry));
}

TEST(ZstdChunkedTarSplit, WritesThePackersJsonLines) {
  TarSplitWriter split;
  split.segment(bytes_of("abc"));
  split.file("etc/motd", 5, 0x0102030405060708ULL);
  split.segment(bytes_of("ab"));
  split.file("etc/", 0, std::nullopt);
  split.file("caf\xe9", 0, std::nullopt);
  EXPECT_EQ(split.text(),
            "{\"type\":2,\"payload\":\"YWJj\",\"position\":0}\n"
            "{\"type\":1,\"name\":\"etc/motd\",\"size\":5,\"payload\":\"AQIDBAUGBwg=\",\"position\":1}\n"
            "{\"type\":2,\"payload\":\"YWI=\",\"position\":2}\n"
            "{\"type\":1,\"name\":\"etc/\",\"payload\":null,\"position\":3}\n"
            "{\"type\":1,\"name_raw\":\"Y2Fm6Q==\",\"payload\":null,\"position\":4}\n");
}

TEST(ZstdChunkedFooter, IsSevenLittleEndianWordsAndTheMagicAndReadsBack) {
  const ChunkedSections sections{1000, 200, 3000, 1208, 50, 4000};
  const auto footer = chunked_footer(sections);
  EXPECT_EQ(std::to_integer<int>(footer[0]), 1000 & 0xff);
  EXPECT_EQ(std::to_integer<int>(footer[1]), 1000 >> 8);
  EXPECT_EQ(std::to_integer<int>(footer[24]), 1);  // manifest type CRFS
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(footer.data()) + 56, 8), "GNUlInUx");
  EXPECT_EQ(parse_chunked_footer(footer), sections);
  auto legacy = footer;
  legacy[57] = std::byte{'n'};  // "GnUlInUx", the 40-byte footer's magic
  EXPECT_FALSE(parse_chunked_footer(legacy));
}

TEST(ZstdChunkedFooter, SkippableFrameHasMagicAndLength) {
  const auto frame = skippable_frame(bytes_of("xyz"));
  const std::vector<int> expected = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'};
  ASSERT_EQ(frame.size(), expected.size());
  for (size_t i = 0; i < frame.size(); ++i) EXPECT_EQ(std::to_integer<int>(frame[i]), expected[i]) << i;
}

TEST(ZstdChunkedAnnotations, NameTocAndTarSplitUnderCurrentAndLegacyKeys) {
  const auto annotations = chunked_annotations({1000, 200, 3000, 1208, 50, 4000}, digest_of("toc"));
  EXPECT_EQ(annotations.size(), 5u);
  EXPECT_EQ(annotations.at(k_checksum_key), digest_of("toc").str());
  EXPECT_EQ(annotations.at(k_legacy_checksum_key), digest_of("toc").str());
  EXPECT_EQ(annotations.at(k_position_key), "1000:200:3000:1");
  EXPECT_EQ(annotations.at(k_legacy_position_key), "1000:200:3000:1");
  EXPECT_EQ(annotations.at(k_tar_split_key), "1208:50:4000");
}

}  // namespace
}  // namespace ocipack::zstd_chunked
