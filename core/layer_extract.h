// extract_layers: materialises an image's merged root filesystem — its
// layers applied in order, whiteouts honoured — into a directory, so a new
// layer can be computed as a delta against it (`--diff-base` with a base
// image). Layer blobs are read with libarchive (gzip, multi-member gzip or
// plain tar) and written with archive_write_disk, keeping modes, owners,
// mtimes, xattrs and hard links. Entries that would escape the target
// (absolute paths, `..`, symlinked parents) are refused with an error naming
// the layer and entry.
#pragma once

#include <string>
#include <vector>

#include "core/oci_json.h"
#include "core/result.h"

namespace ocipack {

// Applies `layers` (blobs of `layout_dir`) in order into `target`, an
// existing empty directory.
Status extract_layers(const std::string& layout_dir, const std::vector<Descriptor>& layers,
                      const std::string& target);

}  // namespace ocipack
