// Formatting and strict parsing of sha256 digests.
#include "core/util/digest.h"

namespace ocipack {

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Result<Digest> Digest::parse(std::string_view text) {
  constexpr std::string_view prefix = "sha256:";
  if (text.substr(0, prefix.size()) != prefix)
    return input_error("unsupported digest '" + std::string(text) + "' (expected sha256:<hex>)");
  std::string_view hex = text.substr(prefix.size());
  if (hex.size() != 2 * k_size)
    return input_error("malformed digest '" + std::string(text) + "' (expected 64 hex digits)");
  std::array<uint8_t, k_size> bytes{};
  for (size_t i = 0; i < k_size; ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return input_error("malformed digest '" + std::string(text) + "' (expected lowercase hex)");
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return Digest(bytes);
}

bool Digest::is_hex(std::string_view name) {
  if (name.size() != 2 * k_size) return false;
  for (char c : name)
    if (hex_value(c) < 0) return false;
  return true;
}

std::string Digest::hex() const {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(2 * k_size, '0');
  for (size_t i = 0; i < k_size; ++i) {
    out[2 * i] = k_digits[m_bytes[i] >> 4];
    out[2 * i + 1] = k_digits[m_bytes[i] & 0xf];
  }
  return out;
}

}  // namespace ocipack
