// Tests for core/sha256.cc: the hasher behind every diff_id and blob digest.
// It is checked against the FIPS 180-2 / NIST example vectors (empty, "abc",
// the 448-bit and 896-bit messages, one million 'a' fed incrementally), for
// independence of how input is split into update() calls (the pipeline feeds
// chunks of arbitrary sizes), and for the documented reuse after finish().
#include "core/util/sha256.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>

namespace ocipack {
namespace {

constexpr const char* k_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* k_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* k_448_bit_message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr const char* k_448_bit_digest =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* k_896_bit_message =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
    "mnopqrstnopqrstu";
constexpr const char* k_896_bit_digest =
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
constexpr const char* k_million_a = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256, EmptyInput) {
  EXPECT_EQ(Sha256::of("").hex(), k_empty);
  Sha256 hasher;
  EXPECT_EQ(hasher.finish().hex(), k_empty);
}

TEST(Sha256, Abc) { EXPECT_EQ(Sha256::of("abc").hex(), k_abc); }

TEST(Sha256, FourHundredFortyEightBitMessage) {
  EXPECT_EQ(Sha256::of(k_448_bit_message).hex(), k_448_bit_digest);
}

TEST(Sha256, EightHundredNinetySixBitMessage) {
  EXPECT_EQ(Sha256::of(k_896_bit_message).hex(), k_896_bit_digest);
}

TEST(Sha256, OneMillionAInIncrementalUpdates) {
  Sha256 hasher;
  const std::string thousand(1000, 'a');
  for (int i = 0; i < 1000; ++i) hasher.update(thousand);
  EXPECT_EQ(hasher.finish().hex(), k_million_a);
}

TEST(Sha256, OneMillionAInUnevenUpdates) {
  // Sizes that straddle the 64-byte block boundary in every way.
  const std::string million(1000000, 'a');
  Sha256 hasher;
  size_t pos = 0;
  size_t step = 1;
  while (pos < million.size()) {
    size_t n = std::min(step, million.size() - pos);
    hasher.update(std::string_view(million).substr(pos, n));
    pos += n;
    step = step * 7 % 193 + 1;
  }
  EXPECT_EQ(hasher.finish().hex(), k_million_a);
}

TEST(Sha256, ByteSpanOverloadMatchesStringOverload) {
  const std::string text = k_448_bit_message;
  Sha256 hasher;
  hasher.update(std::as_bytes(std::span(text.data(), text.size())));
  EXPECT_EQ(hasher.finish().hex(), k_448_bit_digest);
}

TEST(Sha256, EmptyUpdatesChangeNothing) {
  Sha256 hasher;
  hasher.update("");
  hasher.update(std::span<const std::byte>());
  hasher.update("abc");
  hasher.update("");
  EXPECT_EQ(hasher.finish().hex(), k_abc);
}

TEST(Sha256, HasherIsResetAndReusableAfterFinish) {
  Sha256 hasher;
  hasher.update("abc");
  EXPECT_EQ(hasher.finish().hex(), k_abc);
  // Nothing fed since finish(): the digest of the empty string.
  EXPECT_EQ(hasher.finish().hex(), k_empty);
  hasher.update("ab");
  hasher.update("c");
  EXPECT_EQ(hasher.finish().hex(), k_abc);
  hasher.update(k_448_bit_message);
  EXPECT_EQ(hasher.finish().hex(), k_448_bit_digest);
}

TEST(Sha256, MovedHasherKeepsItsState) {
  Sha256 first;
  first.update("ab");
  Sha256 second(std::move(first));
  second.update("c");
  EXPECT_EQ(second.finish().hex(), k_abc);

  Sha256 third;
  third.update("unrelated");
  third = std::move(second);
  third.update("abc");
  EXPECT_EQ(third.finish().hex(), k_abc);
}

TEST(Sha256, BinaryInputWithNulBytes) {
  std::string all_bytes;
  for (int round = 0; round < 4; ++round)
    for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  EXPECT_EQ(Sha256::of(all_bytes).hex(),
            "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9");
}

TEST(Sha256, DigestFormIsOciDescriptorForm) {
  EXPECT_EQ(Sha256::of("abc").str(), std::string("sha256:") + k_abc);
}

}  // namespace
}  // namespace ocipack
