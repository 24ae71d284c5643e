// Tests for pipeline/build_graph.cc: the parallel pipeline produces a valid
// multi-member gzip whose content is the tar stream, with digest and diff_id
// equal to independently computed SHA-256s, identical bytes for any thread
// count, bounded chunk buffers, and errors/cancellation that stop the run.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <random>

#include "core/util/unique_fd.h"
#include "core/util/sha256.h"
#include "pipeline/layer_pipeline.h"
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

struct Run {
  LayerResult result;
  std::string blob;
};

Result<Run> run(const std::string& root, int threads, size_t target = 64 * 1024,
                const std::atomic<bool>* cancel = nullptr, int level = 6) {
  auto walker = RootfsWalker::open(root, {});
  if (!walker) return walker.error();
  LayerPipelineOptions options;
  options.threads = threads;
  options.chunking.target_size = target;
  options.codec.level = level;
  options.cancel = cancel;
  TarChunker chunker(std::make_unique<RootfsWalker>(std::move(*walker)), options.chunking);
  TempDir out;
  UniqueFd fd(::open((out / "blob").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  auto result = run_layer_pipeline(chunker, options, fd.get(), "blob");
  if (!result) return result.error();
  return Run{*result, testing::read_text(out / "blob")};
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
}

TEST(LayerPipeline, WriteErrorIsReported) {
  TempDir dir;
  make_tree(dir / "root");
  auto walker = RootfsWalker::open(dir / "root", {});
  ASSERT_TRUE(walker.ok());
  LayerPipelineOptions options;
  options.threads = 2;
  TarChunker chunker(std::make_unique<RootfsWalker>(std::move(*walker)), options.chunking);
  UniqueFd fd(::open("/dev/full", O_WRONLY));
  ASSERT_TRUE(fd.valid());
  auto result = run_layer_pipeline(chunker, options, fd.get(), "the blob");
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

}  // namespace
}  // namespace ocipack
