// Tests for core/tar_scan.cc: the streaming framing reader shared by
// `ocipack verify` and the tar input adapter. Archives are hand-made block by
// block (test_helpers.h) so each framing rule is exercised on its own: path
// sources (USTAR prefix, PAX path, GNU long name, GNU.sparse.name), a NUL
// kept inside a PAX path, old-GNU sparse extension blocks, header-only types
// with a size, the end-of-archive rules, and feeding in pieces of any size.
#include "core/tar/tar_scan.h"

#include <map>
#include <optional>

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::raw_pax_header;
using testing::raw_tar_data;
using testing::raw_tar_end;
using testing::raw_tar_header;

struct Scan {
  std::vector<ScannedEntry> entries;
  std::vector<std::string> problems;
  std::vector<std::string> order;  // "E:path" / "P:text", in stream order
  bool ended = false;
  bool stopped = false;
};

// Feeds `stream` in pieces of `piece` bytes (0: all at once), then finishes.
Scan scan(const std::string& stream, size_t piece = 0) {
  Scan out;
  TarScanner scanner(
      [&](const ScannedEntry& e) {
        out.entries.push_back(e);
        out.order.push_back("E:" + e.path);
      },
      [&](const std::string& text) {
        out.problems.push_back(text);
        out.order.push_back("P:" + text);
      });
  if (piece == 0) piece = stream.size() + 1;
  for (size_t at = 0; at < stream.size(); at += piece) scanner.feed(std::string_view(stream).substr(at, piece));
  out.ended = scanner.ended();
  scanner.finish();
  out.stopped = scanner.stopped();
  return out;
}

std::string file(const std::string& name, const std::string& data) {
  return raw_tar_header(name, '0', data.size()) + raw_tar_data(data);
}

TEST(TarScanner, ReportsEntriesWithTheirPathSources) {
  const std::string long_name(150, 'n');
  std::string t = file("plain", "abc");
  t += raw_tar_header("name", '0', 0, "", [](std::string& h) { h.replace(345, 6, "prefix"); });
  t += raw_pax_header({{"path", "from/pax"}, {"linkpath", "target/of/pax"}}) + raw_tar_header("ignored", '2');
  t += raw_tar_header("././@LongLink", 'L', long_name.size() + 1) + raw_tar_data(long_name + '\0');
  t += raw_tar_header("cut", '5');
  t += raw_tar_header("old-dir/", '\0');
  t += raw_tar_end();
  const Scan s = scan(t);
  EXPECT_TRUE(s.problems.empty()) << s.problems.front();
  EXPECT_TRUE(s.ended);
  ASSERT_EQ(s.entries.size(), 5u);
  EXPECT_EQ(s.entries[0].path, "plain");
  EXPECT_EQ(s.entries[0].size, 3u);
  EXPECT_EQ(s.entries[0].number, 1u);
  EXPECT_EQ(s.entries[0].offset, 0u);
  EXPECT_EQ(s.entries[1].path, "prefix/name");
  EXPECT_EQ(s.entries[1].offset, 1024u);
  EXPECT_EQ(s.entries[2].path, "from/pax");
  EXPECT_EQ(s.entries[2].link, "target/of/pax");
  EXPECT_EQ(s.entries[2].type, '2');
  EXPECT_EQ(s.entries[3].path, long_name);
  EXPECT_EQ(s.entries[3].type, '5');
  EXPECT_EQ(s.entries[4].path, "old-dir/");
  EXPECT_EQ(s.entries[4].type, '5') << "the old '\\0' type with a trailing '/' is a directory";
}

TEST(TarScanner, SamePiecesWhateverTheFeedSize) {
  std::string t = file("a", std::string(1000, 'x')) + raw_pax_header({{"path", std::string(300, 'p')}}) +
                  file("b", "y") + raw_tar_header("c", '0', 0) + raw_tar_end();
  const Scan whole = scan(t);
  for (size_t piece : {1, 7, 511, 512, 513, 4096}) {
    const Scan pieces = scan(t, piece);
    EXPECT_EQ(pieces.order, whole.order) << "piece " << piece;
    EXPECT_TRUE(pieces.ended) << "piece " << piece;
  }
  EXPECT_EQ(whole.entries.size(), 3u);
}

TEST(TarScanner, KeepsANulInsideAPaxPath) {
  const std::string t = raw_pax_header({{"path", std::string("a\0b", 3)}}) + file("placeholder", "") + raw_tar_end();
  const Scan s = scan(t);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].path, std::string("a\0b", 3));
}

TEST(TarScanner, GnuSparseNameOverridesThePath) {
  const std::string t = raw_pax_header({{"GNU.sparse.major", "1"}, {"GNU.sparse.name", "real/name"}}) +
                        file("GNUSparseFile.0/name", "1\n0\n5\n") + raw_tar_end();
  const Scan s = scan(t);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].path, "real/name");
}

TEST(TarScanner, SkipsOldGnuSparseExtensionBlocks) {
  // An 'S' header whose sparse map continues in two extension blocks, then 512 data bytes.
  std::string t = raw_tar_header("sparse", 'S', 512, "", [](std::string& h) {
    h.replace(257, 8, std::string("ustar  \0", 8));
    h[482] = 1;
  });
  std::string ext1(512, '\0'), ext2(512, '\0');
  ext1[504] = 1;
  t += ext1 + ext2 + std::string(512, 'd') + file("after", "z") + raw_tar_end();
  const Scan s = scan(t, 100);
  EXPECT_TRUE(s.problems.empty()) << s.problems.front();
  ASSERT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.entries[0].type, 'S');
  EXPECT_EQ(s.entries[1].path, "after");
}

TEST(TarScanner, AHeaderOnlyEntryWithASizeIsAProblemAndHasNoData) {
  // Go reads no data after a hard link; the next header follows at once.
  const std::string t = raw_tar_header("target", '0') + raw_tar_header("link", '1', 512, "target") +
                        file("next", "n") + raw_tar_end();
  const Scan s = scan(t);
  ASSERT_EQ(s.entries.size(), 3u);
  EXPECT_EQ(s.entries[1].size, 0u);
  EXPECT_EQ(s.entries[2].path, "next");
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_NE(s.problems[0].find("'link' is a hard link with size 512"), std::string::npos) << s.problems[0];
  EXPECT_EQ(s.order[2], "P:" + s.problems[0]) << "the problem comes right after its entry";
}

TEST(TarScanner, EndOfArchiveRules) {
  const std::string body = file("f", "data");
  EXPECT_NE(scan(body).problems.at(0).find("no end-of-archive marker"), std::string::npos);
  EXPECT_NE(scan(body + std::string(512, '\0')).problems.at(0).find("no end-of-archive marker"), std::string::npos);
  EXPECT_NE(scan(body.substr(0, 700)).problems.at(0).find("ends inside the data of entry 1 'f'"), std::string::npos);
  EXPECT_NE(scan(body.substr(0, 300)).problems.at(0).find("ends inside a header"), std::string::npos);
  const Scan gap = scan(body + std::string(512, '\0') + file("g", "") + raw_tar_end());
  EXPECT_NE(gap.problems.at(0).find("single zero block"), std::string::npos);
  // After the marker, anything (GNU tar's record padding) is ignored.
  const Scan padded = scan(body + raw_tar_end() + "trailing junk, never read as a header");
  EXPECT_TRUE(padded.problems.empty());
  EXPECT_EQ(padded.entries.size(), 1u);
}

TEST(TarScanner, StopsAtABadChecksumOrSize) {
  std::string bad = file("f", "x");
  bad[0] = 'g';  // checksum no longer matches
  const Scan s = scan(bad + raw_tar_end());
  EXPECT_TRUE(s.stopped);
  EXPECT_TRUE(s.entries.empty());
  EXPECT_NE(s.problems.at(0).find("bad checksum"), std::string::npos);

  const std::string negative =
      raw_tar_header("neg", '0', 0, "", [](std::string& h) { h.replace(124, 12, std::string(12, '\xff')); });
  const Scan n = scan(negative + raw_tar_end());
  EXPECT_TRUE(n.stopped);
  EXPECT_NE(n.problems.at(0).find("invalid size"), std::string::npos);
}

TEST(TarScanner, OversizedExtendedHeaderIsAProblem) {
  const std::string t = raw_tar_header("PaxHeader", 'x', k_max_tar_meta_size + 1) +
                        raw_tar_data(std::string(k_max_tar_meta_size + 1, 'p')) + file("f", "") + raw_tar_end();
  const Scan s = scan(t, 65536);
  ASSERT_FALSE(s.problems.empty());
  EXPECT_NE(s.problems[0].find("readers refuse more than"), std::string::npos);
  ASSERT_EQ(s.entries.size(), 1u) << "framing continues after the skipped header";
}

TEST(TarScanner, MalformedPaxRecordIsAProblem) {
  const std::string body = "99 path=short\n";
  const std::string t = raw_tar_header("PaxHeader", 'x', body.size()) + raw_tar_data(body) + file("f", "") +
                        raw_tar_end();
  const Scan s = scan(t);
  ASSERT_FALSE(s.problems.empty());
  EXPECT_NE(s.problems[0].find("malformed"), std::string::npos);
}

TEST(TarScanner, NumberFields) {
  EXPECT_EQ(parse_tar_number("0000644\0", 8), 0644u);
  EXPECT_EQ(parse_tar_number("  17 \0\0\0", 8), 017u);
  EXPECT_EQ(parse_tar_number("\0\0\0\0\0\0\0\0", 8), 0u);
  EXPECT_FALSE(parse_tar_number("12x4\0\0\0\0", 8));
  const char base256[12] = {'\x80', 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1};
  EXPECT_EQ(parse_tar_number(base256, 12), (uint64_t{2} << 32) + 1);
  EXPECT_FALSE(parse_tar_number(std::string(12, '\xff').data(), 12));
}

TEST(TarPaths, ComponentsNormalisationAndDotDot) {
  EXPECT_EQ(tar_path_components("a//b/"), (std::vector<std::string_view>{"a", "", "b", ""}));
  EXPECT_EQ(tar_path_components(""), (std::vector<std::string_view>{""}));
  EXPECT_EQ(normalize_tar_path("./a/./b//c/"), "a/b/c");
  EXPECT_EQ(normalize_tar_path("/abs/x"), "abs/x");
  EXPECT_EQ(normalize_tar_path("./"), "");
  EXPECT_EQ(normalize_tar_path("a/../b"), "a/../b") << "'..' is the caller's to judge";
  EXPECT_TRUE(has_dot_dot_component("a/../b"));
  EXPECT_TRUE(has_dot_dot_component(".."));
  EXPECT_FALSE(has_dot_dot_component("a/..b/c.."));
}


TEST(TarScan, NonDirectoryAncestorIsTheShortestNonDirectoryPrefix) {
  const std::map<std::string, bool> entries = {{"d", true}, {"d/e", true}, {"d/link", false}, {"f", false}};
  auto is_directory = [&](std::string_view prefix) -> std::optional<bool> {
    auto it = entries.find(std::string(prefix));
    if (it == entries.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_EQ(non_directory_ancestor("f/x", is_directory), std::optional<std::string_view>("f"));
  EXPECT_EQ(non_directory_ancestor("d/link/x/y", is_directory), std::optional<std::string_view>("d/link"));
  EXPECT_EQ(non_directory_ancestor("d/e/x", is_directory), std::nullopt);
  EXPECT_EQ(non_directory_ancestor("unlisted/x", is_directory), std::nullopt);
  EXPECT_EQ(non_directory_ancestor("f", is_directory), std::nullopt);  // itself is not its ancestor
  EXPECT_EQ(non_directory_ancestor("", is_directory), std::nullopt);
}

}  // namespace
}  // namespace ocipack
