// Implementation of TarInputSource (see tar_input.h). The archive is read by
// libarchive and, on the same bytes, by a TarScanner (see WatchedStream).
#include "core/tar/tar_input.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <map>
#include <variant>
#include <vector>

#include "core/tar/archive_handle.h"
#include "core/tar/hard_links.h"
#include "core/tar/tar_scan.h"
#include "core/tar/whiteout.h"
#include "core/util/file_io.h"
#include "core/util/path.h"
#include "core/util/text.h"

namespace ocipack {

namespace {

bool cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(std::memory_order_relaxed); }

// libarchive's read callback for the input (a file, stdin, a named pipe, a
// device): waits for data with poll(2) in short steps, so a cancel is seen
// while a pipe is idle (libarchive's own readers retry read() after EINTR
// and would wait for the writer), and counts the bytes read (the progress).
struct StreamReader {
  int fd = STDIN_FILENO;
  const std::atomic<bool>* cancel = nullptr;
  uint64_t bytes_read = 0;
  std::vector<char> buffer = std::vector<char>(1 << 20);

  static la_ssize_t read(archive* a, void* opaque, const void** out) {
    auto* self = static_cast<StreamReader*>(opaque);
    for (;;) {
      if (cancelled(self->cancel)) {
        archive_set_error(a, EINTR, "interrupted");
        return -1;
      }
      pollfd waiting{self->fd, POLLIN, 0};
      const int ready = ::poll(&waiting, 1, 100);
      if (ready < 0 && errno != EINTR) {
        archive_set_error(a, errno, "cannot wait for input: %s", errno_text(errno).c_str());
        return -1;
      }
      if (ready <= 0) continue;
      const ssize_t n = ::read(self->fd, self->buffer.data(), self->buffer.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        archive_set_error(a, errno, "cannot read: %s", errno_text(errno).c_str());
        return -1;
      }
      self->bytes_read += static_cast<uint64_t>(n);
      *out = self->buffer.data();
      return n;
    }
  }
};

// The size of the tar input in bytes as read (compressed), or 0 for a stream.
uint64_t input_size(const std::string& path) {
  struct stat st {};
  const int rc = path == "-" ? ::fstat(STDIN_FILENO, &st) : ::stat(path.c_str(), &st);
  return rc == 0 && S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
}


// The non-empty components of a path: "a/b/c" and the directory "a/b/c/"
// are both {"a", "b", "c"}.
std::vector<std::string_view> components(std::string_view path) {
  auto parts = tar_path_components(path);
  std::erase(parts, std::string_view());
  return parts;
}

// The directory walk's order: component-wise bytewise comparison, so a
// directory precedes its children and siblings are sorted by name.
bool walk_order(const WalkItem& a, const WalkItem& b) {
  auto ca = components(a.entry.path), cb = components(b.entry.path);
  return std::lexicographical_compare(ca.begin(), ca.end(), cb.begin(), cb.end());
}

// Normalises an archive path: drops "./" and leading "./" forms; refuses
// absolute paths and "..". Returns "" for the root itself.
Result<std::string> normalise(std::string_view raw, const std::string& archive_name) {
  if (!raw.empty() && raw.front() == '/')
    return input_error(archive_name + ": entry " + in_quotes(raw) + " has an absolute path");
  std::string out;
  for (auto part : components(raw)) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return input_error(archive_name + ": entry " + in_quotes(raw) + " has a '..' component");
    if (is_whiteout_name(part))
      return input_error(archive_name + ": entry " + in_quotes(raw) +
                        " has a .wh. name, which image consumers would read as a whiteout");
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

// The tar stream as libarchive's tar reader reads it, watched on the way by
// a TarScanner. A first libarchive handle only decompresses (raw format,
// every filter); the tar reader pulls the decompressed bytes through
// tee_read(), which shows each block to the scanner before handing it on —
// one pass, no copy, so stdin works too. The scanner's entries and problems
// queue up in stream order; next_entry() pairs each entry libarchive returns
// with the scanner's, which is how a NUL in a PAX path (libarchive cuts the
// name there) and an archive whose framing the two readers disagree on
// (tar smuggling) are caught.
class WatchedStream {
 public:
  WatchedStream(std::string name, const std::atomic<bool>* cancel, const PhaseReport& report)
      : m_name(std::move(name)),
        m_cancel(cancel),
        m_report(report),
        m_scanner([this](const ScannedEntry& e) { m_events.emplace_back(e); },
                  [this](const std::string& text) { m_events.emplace_back(text); }) {}

  Status open(const std::string& path) {
    m_status = {"spooling", path == "-" ? "stdin" : path, PhaseUnit::bytes, 0, input_size(path)};
    m_stream.cancel = m_cancel;
    if (path != "-") {
      // Without O_NONBLOCK, opening a named pipe waits for its writer.
      m_stream_fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
      if (!m_stream_fd.valid()) return input_error("cannot open rootfs tar " + m_name + ": " + errno_text(errno));
      m_stream.fd = m_stream_fd.get();
    }
    m_raw.reset(archive_read_new());
    if (!m_raw) return io_error("cannot read rootfs tar " + m_name + ": " + archive_start_error());
    archive_read_support_filter_all(m_raw.get());
    archive_read_support_format_raw(m_raw.get());
    int rc = archive_read_open(m_raw.get(), &m_stream, nullptr, &StreamReader::read, nullptr);
    archive_entry* raw_entry = nullptr;
    if (rc == ARCHIVE_OK) rc = archive_read_next_header(m_raw.get(), &raw_entry);
    if (cancelled(m_cancel)) return interrupted_error();
    if (rc == ARCHIVE_EOF || (rc < ARCHIVE_WARN && m_stream.bytes_read == 0))
      return input_error("rootfs tar " + m_name + " is empty");
    if (rc < ARCHIVE_WARN) return input_error("cannot read rootfs tar " + m_name + ": " + archive_message(m_raw.get()));

    m_tar.reset(archive_read_new());
    if (!m_tar) return io_error("cannot read rootfs tar " + m_name + ": " + archive_start_error());
    archive_read_support_format_tar(m_tar.get());
    archive_read_support_format_gnutar(m_tar.get());
    if (archive_read_open(m_tar.get(), this, nullptr, &WatchedStream::tee_read, nullptr) != ARCHIVE_OK)
      return input_error("rootfs tar " + m_name + ": " + archive_message(m_tar.get()));
    return ok_status();
  }

  archive* tar() { return m_tar.get(); }
  const std::atomic<bool>* cancel() const { return m_cancel; }

  // The scanner's view of the entry libarchive has just returned (`raw_path`
  // as libarchive reports it): an error if the scanner found a problem first,
  // or sees another entry, or none.
  Result<ScannedEntry> next_entry(std::string_view raw_path) {
    for (;;) {
      if (m_events.empty())
        return input_error("rootfs tar " + m_name + ": entry " + in_quotes(raw_path) +
                          " is not where a tar reader that follows the format finds an entry; an archive that "
                          "readers frame differently is refused");
      auto event = std::move(m_events.front());
      m_events.pop_front();
      if (auto* text = std::get_if<std::string>(&event)) return input_error("rootfs tar " + m_name + ": " + *text);
      auto& entry = std::get<ScannedEntry>(event);
      if (entry.type == 'V') continue;  // a GNU volume label, which libarchive skips too
      if (entry.path.find('\0') != std::string::npos)
        return input_error("rootfs tar " + m_name + ": entry " + in_quotes(entry.path) + " has a NUL byte in its path");
      if (entry.path != raw_path)
        return input_error("rootfs tar " + m_name + ": entry " + std::to_string(entry.number) + " is " +
                          in_quotes(entry.path) + " to a tar reader that follows the format but " +
                          in_quotes(raw_path) + " to libarchive; an archive that readers read differently is refused");
      return std::move(entry);
    }
  }

  // libarchive reached the end: the scanner must agree that nothing follows.
  Status check_end() {
    for (auto& event : m_events) {
      if (auto* text = std::get_if<std::string>(&event)) return input_error("rootfs tar " + m_name + ": " + *text);
      const auto& entry = std::get<ScannedEntry>(event);
      if (entry.type != 'V')
        return input_error("rootfs tar " + m_name + ": entry " + in_quotes(entry.path) +
                          " follows where libarchive ends the archive; an archive that readers frame "
                          "differently is refused");
    }
    if (!m_scanner.ended())
      return input_error("rootfs tar " + m_name + ": libarchive ends the archive at offset " +
                        std::to_string(archive_filter_bytes(m_tar.get(), -1)) +
                        " before its end-of-archive marker; an archive that readers frame differently is refused");
    return ok_status();
  }

 private:
  static la_ssize_t tee_read(archive* tar, void* client, const void** out) {
    auto* self = static_cast<WatchedStream*>(client);
    if (cancelled(self->m_cancel)) {
      archive_set_error(tar, EINTR, "interrupted");
      return -1;
    }
    for (;;) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      const int rc = archive_read_data_block(self->m_raw.get(), &block, &size, &offset);
      if (rc == ARCHIVE_EOF) {
        if (!self->m_finished) self->m_scanner.finish();
        self->m_finished = true;
        *out = nullptr;
        return 0;
      }
      if (rc < ARCHIVE_WARN) {
        archive_set_error(tar, archive_errno(self->m_raw.get()) ? archive_errno(self->m_raw.get()) : EIO, "%s",
                          archive_message(self->m_raw.get()).c_str());
        return -1;
      }
      if (size == 0) continue;
      self->m_scanner.feed(std::string_view(static_cast<const char*>(block), size));
      self->m_status.done = self->m_stream.bytes_read;
      report_phase(self->m_report, self->m_status);
      *out = block;
      return static_cast<la_ssize_t>(size);
    }
  }

  std::string m_name;
  const std::atomic<bool>* m_cancel;
  const PhaseReport& m_report;
  PhaseStatus m_status;
  UniqueFd m_stream_fd;  // a named pipe or device opened here
  StreamReader m_stream;
  TarScanner m_scanner;
  std::deque<std::variant<ScannedEntry, std::string>> m_events;
  bool m_finished = false;
  // Last, so freed first: the tar reader reads through m_raw into m_scanner.
  ArchiveReader m_raw, m_tar;
};

// An owner id every Linux consumer can apply: uid_t is 32 bits and
// (uid_t)-1 means "unchanged" to chown(2); a negative id (libarchive returns
// what a base-256 field says) would be stored as 2^64-1, which Go's
// archive/tar refuses.
constexpr int64_t k_max_owner_id = 4294967294;

Result<uint64_t> owner_id(la_int64_t value, const char* what, std::string_view entry_path, const std::string& where) {
  if (value < 0 || value > k_max_owner_id)
    return input_error(where + ": entry " + in_quotes(entry_path) + " has " + what + " " + std::to_string(value) +
                       " (owner ids must be 0.." + std::to_string(k_max_owner_id) + ")");
  return static_cast<uint64_t>(value);
}

// The spool file: unlinked from the start (O_TMPFILE), or right after it is
// made where the file system lacks O_TMPFILE.
Result<UniqueFd> make_spool(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  std::string pattern = dir + "/" + std::string(k_spool_name_prefix) + "XXXXXX";
  int raw = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (raw < 0) return io_error("cannot create a spool file in " + dir + ": " + errno_text(errno));
  ::unlink(pattern.c_str());
  return UniqueFd(raw);
}

// The archive read front to back: each entry converted to a WalkItem,
// checked against the entries before it and its data spooled; then the
// hard links regrouped and the items put in walk order.
class ArchiveConversion {
 public:
  ArchiveConversion(const std::string& name, const WalkOptions& options, int spool_fd, const std::string& spool_dir)
      : m_name(name), m_where("rootfs tar " + name), m_options(options), m_spool_fd(spool_fd), m_spool_dir(spool_dir) {}

  // Reads every entry of `stream`; entries tar cannot hold are skipped with
  // a note in `warnings`.
  Status read(WatchedStream& stream, std::vector<std::string>& warnings) {
    archive* const reader = stream.tar();
    m_cancel = stream.cancel();
    for (;;) {
      if (cancelled(m_cancel)) return interrupted_error();
      archive_entry* entry = nullptr;
      const int rc = archive_read_next_header(reader, &entry);
      if (rc == ARCHIVE_EOF) return stream.check_end();
      if (cancelled(m_cancel)) return interrupted_error();
      if (rc < ARCHIVE_WARN) return input_error(m_where + ": " + archive_message(reader));
      const char* raw_path = archive_entry_pathname(entry);
      if (!raw_path) return input_error(m_where + ": an entry has no name");
      OCIPACK_TRY_ASSIGN(const auto scanned, stream.next_entry(raw_path));
      OCIPACK_TRY_ASSIGN(auto item, convert_entry(entry, scanned, raw_path, warnings));
      if (!item) continue;  // the root itself, or skipped
      TarEntry& e = item->entry;
      OCIPACK_TRY(check_place(e, raw_path));
      if (auto xattrs = set_entry_xattrs(entry, e); !xattrs)
        return std::move(xattrs).error().with_context(m_where + ": entry " + in_quotes(e.path) + " ");
      if (e.type == EntryType::regular) OCIPACK_TRY(spool_data(reader, archive_entry_size(entry), *item));
      m_items.push_back(std::move(*item));
    }
  }

  // The items in the directory walk's order, each hard link turned into
  // another name of the file it points to and the names of each file then
  // regrouped so the first in that order carries the data (hard_links.h).
  Result<std::vector<WalkItem>> finish() && {
    OCIPACK_TRY_ASSIGN(const auto file_of, resolve_links());
    std::map<size_t, size_t> group_of;  // each name of a linked file → the position of the file
    for (const auto& [link, file] : file_of) {
      const std::string path = m_items[link].entry.path;
      m_items[link] = another_name_of(m_items[file], path);
      m_items[link].source_path = path;
      group_of[link] = file;
      group_of[file] = file;
    }
    std::vector<size_t> order(m_items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return walk_order(m_items[a], m_items[b]); });
    HardLinkGroups groups;
    std::vector<WalkItem> sorted;
    sorted.reserve(m_items.size());
    for (size_t i : order) {
      if (auto group = group_of.find(i); group != group_of.end()) groups.add(FileId{0, group->second}, m_items[i]);
      sorted.push_back(std::move(m_items[i]));
    }
    return sorted;
  }

 private:
  // One archive entry as a WalkItem (its xattrs and data are read later), or
  // nullopt for the root itself and for kinds tar cannot hold (a warning).
  // A hard link is recorded in m_links with its target, resolved later.
  Result<std::optional<WalkItem>> convert_entry(archive_entry* entry, const ScannedEntry& scanned,
                                                std::string_view raw_path, std::vector<std::string>& warnings) {
    OCIPACK_TRY_ASSIGN(const auto path, normalise(raw_path, m_where));
    if (path.empty()) return std::optional<WalkItem>();  // the root directory itself
    WalkItem item;
    TarEntry& e = item.entry;
    e.path = path;
    e.mode = archive_entry_perm(entry) & 07777;
    OCIPACK_TRY_ASSIGN(const uint64_t uid, owner_id(archive_entry_uid(entry), "uid", raw_path, m_where));
    OCIPACK_TRY_ASSIGN(const uint64_t gid, owner_id(archive_entry_gid(entry), "gid", raw_path, m_where));
    e.uid = m_options.owner_root ? 0 : uid;
    e.gid = m_options.owner_root ? 0 : gid;
    e.mtime = static_cast<int64_t>(archive_entry_mtime(entry));
    if (m_options.clamp_mtime && e.mtime > *m_options.clamp_mtime) e.mtime = *m_options.clamp_mtime;
    item.source_path = e.path;

    const char* hardlink = archive_entry_hardlink(entry);
    if ((scanned.type == '1' || scanned.type == '2') && scanned.link.find('\0') != std::string::npos)
      return input_error(m_where + ": entry " + in_quotes(raw_path) + " has a NUL byte in its link target " +
                         in_quotes(scanned.link));
    if ((scanned.type == '1') != (hardlink != nullptr))
      return input_error(m_where + ": entry " + in_quotes(raw_path) + " is " + (hardlink ? "" : "not ") +
                         "a hard link to libarchive but " + (hardlink ? "not " : "") +
                         "to a tar reader that follows the format; an archive that readers read differently is "
                         "refused");
    if (hardlink) {
      OCIPACK_TRY_ASSIGN(auto target, normalise(hardlink, m_where));
      m_links.emplace_back(m_items.size(), std::move(target));
      e.type = EntryType::hard_link;
    } else if (!set_entry_kind(entry, e)) {
      warnings.push_back("skipping " + e.path + " in " + m_name + " (a socket or unknown type)");
      return std::optional<WalkItem>();
    }
    return std::optional<WalkItem>(std::move(item));
  }

  // The entry `e` (at raw_path in the archive) may stand where it does: its
  // path is new, nothing above it is a non-directory, and nothing is below it
  // unless it is a directory. Records it for the entries that follow.
  Status check_place(const TarEntry& e, std::string_view raw_path) {
    const std::string key = trim_trailing_slashes(e.path);  // a directory's "d/" is "d"
    if (!m_index_of.emplace(key, m_items.size()).second)
      return input_error(m_where + ": duplicate entry " + in_quotes(key));
    // The parent rule (tar_scan.h), over the entries read so far.
    auto is_directory = [&](std::string_view prefix) -> std::optional<bool> {
      auto it = m_index_of.find(std::string(prefix));
      if (it == m_index_of.end()) return std::nullopt;
      return m_items[it->second].entry.type == EntryType::directory;
    };
    if (auto ancestor = non_directory_ancestor(key, is_directory))
      return input_error(m_where + ": entry " + in_quotes(raw_path) + " lies below " + in_quotes(*ancestor) +
                         ", which is not a directory");
    if (auto below = m_index_of.lower_bound(key + '/');
        e.type != EntryType::directory && below != m_index_of.end() && below->first.rfind(key + '/', 0) == 0)
      return input_error(m_where + ": entry " + in_quotes(raw_path) +
                         " is not a directory, but earlier entries lie below it");
    return ok_status();
  }

  // Copies a regular file's `size` data bytes to the end of the spool (holes
  // of a sparse member stay holes) and points `item` at them.
  Status spool_data(archive* reader, la_int64_t size, WalkItem& item) {
    TarEntry& e = item.entry;
    if (size < 0) return input_error(m_where + ": entry " + in_quotes(e.path) + " has a negative size");
    e.size = static_cast<uint64_t>(size);
    item.spool_fd = m_spool_fd;
    item.spool_offset = m_spool_end;
    uint64_t written_end = 0;
    for (;;) {
      if (cancelled(m_cancel)) return interrupted_error();
      auto block = next_data_block(reader);
      if (cancelled(m_cancel)) return interrupted_error();
      if (!block) return std::move(block).error().with_context(m_where + ": entry " + in_quotes(e.path) + ": ");
      if (!*block) break;
      const auto [bytes, offset] = **block;
      if (offset < 0 || static_cast<uint64_t>(offset) + bytes.size() > e.size)
        return input_error(m_where + ": entry " + in_quotes(e.path) + " has data beyond its size");
      OCIPACK_TRY(write_spool(bytes, m_spool_end + static_cast<uint64_t>(offset)));
      written_end = std::max(written_end, static_cast<uint64_t>(offset) + bytes.size());
    }
    m_spool_end += e.size;
    // A trailing hole must still be part of the spool's size.
    if (written_end < e.size && ::ftruncate(m_spool_fd, static_cast<off_t>(m_spool_end)) != 0)
      return spool_error();
    return ok_status();
  }

  // Writes `bytes` at offset `at` of the spool.
  Status write_spool(std::string_view bytes, uint64_t at) {
    while (!bytes.empty()) {
      const ssize_t n = ::pwrite(m_spool_fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return spool_error();
      bytes.remove_prefix(static_cast<size_t>(n));
      at += static_cast<uint64_t>(n);
    }
    return ok_status();
  }

  // The spool is ocipack's own scratch output: failing to write it (a full
  // disk) is an io error.
  Error spool_error() const {
    return io_error("cannot spool rootfs tar data in " + m_spool_dir + ": " + errno_text(errno));
  }

  // For each hard link (by position), the position of the entry holding the
  // file it names: the target must be an earlier entry and not a directory;
  // a link to a link names the file of that link.
  Result<std::map<size_t, size_t>> resolve_links() {
    std::map<size_t, size_t> file_of;
    for (const auto& [link, target] : m_links) {
      const std::string& link_path = m_items[link].entry.path;
      auto it = m_index_of.find(target);
      if (it == m_index_of.end())
        return input_error(m_where + ": hard link " + in_quotes(link_path) + " points to missing entry " +
                           in_quotes(target));
      size_t file = it->second;
      if (file >= link)
        return input_error(m_where + ": hard link " + in_quotes(link_path) + " points to later entry " +
                           in_quotes(target));
      if (auto via = file_of.find(file); via != file_of.end()) file = via->second;  // link to a link
      if (m_items[file].entry.type == EntryType::directory)
        return input_error(m_where + ": hard link " + in_quotes(link_path) + " points to a directory");
      file_of[link] = file;
    }
    return file_of;
  }

  const std::string m_name;   // "'path'" or "standard input", for warnings
  const std::string m_where;  // "rootfs tar " + m_name, before every error
  const WalkOptions& m_options;
  const int m_spool_fd;
  const std::string& m_spool_dir;
  const std::atomic<bool>* m_cancel = nullptr;  // the stream's, set by read()
  uint64_t m_spool_end = 0;
  std::vector<WalkItem> m_items;                        // archive order
  std::map<std::string, size_t> m_index_of;             // path without trailing '/' → position in m_items
  std::vector<std::pair<size_t, std::string>> m_links;  // hard link's position → normalised target path
};
}  // namespace

bool is_tar_input(const std::string& rootfs) {
  if (rootfs == "-") return true;
  struct stat st {};
  return ::stat(rootfs.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode));
}

Result<std::unique_ptr<TarInputSource>> TarInputSource::open(const std::string& path,
                                                            const WalkOptions& options,
                                                            const std::string& spool_dir,
                                                            const std::atomic<bool>* cancel,
                                                            const PhaseReport& report) {
  const std::string name = path == "-" ? "standard input" : "'" + path + "'";
  WatchedStream stream(name, cancel, report);
  OCIPACK_TRY(stream.open(path));
  std::unique_ptr<TarInputSource> source(new TarInputSource());
  OCIPACK_TRY_ASSIGN(source->m_spool, make_spool(spool_dir));
  ArchiveConversion conversion(name, options, source->m_spool.get(), spool_dir);
  OCIPACK_TRY(conversion.read(stream, source->m_warnings));
  OCIPACK_TRY_ASSIGN(source->m_items, std::move(conversion).finish());
  return source;
}

Result<std::optional<WalkItem>> TarInputSource::next() {
  if (m_next == m_items.size()) return std::optional<WalkItem>{};
  return std::optional<WalkItem>(std::move(m_items[m_next++]));
}

}  // namespace ocipack
