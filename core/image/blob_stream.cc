// Implementation of stream_blob (see blob_stream.h).
#include "core/image/blob_stream.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/util/file_io.h"

namespace ocipack {

namespace {

constexpr size_t k_read_size = 1 << 20;

// What the first bytes of a blob say about a compression mismatch ("" if none).
std::string magic_mismatch(Compression claimed, std::string_view head) {
  const std::string claimed_name = compression_name(claimed);
  if (claimed == Compression::gzip && head.empty()) return "blob is empty (no gzip member)";
  const Compression actual = sniff_compression(head);
  if (actual == claimed) return "";
  if (claimed == Compression::none)
    return "blob is " + std::string(compression_name(actual)) + "-compressed, but its media type says uncompressed tar";
  if (actual == Compression::none)
    return "blob is not " + claimed_name + "-compressed, but its media type says " + claimed_name;
  return "blob is " + std::string(compression_name(actual)) + "-compressed, but its media type says " + claimed_name;
}

// The decoder for `compression` once the blob's first bytes agree with it;
// else nullptr and the problem in `outcome`.
std::unique_ptr<StreamDecoder> decoder_for(const BlobReader& blob, Compression compression, StreamOutcome& outcome) {
  char head[k_compression_magic_size] = {};
  const ssize_t n = blob.read_at(head, sizeof head, 0);
  if (n < 0) {
    outcome.read_error = "cannot read: " + errno_text(errno);
    return nullptr;
  }
  outcome.decode_error = magic_mismatch(compression, std::string_view(head, static_cast<size_t>(n)));
  if (!outcome.decode_error.empty()) return nullptr;
  auto decoder = make_stream_decoder(compression);
  if (!decoder) {
    outcome.decode_error = "cannot be checked: " + decoder.error().message;
    return nullptr;
  }
  return std::move(*decoder);
}

}  // namespace

StreamOutcome stream_blob(BlobReader& blob, std::optional<Compression> compression, Sha256& blob_hash,
                          const ByteSink& sink) {
  StreamOutcome outcome;
  std::unique_ptr<StreamDecoder> decoder = compression ? decoder_for(blob, *compression, outcome) : nullptr;
  if (!outcome.read_error.empty()) return outcome;
  std::vector<char> buffer(k_read_size);
  for (;;) {
    const ssize_t n = blob.read(buffer.data(), buffer.size());
    if (n < 0) {
      outcome.read_error = "cannot read: " + errno_text(errno);
      return outcome;
    }
    if (n == 0) break;
    const std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    blob_hash.update(chunk);
    if (!compression) sink(chunk);
    if (!decoder) continue;
    if (auto status = decoder->feed(chunk, sink); !status) {
      outcome.decode_error = status.error().message;
      decoder.reset();
    }
  }
  if (decoder)
    if (auto status = decoder->finish(); !status) outcome.decode_error = status.error().message;
  return outcome;
}

}  // namespace ocipack
