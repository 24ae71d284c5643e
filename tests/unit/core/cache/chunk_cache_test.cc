// Tests for core/cache/chunk_cache.cc: a stored entry is found again and
// nothing else is; damaged, planted (symlink) or misplaced entries are
// refused, removed and reported; a store leaves no temp file; prune removes
// least recently used entries first (and stale temp files); the builds log
// keeps the last records; DIR must be a directory.
#include "core/cache/chunk_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

struct Stored {
  ChunkKey key;
  std::string path;  // below the cache dir
};

Stored store(const ChunkCacheDir& cache, const std::string& chunk, const std::string& compressed) {
  const ChunkKey key = chunk_cache_key("test", {}, bytes_of(chunk));
  std::vector<std::byte> entry;
  encode_cache_entry(key, {}, 10, bytes_of(compressed), entry);
  EXPECT_TRUE(cache.store(key, entry).ok());
  return {key, cache_entry_path(key)};
}

CacheLookup look(const ChunkCacheDir& cache, const ChunkKey& key, std::string* payload = nullptr,
                 std::string* problem = nullptr) {
  std::vector<std::byte> buffer;
  CacheEntryView view;
  std::string why;
  const CacheLookup found = cache.lookup(key, {}, buffer, view, why);
  if (payload && found == CacheLookup::hit)
    *payload = std::string(reinterpret_cast<const char*>(view.payload.data()), view.payload.size());
  if (problem) *problem = why;
  return found;
}

TEST(ChunkCacheDir, ReadsIntoTheCallersBufferWhenTheEntryFits) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  const Stored a = store(*cache, "chunk a", "zipped a, a little longer");
  std::vector<std::byte> into(4096), spill;
  CacheEntryView view;
  std::string why;
  ASSERT_EQ(cache->lookup(a.key, into, spill, view, why), CacheLookup::hit) << why;
  EXPECT_TRUE(view.payload.data() > into.data() && view.payload.data() < into.data() + into.size());
  EXPECT_TRUE(spill.empty());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(view.payload.data()), view.payload.size()),
            "zipped a, a little longer");
  // Too small for the entry: it goes to `spill`, `into` is left alone.
  std::vector<std::byte> tiny(8, std::byte{0x5a});
  CacheEntryView spilled;
  ASSERT_EQ(cache->lookup(a.key, tiny, spill, spilled, why), CacheLookup::hit) << why;
  EXPECT_TRUE(spilled.payload.data() >= spill.data() && spilled.payload.data() < spill.data() + spill.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(spilled.payload.data()), spilled.payload.size()),
            "zipped a, a little longer");
  EXPECT_EQ(tiny, std::vector<std::byte>(8, std::byte{0x5a}));
  // A truncated entry read into the caller's buffer is refused all the same.
  const std::string path = (dir / "cache") + "/" + a.path;
  std::string bytes = testing::read_text(path);
  bytes.resize(bytes.size() - 1);
  testing::write_text(path, bytes);
  CacheEntryView damaged;
  EXPECT_EQ(cache->lookup(a.key, into, spill, damaged, why), CacheLookup::corrupt);
  EXPECT_NE(why.find("cache entry"), std::string::npos) << why;
}

void set_age(const std::string& path, int64_t seconds_ago) {
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = ::time(nullptr) - seconds_ago;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

TEST(ChunkCacheDir, FindsWhatWasStoredAndNothingElse) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  const Stored a = store(*cache, "chunk a", "zipped a");
  std::string payload;
  EXPECT_EQ(look(*cache, a.key, &payload), CacheLookup::hit);
  EXPECT_EQ(payload, "zipped a");
  EXPECT_EQ(look(*cache, chunk_cache_key("test", {}, bytes_of("chunk b"))), CacheLookup::miss);
  // No temp file is left beside the entry.
  const fs::path shard = fs::path(dir / "cache") / a.path;
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(shard.parent_path())) files += e.path().filename().string()[0] != '.';
  EXPECT_EQ(files, 1u);
  for (const auto& e : fs::directory_iterator(shard.parent_path()))
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

TEST(ChunkCacheDir, DamagedPlantedAndMisplacedEntriesAreRefusedAndRemoved) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  const Stored flipped = store(*cache, "one", "zipped one");
  const Stored planted = store(*cache, "two", "zipped two");
  const Stored misplaced = store(*cache, "three", "zipped three");
  const Stored donor = store(*cache, "four", "zipped four");
  const std::string root = dir / "cache";
  std::string bytes = testing::read_text(root + "/" + flipped.path);
  bytes[bytes.size() / 2] ^= 1;
  testing::write_text(root + "/" + flipped.path, bytes);
  testing::write_text(dir / "outside", "secret");
  fs::remove(root + "/" + planted.path);
  fs::create_symlink(dir / "outside", root + "/" + planted.path);
  fs::copy_file(root + "/" + donor.path, root + "/" + misplaced.path, fs::copy_options::overwrite_existing);
  for (const Stored* s : {&flipped, &planted, &misplaced}) {
    std::string problem;
    EXPECT_EQ(look(*cache, s->key, nullptr, &problem), CacheLookup::corrupt) << s->path;
    EXPECT_NE(problem.find(s->path), std::string::npos) << problem;
    EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/" + s->path))) << "not removed: " << s->path;
  }
  EXPECT_EQ(testing::read_text(dir / "outside"), "secret");
  EXPECT_EQ(look(*cache, donor.key), CacheLookup::hit);
}

// A shard directory replaced by a symlink to a directory outside holding a
// file of the entry's name: the entry is refused, and nothing outside is
// read or deleted, by lookup, store or prune. A directory in an entry's
// place blocks only that entry (kind corrupt), and is removed when empty.
TEST(ChunkCacheDir, NeverReachesOutsideThroughASymlinkedShard) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  const Stored a = store(*cache, "chunk a", "zipped a");
  const std::string root = dir / "cache";
  const std::string shard = root + "/" + a.path.substr(0, a.path.rfind('/'));
  const std::string name = a.path.substr(a.path.rfind('/') + 1);
  fs::create_directories(dir / "outside");
  fs::copy_file(root + "/" + a.path, dir / ("outside/" + name));
  fs::remove_all(shard);
  fs::create_directory_symlink(dir / "outside", shard);
  // Refused; the symlink (not its target) is removed, so the shard is made anew.
  EXPECT_EQ(look(*cache, a.key), CacheLookup::corrupt);
  EXPECT_TRUE(fs::exists(dir / ("outside/" + name)));
  EXPECT_FALSE(fs::is_symlink(shard));
  std::vector<std::byte> entry;
  encode_cache_entry(a.key, {}, 1, bytes_of("zipped a"), entry);
  ASSERT_TRUE(cache->store(a.key, entry).ok());
  EXPECT_EQ(look(*cache, a.key), CacheLookup::hit);
  // Planted again: store refuses to write through it (kind corrupt), prune leaves the outside alone.
  fs::remove_all(shard);
  fs::create_directory_symlink(dir / "outside", shard);
  auto stored = cache->store(a.key, entry);
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().kind, ErrorKind::corrupt);
  ASSERT_TRUE(cache->prune(0).ok());
  EXPECT_TRUE(fs::exists(dir / ("outside/" + name)));
  EXPECT_EQ(fs::directory_iterator(dir / "outside")->path().filename(), name);

  const Stored b = store(*cache, "chunk b", "zipped b");
  fs::remove(root + "/" + b.path);
  fs::create_directory(root + "/" + b.path);
  EXPECT_EQ(look(*cache, b.key), CacheLookup::corrupt);
  EXPECT_FALSE(fs::exists(root + "/" + b.path)) << "an empty directory in the entry's place is removed";
  fs::create_directories(root + "/" + b.path + "/sub");
  encode_cache_entry(b.key, {}, 1, bytes_of("zipped b"), entry);
  stored = cache->store(b.key, entry);
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().kind, ErrorKind::corrupt) << stored.error().message;
  EXPECT_EQ(stored.error().field(), "") << "warnings must not show option field names";
}

TEST(ChunkCacheDir, PruneRemovesLeastRecentlyUsedFirst) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  const std::string root = dir / "cache";
  const std::string payload(1000, 'x');
  std::vector<Stored> entries;
  for (int i = 0; i < 4; ++i) entries.push_back(store(*cache, "chunk " + std::to_string(i), payload));
  for (int i = 0; i < 4; ++i) set_age(root + "/" + entries[i].path, 10000 - i * 1000);  // 0 oldest
  // A hit refreshes an entry older than an hour: entry 0 becomes the newest.
  EXPECT_EQ(look(*cache, entries[0].key), CacheLookup::hit);
  auto usage = cache->usage();
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->entries, 4u);
  const uint64_t one = usage->bytes / 4;
  // A stale temp file goes too; a fresh one (a build writing it) stays.
  const std::string shard = root + "/" + entries[1].path.substr(0, entries[1].path.rfind('/'));
  testing::write_text(shard + "/.tmp-old", "x");
  set_age(shard + "/.tmp-old", 7200);
  testing::write_text(shard + "/.tmp-new", "x");
  auto left = cache->prune(2 * one);
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_EQ(left->entries, 2u);
  EXPECT_EQ(look(*cache, entries[1].key), CacheLookup::miss);
  EXPECT_EQ(look(*cache, entries[2].key), CacheLookup::miss);
  EXPECT_EQ(look(*cache, entries[3].key), CacheLookup::hit);
  EXPECT_EQ(look(*cache, entries[0].key), CacheLookup::hit);
  EXPECT_FALSE(fs::exists(shard + "/.tmp-old"));
  EXPECT_TRUE(fs::exists(shard + "/.tmp-new"));
  left = cache->prune(0);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->entries, 0u);
  EXPECT_EQ(left->bytes, 0u);
}

// DIR/usage: what builds add to it is trusted until a scan recounts; a
// missing, garbled or planted (FIFO, symlink) file means a scan.
TEST(ChunkCacheDir, UsageFileIsAddedToAndRecountedByScans) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  const std::string usage_file = dir / "cache/usage";
  store(*cache, "chunk a", std::string(500, 'a'));
  // No file yet: the build's figures come from a scan (which sees its entry).
  auto estimate = cache->add_usage({1, 999});
  ASSERT_TRUE(estimate.ok()) << estimate.error().message;
  auto counted = cache->usage();
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(estimate->bytes, counted->bytes);
  EXPECT_EQ(estimate->entries, 1u);
  EXPECT_EQ(testing::read_text(usage_file), std::to_string(counted->bytes) + " 1\n");
  // Then additions are added, without looking at the entries.
  estimate = cache->add_usage({2, 1000});
  ASSERT_TRUE(estimate.ok());
  EXPECT_EQ(estimate->bytes, counted->bytes + 1000);
  EXPECT_EQ(estimate->entries, 3u);
  EXPECT_EQ(testing::read_text(usage_file), std::to_string(counted->bytes + 1000) + " 3\n");
  // A scan (usage, prune) sets it to what is there.
  ASSERT_TRUE(cache->prune(uint64_t{1} << 30).ok());
  EXPECT_EQ(testing::read_text(usage_file), std::to_string(counted->bytes) + " 1\n");
  // Garbled: recounted, never trusted.
  for (const std::string garbage : {"12", "x y\n", "", "5 5 5\n"}) {
    testing::write_text(usage_file, garbage);
    estimate = cache->add_usage({7, 7});
    ASSERT_TRUE(estimate.ok());
    EXPECT_EQ(estimate->bytes, counted->bytes) << garbage;
    EXPECT_EQ(estimate->entries, 1u) << garbage;
  }
  // Planted: a FIFO is neither opened for blocking nor trusted, a symlink
  // never followed (its target is untouched).
  fs::remove(usage_file);
  ASSERT_EQ(::mkfifo(usage_file.c_str(), 0644), 0);
  estimate = cache->add_usage({7, 7});
  ASSERT_TRUE(estimate.ok());
  EXPECT_EQ(estimate->bytes, counted->bytes);
  fs::remove(usage_file);
  testing::write_text(dir / "outside", "100 100\n");
  fs::create_symlink(dir / "outside", usage_file);
  estimate = cache->add_usage({7, 7});
  ASSERT_TRUE(estimate.ok());
  EXPECT_EQ(estimate->bytes, counted->bytes);
  EXPECT_EQ(testing::read_text(dir / "outside"), "100 100\n");
}

TEST(ChunkCacheDir, BuildsLogKeepsTheLastRecords) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  auto none = cache->recent_builds(10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  for (uint64_t i = 0; i < 3000; ++i) ASSERT_TRUE(cache->record_build({int64_t(i), i, 1, 2, 3, 4}).ok());
  std::ofstream(dir / "cache/builds.log", std::ios::app) << "garbage line\n";
  auto last = cache->recent_builds(3);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 3u);
  EXPECT_EQ(last->back().hits, 2999u);
  EXPECT_EQ(last->front().hits, 2997u);
  EXPECT_EQ(last->back().saved_nanoseconds, 4u);
  EXPECT_LT(fs::file_size(dir / "cache/builds.log"), 300u * 1024);  // kept short
}

TEST(ChunkCacheDir, LookingAfterAMissingCacheDoesNotCreateIt) {
  TempDir dir;
  auto missing = ChunkCacheDir::open(dir / "none", /*create=*/false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field(), "cache.dir");
  EXPECT_FALSE(fs::exists(dir / "none"));
}

TEST(ChunkCacheDir, DirMustBeADirectory) {
  TempDir dir;
  testing::write_text(dir / "file", "x");
  auto cache = ChunkCacheDir::open(dir / "file");
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.error().field(), "cache.dir");
  EXPECT_NE(cache.error().message.find(dir / "file"), std::string::npos) << cache.error().message;
}

}  // namespace
}  // namespace ocipack
