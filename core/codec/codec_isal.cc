// ISA-L igzip backend, for both shapes. Output depends only on the chunk,
// its dictionary and the level; no state is kept between chunks (every call
// starts from isal_deflate_init or isal_deflate_stateless_init).
// gzip_member: gzip_flag = IGZIP_GZIP and end_of_stream, one complete member.
// deflate_piece: raw deflate ending on a FULL_FLUSH without end_of_stream, so the
// piece ends byte-aligned without a final block and pieces concatenate into
// one stream; the optional dictionary lets the piece refer back into the
// previous chunk (the stateful API honours one set right after init).
// ISA-L picks SIMD code paths at run time; its output for a given input is
// the same on every run on one machine — given the workaround below.
//
// ISA-L defect (igzip_icf_body_h1_gr_bt.asm, the x86 body of levels 1 and 2,
// since commit fe68f02 in 2.21, still in 2.32): when a stream has no history
// the body handles its first byte at `.write_first_byte`, which does
// `shr tmp2, 16; compute_hash hash2, tmp2` to hash position 2 — but tmp2 is
// rcx, which still holds the isal_zstream pointer (`mov rcx, rdi` on entry);
// the level-0 body copies the input into its temporary first (`mov tmp6,
// curr_data`), this one never does. So position 2 goes into a hash bucket
// chosen by bits 16..47 of the stream's address, which ASLR changes on every
// run: when that bucket is the one of position 0, 1 or 2 (a few in 8192 for a
// 64 KiB chunk, far more for small ones, whose hash table is smaller), the
// chunk gets other, still valid, matches and the layer another digest.
// The body reaches that code only with more than 16 bytes of input and no
// history; the finish routine (igzip_icf_finish.asm) handles a first byte
// correctly. So at levels 1 and 2 a chunk without dictionary is compressed
// in two calls of the stateful API: its first k_prime_bytes alone, ended
// with a SYNC_FLUSH (the finish routine codes them and the history is
// kept), then the rest with that history. Cost per chunk: a short first
// block, a 4-byte flush marker and ISA-L's copy of up to 64 KiB into its
// history buffer (measured: ~8 bytes, ~5% time at 64 KiB chunks, none
// visible at 1 MiB).
#include <isa-l.h>
#include <isa-l/igzip_lib.h>

#include <cstring>
#include <vector>

#include "core/codec/codec.h"

namespace ocipack {

namespace {

// At least 4 (the finish routine codes its last 3 bytes as plain literals and
// reaches its first-byte code only before them), at most 16 (the body's input
// padding with a flush: with no more, the body leaves all bytes to the finish).
constexpr size_t k_prime_bytes = 8;

uint32_t level_buffer_size(int level) {
  switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return ISAL_DEF_LVL0_DEFAULT;
  }
}

// Levels whose x86 body hashes the stream's address (see the top of the file).
bool body_mishandles_first_byte(int level) { return level == 1 || level == 2; }

uint8_t* in_ptr(std::span<const std::byte> bytes) {
  return const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(bytes.data()));
}

class IsalCompressor final : public Compressor {
 public:
  IsalCompressor(int level, CompressedShape shape)
      : m_level(level),
        m_member(shape == CompressedShape::gzip_member),
        m_stream(std::make_unique<isal_zstream>()),
        m_level_buffer(level_buffer_size(level)) {}

  size_t bound(size_t input_size) const override {
    // Stateless deflate falls back to stored blocks (5 bytes per 64 KiB), but
    // the stateful path used with a dictionary can expand incompressible data
    // at level 0 by ~23% (measured): allow a third plus slack for framing.
    return input_size + input_size / 3 + 64 * 1024;
  }

  Result<size_t> compress(std::span<const std::byte> input, std::span<const std::byte> dictionary,
                          std::span<std::byte> output) override {
    if (m_member && !dictionary.empty()) return usage_error("isal: a gzip member takes no dictionary");
    if (dictionary.size() > k_deflate_window) dictionary = dictionary.last(k_deflate_window);
    return compress_with(input, dictionary, output, m_member);
  }

 private:
  // One gzip member (`member`) or one raw piece ending on a full flush.
  Result<size_t> compress_with(std::span<const std::byte> input, std::span<const std::byte> dictionary,
                               std::span<std::byte> output, bool member) {
    const bool prime = dictionary.empty() && body_mishandles_first_byte(m_level) &&
                       input.size() > k_prime_bytes;
    if (dictionary.empty() && !prime) return compress_stateless(input, output, member);

    isal_deflate_init(m_stream.get());
    set_level();
    m_stream->gzip_flag = member ? IGZIP_GZIP : 0;
    m_stream->next_out = reinterpret_cast<uint8_t*>(output.data());
    m_stream->avail_out = static_cast<uint32_t>(output.size());
    if (!dictionary.empty()) {
      int rc = isal_deflate_set_dict(m_stream.get(), in_ptr(dictionary),
                                     static_cast<uint32_t>(dictionary.size()));
      if (rc != COMP_OK)
        return io_error("isal: cannot set the deflate dictionary (" + std::to_string(rc) + ")");
    }
    if (prime) {
      OCIPACK_TRY(deflate_call(input.first(k_prime_bytes), SYNC_FLUSH, false));
      input = input.subspan(k_prime_bytes);
    }
    OCIPACK_TRY(deflate_call(input, member ? NO_FLUSH : FULL_FLUSH, member));
    if (member && m_stream->internal_state.state != ZSTATE_END)
      return io_error("isal: a compressed chunk did not fit its output buffer");
    return static_cast<size_t>(m_stream->total_out);
  }

  // One isal_deflate call that must consume `input` and complete `flush`
  // (with the output buffer of bound() bytes, avail_out stays > 0).
  Status deflate_call(std::span<const std::byte> input, int flush, bool end_of_stream) {
    m_stream->next_in = in_ptr(input);
    m_stream->avail_in = static_cast<uint32_t>(input.size());
    m_stream->flush = static_cast<uint16_t>(flush);
    m_stream->end_of_stream = end_of_stream ? 1 : 0;
    int rc = isal_deflate(m_stream.get());
    if (rc != COMP_OK)
      return io_error("isal: compression of a chunk failed (error " + std::to_string(rc) + ")");
    if (m_stream->avail_in != 0 || m_stream->avail_out == 0)
      return io_error("isal: a compressed chunk did not fit its output buffer");
    return ok_status();
  }

  Result<size_t> compress_stateless(std::span<const std::byte> input, std::span<std::byte> output,
                                    bool member) {
    isal_deflate_stateless_init(m_stream.get());
    set_level();
    m_stream->next_in = in_ptr(input);
    m_stream->avail_in = static_cast<uint32_t>(input.size());
    m_stream->next_out = reinterpret_cast<uint8_t*>(output.data());
    m_stream->avail_out = static_cast<uint32_t>(output.size());
    m_stream->gzip_flag = member ? IGZIP_GZIP : 0;
    m_stream->end_of_stream = member ? 1 : 0;
    m_stream->flush = member ? NO_FLUSH : FULL_FLUSH;
    int rc = isal_deflate_stateless(m_stream.get());
    if (rc == STATELESS_OVERFLOW || (rc == COMP_OK && m_stream->avail_in != 0))
      return io_error("isal: a compressed chunk did not fit its output buffer");
    if (rc != COMP_OK)
      return io_error("isal: compression of a chunk failed (error " + std::to_string(rc) + ")");
    return static_cast<size_t>(m_stream->total_out);
  }

  void set_level() {
    m_stream->level = static_cast<uint32_t>(m_level);
    m_stream->level_buf = m_level_buffer.empty() ? nullptr : m_level_buffer.data();
    m_stream->level_buf_size = static_cast<uint32_t>(m_level_buffer.size());
  }

  int m_level;
  bool m_member;  // the shape: gzip_member, else deflate_piece
  std::unique_ptr<isal_zstream> m_stream;  // large (internal buffers): on the heap
  std::vector<uint8_t> m_level_buffer;
};
}  // namespace

Result<std::unique_ptr<Compressor>> make_isal_compressor(int level, CompressedShape shape) {
  return std::unique_ptr<Compressor>(std::make_unique<IsalCompressor>(level, shape));
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
