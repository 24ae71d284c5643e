// Digest: a content address in the OCI form `sha256:<64 lowercase hex>`.
// Parsing is strict (algorithm, length, lowercase hex) because digests become
// file names under blobs/ and must never carry a path separator or `..`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace ocipack {

class Digest {
 public:
  static constexpr size_t k_size = 32;
  Digest() = default;
  explicit Digest(const std::array<uint8_t, k_size>& bytes) : m_bytes(bytes) {}

  // Accepts exactly "sha256:" followed by 64 lowercase hex digits.
  static Result<Digest> parse(std::string_view text);
  // Whether `name` is 64 lowercase hex digits: the hex() form, which names a
  // blob file under blobs/sha256.
  static bool is_hex(std::string_view name);

  std::string hex() const;                                 // 64 lowercase hex digits
  std::string str() const { return "sha256:" + hex(); }    // OCI descriptor form
  const std::array<uint8_t, k_size>& bytes() const { return m_bytes; }
  bool operator==(const Digest&) const = default;

 private:
  std::array<uint8_t, k_size> m_bytes{};
};

}  // namespace ocipack
