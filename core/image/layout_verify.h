// verify_layout: the library side of `ocipack verify LAYOUT [--ref TAG]`. It
// reads an OCI image layout the way a strict consumer would and lists every
// problem it finds, instead of stopping at the first one as the readers in
// layout_reader.h do: oci-layout, index.json, nested image indexes,
// manifests, configs and layers — each blob's existence, size and sha256, each
// document's required fields and media types, the platform an image index
// declares for an image against its config, each layer's diff_id (the
// sha256 of its decompressed bytes) against the config, and each layer's tar
// stream entry by entry (well-formed headers, safe and unique paths, hard
// links to earlier entries). Layers are streamed in 1 MiB reads, so memory
// does not grow with the size of a layer (only with its number of entries,
// which the duplicate-path check must remember).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/image/tar_entry_checker.h"  // k_max_problems_per_layer
#include "core/oci/layout_source.h"
#include "core/util/result.h"

namespace ocipack {

struct VerifyOptions {
  // Verify only the manifests that index.json tags with this ref.name;
  // unset: every manifest of index.json. index.json itself is always checked.
  std::optional<std::string> ref;
};

struct VerifyReport {
  // One line each, naming the file, blob, field or tar entry at fault, in the
  // order found (index.json first, then each selected manifest depth-first).
  // Files are named relative to the layout ("index.json", "blobs/sha256/…");
  // blobs by the tag or index.json position that leads to them, e.g.
  // "tag 'latest': layer 1 sha256:…: entry 7 '../x' has a '..' component".
  // Text from the layout (paths, media types) has control bytes escaped as \xNN.
  std::vector<std::string> problems;
  uint64_t manifests = 0;        // distinct image manifests examined
  uint64_t blobs_checked = 0;    // distinct blobs read and hashed
  uint64_t layers_checked = 0;   // distinct layers of a supported type whose content was read
  uint64_t entries_checked = 0;  // tar entries of those layers
  // VerifyOptions::ref named no manifest of the index.json that was read
  // (also one of `problems`); a front end may treat it as the caller's mistake.
  bool ref_missing = false;
  bool ok() const { return problems.empty(); }
};

// Verifies the layout at `layout_dir`. Never stops at the first problem: all
// it can find are collected in the report (a blob shared by several manifests
// is checked and reported once). The error result is only for "cannot even
// start": the layout path is empty (kind usage), missing or not a directory
// (kind input).
//
// Layer media types checked (layer_compression in media_types.h): OCI tar,
// tar+gzip (any number of members; CRC and length of each are verified) and
// tar+zstd (any number of frames; their checksums are verified), and
// Docker's rootfs.diff.tar.gzip. Any other layer media type is reported as a problem
// ("unsupported layer media type"), as are non-distributable layers.
//
// Not thread-safe in any interesting way: it only reads files, and two calls
// share nothing.
// A regular file at `layout_dir` is verified as a layout tarball (an
// oci-archive, read in place: core/oci/layout_source.h); one whose members
// cannot be part of a layout (a '..' or absolute name, a link, a device, a
// duplicate) cannot even start (kind input, naming the member).
Result<VerifyReport> verify_layout(const std::string& layout_dir, const VerifyOptions& options);
// The same for a source already open. Files are named relative to the
// layout in both cases.
Result<VerifyReport> verify_layout(const LayoutSource& source, const VerifyOptions& options);

}  // namespace ocipack
