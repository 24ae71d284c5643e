// Tests for pipeline/chunk_pool.cc: chunks come with the buffers asked for
// (history only when asked), released chunks are reused before new ones
// are made, the big ones are huge-page mappings, and allocated() counts every chunk ever made, also when many
// threads acquire and release at once.
#include "pipeline/chunk_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace ocipack {
namespace {

TEST(ChunkPool, ChunksHaveTheAskedBuffers) {
  ChunkPool pool(1000, 1500, 0);
  Chunk* chunk = pool.acquire();
  EXPECT_EQ(chunk->capacity, 1000u);
  EXPECT_TRUE(chunk->data);
  EXPECT_EQ(chunk->compressed_capacity, 1500u);
  EXPECT_TRUE(chunk->compressed);
  EXPECT_EQ(chunk->dictionary, nullptr);
  ChunkPool with_history(1000, 1500, 32768);
  EXPECT_NE(with_history.acquire()->dictionary, nullptr);
  // The pipeline's real sizes (2 MiB of data for the default 1 MiB target)
  // get huge-page-aligned mappings (core/util/large_buffer.h), except
  // under AddressSanitizer.
  ChunkPool big(2 << 20, (2 << 20) + 1024, 0);
  Chunk* large = big.acquire();
  EXPECT_EQ(large->data.mapped_size(), LargeBuffer::k_maps ? LargeBuffer::k_huge_page : 0);
  EXPECT_EQ(large->compressed.mapped_size(), LargeBuffer::k_maps ? 2 * LargeBuffer::k_huge_page : 0);
}

TEST(ChunkPool, ReleasedChunksAreReused) {
  ChunkPool pool(16, 16, 0);
  Chunk* a = pool.acquire();
  Chunk* b = pool.acquire();
  EXPECT_NE(a, b);
  EXPECT_EQ(pool.allocated(), 2u);
  pool.release(a);
  EXPECT_EQ(pool.acquire(), a);
  EXPECT_EQ(pool.allocated(), 2u);
}

TEST(ChunkPool, ConcurrentUseCountsEveryChunk) {
  ChunkPool pool(16, 16, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&pool] {
      for (int i = 0; i < 1000; ++i) {
        Chunk* a = pool.acquire();
        Chunk* b = pool.acquire();
        pool.release(a);
        pool.release(b);
      }
    });
  for (auto& thread : threads) thread.join();
  // At most 2 per thread were out at once.
  EXPECT_GE(pool.allocated(), 2u);
  EXPECT_LE(pool.allocated(), 8u);
  std::set<Chunk*> distinct;
  for (size_t i = 0; i < pool.allocated(); ++i) distinct.insert(pool.acquire());
  EXPECT_EQ(distinct.size(), pool.allocated());
}

}  // namespace
}  // namespace ocipack
