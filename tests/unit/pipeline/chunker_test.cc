// Tests for pipeline/chunker.cc: the tar stream does not depend on how it is
// cut, cuts depend only on content and settings, a local change to the rootfs
// changes few chunks, and files that change while being read are refused.
#include "pipeline/chunker.h"

#include <functional>

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>
#include <vector>

#include "core/util/sha256.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A tree with many small files and a few large ones, fixed mtimes.
void make_tree(const std::string& root, uint32_t seed = 1) {
  testing::make_dirs(root + "/usr/lib");
  testing::make_dirs(root + "/etc");
  for (int i = 0; i < 200; ++i)
    testing::write_text(root + "/etc/file" + std::to_string(i), random_bytes(3000 + i * 37, seed + i));
  testing::write_text(root + "/usr/lib/big1", random_bytes(3 * 1024 * 1024 + 123, seed + 1000));
  testing::write_text(root + "/usr/lib/big2", random_bytes(700 * 1024, seed + 1001));
  std::system(("find '" + root + "' -exec touch -h -d @1700000000 {} +").c_str());
}

struct Chunks {
  std::vector<std::string> pieces;
  std::string joined() const {
    std::string s;
    for (const auto& p : pieces) s += p;
    return s;
  }
};

Result<Chunks> chunk_tree(const std::string& root, size_t target, ChunkerCounters* counters = nullptr) {
  auto walker = RootfsWalker::open(root, {});
  if (!walker) return walker.error();
  ChunkingOptions options;
  options.target_size = target;
  TarChunker chunker(std::make_unique<RootfsWalker>(std::move(*walker)), options);
  Chunk chunk;
  chunk.capacity = options.capacity();
  chunk.data = LargeBuffer(chunk.capacity);
  Chunks out;
  for (;;) {
    auto more = chunker.fill(chunk);
    if (!more) return more.error();
    if (!*more) break;
    EXPECT_GT(chunk.size, 0u);
    EXPECT_LE(chunk.size, options.capacity());
    out.pieces.emplace_back(reinterpret_cast<const char*>(chunk.data.get()), chunk.size);
  }
  if (counters) *counters = chunker.counters();
  return out;
}

TEST(TarChunker, StreamIsIndependentOfChunkSize) {
  TempDir dir;
  make_tree(dir / "root");
  auto small = chunk_tree(dir / "root", 64 * 1024);
  auto large = chunk_tree(dir / "root", 1024 * 1024);
  ASSERT_TRUE(small.ok()) << small.error().message;
  ASSERT_TRUE(large.ok()) << large.error().message;
  EXPECT_GT(small->pieces.size(), large->pieces.size());
  EXPECT_EQ(small->joined(), large->joined());
  // The stream ends with exactly two zero blocks after block-aligned data.
  std::string tar = small->joined();
  ASSERT_EQ(tar.size() % 512, 0u);
  EXPECT_EQ(tar.substr(tar.size() - 1024), std::string(1024, '\0'));
}

// Cuts every file's contents every 1000 bytes (counted per file).
class EveryThousand final : public PayloadCutter {
 public:
  void start_file() override { m_seen = 0; }
  void scan(std::span<const std::byte> bytes, std::vector<size_t>& cuts) override {
    for (size_t i = 0; i < bytes.size(); ++i)
      if (++m_seen % 1000 == 0) cuts.push_back(i + 1);
  }

 private:
  uint64_t m_seen = 0;
};

TEST(TarChunker, WithACutterFramesFollowEntriesAndTheCuts) {
  TempDir dir;
  make_tree(dir / "root");
  auto walker = RootfsWalker::open(dir / "root", {});
  ASSERT_TRUE(walker.ok());
  ChunkingOptions options;
  options.target_size = 64 * 1024;
  TarChunker chunker(std::make_unique<RootfsWalker>(std::move(*walker)), options, std::make_unique<EveryThousand>());
  Chunk chunk;
  chunk.capacity = options.capacity();
  chunk.data = LargeBuffer(chunk.capacity);
  std::string stream;
  std::vector<uint64_t> frame_ends;
  std::vector<StreamEntry> entries;
  for (;;) {
    auto more = chunker.fill(chunk);
    ASSERT_TRUE(more.ok()) << more.error().message;
    if (!*more) break;
    ASSERT_FALSE(chunk.frame_ends.empty());
    EXPECT_EQ(chunk.frame_ends.back(), chunk.size);
    for (size_t end : chunk.frame_ends) frame_ends.push_back(stream.size() + end);
    for (auto& e : chunk.entries) entries.push_back(e);
    stream.append(reinterpret_cast<const char*>(chunk.data.get()), chunk.size);
  }
  std::set<std::string> paths;
  for (const StreamEntry& e : entries) paths.insert(e.entry.path);
  EXPECT_EQ(paths.size(), entries.size());
  EXPECT_TRUE(paths.count("etc/file199") && paths.count("usr/lib/big1") && paths.count("usr/lib/"));
  const std::set<uint64_t> ends(frame_ends.begin(), frame_ends.end());
  EXPECT_EQ(ends.size(), frame_ends.size());  // ascending, no empty frame
  for (const StreamEntry& e : entries) {
    EXPECT_EQ(e.payload_offset(), e.header_offset + e.header_size);
    if (e.entry.size == 0) continue;
    // A frame ends where the contents start and where they end, and every
    // 1000 bytes of them.
    EXPECT_TRUE(ends.count(e.payload_offset())) << e.entry.path;
    EXPECT_TRUE(ends.count(e.payload_offset() + e.entry.size)) << e.entry.path;
    for (uint64_t k = 1000; k < e.entry.size; k += 1000)
      EXPECT_TRUE(ends.count(e.payload_offset() + k)) << e.entry.path << " at " << k;
    EXPECT_EQ(stream.substr(e.payload_offset() - 512 + 257, 5), "ustar") << e.entry.path;
  }
  // Without a cutter nothing of this is recorded.
  auto plain = chunk_tree(dir / "root", 64 * 1024);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->joined(), stream);
}

TEST(TarChunker, PreScanGivesTheExactStreamSize) {
  TempDir dir;
  make_tree(dir / "root");
  testing::make_dirs(dir / "root/" + std::string(120, 'x') + "/" + std::string(150, 'y'));
  auto chunks = chunk_tree(dir / "root", 64 * 1024);
  ASSERT_TRUE(chunks.ok());
  auto walker = RootfsWalker::open(dir / "root", {});
  ASSERT_TRUE(walker.ok());
  auto size = tar_stream_size(*walker);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, chunks->joined().size());
}

TEST(TarChunker, CutsAreDeterministicAndWithinBounds) {
  TempDir dir;
  make_tree(dir / "root");
  auto a = chunk_tree(dir / "root", 256 * 1024);
  auto b = chunk_tree(dir / "root", 256 * 1024);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->pieces, b->pieces);
  for (size_t i = 0; i + 1 < a->pieces.size(); ++i) EXPECT_GE(a->pieces[i].size(), 128u * 1024) << i;
}

TEST(TarChunker, LargeFilesAreCutAtFileRelativeOffsets) {
  TempDir dir;
  testing::make_dirs(dir / "root");
  const size_t target = 64 * 1024;
  testing::write_text(dir / "root/f", random_bytes(10 * target, 7));
  auto chunks = chunk_tree(dir / "root", target);
  ASSERT_TRUE(chunks.ok());
  // Header (512) + 10 targets of data + trailer: the data cuts fall on
  // file-relative multiples of the target, so after the first cut every chunk
  // but the last holds exactly one target of file data.
  ASSERT_GE(chunks->pieces.size(), 10u);
  for (size_t i = 1; i + 1 < chunks->pieces.size(); ++i) EXPECT_EQ(chunks->pieces[i].size(), target) << i;
}

// Many small entries per chunk, as in a real rootfs, so most cuts are the
// content-defined ones (path hash) that re-synchronise after a change.
void make_small_file_tree(const std::string& root) {
  testing::make_dirs(root + "/usr/share/doc");
  for (int i = 0; i < 1500; ++i)
    testing::write_text(root + "/usr/share/doc/f" + std::to_string(i), random_bytes(200 + i % 500, i));
  std::system(("find '" + root + "' -exec touch -h -d @1700000000 {} +").c_str());
}

TEST(TarChunker, LocalChangeChangesFewChunks) {
  TempDir dir;
  make_small_file_tree(dir / "a");
  make_small_file_tree(dir / "b");
  // One file early in the stream grows by 700 bytes (two more tar blocks).
  testing::write_text(dir / "b/usr/share/doc/f1002", random_bytes(200 + 1002 % 500 + 700, 99));
  std::system(("touch -d @1700000000 '" + (dir / "b/usr/share/doc/f1002") + "'").c_str());
  auto a = chunk_tree(dir / "a", 64 * 1024);
  auto b = chunk_tree(dir / "b", 64 * 1024);
  ASSERT_TRUE(a.ok() && b.ok());
  std::multiset<std::string> set_a;
  for (const auto& piece : a->pieces) set_a.insert(Sha256::of(piece).hex());
  size_t changed = 0;
  for (const auto& piece : b->pieces)
    if (!set_a.count(Sha256::of(piece).hex())) ++changed;
  EXPECT_GT(a->pieces.size(), 15u);
  EXPECT_LE(changed, 3u) << "of " << b->pieces.size() << " chunks";
}

TEST(TarChunker, UnreadableRootIsAnError) {
  auto walker = RootfsWalker::open("/nonexistent/ocipack-root", {});
  ASSERT_FALSE(walker.ok());
  EXPECT_NE(walker.error().message.find("/nonexistent/ocipack-root"), std::string::npos);
}

// A source that replays fixed items, so a test can change files between the
// moment an entry is described and the moment its data is read.
class ListSource final : public EntrySource {
 public:
  explicit ListSource(std::vector<WalkItem> items) : m_items(std::move(items)) {}
  Result<std::optional<WalkItem>> next() override {
    if (m_next == m_items.size()) return std::optional<WalkItem>{};
    return std::optional<WalkItem>(m_items[m_next++]);
  }
  const std::vector<std::string>& warnings() const override { return m_warnings; }

 private:
  std::vector<WalkItem> m_items;
  size_t m_next = 0;
  std::vector<std::string> m_warnings;
};

WalkItem file_item(const std::string& path, uint64_t size) {
  WalkItem item;
  item.entry.path = "f";
  item.entry.type = EntryType::regular;
  item.entry.mode = 0644;
  item.entry.size = size;
  item.st_size = size;
  item.source_path = path;
  return item;
}

Result<bool> fill_all(TarChunker& chunker) {
  Chunk chunk;
  chunk.capacity = ChunkingOptions{}.capacity();
  chunk.data = LargeBuffer(chunk.capacity);
  for (;;) {
    auto more = chunker.fill(chunk);
    if (!more || !*more) return more;
  }
}

TEST(TarChunker, FileThatChangedSizeAfterStatIsRefused) {
  TempDir dir;
  testing::write_text(dir / "f", std::string(100, 'x'));
  TarChunker chunker(std::make_unique<ListSource>(std::vector{file_item(dir / "f", 5000)}),
                     ChunkingOptions{});
  auto result = fill_all(chunker);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("changed while being read"), std::string::npos);
  EXPECT_NE(result.error().message.find(dir / "f"), std::string::npos);
}

TEST(TarChunker, MissingFileIsAnErrorNamingIt) {
  TempDir dir;
  TarChunker chunker(std::make_unique<ListSource>(std::vector{file_item(dir / "gone", 10)}),
                     ChunkingOptions{});
  auto result = fill_all(chunker);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find(dir / "gone"), std::string::npos);
}

TEST(TarChunker, SkippedSocketIsReportedAsWarning) {
  TempDir dir;
  testing::make_dirs(dir / "root");
  std::string cmd = "python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.bind('" +
                    (dir / "root/sock") + "')\"";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "cannot create a unix socket here";
  auto chunks = chunk_tree(dir / "root", 64 * 1024);
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ(chunks->joined(), std::string(1024, '\0'));  // nothing but the trailer
  auto walker = RootfsWalker::open(dir / "root", {});
  ASSERT_TRUE(walker.ok());
  while (true) {
    auto item = walker->next();
    ASSERT_TRUE(item.ok());
    if (!item->has_value()) break;
  }
  ASSERT_EQ(walker->warnings().size(), 1u);
  EXPECT_NE(walker->warnings()[0].find("sock"), std::string::npos);
}

// The layer's walk opens a file as soon as it has described it
// (RootfsWalker::open_data_while_walking) and the chunker reads that
// descriptor: whatever is swapped in at the path afterwards, the layer
// holds the contents of the inode the walk described.
TEST(TarChunker, WithAnOpeningWalkASwapAfterTheWalkDoesNotChangeWhatIsRead) {
  TempDir dir;
  testing::write_text(dir / "f", "hello");
  auto walker = RootfsWalker::open(dir.path(), {});
  ASSERT_TRUE(walker.ok()) << walker.error().message;
  walker->open_data_while_walking();
  auto item = walker->next();
  ASSERT_TRUE(item.ok() && item->has_value());
  std::vector<WalkItem> items;
  items.push_back(std::move(**item));
  ASSERT_EQ(::rename((dir / "f").c_str(), (dir / "old").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (dir / "f").c_str()), 0);
  TarChunker chunker(std::make_unique<ListSource>(std::move(items)), ChunkingOptions{});
  Chunk chunk;
  chunk.capacity = ChunkingOptions{}.capacity();
  chunk.data = LargeBuffer(chunk.capacity);
  std::string stream;
  for (;;) {
    auto more = chunker.fill(chunk);
    ASSERT_TRUE(more.ok()) << more.error().message;
    if (!*more) break;
    stream.append(reinterpret_cast<const char*>(chunk.data.get()), chunk.size);
  }
  ASSERT_GE(stream.size(), 1024u);
  EXPECT_EQ(stream.substr(512, 5), "hello");
  EXPECT_EQ(stream.find("root:"), std::string::npos);
}

// When the walk's open failed, the chunker reports that open's error and
// does not open the path again (a device's driver must not run twice).
TEST(TarChunker, AFailedOpenOfTheWalkIsReportedWithoutASecondOpen) {
  TempDir dir;
  testing::write_text(dir / "f", "hello");
  WalkItem item = file_item(dir / "f", 5);
  item.opened = std::make_shared<WalkItem::OpenedData>();
  item.opened->failure = input_error("the walk's own error for " + (dir / "f"));
  TarChunker chunker(std::make_unique<ListSource>(std::vector{item}), ChunkingOptions{});
  auto result = fill_all(chunker);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "the walk's own error for " + (dir / "f"));
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// A file that changes while the chunker is in the middle of its data: the
// first fill() reads part of it, the test changes it, the next fill() must
// notice. (Deterministic: the file is larger than one chunk's capacity.)
Result<bool> fill_rest(TarChunker& chunker, Chunk& chunk) {
  for (;;) {
    auto more = chunker.fill(chunk);
    if (!more || !*more) return more;
  }
}

// A chunker over `root` with 64 KiB chunks (capacity 128 KiB) that has
// already filled its first chunk, so a larger file is part-way read.
struct HalfRead {
  std::unique_ptr<TarChunker> chunker;
  Chunk chunk;
};
HalfRead start_reading(const std::string& root) {
  auto walker = RootfsWalker::open(root, {});
  EXPECT_TRUE(walker.ok());
  ChunkingOptions options;
  options.target_size = 64 * 1024;
  HalfRead out;
  out.chunker = std::make_unique<TarChunker>(std::make_unique<RootfsWalker>(std::move(*walker)), options);
  out.chunk.capacity = options.capacity();
  out.chunk.data = LargeBuffer(out.chunk.capacity);
  auto first = out.chunker->fill(out.chunk);
  EXPECT_TRUE(first.ok() && *first);
  return out;
}

class ChangingFile : public ::testing::TestWithParam<bool> {};

TEST_P(ChangingFile, IsRefusedNamingIt) {
  const bool grows = GetParam();
  TempDir dir;
  testing::make_dirs(dir / "root");
  const std::string path = dir / "root/f";
  testing::write_text(path, random_bytes(300 * 1024, 5));
  HalfRead reading = start_reading(dir / "root");
  if (grows) {
    std::ofstream(path, std::ios::app) << "more data appended while it is being read";
  } else {
    ASSERT_EQ(::truncate(path.c_str(), 100 * 1024), 0);
  }
  auto rest = fill_rest(*reading.chunker, reading.chunk);
  ASSERT_FALSE(rest.ok());
  EXPECT_NE(rest.error().message.find(grows ? "grew while being read" : "shrank while being read"),
            std::string::npos)
      << rest.error().message;
  EXPECT_NE(rest.error().message.find(path), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(GrowsOrShrinks, ChangingFile, ::testing::Values(true, false),
                         [](const auto& param_info) { return param_info.param ? "Grows" : "Shrinks"; });

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// A sparse file: data at the start, in the middle and near the end, holes
// between them and a trailing hole. Returns false if this file system
// allocates the holes anyway (then there is nothing sparse to test).
bool make_sparse_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return false;
  const std::string middle = random_bytes(100 * 1024, 77);
  bool ok = ::pwrite(fd.get(), "head", 4, 0) == 4 &&
            ::pwrite(fd.get(), middle.data(), middle.size(), 3 << 20) == static_cast<ssize_t>(middle.size()) &&
            ::pwrite(fd.get(), "tail", 4, (9 << 20) - 4) == 4 && ::ftruncate(fd.get(), 12 << 20) == 0;
  struct stat st {};
  return ok && ::fstat(fd.get(), &st) == 0 && static_cast<uint64_t>(st.st_blocks) * 512 < (12u << 20);
}

TEST(TarChunker, HolesOfSparseFilesAreZerosNotRead) {
  TempDir dir;
  testing::make_dirs(dir / "sparse");
  testing::make_dirs(dir / "dense");
  if (!make_sparse_file(dir / "sparse/f")) GTEST_SKIP() << "this file system does not keep holes";
  ASSERT_EQ(std::system(("cp --sparse=never '" + dir / "sparse/f" + "' '" + dir / "dense/f" + "'").c_str()), 0);
  std::system(("find '" + dir.path() + "' -exec touch -h -d @1700000000 {} +").c_str());
  for (size_t target : {64u * 1024, 1024u * 1024}) {
    ChunkerCounters sparse_counters, dense_counters;
    auto sparse = chunk_tree(dir / "sparse", target, &sparse_counters);
    auto dense = chunk_tree(dir / "dense", target, &dense_counters);
    ASSERT_TRUE(sparse.ok() && dense.ok());
    EXPECT_EQ(sparse->pieces, dense->pieces) << "target " << target;
    EXPECT_EQ(dense_counters.hole_bytes, 0u);
    // Everything but the three data runs (at block granularity) came from holes.
    EXPECT_GT(sparse_counters.hole_bytes, (12u << 20) - (1u << 20)) << "target " << target;
    EXPECT_EQ(sparse_counters.data_bytes, 12u << 20);
  }
}

TEST(TarChunker, SparseFileThatShrinksIntoAHoleIsRefused) {
  TempDir dir;
  testing::make_dirs(dir / "root");
  const std::string path = dir / "root/f";
  if (!make_sparse_file(path)) GTEST_SKIP() << "this file system does not keep holes";
  HalfRead reading = start_reading(dir / "root");
  ASSERT_EQ(::truncate(path.c_str(), 6 << 20), 0);  // into the hole after the middle run
  auto rest = fill_rest(*reading.chunker, reading.chunk);
  ASSERT_FALSE(rest.ok());
  EXPECT_NE(rest.error().message.find("shrank while being read: " + path), std::string::npos) << rest.error().message;
}


// The walk saw a regular file; before the chunker opens it, it is replaced
// by a FIFO (no writer: a blocking open would hang forever), a directory, a
// symlink or another file. Each must fail at once naming the path.
TEST(TarChunker, FileReplacedAfterTheWalkIsRefusedWithoutBlocking) {
  const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> swaps = {
      {"is now a FIFO", [](const std::string& p) { ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0); }},
      {"is now a directory", [](const std::string& p) { ASSERT_EQ(::mkdir(p.c_str(), 0755), 0); }},
      {"is now a symbolic link", [](const std::string& p) { ASSERT_EQ(::symlink("/etc/passwd", p.c_str()), 0); }},
      // Same size, so only the inode tells them apart.
      {"was replaced by another file", [](const std::string& p) { testing::write_text(p, "other"); }},
  };
  for (const auto& [reason, swap] : swaps) {
    TempDir dir;
    testing::write_text(dir / "f", "hello");
    auto walker = RootfsWalker::open(dir.path(), {});
    ASSERT_TRUE(walker.ok()) << walker.error().message;
    auto item = walker->next();
    ASSERT_TRUE(item.ok() && item->has_value());
    std::vector<WalkItem> items;
    items.push_back(std::move(**item));
    // The old inode stays alive (another name), so its number is not reused.
    ASSERT_EQ(::rename((dir / "f").c_str(), (dir / "old").c_str()), 0);
    swap(dir / "f");
    TarChunker chunker(std::make_unique<ListSource>(std::move(items)), ChunkingOptions{});
    auto result = fill_all(chunker);
    ASSERT_FALSE(result.ok()) << reason;
    EXPECT_NE(result.error().message.find("changed while being read: " + (dir / "f") + " " + reason),
              std::string::npos)
        << result.error().message;
  }
}

}  // namespace
}  // namespace ocipack
