// The "gzip single" layer format: the whole layer is ONE gzip member, for
// readers that stop after the first member. Each chunk becomes a piece of
// one raw deflate stream (byte-aligned on a full flush, never final; only
// ISA-L writes these), and the blob is framed around the pieces: the gzip
// header before the first, then the empty final deflate block and the
// trailer (CRC-32 and size of the uncompressed stream, which the framing
// observes) after the last. With the dictionary option each piece may
// refer back into the 32 KiB of stream before its chunk, so its bytes
// depend on the previous chunk too.
#include "core/layer/layer_format.h"

namespace ocipack {

namespace {
std::vector<std::byte> bytes_of(std::span<const std::byte> bytes) { return {bytes.begin(), bytes.end()}; }

class GzipSingleFraming final : public BlobFraming {
 public:
  std::vector<std::byte> prologue() const override { return bytes_of(gzip_header()); }
  void observe(std::span<const std::byte> uncompressed) override { m_crc = crc32_update(m_crc, uncompressed); }
  std::vector<std::byte> epilogue(uint64_t uncompressed_size) const override {
    std::vector<std::byte> out = bytes_of(k_deflate_final_block);
    const auto trailer = gzip_trailer(m_crc, uncompressed_size);
    out.insert(out.end(), trailer.begin(), trailer.end());
    return out;
  }

 private:
  uint32_t m_crc = 0;
};

class GzipSingleFormat final : public LayerFormat {
 public:
  GzipSingleFormat(const CodecChoice& codec, bool dictionary, const LayerFormatRow& row)
      : LayerFormat(row, codec.kind, codec.level, CompressedShape::deflate_piece),
        m_history(dictionary ? k_deflate_window : 0) {}

  std::unique_ptr<BlobFraming> begin_blob() const override { return std::make_unique<GzipSingleFraming>(); }
  size_t history_size() const override { return m_history; }

 private:
  size_t m_history;
};
}  // namespace

bool serves_gzip_single(const CodecOptions& options) {
  return options.compression == LayerCompression::gzip && options.format == GzipFormat::single;
}

Result<std::unique_ptr<const LayerFormat>> make_gzip_single_format(const CodecOptions& options,
                                                                   const LayerFormatRow& row) {
  const CodecChoice codec = codec_choice(options);
  if (codec_available(codec.kind) && !codec_writes(codec.kind, CompressedShape::deflate_piece))
    return field_error(ErrorKind::usage, "codec.format", " single needs ")
        .then_field("codec.kind")
        .then(std::string(" isal (") + codec_name(codec.kind) +
              " cannot end a deflate block on a flush, so it can only write one gzip member per chunk)");
  OCIPACK_TRY(check_compressor(codec.kind, codec.level, CompressedShape::deflate_piece));
  return std::unique_ptr<const LayerFormat>(std::make_unique<GzipSingleFormat>(codec, options.dictionary, row));
}

}  // namespace ocipack
