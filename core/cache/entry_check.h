// check_entry_payload: proof that a cache entry from somewhere ocipack does
// not own (the remote) holds the chunk it claims to: each frame of the
// payload is decoded and compared with the chunk's bytes. The entry's
// checksum only finds damage; a remote anyone can PUT to may serve a
// well-formed entry with other contents, and a layer built from it would
// not decode to its diff_id. Costs one decompression per remote hit, far
// less than the compression it replaces.
#pragma once

#include <cstddef>
#include <span>

#include "core/cache/cache_entry.h"
#include "core/codec/codec.h"
#include "core/util/result.h"

namespace ocipack {

// `frame_ends` are the chunk's frame ends (empty: one frame). Corrupt error
// ("frame 2 does not decode to the chunk") when any frame differs.
Status check_entry_payload(CompressedShape shape, const CacheEntryView& entry, std::span<const size_t> frame_ends,
                           std::span<const std::byte> chunk);

}  // namespace ocipack
