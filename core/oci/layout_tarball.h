// The layout tarball (`build --tar-output FILE`): one tar file whose entries
// are an OCI image layout's contents — oci-layout, index.json, blobs/,
// blobs/sha256/, then every blob in name order — the form `oci-archive:`
// readers and `podman load` expect. Entries are normalised (uid/gid 0, modes
// 0644/0755, one given mtime), so the tarball is as reproducible as the
// layout. It is staged next to its final name while the layout is still
// uncommitted, and renamed into place after index.json is.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/temp_file.h"
#include "core/util/unique_fd.h"
#include "core/util/result.h"

namespace ocipack {

// A tarball staged next to its final name. `lock` is a second descriptor of
// the temp file holding a flock(2) on it from creation until after commit():
// a temp file nobody holds locked is a leftover of a killed build.
struct StagedTarball {
  TempFile file;
  UniqueFd lock;
  const std::string& path() const { return file.path(); }
  Status commit(const std::string& output) { return file.commit(output); }
};

// Writes the tarball of the layout as it will be once `index_json` is
// committed (oci-layout and index.json come from memory, the blobs from the
// files of layout_dir/blobs/sha256) into a temp file next to `output`. The caller
// commits it after index.json, so a failure here leaves both the layout and
// an existing tarball untouched. Hidden files (temp files of interrupted
// runs) in the layout are not packed.
// First removes the temp files of `output` (TempFile's ".<name>.tmp-XXXXXX")
// that killed builds left, skipping those another build holds locked.
// `cancel` (may be null) is polled between blocks: when it is set the staging
// stops with an error of kind interrupted and the temp file is removed.
// `top_dir` non-empty: every entry lies below one directory of that name,
// which comes first (`build --tar-output-dir`, Yocto's -dir.tar).
Result<StagedTarball> stage_layout_tarball(const std::string& layout_dir, const std::string& output,
                                      std::string_view oci_layout, std::string_view index_json,
                                      int64_t mtime, const std::atomic<bool>* cancel = nullptr,
                                      const std::string& top_dir = "");

// Removes the leftover temp files of `output` (see stage_layout_tarball);
// returns how many it removed.
size_t remove_stale_tarball_temps(const std::string& output);

}  // namespace ocipack
