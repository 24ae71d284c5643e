// stream_blob: verify's single pass over a blob. Each blob is read once, in
// 1 MiB reads, and that pass feeds the SHA-256 of the stored bytes (the blob
// digest) and, for a layer, the decoder its media type calls for
// (core/codec/stream_decoder.h), whose output goes to a sink (verify hashes
// it for the diff_id and checks it as a tar stream). A decoding problem
// stops the decoding, never the hashing, so every problem of a layer can be
// reported. The blob's first bytes are checked against the compression its
// media type claims before decoding starts.
#pragma once

#include <optional>
#include <string>

#include "core/codec/stream_decoder.h"
#include "core/oci/layout_source.h"
#include "core/util/compression.h"
#include "core/util/sha256.h"

namespace ocipack {

struct StreamOutcome {
  std::string read_error;    // the blob could not be read to its end: its hash is unknown
  std::string decode_error;  // it could not be decompressed to its end: no diff_id, tar checks incomplete
};

// Reads `blob` (a blob file, or a layout tarball's member: layout_source.h)
// to its end, hashing every byte into
// `blob_hash`, and passes the content to `sink`: as stored when
// `compression` is unset, else decompressed (Compression::none: as stored,
// after checking it does not look compressed).
StreamOutcome stream_blob(BlobReader& blob, std::optional<Compression> compression, Sha256& blob_hash,
                          const ByteSink& sink);

}  // namespace ocipack
