// ISA-L igzip backend: stateless deflate (one call per chunk, no state kept
// between chunks, so output depends only on the chunk and its dictionary).
// members: gzip_flag = IGZIP_GZIP and end_of_stream, one complete member.
// single: raw deflate with FULL_FLUSH and no end_of_stream, so the piece ends
// byte-aligned without a final block and pieces concatenate into one stream;
// the optional dictionary lets the piece refer back into the previous chunk.
// ISA-L picks SIMD code paths at run time; its output for a given input is
// the same on every run on one machine.
#include <isa-l.h>
#include <isa-l/igzip_lib.h>

#include <cstring>
#include <vector>

#include "core/codec.h"

namespace ocipack {

namespace {
uint32_t level_buffer_size(int level) {
  switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return ISAL_DEF_LVL0_DEFAULT;
  }
}

class IsalCompressor final : public Compressor {
 public:
  explicit IsalCompressor(int level)
      : m_level(level),
        m_stream(std::make_unique<isal_zstream>()),
        m_level_buffer(level_buffer_size(level)) {}

  size_t bound(size_t input_size) const override {
    // Stateless deflate falls back to stored blocks (5 bytes per 64 KiB), but
    // the stateful path used with a dictionary can expand incompressible data
    // at level 0 by ~23% (measured): allow a third plus slack for framing.
    return input_size + input_size / 3 + 64 * 1024;
  }

  Result<size_t> compress_member(std::span<const std::byte> input,
                                 std::span<std::byte> output) override {
    prepare(input, output);
    m_stream->gzip_flag = IGZIP_GZIP;
    m_stream->end_of_stream = 1;
    m_stream->flush = NO_FLUSH;
    return run();
  }

  Result<size_t> compress_piece(std::span<const std::byte> input,
                                std::span<const std::byte> dictionary,
                                std::span<std::byte> output) override {
    if (dictionary.empty()) {
      prepare(input, output);
      m_stream->gzip_flag = 0;
      m_stream->end_of_stream = 0;
      m_stream->flush = FULL_FLUSH;
      return run();
    }
    // Stateless deflate ignores dictionaries; the stateful API honours one
    // set right after init. One call with an output buffer of bound() bytes
    // consumes all input and completes the flush (avail_out stays > 0).
    if (dictionary.size() > k_deflate_window) dictionary = dictionary.last(k_deflate_window);
    isal_deflate_init(m_stream.get());
    m_stream->level = static_cast<uint32_t>(m_level);
    m_stream->level_buf = m_level_buffer.empty() ? nullptr : m_level_buffer.data();
    m_stream->level_buf_size = static_cast<uint32_t>(m_level_buffer.size());
    m_stream->gzip_flag = 0;
    m_stream->end_of_stream = 0;
    m_stream->flush = FULL_FLUSH;
    int rc = isal_deflate_set_dict(
        m_stream.get(), const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(dictionary.data())),
        static_cast<uint32_t>(dictionary.size()));
    if (rc != COMP_OK)
      return make_error("isal: cannot set the deflate dictionary (" + std::to_string(rc) + ")");
    m_stream->next_in = const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(input.data()));
    m_stream->avail_in = static_cast<uint32_t>(input.size());
    m_stream->next_out = reinterpret_cast<uint8_t*>(output.data());
    m_stream->avail_out = static_cast<uint32_t>(output.size());
    rc = isal_deflate(m_stream.get());
    if (rc != COMP_OK)
      return make_error("isal: compression of a chunk failed (error " + std::to_string(rc) + ")");
    if (m_stream->avail_in != 0 || m_stream->avail_out == 0)
      return make_error("isal: a compressed chunk did not fit its output buffer");
    return static_cast<size_t>(m_stream->total_out);
  }

 private:
  void prepare(std::span<const std::byte> input, std::span<std::byte> output) {
    isal_deflate_stateless_init(m_stream.get());
    m_stream->level = static_cast<uint32_t>(m_level);
    m_stream->level_buf = m_level_buffer.empty() ? nullptr : m_level_buffer.data();
    m_stream->level_buf_size = static_cast<uint32_t>(m_level_buffer.size());
    m_stream->next_in = const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(input.data()));
    m_stream->avail_in = static_cast<uint32_t>(input.size());
    m_stream->next_out = reinterpret_cast<uint8_t*>(output.data());
    m_stream->avail_out = static_cast<uint32_t>(output.size());
  }

  Result<size_t> run() {
    int rc = isal_deflate_stateless(m_stream.get());
    if (rc == STATELESS_OVERFLOW || (rc == COMP_OK && m_stream->avail_in != 0))
      return make_error("isal: a compressed chunk did not fit its output buffer");
    if (rc != COMP_OK)
      return make_error("isal: compression of a chunk failed (error " + std::to_string(rc) + ")");
    return static_cast<size_t>(m_stream->total_out);
  }

  int m_level;
  std::unique_ptr<isal_zstream> m_stream;  // large (internal buffers): on the heap
  std::vector<uint8_t> m_level_buffer;
};
}  // namespace

Result<std::unique_ptr<Compressor>> make_isal_compressor(int level) {
  return std::unique_ptr<Compressor>(std::make_unique<IsalCompressor>(level));
}

std::string isal_version() {
#ifdef ISAL_MAJOR_VERSION
  return "isa-l " + std::to_string(ISAL_MAJOR_VERSION) + "." + std::to_string(ISAL_MINOR_VERSION) + "." +
         std::to_string(ISAL_PATCH_VERSION);
#else
  return "isa-l";
#endif
}

}  // namespace ocipack
