// The zstd decoder (see zstd_decoder.h). ZSTD_decompressStream returns 0
// exactly when a frame is complete and flushed; the next input starts a new
// frame on the same stream, so frames back to back need nothing special.
#include "core/codec/zstd_decoder.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <string>
#include <memory>

namespace ocipack {

namespace {

struct DStreamDeleter {
  void operator()(ZSTD_DStream* stream) const { ZSTD_freeDStream(stream); }
};
using DStreamHandle = std::unique_ptr<ZSTD_DStream, DStreamDeleter>;

class ZstdDecoder final : public StreamDecoder {
 public:
  // The output buffer is one zstd block (ZSTD_DStreamOutSize, 128 KiB), not
  // zero-filled: verify makes a decoder per file of a zstd:chunked layer,
  // and a zero-filled 1 MiB each was most of its time.
  explicit ZstdDecoder(DStreamHandle stream)
      : m_stream(std::move(stream)),
        m_output_size(ZSTD_DStreamOutSize()),
        m_output(std::make_unique_for_overwrite<char[]>(m_output_size)) {}

  Status feed(std::string_view input, const ByteSink& sink) override {
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    bool output_full = false;
    // Go on while there is input, or while a frame may hold output that did
    // not fit the buffer.
    while (in.pos < in.size || (output_full && m_in_frame)) {
      ZSTD_outBuffer out{m_output.get(), m_output_size, 0};
      const size_t rc = ZSTD_decompressStream(m_stream.get(), &out, &in);
      if (ZSTD_isError(rc)) return frame_error(rc);
      if (out.pos > 0) {
        m_frame_output += out.pos;
        sink(std::string_view(m_output.get(), out.pos));
      }
      output_full = out.pos == out.size;
      m_in_frame = rc != 0;
      if (!m_in_frame) {
        ++m_frames;
        m_frame_output = 0;
      }
    }
    return ok_status();
  }

  Status finish() override {
    if (m_in_frame)
      return corrupt_error("zstd stream is truncated (frame " + std::to_string(m_frames + 1) + " has no end)");
    if (m_frames == 0) return corrupt_error("zstd stream is empty (no frame)");
    return ok_status();
  }

 private:
  Error frame_error(size_t rc) const {
    const std::string detail = ZSTD_getErrorName(rc);
    if (m_frames > 0 && m_frame_output == 0 && ZSTD_getErrorCode(rc) == ZSTD_error_prefix_unknown)
      return corrupt_error("data after zstd frame " + std::to_string(m_frames) + " is not a zstd frame (" + detail +
                           ")");
    return corrupt_error("zstd frame " + std::to_string(m_frames + 1) + " is corrupt (" + detail + ")");
  }

  DStreamHandle m_stream;
  size_t m_output_size;
  std::unique_ptr<char[]> m_output;
  bool m_in_frame = false;
  uint64_t m_frames = 0;        // complete frames so far
  uint64_t m_frame_output = 0;  // bytes the current frame has produced
};

}  // namespace

Result<std::unique_ptr<StreamDecoder>> make_zstd_decoder() {
  DStreamHandle stream(ZSTD_createDStream());
  if (!stream || ZSTD_isError(ZSTD_initDStream(stream.get()))) return io_error("cannot initialise libzstd");
  return std::unique_ptr<StreamDecoder>(std::make_unique<ZstdDecoder>(std::move(stream)));
}

}  // namespace ocipack
