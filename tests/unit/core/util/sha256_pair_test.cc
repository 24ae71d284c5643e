// Tests for core/util/sha256_pair.cc: two SHA-256 streams hashed side by
// side (the chunk key beside the diff_id). Both streams must equal OpenSSL's
// SHA-256 (core/util/sha256.h) of what each was fed, whatever the mix of
// update_first / update_second / update_both calls, their sizes (0, 1, 63,
// 64, 65 bytes, whole megabytes: every alignment of the two lanes' partial
// blocks), and after each finish (a stream restarts, the other goes on).
// On a CPU with SHA-NI this tests the interleaved block code; elsewhere the
// OpenSSL fallback (the property sha_ni says which ran).
#include "core/util/sha256_pair.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/util/sha256.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::random_bytes;

TEST(Sha256Pair, KnownVectorsOnEachStream) {
  ::testing::Test::RecordProperty("sha_ni", Sha256Pair::interleaved() ? "yes" : "no");
  Sha256Pair pair;
  const std::string abc = "abc";
  pair.update_first(std::as_bytes(std::span(abc.data(), abc.size())));
  EXPECT_EQ(pair.finish_first().hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(pair.finish_second().hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string m896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
      "mnopqrstnopqrstu";
  pair.update_both(std::as_bytes(std::span(m896.data(), m896.size())));
  EXPECT_EQ(pair.finish_first().hex(), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(pair.finish_second().hex(), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256Pair, EveryPaddingLengthMatchesOpenSsl) {
  const auto data = random_bytes(300, 7);
  for (size_t n = 0; n <= 300; ++n) {
    Sha256Pair pair;
    pair.update_both(std::span(data).first(n));
    Sha256 reference;
    reference.update(std::span(data).first(n));
    const Digest expected = reference.finish();
    ASSERT_EQ(pair.finish_first(), expected) << n;
    ASSERT_EQ(pair.finish_second(), expected) << n;
  }
}

// A random schedule of calls against two OpenSSL hashers fed the same.
TEST(Sha256Pair, RandomMixesMatchOpenSsl) {
  const auto data = random_bytes(3 << 20, 11);
  std::mt19937 rng(5);
  const size_t sizes[] = {0, 1, 3, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4096, 65537, 1 << 20};
  for (int round = 0; round < 40; ++round) {
    Sha256Pair pair;
    Sha256 first, second;
    size_t at = 0;
    for (int step = 0; step < 60; ++step) {
      size_t n = sizes[rng() % std::size(sizes)] + (rng() % 3 == 0 ? rng() % 64 : 0);
      if (at + n > data.size()) at = 0;
      n = std::min(n, data.size() - at);
      const auto piece = std::span(data).subspan(at, n);
      at += n;
      switch (rng() % 6) {
        case 0: pair.update_first(piece); first.update(piece); break;
        case 1: pair.update_second(piece); second.update(piece); break;
        case 2: ASSERT_EQ(pair.finish_second(), second.finish()) << round << "/" << step; break;
        default: pair.update_both(piece); first.update(piece); second.update(piece); break;
      }
    }
    ASSERT_EQ(pair.finish_first(), first.finish()) << round;
    ASSERT_EQ(pair.finish_second(), second.finish()) << round;
  }
}

// The pattern of the pipeline: one long stream (diff_id) and a short-lived
// one per chunk (a key: its own prefix, then the chunk's bytes, shared).
TEST(Sha256Pair, LongStreamBesideRestartedOnes) {
  const auto data = random_bytes(5 << 20, 3);
  const std::string prefix = "identity-and-frame-ends";
  Sha256Pair pair;
  Sha256 whole;
  size_t at = 0;
  for (size_t chunk : {size_t{1}, size_t{999'999}, size_t{64}, size_t{1 << 20}, size_t{77}, size_t{2'000'003}}) {
    const auto bytes = std::span(data).subspan(at, chunk);
    at += chunk;
    pair.update_second(std::as_bytes(std::span(prefix.data(), prefix.size())));
    pair.update_both(bytes);
    whole.update(bytes);
    Sha256 key;
    key.update(prefix);
    key.update(bytes);
    ASSERT_EQ(pair.finish_second(), key.finish()) << chunk;
  }
  EXPECT_EQ(pair.finish_first(), whole.finish());
}

}  // namespace
}  // namespace ocipack
