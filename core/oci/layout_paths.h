// The names inside an OCI image layout, defined once: its two files
// (oci-layout, index.json), where a blob lives (blobs/sha256/<hex>), and the
// temporary files builds create in it — blob temp files in blobs/sha256,
// index.json and oci-layout temp files beside them (write_file_atomic), and
// the tar input's spool file (only where O_TMPFILE is unsupported). Writers
// create those through the names given here; gc and check_unfinished_layout
// recognise them with the matchers here, never by a pattern of their own.
#pragma once

#include <string>
#include <string_view>

#include "core/util/digest.h"

namespace ocipack {

inline constexpr const char* k_oci_layout_file = "oci-layout";
inline constexpr const char* k_index_file = "index.json";
inline constexpr const char* k_blobs_dir = "blobs";
// Where sha256 blobs live, relative to the layout (the only algorithm ocipack stores).
inline constexpr const char* k_blob_dir = "blobs/sha256";
// The stem of blob temp files (TempFile::create(blob directory, k_blob_temp_stem)).
inline constexpr const char* k_blob_temp_stem = "blob";

// "blobs/sha256/<hex>": a blob's path relative to its layout.
std::string blob_relative_path(const Digest& digest);
// "<layout>/blobs/sha256/<hex>" (trailing '/' of the layout path dropped).
std::string blob_path(std::string_view layout_dir, const Digest& digest);
// "<layout>/blobs/sha256".
std::string blob_dir_path(std::string_view layout_dir);

// A temp file a build leaves in blobs/sha256 when it is killed: ".blob.tmp-XXXXXX".
bool is_blob_temp_name(std::string_view name);
// One it leaves in the layout directory itself: ".index.json.tmp-XXXXXX",
// ".oci-layout.tmp-XXXXXX", or a tar input spool file (".ocipack-spool-XXXXXX").
bool is_layout_temp_name(std::string_view name);

}  // namespace ocipack
