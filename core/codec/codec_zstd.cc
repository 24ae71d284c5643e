// zstd backend: each compress() call writes ONE complete zstd frame (RFC
// 8878) holding the whole input, with the content size and a checksum in
// its header, so frames concatenate into a stream every zstd reader decodes
// and a chunk's frame depends only on that chunk. It is the only file that
// includes the compressor side of <zstd.h>.
//
// Determinism: every parameter that changes the bytes is set explicitly,
// once per context, instead of being left to libzstd's defaults, some of which
// depend on how libzstd was built (the row match finder follows SIMD
// support) or on the machine (worker threads). What remains is the input,
// the level and the libzstd version: the same libzstd writes the same
// frames on every machine, for any thread count of ours.
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_useRowMatchFinder, ZSTD_ps_*: pinned below
#include <zstd.h>

#include "core/codec/codec.h"

namespace ocipack {

namespace {

// The window: 8 MiB (level 19's own default, the most the spec asks every
// decoder to support). libzstd still shrinks it to fit a smaller input,
// which depends on the input size alone.
constexpr int k_zstd_window_log = 23;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};
using CCtxHandle = std::unique_ptr<ZSTD_CCtx, CCtxDeleter>;

// Sets one parameter; a refusal is libzstd's own message.
Status set_parameter(ZSTD_CCtx* context, ZSTD_cParameter parameter, int value) {
  const size_t rc = ZSTD_CCtx_setParameter(context, parameter, value);
  if (ZSTD_isError(rc)) return io_error(std::string("zstd: cannot set a compression parameter: ") + ZSTD_getErrorName(rc));
  return ok_status();
}

// Resets the context to the pinned parameters. Done once per context:
// parameters are sticky, and ZSTD_compress2 starts every frame with a
// session-only reset, so a frame never depends on what the context
// compressed before. (Re-pinning before each frame cost a reset and eight
// parameter checks per frame — measurable over zstd:chunked's ~16k frames.)
Status pin_parameters(ZSTD_CCtx* context, int level) {
  ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters);
  const std::pair<ZSTD_cParameter, int> pinned[] = {
      {ZSTD_c_compressionLevel, level},
      {ZSTD_c_windowLog, k_zstd_window_log},
      {ZSTD_c_enableLongDistanceMatching, ZSTD_ps_disable},
      {ZSTD_c_useRowMatchFinder, ZSTD_ps_enable},
      {ZSTD_c_nbWorkers, 0},
      {ZSTD_c_contentSizeFlag, 1},
      {ZSTD_c_checksumFlag, 1},
      {ZSTD_c_dictIDFlag, 0},
  };
  for (const auto& [parameter, value] : pinned) OCIPACK_TRY(set_parameter(context, parameter, value));
  return ok_status();
}

class ZstdCompressor final : public Compressor {
 public:
  explicit ZstdCompressor(CCtxHandle context) : m_context(std::move(context)) {}
  size_t bound(size_t input_size) const override { return ZSTD_compressBound(input_size); }
  Result<size_t> compress(std::span<const std::byte> input, std::span<const std::byte> dictionary,
                          std::span<std::byte> output) override {
    if (!dictionary.empty()) return usage_error("zstd: a frame takes no dictionary");
    // ZSTD_compress2 knows the input size up front, so the header records it.
    const size_t n = ZSTD_compress2(m_context.get(), output.data(), output.size(), input.data(), input.size());
    if (ZSTD_isError(n)) return io_error(std::string("zstd: cannot compress a chunk: ") + ZSTD_getErrorName(n));
    return n;
  }

 private:
  CCtxHandle m_context;
};

}  // namespace

Result<std::unique_ptr<Compressor>> make_zstd_compressor(int level) {
  CCtxHandle context(ZSTD_createCCtx());
  if (!context) return io_error("zstd: cannot allocate a compression context");
  OCIPACK_TRY(pin_parameters(context.get(), level));
  return std::unique_ptr<Compressor>(std::make_unique<ZstdCompressor>(std::move(context)));
}

std::string zstd_version() { return std::string("libzstd ") + ZSTD_versionString(); }

}  // namespace ocipack
