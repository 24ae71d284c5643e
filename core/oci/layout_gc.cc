// Implementation of collect_garbage (see layout_gc.h): mark every blob the
// current index.json reaches, list blobs/sha256, and delete the rest — but
// only if index.json is byte-for-byte what the marking started from. The
// lock keeps cooperating writers out; the re-read catches the others.
#include "core/oci/layout_gc.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <set>

#include "core/oci/layout_lock.h"
#include "core/oci/layout_paths.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_store.h"
#include "core/oci/referrers.h"
#include "core/util/unique_fd.h"
#include "core/util/file_io.h"
#include "core/util/open_beneath.h"
#include "core/util/path.h"
#include "core/util/temp_file.h"

namespace ocipack {

namespace {

// The error with "; refusing to collect garbage" after it (kind kept).
Error refusing(Error error) {
  error.message += "; refusing to collect garbage";
  return error;
}

// Marks every blob reachable from index.json. Documents (indexes, manifests)
// are read and verified against their digests; leaves (configs, layers) only
// have to exist.
class Marker {
 public:
  // `blobs_fd`: blobs/sha256 opened O_NOFOLLOW (-1 when the layout has none).
  Marker(std::string dir, int blobs_fd)
      : m_dir(std::move(dir)), m_where("layout '" + m_dir + "'"), m_blobs_fd(blobs_fd) {}

  Status mark_index_entries(const std::vector<Descriptor>& entries, const std::string& referrer, int depth) {
    constexpr int k_max_nesting = 16;
    if (depth > k_max_nesting)
      return input_error(m_where + ": image indexes are nested too deeply (" + referrer + ")");
    for (const auto& entry : entries) OCIPACK_TRY(mark_document(entry, referrer, depth));
    return ok_status();
  }

  const std::set<std::string>& reachable() const { return m_reachable; }

  // Marks the referrers (is_referrer_entry) whose subject is reachable —
  // in rounds, so a referrer of a kept referrer is kept too — and returns
  // the digests of the others, whose subject is gone. Call after the images
  // are marked.
  Result<std::vector<Digest>> mark_live_referrers(std::vector<Descriptor> pending) {
    for (bool marked = true; marked;) {
      marked = false;
      std::vector<Descriptor> waiting;
      for (auto& referrer : pending) {
        OCIPACK_TRY_ASSIGN(const auto subject, subject_of(referrer));
        if (subject && !m_reachable.count(subject->hex())) {
          waiting.push_back(std::move(referrer));
          continue;
        }
        OCIPACK_TRY(mark_document(referrer, k_index_file, 0));
        marked = true;
      }
      pending = std::move(waiting);
    }
    std::vector<Digest> gone;
    for (const auto& referrer : pending) gone.push_back(referrer.digest);
    return gone;
  }

 private:
  Status require_blob(const Descriptor& d, const std::string& referrer) {
    m_reachable.insert(d.digest.hex());
    struct stat st {};
    if (m_blobs_fd >= 0 && ::fstatat(m_blobs_fd, d.digest.hex().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(st.st_mode)) return ok_status();
      return input_error(m_where + ": blob " + d.digest.str() + " referenced by " + referrer +
                         " is not a regular file; refusing to collect garbage in a broken layout");
    }
    if (m_blobs_fd < 0 || errno == ENOENT)
      return input_error(m_where + ": blob " + d.digest.str() + " referenced by " + referrer +
                         " is missing; refusing to collect garbage in a broken layout");
    return io_error(m_where + ": cannot access " + blob_path(m_dir, d.digest) + ": " + errno_text(errno));
  }

  // An entry of an index: an image manifest, a nested index, or something
  // else (kept, and followed if it looks like an index or manifest).
  Status mark_document(const Descriptor& d, const std::string& referrer, int depth) {
    OCIPACK_TRY(require_blob(d, referrer));
    if (!m_expanded.insert(d.digest.hex()).second) return ok_status();
    const bool declared_index = is_index_media_type(d.media_type);
    const bool declared_manifest = is_manifest_media_type(d.media_type);
    if (!declared_index && !declared_manifest && d.size > k_max_document_size) return ok_status();

    const std::string what = "referenced by " + referrer;
    auto text = read_blob(m_dir, d, what);
    if (!text) return refusing(std::move(text).error());
    const DocumentKind kind = declared_index      ? DocumentKind::index
                              : declared_manifest ? DocumentKind::manifest
                                                  : sniff_document_kind(*text);
    const std::string name = m_where + ": " + d.digest.str() + " (" + what + ")";
    if (kind == DocumentKind::index) {
      auto entries = parse_index(*text, name);
      if (!entries) return refusing(std::move(entries).error());
      return mark_index_entries(*entries, "image index " + d.digest.str(), depth + 1);
    }
    if (kind == DocumentKind::manifest) {
      auto manifest = parse_manifest(*text, name + ": manifest");
      if (!manifest) return refusing(std::move(manifest).error());
      const std::string by = "manifest " + d.digest.str();
      OCIPACK_TRY(require_blob(manifest->config, by));
      for (const auto& layer : manifest->layers) OCIPACK_TRY(require_blob(layer, by));
    }
    return ok_status();
  }

  // The subject of a referrer's manifest (nullopt: it has none, or is too
  // large to be one: kept like any other entry). A referrer that cannot be
  // read refuses the run, as any reachable document would.
  Result<std::optional<Digest>> subject_of(const Descriptor& d) {
    if (!is_manifest_media_type(d.media_type) || d.size > k_max_document_size) return std::optional<Digest>();
    auto text = read_blob(m_dir, d, "referrer listed in index.json");
    if (!text) return refusing(std::move(text).error());
    auto manifest = parse_manifest(*text, m_where + ": referrer " + d.digest.str());
    if (!manifest) return refusing(std::move(manifest).error());
    if (!manifest->subject) return std::optional<Digest>();
    return std::optional<Digest>(manifest->subject->digest);
  }

  std::string m_dir;
  std::string m_where;
  int m_blobs_fd;
  std::set<std::string> m_reachable;  // hex names
  std::set<std::string> m_expanded;   // documents already read
};

struct Candidate {
  std::string name;
  uint64_t size = 0;
};

// Unreachable blob files of blobs/sha256 (regular files and symlinks named by
// a digest — a symlink is removed, never followed), sorted by name.
Result<std::vector<Candidate>> list_unreachable(int blobs_fd, const std::string& blobs_dir,
                                                const std::set<std::string>& reachable) {
  std::vector<Candidate> out;
  OCIPACK_TRY_ASSIGN(const auto names, list_directory_at(blobs_fd, blobs_dir));  // sorted; read errors are errors
  for (const auto& name : names) {
    if (name[0] == '.' || !Digest::is_hex(name) || reachable.count(name)) continue;
    struct stat st {};
    if (::fstatat(blobs_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    out.push_back({name, static_cast<uint64_t>(st.st_size)});
  }
  return out;
}

// Removes the regular files of the directory `dir_fd` whose names `is_temp`
// accepts (a dry run only counts them).
void remove_temp_files(int dir_fd, const std::string& dir, const std::function<bool(std::string_view)>& is_temp,
                       bool dry_run, GcResult& result) {
  auto names = list_directory_at(dir_fd, dir);
  if (!names) return;
  for (const auto& name : *names) {
    if (!is_temp(name)) continue;
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        (dry_run || ::unlinkat(dir_fd, name.c_str(), 0) == 0)) {
      ++result.removed_temp_files;
      result.freed_bytes += static_cast<uint64_t>(st.st_size);
    }
  }
}

// index.json; for an unfinished layout (a first build killed before its
// commit, see check_unfinished_layout) an index without images, so gc prunes
// what that build left.
Result<std::string> read_index_for_gc(const std::string& dir) {
  struct stat st {};
  if (::lstat((dir + "/" + k_index_file).c_str(), &st) != 0 && errno == ENOENT && check_unfinished_layout(dir))
    return std::string("{\"schemaVersion\":2,\"manifests\":[]}");
  return read_index_text(dir);
}

// The layout as gc works on it: everything below is relative to these two
// descriptors, so a blobs/ or blobs/sha256 swapped for a symlink later is not followed.
struct GcTarget {
  std::string dir;
  std::string where;      // "layout 'x'"
  std::string blobs_dir;  // for messages
  UniqueFd layout_fd;     // the layout directory itself is followed: the user named it
  bool dry_run = false;   // count what would go, remove nothing
  std::optional<UniqueFd> blobs_fd;  // unset: the layout has no blobs/sha256
  int blobs() const { return blobs_fd ? blobs_fd->get() : -1; }
};

// One mark-and-sweep; nullopt when index.json changed meanwhile (try again).
Result<std::optional<GcResult>> collect_once(const GcTarget& target) {
  OCIPACK_TRY_ASSIGN(const std::string index_text, read_index_for_gc(target.dir));
  auto entries = parse_index(index_text, target.where + ": index.json");
  if (!entries) return refusing(std::move(entries).error());
  Marker marker(target.dir, target.blobs());
  std::vector<Descriptor> images, referrers;
  for (auto& entry : *entries) (is_referrer_entry(entry) ? referrers : images).push_back(std::move(entry));
  OCIPACK_TRY(marker.mark_index_entries(images, k_index_file, 0));
  OCIPACK_TRY_ASSIGN(const auto gone_referrers, marker.mark_live_referrers(std::move(referrers)));
  std::vector<Candidate> candidates;
  if (target.blobs() >= 0) {
    OCIPACK_TRY_ASSIGN(candidates, list_unreachable(target.blobs(), target.blobs_dir, marker.reachable()));
  }

  // A writer that does not take the lock may have committed a new
  // index.json meanwhile; its blobs must not be deleted.
  OCIPACK_TRY_ASSIGN(const std::string index_again, read_index_for_gc(target.dir));
  if (index_again != index_text) return std::optional<GcResult>();

  GcResult result;
  // The referrers of images that are gone leave index.json first (their
  // blobs are unmarked, so removed below; a crash in between leaves blobs
  // the next run removes).
  if (!gone_referrers.empty()) {
    OCIPACK_TRY_ASSIGN(const std::string pruned, drop_untagged_entries(index_text, gone_referrers));
    if (!target.dry_run) OCIPACK_TRY(write_file_atomic(target.dir + "/" + k_index_file, pruned));
    result.removed_referrers = gone_referrers.size();
  }
  if (target.blobs() >= 0) remove_temp_files(target.blobs(), target.blobs_dir, is_blob_temp_name, target.dry_run, result);
  remove_temp_files(target.layout_fd.get(), target.dir, is_layout_temp_name, target.dry_run, result);
  for (const auto& candidate : candidates) {
    if (!target.dry_run && ::unlinkat(target.blobs(), candidate.name.c_str(), 0) != 0) {
      if (errno == ENOENT) continue;  // removed by someone else
      return io_error(target.where + ": cannot remove unreferenced blob " + target.blobs_dir + "/" + candidate.name +
                      ": " + errno_text(errno));
    }
    ++result.removed_blobs;
    result.freed_bytes += candidate.size;
    result.removed.push_back(candidate.name);
  }
  if (!target.dry_run && result.removed_blobs > 0 && ::fsync(target.blobs()) != 0)
    return io_error("cannot fsync " + target.blobs_dir + ": " + errno_text(errno));
  return std::optional<GcResult>(std::move(result));
}

}  // namespace

Result<GcResult> collect_garbage(const std::string& layout_dir, bool dry_run) {
  GcTarget target;
  target.dry_run = dry_run;
  target.dir = trim_trailing_slashes(layout_dir);
  target.where = "layout '" + target.dir + "'";
  target.blobs_dir = blob_dir_path(target.dir);
  // Check the layout before locking it.
  OCIPACK_TRY(read_index_for_gc(target.dir));
  OCIPACK_TRY_ASSIGN(const LayoutLock lock, LayoutLock::acquire(target.dir));
  target.layout_fd = UniqueFd(::open(target.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!target.layout_fd.valid()) return input_error("cannot open " + target.where + ": " + errno_text(errno));
  auto blobs_fd = open_directory_beneath(target.dir, k_blob_dir);
  if (!blobs_fd) return refusing(std::move(blobs_fd).error().with_context(target.where + ": "));
  target.blobs_fd = std::move(*blobs_fd);
  constexpr int k_max_attempts = 10;
  for (int attempt = 0; attempt < k_max_attempts; ++attempt) {
    OCIPACK_TRY_ASSIGN(auto result, collect_once(target));
    if (result) return std::move(*result);
  }
  return input_error(target.where + ": index.json kept changing while collecting garbage; try again");
}

}  // namespace ocipack
