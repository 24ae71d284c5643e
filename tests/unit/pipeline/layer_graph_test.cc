// Tests for pipeline/layer_graph.cc: the parallel pipeline produces a valid
// multi-member gzip whose content is the tar stream, with digest and diff_id
// equal to independently computed SHA-256s, identical bytes for any thread
// count, bounded chunk buffers, and errors/cancellation that stop the run.
// The single-member format (with and without dictionary) goes through the
// same graph and comes out as ONE gzip member of the same stream; zstd
// comes out as one frame per chunk and none as the tar stream itself. Several
// layers run in one graph: each blob is the same bytes as when built alone,
// the chunk limit holds for all of them together, progress is summed, and
// the first failing layer's error stops the run.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <random>

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
  chunk.data = std::make_unique<std::byte[]>(chunk.capacity);
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

TEST(LayerPipeline, WriteErrorIsReported) {
  TempDir dir;
  make_tree(dir / "root");
  const LayerPipelineOptions options = options_for(2);
  auto format = resolve_layer_format(options.codec);
  ASSERT_TRUE(format.ok());
  UniqueFd fd(::open("/dev/full", O_WRONLY));
  ASSERT_TRUE(fd.valid());
  std::vector<LayerJob> jobs;
  jobs.push_back(walk_job(dir / "root", fd));
  jobs.back().blob_name = "the blob";
  auto result = run_layer_graph(**format, options, std::move(jobs));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("the blob"), std::string::npos) << result.error().message;
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

}  // namespace
}  // namespace ocipack
