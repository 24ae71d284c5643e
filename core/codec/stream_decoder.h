// StreamDecoder: undoes one stream compression incrementally — the input
// arrives in pieces of any size (a blob read 1 MiB at a time) and the output
// leaves through a sink as it is produced, so memory does not grow with the
// stream. One interface for every compression a layer may have
// (core/util/compression.h): gzip (gzip_decoder.h), zstd (zstd_decoder.h) and
// none (the bytes pass through). Decoders check what their format can check
// (CRC-32 and length of each gzip member, zstd frame checksums), and accept
// what Go's readers accept: several gzip members or zstd frames back to
// back. Data after the last member/frame that is not another one, and a
// stream that ends inside one, are errors. A decoder is not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "core/util/compression.h"
#include "core/util/result.h"

namespace ocipack {

using ByteSink = std::function<void(std::string_view)>;

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Decodes `input`, the next bytes of the stream, passing what it produces
  // to `sink`. An error (kind corrupt, naming the member or frame) is final:
  // feed nothing more.
  virtual Status feed(std::string_view input, const ByteSink& sink) = 0;
  // The input has ended: an error when it ended inside a member or frame,
  // or before the first one.
  virtual Status finish() = 0;
};

// A decoder for `compression`. Errors (kind io) when the library cannot set
// one up (out of memory).
Result<std::unique_ptr<StreamDecoder>> make_stream_decoder(Compression compression);

// What the first bytes of a stream say by their magic number: gzip
// (1f 8b), zstd (28 b5 2f fd), or none (anything else, too short included).
// k_compression_magic_size bytes are enough to tell.
inline constexpr size_t k_compression_magic_size = 4;
Compression sniff_compression(std::string_view head);

}  // namespace ocipack
