// The multi-member gzip decoder (see gzip_decoder.h). inflate with
// windowBits 16 + MAX_WBITS reads one gzip member, checking its trailer;
// inflateReset starts the next member on the same state.
#include "core/codec/gzip_decoder.h"

#include <zlib.h>

#include <string>
#include <vector>

namespace ocipack {

namespace {

constexpr size_t k_output_size = 1 << 20;

class GzipDecoder final : public StreamDecoder {
 public:
  GzipDecoder() : m_output(k_output_size) {}
  ~GzipDecoder() override {
    if (m_ready) inflateEnd(&m_stream);
  }
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  Status init() {
    m_ready = inflateInit2(&m_stream, 16 + MAX_WBITS) == Z_OK;
    return m_ready ? ok_status() : io_error("cannot initialise zlib");
  }

  Status feed(std::string_view input, const ByteSink& sink) override {
    m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    m_stream.avail_in = static_cast<uInt>(input.size());
    while (m_stream.avail_in > 0) {
      if (!m_in_member) {
        if (m_members > 0 && inflateReset(&m_stream) != Z_OK) return io_error("cannot reset zlib");
        m_in_member = true;
        m_member_output = 0;
      }
      OCIPACK_TRY(inflate_some(sink));
    }
    return ok_status();
  }

  Status finish() override {
    if (m_in_member)
      return corrupt_error("gzip stream is truncated (member " + std::to_string(m_members + 1) + " has no end)");
    if (m_members == 0) return corrupt_error("gzip stream is empty (no member)");
    return ok_status();
  }

 private:
  // One inflate call into the output buffer; its output goes to `sink`.
  Status inflate_some(const ByteSink& sink) {
    m_stream.next_out = m_output.data();
    m_stream.avail_out = static_cast<uInt>(m_output.size());
    const uInt input_before = m_stream.avail_in;
    const int rc = inflate(&m_stream, Z_NO_FLUSH);
    const size_t produced = m_output.size() - m_stream.avail_out;
    if (produced > 0) {
      m_member_output += produced;
      sink(std::string_view(reinterpret_cast<const char*>(m_output.data()), produced));
    }
    if (rc == Z_STREAM_END) {
      ++m_members;
      m_in_member = false;
    } else if (rc == Z_BUF_ERROR && produced == 0 && m_stream.avail_in == input_before) {
      return corrupt_error("gzip member " + std::to_string(m_members + 1) + " makes no progress");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string detail = m_stream.msg ? m_stream.msg : "zlib error " + std::to_string(rc);
      if (m_members > 0 && m_member_output == 0)
        return corrupt_error("data after gzip member " + std::to_string(m_members) + " is not a gzip member (" +
                             detail + ")");
      return corrupt_error("gzip member " + std::to_string(m_members + 1) + " is corrupt (" + detail + ")");
    }
    return ok_status();
  }

  z_stream m_stream{};
  bool m_ready = false;
  bool m_in_member = false;
  uint64_t m_members = 0;        // complete members so far
  uint64_t m_member_output = 0;  // bytes the current member has produced
  std::vector<Bytef> m_output;
};

}  // namespace

Result<std::unique_ptr<StreamDecoder>> make_gzip_decoder() {
  auto decoder = std::make_unique<GzipDecoder>();
  OCIPACK_TRY(decoder->init());
  return std::unique_ptr<StreamDecoder>(std::move(decoder));
}

}  // namespace ocipack
