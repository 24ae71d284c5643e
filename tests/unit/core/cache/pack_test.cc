// Tests for cache packs (core/cache/pack_index.cc, chunk_cache.cc's packs):
// an index round-trips and every truncation, flipped byte or record outside
// its blob is refused; a stored pack is the blob's own inode (a link, not a
// copy) and answers lookups with the chunk's bytes, frames and time; a pack
// whose blob was changed in place is caught by the chunk's CRC, dropped
// (its index removed) and then misses; a damaged or planted index (garbage,
// a symlink, a FIFO) is refused and removed, a planted symlink pack never
// read; usage counts a
// pack's chunks and bytes, prune removes packs whole, oldest use first,
// and an index without its pack (not a pack linked just now).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/cache/chunk_cache.h"
#include "core/cache/pack_index.h"
#include "core/codec/crc64.h"
#include "core/util/sha256.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

// A blob of three "chunks" and the index of the first and the last.
struct Blob {
  std::string bytes = "first chunk|middle, not stored|last chunk, framed";
  PackIndex index;
  Blob() {
    index.blob = Sha256::of(bytes);
    index.blob_size = bytes.size();
    add("first chunk", 0, 11, {});
    add("last chunk, framed", 31, 18, {10, 8});
  }
  void add(const std::string& key_text, uint64_t offset, uint64_t size, std::vector<size_t> frames) {
    PackRecord record;
    record.key = chunk_cache_key("test", {}, bytes_of(key_text));
    record.offset = offset;
    record.size = size;
    record.compress_nanoseconds = 1000 + offset;
    record.crc = crc64_iso(0, bytes_of(bytes.substr(offset, size)));
    record.frame_sizes = std::move(frames);
    index.records.push_back(std::move(record));
  }
  std::string payload(size_t i) const { return bytes.substr(index.records[i].offset, index.records[i].size); }
};

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

CacheLookup look(const ChunkCacheDir& cache, const ChunkKey& key, CacheEntryView& view, std::string* problem = nullptr,
                 std::string* payload = nullptr) {
  static thread_local std::vector<std::byte> spill;
  std::string why;
  const CacheLookup found = cache.lookup(key, {}, spill, view, why);
  if (payload && found == CacheLookup::hit)
    *payload = std::string(reinterpret_cast<const char*>(view.payload.data()), view.payload.size());
  if (problem) *problem = why;
  return found;
}

TEST(PackIndex, RoundTrips) {
  const Blob blob;
  auto decoded = decode_pack_index(encode_pack_index(blob.index));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->blob, blob.index.blob);
  EXPECT_EQ(decoded->blob_size, blob.index.blob_size);
  ASSERT_EQ(decoded->records.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(decoded->records[i].key, blob.index.records[i].key);
    EXPECT_EQ(decoded->records[i].offset, blob.index.records[i].offset);
    EXPECT_EQ(decoded->records[i].size, blob.index.records[i].size);
    EXPECT_EQ(decoded->records[i].crc, blob.index.records[i].crc);
    EXPECT_EQ(decoded->records[i].compress_nanoseconds, blob.index.records[i].compress_nanoseconds);
    EXPECT_EQ(decoded->records[i].frame_sizes, blob.index.records[i].frame_sizes);
  }
}

TEST(PackIndex, EveryTruncationAndEveryFlippedByteIsRefused) {
  const std::vector<std::byte> good = encode_pack_index(Blob().index);
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(decode_pack_index(std::span(good).first(n)).ok()) << "truncated to " << n;
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<std::byte> bad = good;
    bad[i] ^= std::byte{0x20};
    EXPECT_FALSE(decode_pack_index(bad).ok()) << "byte " << i << " flipped";
  }
}

TEST(PackIndex, RecordsOutsideTheBlobOrWithFramesThatDoNotAddUpAreRefused) {
  {
    Blob blob;
    blob.index.records[1].size = 19;  // one byte past the blob's end
    auto decoded = decode_pack_index(encode_pack_index(blob.index));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "a record outside the blob");
  }
  {
    Blob blob;
    blob.index.records[0].offset = ~uint64_t{0} - 3;  // offset + size wraps
    EXPECT_FALSE(decode_pack_index(encode_pack_index(blob.index)).ok());
  }
  {
    Blob blob;
    blob.index.records[1].frame_sizes = {10, 7};
    auto decoded = decode_pack_index(encode_pack_index(blob.index));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "frame sizes do not add up");
  }
  {
    Blob blob;
    blob.index.records[0].size = 0;
    EXPECT_FALSE(decode_pack_index(encode_pack_index(blob.index)).ok());
  }
}

// A cache with the blob stored as a pack, the blob file itself kept open.
struct PackedCache {
  TempDir dir;
  Blob blob;
  std::string blob_path = dir / "blob";
  UniqueFd blob_fd;
  std::optional<ChunkCacheDir> cache;
  PackedCache() {
    write_file(blob_path, blob.bytes);
    blob_fd = UniqueFd(::open(blob_path.c_str(), O_RDWR | O_CLOEXEC));
    auto opened = ChunkCacheDir::open(dir / "cache");
    EXPECT_TRUE(opened.ok());
    cache.emplace(std::move(*opened));
    auto stored = cache->store_pack(blob_fd.get(), blob.index);
    EXPECT_TRUE(stored.ok()) << stored.error().message;
    if (stored) {
      EXPECT_EQ(*stored, blob.bytes.size() + encode_pack_index(blob.index).size());
    }
  }
  std::string pack_path() const { return dir / ("cache/packs/" + blob.index.blob.hex() + ".pack"); }
  std::string index_path() const { return dir / ("cache/packs/" + blob.index.blob.hex() + ".idx"); }
  // A new ChunkCacheDir on the same directory, its packs loaded (a new build).
  ChunkCacheDir reopen(std::vector<std::string>* problems = nullptr) {
    auto opened = ChunkCacheDir::open(dir / "cache");
    EXPECT_TRUE(opened.ok());
    std::vector<std::string> found = opened->load_packs();
    if (problems) *problems = found;
    return std::move(*opened);
  }
};

TEST(CachePack, IsTheBlobsInodeAndAnswersLookups) {
  PackedCache packed;
  struct stat blob{}, pack{};
  ASSERT_EQ(::stat(packed.blob_path.c_str(), &blob), 0);
  ASSERT_EQ(::stat(packed.pack_path().c_str(), &pack), 0);
  EXPECT_EQ(blob.st_ino, pack.st_ino);
  EXPECT_EQ(blob.st_nlink, 2u);
  EXPECT_EQ(fs::directory_iterator(packed.dir / "cache/packs") == fs::directory_iterator(), false);
  for (const auto& entry : fs::directory_iterator(packed.dir / "cache/packs"))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".tmp-")) << entry.path();

  std::vector<std::string> problems;
  const ChunkCacheDir cache = packed.reopen(&problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(cache.packed_chunks(), 2u);
  CacheEntryView view;
  std::string payload;
  ASSERT_EQ(look(cache, packed.blob.index.records[0].key, view, nullptr, &payload), CacheLookup::hit);
  EXPECT_EQ(payload, packed.blob.payload(0));
  EXPECT_TRUE(view.frame_sizes.empty());
  EXPECT_EQ(view.compress_nanoseconds, 1000u);
  ASSERT_EQ(look(cache, packed.blob.index.records[1].key, view, nullptr, &payload), CacheLookup::hit);
  EXPECT_EQ(payload, packed.blob.payload(1));
  EXPECT_EQ(view.frame_sizes, (std::vector<size_t>{10, 8}));
  EXPECT_EQ(look(cache, chunk_cache_key("test", {}, bytes_of("middle, not stored")), view), CacheLookup::miss);
  // Without load_packs (cache stats, prune) nothing is looked up in packs.
  EXPECT_EQ(look(*packed.cache, packed.blob.index.records[0].key, view), CacheLookup::miss);
}

TEST(CachePack, ABlobChangedInPlaceIsCaughtAndThePackDropped) {
  PackedCache packed;
  const ChunkCacheDir cache = packed.reopen();
  {
    // The layout's file is the pack's: a tool rewriting it in place changes both.
    UniqueFd fd(::open(packed.blob_path.c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_EQ(::pwrite(fd.get(), "X", 1, 35), 1);
  }
  CacheEntryView view;
  std::string problem;
  EXPECT_EQ(look(cache, packed.blob.index.records[1].key, view, &problem), CacheLookup::corrupt);
  EXPECT_NE(problem.find("packs/" + packed.blob.index.blob.hex() + ".pack: chunk at offset 31: checksum mismatch; pack "
                         "dropped, recomputed"),
            std::string::npos)
      << problem;
  EXPECT_FALSE(fs::exists(packed.index_path()));
  // The rest of the pack is used no more in this build, nor loaded by the next.
  EXPECT_EQ(look(cache, packed.blob.index.records[0].key, view), CacheLookup::miss);
  EXPECT_EQ(packed.reopen().packed_chunks(), 0u);
}

TEST(CachePack, ATruncatedPackIsRefusedAtLoad) {
  PackedCache packed;
  ASSERT_EQ(::truncate(packed.pack_path().c_str(), 20), 0);
  std::vector<std::string> problems;
  EXPECT_EQ(packed.reopen(&problems).packed_chunks(), 0u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(".idx: does not match its pack; removed"), std::string::npos) << problems[0];
}

TEST(CachePack, DamagedOrPlantedIndexesAreRefusedAndRemoved) {
  PackedCache packed;
  write_file(packed.index_path(), "OCPKIX01 and then nonsense, not an index at all................");
  std::vector<std::string> problems;
  EXPECT_EQ(packed.reopen(&problems).packed_chunks(), 0u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(".idx: "), std::string::npos);
  EXPECT_FALSE(fs::exists(packed.index_path()));

  // An index that is a symlink to a sound copy outside: never followed.
  TempDir outside;
  const std::vector<std::byte> encoded = encode_pack_index(packed.blob.index);
  write_file(outside / "idx", std::string(reinterpret_cast<const char*>(encoded.data()), encoded.size()));
  fs::create_symlink(outside / "idx", packed.index_path());
  EXPECT_EQ(packed.reopen(&problems).packed_chunks(), 0u);
  EXPECT_FALSE(fs::is_symlink(packed.index_path()));
  EXPECT_TRUE(fs::exists(outside / "idx"));

  // A FIFO (or a device) in the index's place: never opened (no driver's
  // open runs, no reader blocks), refused, removed.
  fs::remove(packed.index_path());
  ASSERT_EQ(::mkfifo(packed.index_path().c_str(), 0644), 0);
  EXPECT_EQ(packed.reopen(&problems).packed_chunks(), 0u);
  EXPECT_FALSE(fs::exists(packed.index_path()));

  // A sound index whose pack is a symlink to the blob: never read.
  write_file(packed.index_path(), std::string(reinterpret_cast<const char*>(encoded.data()), encoded.size()));
  fs::remove(packed.pack_path());
  fs::create_symlink(packed.blob_path, packed.pack_path());
  EXPECT_EQ(packed.reopen(&problems).packed_chunks(), 0u);
}

TEST(CachePack, UsageCountsItsChunksAndPruneRemovesPacksWholeOldestFirst) {
  PackedCache packed;
  auto usage = packed.cache->usage();
  ASSERT_TRUE(usage.ok());
  const uint64_t pack_bytes = packed.blob.bytes.size() + encode_pack_index(packed.blob.index).size();
  EXPECT_EQ(usage->entries, 2u);
  EXPECT_EQ(usage->bytes, pack_bytes);

  // An entry file used after the pack: the pack goes first.
  const ChunkKey key = chunk_cache_key("test", {}, bytes_of("entry"));
  std::vector<std::byte> entry;
  encode_cache_entry(key, {}, 10, bytes_of("zipped entry"), entry);
  ASSERT_TRUE(packed.cache->store(key, entry).ok());
  const timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, packed.index_path().c_str(), old, 0), 0);
  usage = packed.cache->prune(entry.size());
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->entries, 1u);
  EXPECT_EQ(usage->bytes, entry.size());
  EXPECT_FALSE(fs::exists(packed.index_path()));
  EXPECT_FALSE(fs::exists(packed.pack_path()));
  EXPECT_TRUE(fs::exists(packed.blob_path));  // the layout's name for it stays
  EXPECT_EQ(fs::hard_link_count(packed.blob_path), 1u);
}

TEST(CachePack, PruneRemovesAnIndexWithoutItsPackAndKeepsAPackJustLinked) {
  PackedCache packed;
  // An index without its pack goes at once.
  fs::remove(packed.pack_path());
  // A pack without an index goes once it changed more than an hour ago; its
  // ctime, not its mtime, says when: a link made now to a blob written two
  // hours ago (a build between its two renames) must stay. (An old ctime
  // cannot be made here, so the removal itself is not tested.)
  const std::string linked = packed.dir / "cache/packs/linked.pack";
  write_file(linked, "o");
  const timespec long_ago[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, linked.c_str(), long_ago, 0), 0);
  ASSERT_TRUE(packed.cache->prune(uint64_t{1} << 30).ok());
  EXPECT_FALSE(fs::exists(packed.index_path()));
  EXPECT_TRUE(fs::exists(linked));
}

TEST(CachePack, AFileThatIsNotTheBlobIsRefused) {
  TempDir dir;
  Blob blob;
  write_file(dir / "blob", blob.bytes + "more");  // not the index's size
  UniqueFd fd(::open((dir / "blob").c_str(), O_RDONLY | O_CLOEXEC));
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  EXPECT_FALSE(cache->store_pack(fd.get(), blob.index).ok());
  for (const auto& entry : fs::directory_iterator(dir / "cache/packs")) ADD_FAILURE() << "left " << entry.path();
}

}  // namespace
}  // namespace ocipack
