// Tests for pipeline/layer_stages.cc, each stage body on its own (no TBB):
//  - StreamWindow keeps exactly the last `capacity` bytes, whatever the
//    sizes appended, and nothing at capacity 0;
//  - produce_chunk hands out the tar stream chunk by chunk and gives each
//    chunk the stream's bytes before it (up to the window) as dictionary;
//  - UncompressedHasher hashes the stream and shows it to the framing; with
//    a key identity it also gives each piece's chunk_cache_key, hashed in the
//    same pass, without changing the diff_id;
//  - compress_chunk writes the chunk's compressed form (decodes to it);
//  - BlobSink appends to the file and hashes what it wrote; write errors
//    name the file; every flush_bytes it asks for a background flush, whose
//    failure settle() reports, naming the file;
//  - compress_with_cache reads a chunk compressed before with the same bytes
//    and frame sizes, and recomputes a damaged entry; with defer_store it
//    marks a miss for storing later instead of writing an entry, and a hit
//    from a pack carries the pack and its CRC.
#include "pipeline/layer_stages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "core/cache/pack_index.h"
#include "core/codec/crc64.h"
#include "core/util/sha256.h"
#include "core/util/unique_fd.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string text_of(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Chunk make_chunk(size_t capacity, size_t compressed_capacity, size_t history) {
  Chunk chunk;
  chunk.data = LargeBuffer(capacity);
  chunk.capacity = capacity;
  chunk.compressed = LargeBuffer(compressed_capacity);
  chunk.compressed_capacity = compressed_capacity;
  if (history) chunk.dictionary = std::make_unique<std::byte[]>(history);
  return chunk;
}

TEST(StreamWindow, KeepsTheLastBytes) {
  StreamWindow window(10);
  EXPECT_TRUE(window.bytes().empty());
  window.append(bytes_of("abc"));
  EXPECT_EQ(text_of(window.bytes()), "abc");
  window.append(bytes_of("defghij"));
  EXPECT_EQ(text_of(window.bytes()), "abcdefghij");
  window.append(bytes_of("kl"));
  EXPECT_EQ(text_of(window.bytes()), "cdefghijkl");
  window.append(bytes_of("0123456789ABCDEF"));
  EXPECT_EQ(text_of(window.bytes()), "6789ABCDEF");
  window.append({});
  EXPECT_EQ(text_of(window.bytes()), "6789ABCDEF");
}

TEST(StreamWindow, CapacityZeroKeepsNothing) {
  StreamWindow window(0);
  window.append(bytes_of("abc"));
  EXPECT_TRUE(window.bytes().empty());
}

// A tree whose stream spans several 64 KiB chunks.
void make_tree(const std::string& root) {
  testing::make_dirs(root);
  std::mt19937 rng(3);
  for (int i = 0; i < 12; ++i) {
    std::string text(30000 + 1000 * i, '\0');
    for (auto& c : text) c = static_cast<char>('a' + rng() % 20);
    testing::write_text(root + "/f" + std::to_string(i), text);
  }
}

std::unique_ptr<TarChunker> chunker_for(const std::string& root, const ChunkingOptions& options) {
  auto walker = RootfsWalker::open(root, {});
  EXPECT_TRUE(walker.ok());
  return std::make_unique<TarChunker>(std::make_unique<RootfsWalker>(std::move(*walker)), options);
}

TEST(ProduceChunk, GivesEachChunkTheStreamBeforeIt) {
  TempDir dir;
  make_tree(dir / "root");
  ChunkingOptions options;
  options.target_size = 64 * 1024;
  for (size_t history : {size_t{0}, size_t{1000}, k_deflate_window}) {
    auto chunker = chunker_for(dir / "root", options);
    StreamWindow window(history);
    Chunk chunk = make_chunk(options.capacity(), 16, history);
    std::string stream;
    size_t chunks = 0;
    for (;;) {
      auto more = produce_chunk(*chunker, window, chunk);
      ASSERT_TRUE(more.ok()) << more.error().message;
      if (!*more) break;
      ++chunks;
      const std::string expected = stream.substr(stream.size() - std::min(stream.size(), history));
      EXPECT_EQ(text_of(chunk.dictionary_bytes()), expected) << "chunk " << chunks << ", history " << history;
      stream += text_of(chunk.bytes());
    }
    EXPECT_GT(chunks, 4u);
    EXPECT_EQ(stream.size() % 512, 0u);
    EXPECT_EQ(stream.substr(stream.size() - 1024), std::string(1024, '\0'));  // the tar trailer
  }
}

// A source that fails at its first entry.
class FailingSource final : public EntrySource {
 public:
  Result<std::optional<WalkItem>> next() override { return input_error("cannot read /broken"); }
  const std::vector<std::string>& warnings() const override { return m_warnings; }

 private:
  std::vector<std::string> m_warnings;
};

TEST(ProduceChunk, ReportsTheSourcesError) {
  ChunkingOptions options;
  TarChunker chunker(std::make_unique<FailingSource>(), options);
  StreamWindow window(0);
  Chunk chunk = make_chunk(options.capacity(), 16, 0);
  auto more = produce_chunk(chunker, window, chunk);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().message, "cannot read /broken");
}

// Records what it observes.
class RecordingFraming final : public BlobFraming {
 public:
  std::vector<std::byte> prologue() const override { return {}; }
  void observe(const StreamPiece& piece) override { seen += text_of(piece.bytes); }
  Result<BlobEpilogue> epilogue(uint64_t) override { return BlobEpilogue{}; }
  std::string seen;
};

TEST(UncompressedHasher, HashesTheStreamAndShowsItToTheFraming) {
  RecordingFraming framing;
  UncompressedHasher hasher(framing);
  hasher.add({bytes_of("hello "), {}, {}});
  hasher.add({bytes_of(""), {}, {}});
  hasher.add({bytes_of("world"), {}, {}});
  EXPECT_EQ(hasher.size(), 11u);
  EXPECT_EQ(framing.seen, "hello world");
  EXPECT_EQ(hasher.finish(), Sha256::of("hello world"));
}

TEST(UncompressedHasher, KeyedPiecesGiveTheirCacheKeysAndTheSameDiffId) {
  std::mt19937 rng(4);
  std::string stream(3'000'000, '\0');
  for (char& c : stream) c = static_cast<char>(rng());
  RecordingFraming plain_framing, keyed_framing;
  UncompressedHasher plain(plain_framing);
  UncompressedHasher keyed(keyed_framing, "gzip libdeflate 6");
  EXPECT_FALSE(plain.keys_chunks());
  EXPECT_TRUE(keyed.keys_chunks());
  size_t at = 0;
  // Sizes that leave the diff_id stream at every kind of offset in a block.
  for (size_t size : {size_t{0}, size_t{1}, size_t{63}, size_t{100'000}, size_t{64}, size_t{999'937}, size_t{1'900'000 - 65}}) {
    const auto bytes = bytes_of(stream).subspan(at, size);
    at += size;
    const std::vector<size_t> frames = size > 10 ? std::vector<size_t>{size / 2, size} : std::vector<size_t>{};
    plain.add({bytes, {}, frames});
    const ChunkKey key = keyed.add_keyed({bytes, {}, frames});
    EXPECT_EQ(key, chunk_cache_key("gzip libdeflate 6", frames, bytes)) << size;
    EXPECT_NE(key, chunk_cache_key("gzip libdeflate 9", frames, bytes)) << size;
  }
  EXPECT_EQ(keyed.size(), at);
  EXPECT_EQ(keyed_framing.seen, plain_framing.seen);
  EXPECT_EQ(keyed.finish(), Sha256::of(stream.substr(0, at)));
  EXPECT_EQ(plain.finish(), Sha256::of(stream.substr(0, at)));
}

TEST(CompressChunk, WritesTheChunksCompressedForm) {
  auto compressor = make_compressor(CodecKind::libdeflate, 6, CompressedShape::gzip_member);
  ASSERT_TRUE(compressor.ok());
  const std::string input(100000, 'x');
  Chunk chunk = make_chunk(input.size(), (*compressor)->bound(input.size()), 0);
  std::memcpy(chunk.data.get(), input.data(), input.size());
  chunk.size = input.size();
  ASSERT_TRUE(compress_chunk(**compressor, chunk).ok());
  EXPECT_GT(chunk.compressed_size, 0u);
  EXPECT_LT(chunk.compressed_size, input.size() / 100);
  EXPECT_EQ(testing::gunzip_all(text_of(chunk.compressed_bytes())), input);
}

TEST(CompressChunk, ChunkWithFrameEndsIsCompressedFrameByFrameGrowingItsBuffer) {
  auto compressor = make_compressor(CodecKind::libdeflate, 6, CompressedShape::gzip_member);
  ASSERT_TRUE(compressor.ok());
  std::mt19937 rng(9);
  std::string input(30000, '\0');
  for (auto& c : input) c = static_cast<char>(rng());
  // Output room for the whole chunk as one frame, too little for 100 frames.
  Chunk chunk = make_chunk(input.size(), (*compressor)->bound(input.size()), 0);
  std::memcpy(chunk.data.get(), input.data(), input.size());
  chunk.size = input.size();
  for (size_t end = 300; end <= input.size(); end += 300) chunk.frame_ends.push_back(end);
  ASSERT_TRUE(compress_chunk(**compressor, chunk).ok());
  ASSERT_EQ(chunk.compressed_frame_sizes.size(), 100u);
  EXPECT_GE(chunk.compressed_capacity, chunk.compressed_size);
  EXPECT_EQ(written_frame_sizes(chunk).size(), 100u);
  size_t at = 0;
  for (size_t i = 0; i < 100; ++i) {  // each frame decodes to its own 300 bytes
    const std::string frame = text_of(chunk.compressed_bytes().subspan(at, chunk.compressed_frame_sizes[i]));
    EXPECT_EQ(testing::gunzip_all(frame), input.substr(300 * i, 300)) << "frame " << i;
    at += chunk.compressed_frame_sizes[i];
  }
  EXPECT_EQ(at, chunk.compressed_size);
  // Without frame ends the chunk is one frame, and says so.
  Chunk whole = make_chunk(input.size(), (*compressor)->bound(input.size()), 0);
  std::memcpy(whole.data.get(), input.data(), input.size());
  whole.size = input.size();
  ASSERT_TRUE(compress_chunk(**compressor, whole).ok());
  ASSERT_EQ(written_frame_sizes(whole).size(), 1u);
  EXPECT_EQ(written_frame_sizes(whole)[0], whole.compressed_size);
}

TEST(CompressChunk, UsesTheChunksDictionary) {
  auto compressor = make_compressor(CodecKind::isal, 1, CompressedShape::deflate_piece);
  ASSERT_TRUE(compressor.ok());
  std::mt19937 rng(5);
  std::string block(20000, '\0');
  for (auto& c : block) c = static_cast<char>(rng());
  Chunk chunk = make_chunk(block.size(), (*compressor)->bound(block.size()), k_deflate_window);
  std::memcpy(chunk.data.get(), block.data(), block.size());
  chunk.size = block.size();
  ASSERT_TRUE(compress_chunk(**compressor, chunk).ok());
  const size_t without = chunk.compressed_size;
  std::memcpy(chunk.dictionary.get(), block.data(), block.size());  // the same bytes came just before
  chunk.dictionary_size = block.size();
  ASSERT_TRUE(compress_chunk(**compressor, chunk).ok());
  EXPECT_LT(chunk.compressed_size, without / 10);
}

TEST(BlobSink, AppendsAndHashes) {
  TempDir dir;
  UniqueFd fd(::open((dir / "blob").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  BlobSink sink(fd.get(), "the blob");
  ASSERT_TRUE(sink.append(bytes_of("head")).ok());
  ASSERT_TRUE(sink.append(bytes_of("")).ok());
  ASSERT_TRUE(sink.append(bytes_of("-tail")).ok());
  EXPECT_EQ(sink.size(), 9u);
  EXPECT_EQ(sink.finish(), Sha256::of("head-tail"));
  EXPECT_EQ(testing::read_text(dir / "blob"), "head-tail");
}

std::atomic<int> g_sink_syncs{0};
int counting_sync(int fd) {
  g_sink_syncs.fetch_add(1);
  return ::fdatasync(fd);
}
int failing_sync(int) {
  errno = EIO;
  return -1;
}

TEST(BlobSink, FlushesEveryFlushBytesInTheBackground) {
  TempDir dir;
  UniqueFd fd(::open((dir / "blob").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  g_sink_syncs = 0;
  BlobSink sink(fd.get(), "the blob", 8, counting_sync);
  ASSERT_TRUE(sink.append(bytes_of("1234567")).ok());  // under 8 bytes: no flush asked for
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(g_sink_syncs.load(), 0);
  ASSERT_TRUE(sink.append(bytes_of("89")).ok());  // 9 bytes: one flush
  for (int i = 0; i < 10000 && sink.flushes() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(sink.flushes(), 1u);
  EXPECT_TRUE(sink.settle().ok());
  EXPECT_EQ(g_sink_syncs.load(), 1);
  EXPECT_EQ(testing::read_text(dir / "blob"), "123456789");
}

TEST(BlobSink, AFailedFlushFailsSettleNamingTheBlob) {
  TempDir dir;
  UniqueFd fd(::open((dir / "blob").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  BlobSink sink(fd.get(), "the blob", 4, failing_sync);
  ASSERT_TRUE(sink.append(bytes_of("12345")).ok());
  for (int i = 0; i < 10000 && sink.flushes() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(sink.flushes(), 1u);
  auto status = sink.settle();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("cannot write the blob"), std::string::npos) << status.error().message;
}

TEST(BlobSink, WriteErrorsNameTheBlob) {
  UniqueFd fd(::open("/dev/full", O_WRONLY));
  ASSERT_TRUE(fd.valid());
  BlobSink sink(fd.get(), "the blob");
  auto status = sink.append(bytes_of("data"));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("the blob"), std::string::npos) << status.error().message;
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// compress_with_cache: a chunk compressed once is read back the second time,
// with exactly the bytes (and frame sizes) compress_chunk gives; a damaged
// entry is recomputed; with storing switched off nothing is stored.
Chunk chunk_of(const std::string& input, const Compressor& compressor, std::vector<size_t> frame_ends = {}) {
  Chunk chunk = make_chunk(input.size(), compressor.bound(input.size()), 0);
  std::memcpy(chunk.data.get(), input.data(), input.size());
  chunk.size = input.size();
  chunk.frame_ends = std::move(frame_ends);
  return chunk;
}

TEST(CompressWithCache, ASecondChunkWithTheSameBytesIsReadWithTheSameResult) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  auto compressor = make_compressor(CodecKind::libdeflate, 6, CompressedShape::gzip_member);
  ASSERT_TRUE(compressor.ok());
  std::mt19937 rng(5);
  std::string input(50000, '\0');
  for (auto& c : input) c = static_cast<char>('a' + rng() % 4);
  for (const std::vector<size_t>& frames : {std::vector<size_t>{}, std::vector<size_t>{1000, 1000, 30000, 50000}}) {
    const ChunkCacheUse use{*cache, "test identity", CompressedShape::gzip_member};
    CacheWorker worker;
    Chunk plain = chunk_of(input, **compressor, frames);
    ASSERT_TRUE(compress_chunk(**compressor, plain).ok());
    Chunk first = chunk_of(input, **compressor, frames);
    auto cold = compress_with_cache(**compressor, use, worker, {}, first);
    ASSERT_TRUE(cold.ok());
    EXPECT_EQ(cold->origin, ChunkOrigin::compressed);
    Chunk second = chunk_of(input, **compressor, frames);
    auto warm = compress_with_cache(**compressor, use, worker, {}, second);
    ASSERT_TRUE(warm.ok());
    EXPECT_EQ(warm->origin, ChunkOrigin::local);
    EXPECT_FALSE(warm->corrupt);
    // The hit was read into the chunk's own buffer: the payload stays after
    // the entry's head, not copied to the start.
    EXPECT_GT(second.compressed_offset, 0u);
    // A chunk whose buffer cannot hold the entry gets it through the
    // worker's buffer, copied into a grown one.
    Chunk small = chunk_of(input, **compressor, frames);
    small.compressed = LargeBuffer(16);
    small.compressed_capacity = 16;
    auto spilled = compress_with_cache(**compressor, use, worker, {}, small);
    ASSERT_TRUE(spilled.ok());
    EXPECT_EQ(spilled->origin, ChunkOrigin::local);
    EXPECT_EQ(small.compressed_offset, 0u);
    for (const Chunk* c : {&first, &second, &small}) {
      EXPECT_EQ(text_of(c->compressed_bytes()), text_of(plain.compressed_bytes()));
      EXPECT_EQ(c->compressed_frame_sizes, plain.compressed_frame_sizes);
    }
    // The chunk that held a hit in place, reused for other bytes (a miss),
    // is compressed from the start of its buffer again.
    std::string other_input = input;
    other_input[7] = 'z';
    Chunk other_plain = chunk_of(other_input, **compressor, frames);
    ASSERT_TRUE(compress_chunk(**compressor, other_plain).ok());
    std::memcpy(second.data.get(), other_input.data(), other_input.size());
    auto reused = compress_with_cache(**compressor, use, worker, {}, second);
    ASSERT_TRUE(reused.ok());
    EXPECT_EQ(reused->origin, ChunkOrigin::compressed);
    EXPECT_EQ(second.compressed_offset, 0u);
    EXPECT_EQ(text_of(second.compressed_bytes()), text_of(other_plain.compressed_bytes()));
    // Another identity (another level, codec version...) does not hit.
    Chunk third = chunk_of(input, **compressor, frames);
    auto other = compress_with_cache(**compressor, {*cache, "other identity", CompressedShape::gzip_member}, worker, {.store = false}, third);
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->origin, ChunkOrigin::compressed);
    Chunk fourth = chunk_of(input, **compressor, frames);
    auto unstored = compress_with_cache(**compressor, {*cache, "other identity", CompressedShape::gzip_member}, worker, {}, fourth);
    ASSERT_TRUE(unstored.ok());
    EXPECT_EQ(unstored->origin, ChunkOrigin::compressed) << "store=false stored an entry";
  }
}

// With defer_store (the layer graph's way): a miss stores nothing yet but
// marks the chunk with its key, time and the CRC of its compressed bytes,
// for CacheRun::store_layer; a hit from a pack carries the pack and the
// CRC its index records, a hit from an entry file neither.
TEST(CompressWithCache, DeferredStoreMarksTheChunkInsteadOfWritingAnEntry) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  auto compressor = make_compressor(CodecKind::libdeflate, 6, CompressedShape::gzip_member);
  ASSERT_TRUE(compressor.ok());
  const std::string input(60000, 'd');
  const ChunkCacheUse use{*cache, "deferred", CompressedShape::gzip_member};
  CacheWorker worker;
  Chunk first = chunk_of(input, **compressor);
  auto cold = compress_with_cache(**compressor, use, worker, {.defer_store = true}, first);
  ASSERT_TRUE(cold.ok());
  EXPECT_EQ(cold->origin, ChunkOrigin::compressed);
  EXPECT_EQ(cold->stored_bytes, 0u);
  EXPECT_TRUE(first.cache_store);
  ASSERT_TRUE(first.cache_key.has_value());
  EXPECT_EQ(*first.cache_key, chunk_cache_key(use.identity, {}, first.bytes()));
  EXPECT_EQ(first.cache_crc, crc64_iso(0, first.compressed_bytes()));
  EXPECT_FALSE(first.cache_pack.has_value());
  EXPECT_FALSE(std::filesystem::exists(dir / "cache/" + cache_entry_path(*first.cache_key)));
  Chunk again = chunk_of(input, **compressor);
  auto missed = compress_with_cache(**compressor, use, worker, {.defer_store = true}, again);
  ASSERT_TRUE(missed.ok());
  EXPECT_EQ(missed->origin, ChunkOrigin::compressed) << "a deferred store wrote an entry";
  // Stored as a pack from a blob holding the bytes: then a hit carries it.
  const std::string blob_path = dir / "blob";
  testing::write_text(blob_path, "head" + text_of(first.compressed_bytes()));
  UniqueFd blob_fd(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
  PackIndex index{Sha256::of(testing::read_text(blob_path)), 4 + first.compressed_size, {}};
  index.records.push_back({*first.cache_key, 4, first.compressed_size, 7, first.cache_crc, {}});
  ASSERT_TRUE(cache->store_pack(blob_fd.get(), index).ok());
  auto loaded = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->load_packs().empty());
  const ChunkCacheUse packed{*loaded, "deferred", CompressedShape::gzip_member};
  Chunk hit = chunk_of(input, **compressor);
  auto from_pack = compress_with_cache(**compressor, packed, worker, {.defer_store = true}, hit);
  ASSERT_TRUE(from_pack.ok());
  EXPECT_EQ(from_pack->origin, ChunkOrigin::local);
  EXPECT_FALSE(hit.cache_store);
  EXPECT_EQ(hit.cache_pack, std::optional<size_t>(0));
  EXPECT_EQ(hit.cache_crc, first.cache_crc);
  EXPECT_EQ(text_of(hit.compressed_bytes()), text_of(first.compressed_bytes()));
  // A hit from an entry file carries no pack.
  Chunk other = chunk_of(input + "e", **compressor);
  ASSERT_TRUE(compress_with_cache(**compressor, packed, worker, {}, other).ok());  // stores an entry now
  Chunk entry_hit = chunk_of(input + "e", **compressor);
  entry_hit.cache_pack = 3;  // left over from the chunk's last use
  auto from_entry = compress_with_cache(**compressor, packed, worker, {.defer_store = true}, entry_hit);
  ASSERT_TRUE(from_entry.ok());
  EXPECT_EQ(from_entry->origin, ChunkOrigin::local);
  EXPECT_FALSE(entry_hit.cache_pack.has_value());
}

// A pack whose record claims frames the chunk does not have: the hit is
// refused, the pack dropped (index removed) with one warning naming it,
// and the chunk compressed.
TEST(CompressWithCache, APackRecordWhoseFramesDoNotFitDropsThePack) {
  TempDir dir;
  auto compressor = make_compressor(CodecKind::libdeflate, 6, CompressedShape::gzip_member);
  ASSERT_TRUE(compressor.ok());
  const std::string input(30000, 'f');
  Chunk plain = chunk_of(input, **compressor);
  ASSERT_TRUE(compress_chunk(**compressor, plain).ok());
  const std::string blob = text_of(plain.compressed_bytes());
  testing::write_text(dir / "blob", blob);
  UniqueFd blob_fd(::open((dir / "blob").c_str(), O_RDONLY | O_CLOEXEC));
  const ChunkKey key = chunk_cache_key("frames", {}, plain.bytes());
  PackIndex index{Sha256::of(blob), blob.size(), {}};
  index.records.push_back({key, 0, blob.size(), 7, crc64_iso(0, plain.compressed_bytes()), {1, blob.size() - 1}});
  {
    auto cache = ChunkCacheDir::open(dir / "cache");
    ASSERT_TRUE(cache.ok());
    ASSERT_TRUE(cache->store_pack(blob_fd.get(), index).ok());
  }
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  EXPECT_TRUE(cache->load_packs().empty());
  const ChunkCacheUse use{*cache, "frames", CompressedShape::gzip_member};
  CacheWorker worker;
  Chunk chunk = chunk_of(input, **compressor);
  auto outcome = compress_with_cache(**compressor, use, worker, {.defer_store = true}, chunk);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->origin, ChunkOrigin::compressed);
  EXPECT_TRUE(outcome->corrupt);
  EXPECT_NE(outcome->corrupt_problem.find(".pack: a chunk's frames do not match it; pack dropped"), std::string::npos)
      << outcome->corrupt_problem;
  EXPECT_TRUE(cache->pack_dropped(0));
  EXPECT_FALSE(std::filesystem::exists(dir / ("cache/packs/" + index.blob.hex() + ".idx")));
  EXPECT_EQ(text_of(chunk.compressed_bytes()), blob);
}

TEST(CompressWithCache, ADamagedEntryIsRecomputedAndReplaced) {
  TempDir dir;
  auto cache = ChunkCacheDir::open(dir / "cache");
  ASSERT_TRUE(cache.ok());
  auto compressor = make_compressor(CodecKind::zstd, 3, CompressedShape::zstd_frame);
  ASSERT_TRUE(compressor.ok());
  const std::string input(70000, 'q');
  const ChunkCacheUse use{*cache, "zstd identity", CompressedShape::zstd_frame};
  CacheWorker worker;
  Chunk first = chunk_of(input, **compressor);
  ASSERT_TRUE(compress_with_cache(**compressor, use, worker, {}, first).ok());
  const std::string path = dir / "cache/" + cache_entry_path(chunk_cache_key(use.identity, {}, first.bytes()));
  std::string entry = testing::read_text(path);
  entry.resize(entry.size() - 3);
  testing::write_text(path, entry);
  Chunk second = chunk_of(input, **compressor);
  auto again = compress_with_cache(**compressor, use, worker, {}, second);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->origin, ChunkOrigin::compressed);
  EXPECT_TRUE(again->corrupt);
  EXPECT_NE(again->corrupt_problem.find("checksum mismatch"), std::string::npos) << again->corrupt_problem;
  EXPECT_EQ(text_of(second.compressed_bytes()), text_of(first.compressed_bytes()));
  Chunk third = chunk_of(input, **compressor);
  auto healed = compress_with_cache(**compressor, use, worker, {}, third);
  ASSERT_TRUE(healed.ok());
  EXPECT_EQ(healed->origin, ChunkOrigin::local);
}

}  // namespace
}  // namespace ocipack
