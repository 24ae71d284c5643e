// The gzip StreamDecoder (stream_decoder.h): RFC 1952 members back to back,
// as pigz and ocipack write them, inflated with zlib member by member. zlib
// checks each member's CRC-32 and length; data after a member that is not
// another member is an error, as in Go's gzip reader (containerd, skopeo,
// umoci) — libarchive's gzip reader would neither check nor notice.
#pragma once

#include <memory>

#include "core/codec/stream_decoder.h"
#include "core/util/result.h"

namespace ocipack {

Result<std::unique_ptr<StreamDecoder>> make_gzip_decoder();

}  // namespace ocipack
