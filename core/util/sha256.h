// Incremental SHA-256 over OpenSSL's EVP interface (which picks SHA-NI or the
// best assembly for the CPU at run time). Not thread-safe: one hasher per
// stream; the pipeline runs each hasher in a serial stage.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "core/util/digest.h"

namespace ocipack {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::byte> data);
  void update(std::string_view data) { update(std::as_bytes(std::span(data.data(), data.size()))); }
  // Returns the digest; the hasher is reset and can be reused.
  Digest finish();

  static Digest of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace ocipack
