// The layout's names (see layout_paths.h). Temp file names come from the
// code that creates them — is_temp_file_name (core/util/temp_file.h) for blobs
// and write_file_atomic, k_spool_name_prefix (core/tar/tar_input.h) for the
// spool — so a change of pattern there is a change here too.
#include "core/oci/layout_paths.h"

#include "core/tar/tar_input.h"
#include "core/util/temp_file.h"
#include "core/util/path.h"

namespace ocipack {

std::string blob_relative_path(const Digest& digest) { return std::string(k_blob_dir) + "/" + digest.hex(); }

std::string blob_path(std::string_view layout_dir, const Digest& digest) {
  return trim_trailing_slashes(layout_dir) + "/" + blob_relative_path(digest);
}

std::string blob_dir_path(std::string_view layout_dir) { return trim_trailing_slashes(layout_dir) + "/" + k_blob_dir; }

bool is_blob_temp_name(std::string_view name) { return is_temp_file_name(name, k_blob_temp_stem); }

bool is_layout_temp_name(std::string_view name) {
  constexpr size_t k_random = 6;  // mkostemp's XXXXXX
  const bool spool = name.size() == k_spool_name_prefix.size() + k_random && name.starts_with(k_spool_name_prefix);
  return spool || is_temp_file_name(name, k_index_file) || is_temp_file_name(name, k_oci_layout_file);
}

}  // namespace ocipack
