// Tests for core/digest.cc: the `sha256:<hex>` content address. Digests taken
// from index.json and manifests become file names under blobs/sha256, so
// parsing must be strict: exactly "sha256:" and 64 lowercase hex digits.
// These tests check formatting and round trips, and that every other form —
// uppercase hex, wrong lengths, other algorithms, and strings that could
// escape the blobs directory ("../", "/") — is rejected with a message that
// quotes the offending text.
#include "core/util/digest.h"
#include "core/util/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace ocipack {
namespace {

const std::string k_abc_hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

void expect_rejected(const std::string& text) {
  auto parsed = Digest::parse(text);
  ASSERT_FALSE(parsed.ok()) << "accepted: " << text;
  EXPECT_NE(parsed.error().message.find(text), std::string::npos) << parsed.error().message;
}

TEST(Digest, ParsesAndFormatsLowercaseSha256) {
  auto parsed = Digest::parse("sha256:" + k_abc_hex);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->hex(), k_abc_hex);
  EXPECT_EQ(parsed->str(), "sha256:" + k_abc_hex);
  EXPECT_EQ(parsed->bytes()[0], 0xba);
  EXPECT_EQ(parsed->bytes()[1], 0x78);
  EXPECT_EQ(parsed->bytes()[31], 0xad);
}

TEST(Digest, RoundTripOfAllNibbleValues) {
  const std::string hex = "0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210";
  auto parsed = Digest::parse("sha256:" + hex);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->hex(), hex);
  auto again = Digest::parse(parsed->str());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *parsed);
}

TEST(Digest, ConstructedFromBytes) {
  std::array<uint8_t, Digest::k_size> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 8 + 7);
  Digest digest(bytes);
  EXPECT_EQ(digest.hex(), "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
  EXPECT_EQ(digest.bytes(), bytes);
}

TEST(Digest, DefaultIsAllZero) {
  EXPECT_EQ(Digest().hex(), std::string(64, '0'));
  EXPECT_EQ(Digest().str(), "sha256:" + std::string(64, '0'));
}

TEST(Digest, Equality) {
  auto a = Digest::parse("sha256:" + k_abc_hex);
  auto b = Digest::parse("sha256:" + k_abc_hex);
  auto c = Digest::parse("sha256:" + std::string(64, '0'));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(*a == *c);
}

TEST(Digest, RejectsUppercaseHex) {
  expect_rejected("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  expect_rejected("sha256:" + k_abc_hex.substr(0, 63) + "D");  // one uppercase digit
}

TEST(Digest, RejectsWrongLengths) {
  expect_rejected("sha256:");
  expect_rejected("sha256:" + k_abc_hex.substr(0, 63));
  expect_rejected("sha256:" + k_abc_hex + "0");
  expect_rejected("sha256:" + k_abc_hex + k_abc_hex);
}

TEST(Digest, RejectsOtherAlgorithmsAndPrefixes) {
  expect_rejected("sha512:" + k_abc_hex + k_abc_hex);
  expect_rejected("sha384:" + k_abc_hex);
  expect_rejected("md5:" + k_abc_hex);
  expect_rejected("SHA256:" + k_abc_hex);
  expect_rejected("sha256" + k_abc_hex);   // no colon
  expect_rejected(k_abc_hex);              // bare hex
  expect_rejected("sha256+b64u:" + k_abc_hex);
  expect_rejected(" sha256:" + k_abc_hex);
}

TEST(Digest, RejectsEmpty) {
  auto parsed = Digest::parse("");
  EXPECT_FALSE(parsed.ok());
}

TEST(Digest, RejectsPathLikeContent) {
  // 64 characters each, so only the character check can reject them.
  expect_rejected("sha256:../../../../etc/passwd" + std::string(64 - 22, 'a'));
  expect_rejected("sha256:" + std::string(62, 'a') + "/x");
  expect_rejected("sha256:" + std::string(60, 'a') + "/../");
  expect_rejected("sha256:" + std::string(63, 'a') + ".");
}

TEST(Digest, RejectsNonHexAndWhitespace) {
  expect_rejected("sha256:" + std::string(63, 'a') + "g");
  expect_rejected("sha256:" + std::string(63, 'a') + " ");
  expect_rejected("sha256:" + k_abc_hex + "\n");
  expect_rejected("sha256:" + k_abc_hex.substr(0, 32) + "-" + k_abc_hex.substr(33));
  std::string with_nul = "sha256:" + std::string(63, 'a');
  with_nul.push_back('\0');
  EXPECT_FALSE(Digest::parse(with_nul).ok());
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {
TEST(Digest, IsHexAcceptsExactlyTheBlobFileNameForm) {
  const std::string hex = Sha256::of("x").hex();
  EXPECT_TRUE(Digest::is_hex(hex));
  EXPECT_FALSE(Digest::is_hex(hex.substr(1)));                      // 63 digits
  EXPECT_FALSE(Digest::is_hex(hex + "0"));                          // 65 digits
  std::string upper = hex;
  upper[0] = 'A';
  EXPECT_FALSE(Digest::is_hex(upper));                              // uppercase
  EXPECT_FALSE(Digest::is_hex(std::string(63, 'a') + "/"));         // a separator
  EXPECT_FALSE(Digest::is_hex("." + hex.substr(1)));                // hidden name
  EXPECT_FALSE(Digest::is_hex(""));
}
}  // namespace
}  // namespace ocipack
