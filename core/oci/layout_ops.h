// The operations behind `ocipack tags`, `ocipack inspect` and `ocipack gc` on
// an existing OCI image layout, and LayoutLock, the advisory lock that keeps
// gc and builds of the same layout from interleaving. Everything here returns
// text or data; printing is the CLI's job.
//
// Locking contract: a process that writes a layout (a build) or removes blobs
// from it (gc) holds LayoutLock for the whole operation. The lock is a
// flock(2) on the layout directory itself (no lock file: the layout holds
// only what the OCI spec describes). Readers (tags, inspect, load_image) take no lock: a blob
// removed by gc stays readable through a descriptor already open, and gc
// removes only blobs that the current index.json does not reach.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/unique_fd.h"
#include "core/oci/layout_reader.h"
#include "core/oci/oci_json.h"
#include "core/util/result.h"

namespace ocipack {


struct TagInfo {
  std::string tag;  // "" for an index.json entry without a ref.name annotation
  bool readable = true;  // false: the entry could not be read, `manifest` is empty
  Descriptor manifest;
  std::string digest_text;  // the digest as index.json writes it (for entries that cannot be read too)
  // Why the entry is not an image ocipack can read ("" when it is): the
  // reader's problem (a sha512 or unknown digest, a bad size, ...), an
  // unknown media type, or a tag that other entries carry too.
  std::string note;
};

// The entries of index.json in file order, with their ref.name. Entries
// ocipack does not understand are listed with a note instead of failing the
// listing (see IndexEntry); only an unreadable index.json itself is an error.
Result<std::vector<TagInfo>> list_tags(const std::string& layout_dir);

// A human summary of one image, one item per line, each line ending in '\n':
// tag, manifest and config digests, created, author, platform
// (os/architecture[/variant]), User, Entrypoint and Cmd (as JSON arrays), Env,
// WorkingDir, ExposedPorts, Labels, StopSignal (empty fields are left out),
// then each layer (digest, compressed size, diff_id), the total size (bytes of
// the manifest, config and layer blobs) and the history. Control characters
// in values are shown escaped (\n, \x1b) so a label cannot drive the terminal.
Result<std::string> inspect_text(const std::string& layout_dir, const std::string& tag);

// The same image as one JSON object (no trailing newline):
//   {"tag":…, "manifest":{"digest":…,"size":…}, "config":<the config blob as
//    stored, surrounding whitespace trimmed>, "layers":[{"digest","size",
//    "mediaType","diff_id"}…], "size":<manifest + config + layers bytes>}
Result<std::string> inspect_json(const std::string& layout_dir, const std::string& tag);

struct GcResult {
  uint64_t removed_blobs = 0;
  uint64_t freed_bytes = 0;          // apparent sizes (st_size) of the removed files
  std::vector<std::string> removed;  // hex names, sorted
  uint64_t removed_temp_files = 0;   // stale temp files of killed builds
};

// Removes the files blobs/sha256/<64 hex> that no entry of index.json reaches
// (entry → manifest → config + layers; image indexes followed to any depth; a
// blob of unknown media type that parses as an index or manifest is followed
// too). Never touches hidden files (names starting with '.', the temp files
// of builds in progress), names that are not a sha256 hex digest, or
// directories. Holds LayoutLock for the whole run and re-reads index.json just
// before deleting: if it changed, the reachable set is computed again.
// Refuses, deleting nothing, when a reachable blob is missing or a reachable
// manifest/index does not match its digest or does not parse (a broken layout
// is better repaired than pruned), and when index.json has an entry it cannot
// read (a sha512 digest, a bad size, ...): what such an entry reaches is
// unknown, so nothing may be deleted. gc never deletes through a symlink:
// blobs/ and blobs/sha256 must be real directories (a symlink is refused),
// everything is listed, examined and unlinked relative to an
// O_DIRECTORY|O_NOFOLLOW descriptor of blobs/sha256 (and of the layout for
// temp files), so a directory swapped for a link meanwhile is not followed,
// and entries are never followed (a symlink named by a digest is removed as a
// link, a directory is left alone).
// Also removes the temp files killed builds left behind (".blob.tmp-*" in
// blobs/sha256, ".index.json.tmp-*" and ".oci-layout.tmp-*" beside
// index.json): builds create those only while holding LayoutLock, so any
// that exist while gc holds it belong to no running build.
// An unfinished layout (a first build killed before its index.json; see
// check_unfinished_layout in layout_store.h) is pruned as one with no images.
Result<GcResult> collect_garbage(const std::string& layout_dir);

// RAII exclusive flock on the layout directory (which must exist). Move-only;
// unlocks on destruction. path() is the locked directory.
class LayoutLock {
 public:
  // Waits for the lock.
  static Result<LayoutLock> acquire(const std::string& layout_dir);
  // Fails at once, naming the lock file, when another holder has it.
  static Result<LayoutLock> try_acquire(const std::string& layout_dir);

  LayoutLock(LayoutLock&& other) noexcept = default;
  LayoutLock& operator=(LayoutLock&& other) noexcept;
  LayoutLock(const LayoutLock&) = delete;
  LayoutLock& operator=(const LayoutLock&) = delete;
  ~LayoutLock() { unlock(); }

  const std::string& path() const { return m_path; }
  // Whether path() still names the directory that is locked (it may have been
  // removed, or removed and made again, while we waited for the lock).
  Result<bool> names_locked_directory() const;

 private:
  LayoutLock(UniqueFd fd, std::string path) : m_fd(std::move(fd)), m_path(std::move(path)) {}
  static Result<LayoutLock> lock(const std::string& layout_dir, bool wait);
  void unlock();

  UniqueFd m_fd;
  std::string m_path;
};

}  // namespace ocipack
