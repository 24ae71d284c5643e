// Tests for pipeline/layer_graph.cc: the parallel pipeline produces a valid
// multi-member gzip whose content is the tar stream, with digest and diff_id
// equal to independently computed SHA-256s, identical bytes for any thread
// count, bounded chunk buffers, and errors/cancellation that stop the run
// (a background flush of the blob that fails among them).
// The single-member format (with and without dictionary) goes through the
// same graph and comes out as ONE gzip member of the same stream; zstd
// comes out as one frame per chunk and none as the tar stream itself. Several
// layers run in one graph: each blob is the same bytes as when built alone,
// the chunk limit holds for all of them together, progress is summed, and
// the first failing layer's error stops the run. zstd:chunked goes through
// the same graph (frames following the tar's entries) and is checked with
// verify's zstd:chunked check.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <cerrno>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <filesystem>
#include <functional>
#include <random>

#include "core/codec/stream_decoder.h"
#include "core/image/chunked_layer_check.h"
#include "core/tar/tar_scan.h"
#include "core/util/unique_fd.h"
#include "core/util/sha256.h"
#include "pipeline/layer_graph.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

void make_tree(const std::string& root) {
  testing::make_dirs(root + "/a/b");
  std::mt19937 rng(42);
  for (int i = 0; i < 50; ++i) {
    std::string text;
    for (int j = 0; j < 2000 + i * 100; ++j) text += static_cast<char>('a' + rng() % 6);
    testing::write_text(root + "/a/t" + std::to_string(i), text);
  }
  std::string noise(2 * 1024 * 1024, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  testing::write_text(root + "/a/b/noise", noise);
}

struct LayerRunOutput {
  LayerResult result;
  std::string blob;
};

// A job that walks `root` into the file `blob`.
LayerJob walk_job(const std::string& root, const UniqueFd& blob) {
  return {[root]() -> Result<std::unique_ptr<EntrySource>> {
            OCIPACK_TRY_ASSIGN(auto walker, RootfsWalker::open(root, {}));
            return std::unique_ptr<EntrySource>(std::make_unique<RootfsWalker>(std::move(walker)));
          },
          blob.get(), "blob"};
}

LayerPipelineOptions options_for(int threads, size_t target = 64 * 1024, int level = 6) {
  LayerPipelineOptions options;
  options.threads = threads;
  options.chunking.target_size = target;
  options.codec.level = level;
  return options;
}

// Runs the graph over several trees at once; one output per tree.
Result<std::vector<LayerRunOutput>> run_all(const std::vector<std::string>& roots, const LayerPipelineOptions& options,
                                 const BuildHooks& hooks = {}) {
  OCIPACK_TRY_ASSIGN(auto format, resolve_layer_format(options.codec));
  TempDir out;
  std::vector<UniqueFd> fds;
  std::vector<LayerJob> jobs;
  for (size_t i = 0; i < roots.size(); ++i) {
    fds.emplace_back(::open((out / ("blob" + std::to_string(i))).c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
    jobs.push_back(walk_job(roots[i], fds.back()));
  }
  OCIPACK_TRY_ASSIGN(auto outcomes, run_layer_graph(*format, options, std::move(jobs), hooks));
  std::vector<LayerRunOutput> runs;
  for (size_t i = 0; i < roots.size(); ++i)
    runs.push_back({outcomes[i].result, testing::read_text(out / ("blob" + std::to_string(i)))});
  return runs;
}

Result<LayerRunOutput> run(const std::string& root, int threads, size_t target = 64 * 1024,
                const std::atomic<bool>* cancel = nullptr, int level = 6) {
  BuildHooks hooks;
  hooks.cancel = cancel;
  OCIPACK_TRY_ASSIGN(auto runs, run_all({root}, options_for(threads, target, level), hooks));
  return runs.at(0);
}

// The tar stream as the chunker emits it, without the graph.
std::string plain_tar(const std::string& root) {
  auto walker = RootfsWalker::open(root, {});
  ChunkingOptions options;
  TarChunker chunker(std::make_unique<RootfsWalker>(std::move(*walker)), options);
  Chunk chunk;
  chunk.capacity = options.capacity();
  chunk.data = LargeBuffer(chunk.capacity);
  std::string tar;
  while (*chunker.fill(chunk)) tar.append(reinterpret_cast<const char*>(chunk.data.get()), chunk.size);
  return tar;
}

TEST(LayerPipeline, BlobIsMultiMemberGzipOfTheTarStream) {
  TempDir dir;
  make_tree(dir / "root");
  auto r = run(dir / "root", 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string tar = plain_tar(dir / "root");
  EXPECT_EQ(testing::gunzip_all(r->blob), tar);
  EXPECT_EQ(r->result.diff_id, Sha256::of(tar));
  EXPECT_EQ(r->result.digest, Sha256::of(r->blob));
  EXPECT_EQ(r->result.compressed_size, r->blob.size());
  EXPECT_EQ(r->result.uncompressed_size, tar.size());
  EXPECT_GT(r->result.chunks, 10u);
  EXPECT_EQ(testing::count_gzip_members(r->blob), r->result.chunks);
}

TEST(LayerPipeline, SameBytesForAnyThreadCount) {
  TempDir dir;
  make_tree(dir / "root");
  auto one = run(dir / "root", 1);
  ASSERT_TRUE(one.ok());
  for (int threads : {2, 3, 8}) {
    auto other = run(dir / "root", threads);
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->result.digest, one->result.digest) << threads << " threads";
    EXPECT_EQ(other->blob, one->blob);
  }
}

TEST(LayerPipeline, ChunkBuffersAreBoundedByTheInFlightLimit) {
  TempDir dir;
  make_tree(dir / "root");
  auto r = run(dir / "root", 2);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->result.chunks, 2 * max_chunks_in_flight(2));
  // The producer may hold one chunk the limiter has not accepted yet.
  EXPECT_LE(r->result.chunk_buffers, max_chunks_in_flight(2) + 1);
}

TEST(LayerPipeline, HigherLevelIsNotLarger) {
  TempDir dir;
  make_tree(dir / "root");
  auto fast = run(dir / "root", 2, 64 * 1024, nullptr, 1);
  auto best = run(dir / "root", 2, 64 * 1024, nullptr, 9);
  ASSERT_TRUE(fast.ok() && best.ok());
  EXPECT_LE(best->blob.size(), fast->blob.size());
  EXPECT_EQ(best->result.diff_id, fast->result.diff_id);
}

TEST(LayerPipeline, CancelStopsWithAnError) {
  TempDir dir;
  make_tree(dir / "root");
  std::atomic<bool> cancel{true};
  auto r = run(dir / "root", 2, 64 * 1024, &cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "interrupted");
  EXPECT_TRUE(r.error().is(ErrorKind::interrupted));
}

// One layer of make_tree's tree into `blob`, named "the blob", with `adjust`
// applied to its job: for the runs that must fail.
Result<std::vector<LayerOutcome>> run_the_blob(const std::string& root, const UniqueFd& blob,
                                               const std::function<void(LayerJob&)>& adjust = {}) {
  const LayerPipelineOptions options = options_for(2);
  OCIPACK_TRY_ASSIGN(auto format, resolve_layer_format(options.codec));
  std::vector<LayerJob> jobs;
  jobs.push_back(walk_job(root, blob));
  jobs.back().blob_name = "the blob";
  if (adjust) adjust(jobs.back());
  return run_layer_graph(*format, options, std::move(jobs));
}

TEST(LayerPipeline, WriteErrorIsReported) {
  TempDir dir;
  make_tree(dir / "root");
  UniqueFd fd(::open("/dev/full", O_WRONLY));
  ASSERT_TRUE(fd.valid());
  auto result = run_the_blob(dir / "root", fd);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("the blob"), std::string::npos) << result.error().message;
}

// A background flush of the blob that fails (BlobFlusher) fails the layer,
// naming the blob, though every write succeeded: the kernel reports a
// writeback error once, so the commit's fsync would not see it again.
int failing_blob_sync(int) {
  errno = EIO;
  return -1;
}

TEST(LayerPipeline, FailedBackgroundFlushIsReported) {
  TempDir dir;
  make_tree(dir / "root");
  UniqueFd fd(::open((dir / "blob").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  auto result = run_the_blob(dir / "root", fd, [](LayerJob& job) {
    job.flush_bytes = 1;  // ask after every write
    job.blob_sync = failing_blob_sync;
  });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("cannot write the blob"), std::string::npos) << result.error().message;
}

TEST(LayerPipeline, EmptyRootfsGivesJustTheTrailer) {
  TempDir dir;
  testing::make_dirs(dir / "root");
  auto r = run(dir / "root", 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(testing::gunzip_all(r->blob), std::string(1024, '\0'));
  EXPECT_EQ(r->result.chunks, 1u);
}

// The single-member format, with and without dictionary: ONE gzip member
// of the same tar stream, the same diff_id as the members format, the same
// bytes for any thread count, and the dictionary never grows the blob here.
TEST(LayerPipeline, SingleMemberFormatIsOneMemberOfTheStream) {
  TempDir dir;
  make_tree(dir / "root");
  const std::string tar = plain_tar(dir / "root");
  std::string plain_blob;
  for (bool dictionary : {false, true}) {
    SCOPED_TRACE(dictionary ? "with dictionary" : "without dictionary");
    std::string one_thread_blob;
    for (int threads : {1, 3}) {
      LayerPipelineOptions options = options_for(threads);
      options.codec = {CodecKind::isal, 1, GzipFormat::single, dictionary};
      auto runs = run_all({dir / "root"}, options);
      ASSERT_TRUE(runs.ok()) << runs.error().message;
      const LayerRunOutput& r = runs->at(0);
      EXPECT_EQ(testing::count_gzip_members(r.blob), 1u);
      EXPECT_EQ(testing::gunzip_all(r.blob), tar);
      EXPECT_EQ(r.result.diff_id, Sha256::of(tar));
      EXPECT_EQ(r.result.digest, Sha256::of(r.blob));
      EXPECT_EQ(r.result.compressed_size, r.blob.size());
      EXPECT_GT(r.result.chunks, 10u);
      if (threads == 1) one_thread_blob = r.blob;
      EXPECT_EQ(r.blob, one_thread_blob) << threads << " threads";
    }
    if (!dictionary) plain_blob = one_thread_blob;
    else EXPECT_LE(one_thread_blob.size(), plain_blob.size());
  }
}

// zstd: the blob is one zstd frame per chunk, decoding to the tar stream,
// with the diff_id of the gzip layer of the same tree and the same bytes
// for 1 and 3 threads; none: the blob is the tar stream (digest = diff_id).
TEST(LayerPipeline, ZstdAndNoneFormatsRunThroughTheSameGraph) {
  TempDir dir;
  make_tree(dir / "root");
  const std::string tar = plain_tar(dir / "root");
  auto gzip = run(dir / "root", 2);
  ASSERT_TRUE(gzip.ok());
  for (LayerCompression compression : {LayerCompression::zstd, LayerCompression::none}) {
    SCOPED_TRACE(layer_compression_name(compression));
    std::string one_thread_blob;
    for (int threads : {1, 3}) {
      LayerPipelineOptions options = options_for(threads);
      options.codec = {};
      options.codec.compression = compression;
      auto runs = run_all({dir / "root"}, options);
      ASSERT_TRUE(runs.ok()) << runs.error().message;
      const LayerRunOutput& r = runs->at(0);
      if (compression == LayerCompression::zstd) {
        EXPECT_EQ(testing::count_zstd_frames(r.blob), r.result.chunks);
        EXPECT_EQ(testing::unzstd_all(r.blob), tar);
        EXPECT_LT(r.blob.size(), tar.size());
      } else {
        EXPECT_EQ(r.blob, tar);
        EXPECT_EQ(r.result.digest, r.result.diff_id);
      }
      EXPECT_EQ(r.result.diff_id, gzip->result.diff_id);
      EXPECT_EQ(r.result.diff_id, Sha256::of(tar));
      EXPECT_EQ(r.result.digest, Sha256::of(r.blob));
      EXPECT_EQ(r.result.compressed_size, r.blob.size());
      EXPECT_EQ(r.result.uncompressed_size, tar.size());
      EXPECT_GT(r.result.chunks, 10u);
      if (threads == 1) one_thread_blob = r.blob;
      EXPECT_EQ(r.blob, one_thread_blob) << threads << " threads";
    }
  }
}

// Three layers of different sizes in one graph: each blob is the bytes it
// has when built alone, and results come back in job order.
TEST(LayerPipeline, SeveralLayersGiveTheirOwnBlobs) {
  TempDir dir;
  make_tree(dir / "big");
  testing::make_dirs(dir / "small/etc");
  testing::write_text(dir / "small/etc/hostname", "small\n");
  testing::make_dirs(dir / "empty");
  const std::vector<std::string> roots = {dir / "small", dir / "big", dir / "empty"};
  for (int threads : {1, 2, 4}) {
    auto together = run_all(roots, options_for(threads));
    ASSERT_TRUE(together.ok()) << together.error().message;
    ASSERT_EQ(together->size(), roots.size());
    for (size_t i = 0; i < roots.size(); ++i) {
      auto alone = run(roots[i], 2);
      ASSERT_TRUE(alone.ok());
      EXPECT_EQ(together->at(i).blob, alone->blob) << roots[i] << ", " << threads << " threads";
      EXPECT_EQ(together->at(i).result.digest, alone->result.digest);
      EXPECT_EQ(together->at(i).result.diff_id, Sha256::of(plain_tar(roots[i])));
    }
  }
}

TEST(LayerPipeline, ChunkLimitHoldsForAllLayersTogether) {
  TempDir dir;
  make_tree(dir / "a");
  make_tree(dir / "b");
  make_tree(dir / "c");
  auto runs = run_all({dir / "a", dir / "b", dir / "c"}, options_for(2));
  ASSERT_TRUE(runs.ok());
  uint64_t chunks = 0;
  for (const auto& r : *runs) chunks += r.result.chunks;
  EXPECT_GT(chunks, 6 * max_chunks_in_flight(2));
  // Each running producer may hold one chunk the limiter has not accepted.
  for (const auto& r : *runs) EXPECT_LE(r.result.chunk_buffers, max_chunks_in_flight(2) + 2);
}

TEST(LayerPipeline, ProgressIsSummedOverLayersAndReportedSerially) {
  TempDir dir;
  make_tree(dir / "a");
  make_tree(dir / "b");
  std::atomic<int> inside{0};
  bool overlapped = false;
  std::vector<Progress> reports;
  BuildHooks hooks;
  hooks.on_progress = [&](const Progress& progress) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    reports.push_back(progress);
    inside.fetch_sub(1);
  };
  auto runs = run_all({dir / "a", dir / "b"}, options_for(3), hooks);
  ASSERT_TRUE(runs.ok());
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(reports.size(), runs->at(0).result.chunks + runs->at(1).result.chunks);
  for (size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GT(reports[i].tar_bytes, reports[i - 1].tar_bytes);
    EXPECT_GE(reports[i].blob_bytes, reports[i - 1].blob_bytes);
  }
  EXPECT_EQ(reports.back().tar_bytes, runs->at(0).result.uncompressed_size + runs->at(1).result.uncompressed_size);
  EXPECT_EQ(reports.back().blob_bytes, runs->at(0).result.compressed_size + runs->at(1).result.compressed_size);
}

// A layer whose source cannot be opened fails the run with its own error,
// whichever layer it is, and the others stop.
TEST(LayerPipeline, AFailingLayerStopsTheRunWithItsError) {
  TempDir dir;
  make_tree(dir / "good");
  for (size_t bad : {0u, 1u}) {
    std::vector<std::string> roots = {dir / "good", dir / "good"};
    roots[bad] = dir / "missing";
    auto runs = run_all(roots, options_for(2));
    ASSERT_FALSE(runs.ok());
    EXPECT_NE(runs.error().message.find(dir / "missing"), std::string::npos) << runs.error().message;
  }
}

// An exception in a stage (here: the source's opener) becomes an error.
TEST(LayerPipeline, AnExceptionInAStageBecomesAnError) {
  TempDir dir;
  const LayerPipelineOptions options = options_for(2);
  auto format = resolve_layer_format(options.codec);
  ASSERT_TRUE(format.ok());
  UniqueFd fd(::open((dir / "blob").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  std::vector<LayerJob> jobs;
  jobs.push_back({[]() -> Result<std::unique_ptr<EntrySource>> { throw std::runtime_error("boom"); }, fd.get(),
                  "blob"});
  auto result = run_layer_graph(**format, options, std::move(jobs));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("boom"), std::string::npos) << result.error().message;
}


// zstd:chunked through the graph: the blob decompresses (skippable frames
// skipped) to the tar stream, the same bytes for 1 and 3 threads, the
// descriptor annotations name TOC and tar-split, and verify's zstd:chunked
// check (core/image) finds every file's frames, chunks and the TOC's entry
// list in order against the tar.
std::string unzstd(const std::string& blob) {
  auto decoder = make_stream_decoder(Compression::zstd);
  std::string out;
  EXPECT_TRUE((*decoder)->feed(blob, [&](std::string_view d) { out.append(d); }).ok());
  EXPECT_TRUE((*decoder)->finish().ok());
  return out;
}

TEST(LayerPipeline, ZstdChunkedIsTheTarWithATocForAnyThreadCount) {
  TempDir dir;
  make_tree(dir / "root");
  LayerPipelineOptions options = options_for(1, 256 * 1024);
  options.codec = CodecOptions{};
  options.codec.compression = LayerCompression::zstd_chunked;
  auto one = run_all({dir / "root"}, options);
  ASSERT_TRUE(one.ok()) << one.error().message;
  options.threads = 3;
  auto three = run_all({dir / "root"}, options);
  ASSERT_TRUE(three.ok()) << three.error().message;
  const LayerRunOutput& r = one->at(0);
  EXPECT_EQ(three->at(0).blob, r.blob);
  const std::string tar = plain_tar(dir / "root");
  EXPECT_EQ(unzstd(r.blob), tar);
  EXPECT_EQ(r.result.diff_id, Sha256::of(tar));
  EXPECT_EQ(r.result.digest, Sha256::of(r.blob));
  EXPECT_EQ(r.result.annotations.size(), 5u);
  EXPECT_EQ(r.result.annotations, three->at(0).result.annotations);

  std::vector<TarListing> listing;
  TarScanner scanner([&](const ScannedEntry& e) { listing.push_back({e.path, e.type, e.size, e.link}); },
                     [](const std::string& problem) { ADD_FAILURE() << problem; });
  scanner.feed(tar);
  scanner.finish();
  TempDir out;
  testing::write_text(out / "blob", r.blob);
  UniqueFd fd(::open((out / "blob").c_str(), O_RDONLY));
  std::vector<std::string> problems;
  check_chunked_layer(fd.get(), r.blob.size(), r.result.annotations, listing, "layer", problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  // The 2 MiB of noise is cut into content-defined chunks.
  const auto position = r.result.annotations.at("io.github.containers.zstd-chunked.manifest-position");
  const uint64_t offset = std::stoull(position), length = std::stoull(position.substr(position.find(':') + 1));
  const std::string toc = unzstd(r.blob.substr(offset, length));
  size_t chunks = 0;
  for (size_t at = toc.find("\"type\":\"chunk\""); at != std::string::npos; at = toc.find("\"type\":\"chunk\"", at + 1))
    ++chunks;
  EXPECT_GT(chunks, 10u);
  // A damaged frame is found: flip a byte inside the noise's frames.
  std::string bad = r.blob;
  bad[bad.size() / 2] ^= 0x55;
  testing::write_text(out / "bad", bad);
  UniqueFd bad_fd(::open((out / "bad").c_str(), O_RDONLY));
  problems.clear();
  check_chunked_layer(bad_fd.get(), bad.size(), r.result.annotations, listing, "layer", problems);
  EXPECT_FALSE(problems.empty());
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// The chunk cache changes no byte: for each format whose chunks are
// self-contained, a build with an empty cache, a warm one with other
// threads, and one after a file changed give the blobs of builds without
// it, and the counters say what happened; a format with history bypasses it.
TEST(LayerPipeline, ChunkCacheGivesTheSameBlobs) {
  TempDir dir;
  make_tree(dir / "root");
  for (const LayerCompression compression :
       {LayerCompression::gzip, LayerCompression::zstd, LayerCompression::zstd_chunked}) {
    SCOPED_TRACE(layer_compression_name(compression));
    LayerPipelineOptions options = options_for(2, 128 * 1024);
    options.codec = CodecOptions{};
    options.codec.compression = compression;
    auto plain = run_all({dir / "root"}, options);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    options.cache.dir = dir / ("cache-" + std::to_string(static_cast<int>(compression)));
    options.threads = 1;
    auto cold = run_all({dir / "root"}, options);
    ASSERT_TRUE(cold.ok()) << cold.error().message;
    options.threads = 3;
    auto warm = run_all({dir / "root"}, options);
    ASSERT_TRUE(warm.ok()) << warm.error().message;
    const uint64_t chunks = plain->at(0).result.chunks;
    EXPECT_EQ(cold->at(0).blob, plain->at(0).blob);
    EXPECT_EQ(warm->at(0).blob, plain->at(0).blob);
    EXPECT_EQ(warm->at(0).result.annotations, plain->at(0).result.annotations);
    EXPECT_EQ(cold->at(0).result.cache.misses, chunks);
    EXPECT_EQ(cold->at(0).result.cache.hits, 0u);
    EXPECT_EQ(warm->at(0).result.cache.hits, chunks);
    EXPECT_EQ(warm->at(0).result.cache.misses, 0u);
    EXPECT_GT(warm->at(0).result.cache.saved_nanoseconds, 0u);
  }
  // A changed file: only the chunks around it are compressed again.
  LayerPipelineOptions options = options_for(2, 64 * 1024);
  options.cache.dir = dir / "cache-gzip-64k";
  ASSERT_TRUE(run_all({dir / "root"}, options).ok());
  testing::write_text(dir / "root/a/t7", "changed");
  auto changed = run_all({dir / "root"}, options);
  options.cache.dir.clear();
  auto plain = run_all({dir / "root"}, options);  // the same tree (and mtimes) without a cache
  ASSERT_TRUE(plain.ok() && changed.ok());
  EXPECT_EQ(changed->at(0).blob, plain->at(0).blob);
  EXPECT_GE(changed->at(0).result.cache.misses, 1u);
  EXPECT_LE(changed->at(0).result.cache.misses, 3u);
  EXPECT_GE(changed->at(0).result.cache.hits, changed->at(0).result.chunks - 3);
}

TEST(LayerPipeline, ChunksWithHistoryBypassTheCache) {
  TempDir dir;
  make_tree(dir / "root");
  LayerPipelineOptions options = options_for(2, 128 * 1024);
  options.codec.kind = CodecKind::isal;
  options.codec.level = 1;
  options.codec.format = GzipFormat::single;
  options.codec.dictionary = true;
  auto plain = run_all({dir / "root"}, options);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  options.cache.dir = dir / "cache";
  auto cached = run_all({dir / "root"}, options);
  ASSERT_TRUE(cached.ok()) << cached.error().message;
  EXPECT_EQ(cached->at(0).blob, plain->at(0).blob);
  EXPECT_EQ(cached->at(0).result.cache.bypassed, cached->at(0).result.chunks);
  EXPECT_EQ(cached->at(0).result.cache.misses, 0u);
  EXPECT_TRUE(std::filesystem::is_empty(dir / "cache/chunks"));
}

TEST(LayerPipeline, ARemoteNeedsALocalCache) {
  TempDir dir;
  make_tree(dir / "root");
  LayerPipelineOptions options = options_for(1);
  options.cache.remote_url = "http://127.0.0.1:9/cache";
  auto refused = run_all({dir / "root"}, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field(), "cache.remote");
}

}  // namespace
}  // namespace ocipack
