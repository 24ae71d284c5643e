// The zstd StreamDecoder (stream_decoder.h) on libzstd's streaming API:
// frames back to back (skippable frames included), each frame's checksum
// verified when it has one, data after the last frame that is not a frame
// and a stream that ends inside a frame refused — what Go's zstd reader does.
// Windows up to libzstd's default limit (128 MiB) are accepted.
#pragma once

#include <memory>

#include "core/codec/stream_decoder.h"
#include "core/util/result.h"

namespace ocipack {

Result<std::unique_ptr<StreamDecoder>> make_zstd_decoder();

}  // namespace ocipack
