// SHA-256 through OpenSSL EVP with the context held by a unique_ptr deleter.
#include "core/util/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "core/util/vector_state.h"

namespace ocipack {

namespace {
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
}  // namespace

struct Sha256::Impl {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
  void init() {
    // Only allocation failure can make these fail; that is not an expected
    // error the caller could handle, so it throws.
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("OpenSSL SHA-256 initialisation failed");
  }
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) { m_impl->init(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::byte> data) {
  if (data.empty()) return;
  clear_upper_vector_state();  // SHA-NI is SSE: never run it after dirty AVX state
  EVP_DigestUpdate(m_impl->ctx.get(), data.data(), data.size());
}

Digest Sha256::finish() {
  std::array<uint8_t, Digest::k_size> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_impl->ctx.get(), out.data(), &len);
  m_impl->init();
  return Digest(out);
}

}  // namespace ocipack
