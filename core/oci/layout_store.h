// LayoutStore: the on-disk OCI image layout (oci-layout, index.json,
// blobs/sha256/<hex>) and the write discipline that keeps it valid at every
// instant: blobs are written to a temporary file inside blobs/sha256, fsynced
// and renamed to their digest; index.json is replaced last and atomically.
// A build that fails or is killed leaves the previous layout as it was (at
// worst an unreferenced blob or a hidden temp file remains).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/layout_lock.h"
#include "core/oci/layout_paths.h"
#include "core/oci/oci_json.h"
#include "core/util/digest.h"
#include "core/util/temp_file.h"
#include "core/util/unique_fd.h"
#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {

// Whether `dir` (which has no index.json) holds only what a first build
// leaves when it is killed before its commit: an oci-layout file, blobs/ with
// only sha256/ in it, blobs named by a sha256 hex digest, and the hidden temp
// files of builds (is_blob_temp_name, is_layout_temp_name: layout_paths.h),
// every one a real directory or regular file. Such a
// directory is a layout with no images yet: builds and gc accept it. The
// error names the first foreign entry (or index.json when there is one).
Status check_unfinished_layout(const std::string& dir);

class LayoutStore {
 public:
  // Opens the layout at `dir`, or prepares a new one there, and holds its
  // LayoutLock (layout_lock.h) until the store is destroyed. `dir` is created
  // (with its parents) when missing, then locked, then inspected: so a second
  // build into the same new directory waits and then sees a layout, never a
  // half-made one. `dir` may be empty or an unfinished layout
  // (check_unfinished_layout). Refuses a regular file, a directory holding
  // anything else that is not an OCI layout, or a layout whose oci-layout or
  // index.json is unusable; the directories it created are then removed.
  // `on_lock_wait` is LayoutLock::acquire's `on_wait`.
  static Result<LayoutStore> open_or_create(const std::string& dir, const std::function<void()>& on_lock_wait = {});

  const std::string& dir() const { return m_dir; }
  std::string blobs_dir() const { return blob_dir_path(m_dir); }
  std::string blob_path(const Digest& digest) const { return ocipack::blob_path(m_dir, digest); }

  // Creates the directories of a new layout (idempotent).
  Status ensure_directories();
  // A temp file inside blobs/sha256 for streaming a large blob into.
  Result<TempFile> begin_blob();
  // Moves a finished temp blob to its digest name (replacing an existing copy,
  // which has the same content by construction).
  Status commit_blob(TempFile& temp, const Digest& digest);
  // Makes the blob `descriptor` of another layout available here: nothing if
  // a copy that matches its size and sha256 is present, else a hard link of
  // the source after it was verified, else a copy verified as it is written.
  // The source is opened without following a symlink or blocking and must
  // be a regular file; errors name it.
  Status import_blob(const std::string& source_layout, const Descriptor& descriptor);
  // Copies the blob `descriptor` from `descriptor.size` bytes of `fd` at
  // `offset` (a member of a layout tarball), hashed as it is written: a
  // mismatch is an error of kind corrupt naming `source`, and nothing is kept.
  // Nothing is copied when a sound copy is present (as import_blob).
  Status import_blob_range(int fd, int64_t offset, const Descriptor& descriptor, const std::string& source);
  // Writes a small blob (config, manifest) and returns its descriptor.
  Result<Descriptor> put_blob(std::string_view data, std::string media_type);
  // The oci-layout file's content (the existing one, or what will be written).
  const std::string& oci_layout() const { return m_oci_layout; }
  // The index.json found when the store was opened, or the last one
  // write_index wrote; nullopt for a layout without one yet.
  const std::optional<std::string>& existing_index() const { return m_existing_index; }
  // Writes oci-layout (if needed), then index.json atomically: the commit point.
  Status write_index(std::string_view index_json);
  // After a failure: removes the blobs this store added and the directories
  // it created, so the layout is as it was before the build.
  void discard_changes();
  // After index.json is committed the new blobs belong to the layout: a later
  // failure (e.g. of the tarball) must not remove them.
  void keep_changes();

 private:
  enum class ExistingCopy { missing, sound, unsound };
  // Whether the layout holds `descriptor`'s blob, and whether its size and sha256 match.
  Result<ExistingCopy> existing_copy(const Descriptor& descriptor) const;
  LayoutStore(std::string dir, LayoutLock lock) : m_dir(std::move(dir)), m_lock(std::move(lock)) {}
  Status inspect();
  std::string m_dir;
  LayoutLock m_lock;
  std::optional<std::string> m_existing_index;
  std::string m_oci_layout = k_oci_layout_json;
  bool m_has_oci_layout = false;
  std::vector<std::string> m_created_dirs;   // in creation order
  std::vector<std::string> m_created_blobs;  // blob files that did not exist before
};

}  // namespace ocipack
