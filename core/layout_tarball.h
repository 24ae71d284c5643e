// write_layout_tarball: packs an OCI image layout directory into one tar file
// whose entries are the layout's contents (oci-layout, index.json, blobs/,
// blobs/sha256/, blobs/sha256/<hex>…), the form `oci-archive:` readers and
// `podman load` expect. Entries are normalised (uid/gid 0, fixed modes, one
// given mtime, sorted) so the tarball is as reproducible as the layout.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace ocipack {

// Writes via a temp file next to `output` and renames it into place; an
// existing file at `output` is replaced only on success. Hidden files (temp
// files of interrupted runs) in the layout are not packed.
Status write_layout_tarball(const std::string& layout_dir, const std::string& output,
                            int64_t mtime);

}  // namespace ocipack
