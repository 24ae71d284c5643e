// Implementation of TarInputSource (see tar_input.h). The archive is read by
// libarchive and, on the same bytes, by a TarScanner (see WatchedStream).
#include "core/tar/tar_input.h"
#include "core/tar/archive_handle.h"
#include "core/tar/whiteout.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <map>
#include <set>
#include <variant>

#include "core/tar/tar_scan.h"
#include "core/util/file_io.h"
#include "core/util/text.h"

namespace ocipack {


namespace {

// "a/b/c" (or "a/b/c/") as components, for the walk order comparison.
std::vector<std::string_view> components(std::string_view path) {
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return tar_path_components(path);
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
    return make_error(archive_name + ": entry " + in_quotes(raw) + " has an absolute path");
  std::string out;
  for (auto part : components(raw)) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return make_error(archive_name + ": entry " + in_quotes(raw) + " has a '..' component");
    if (is_whiteout_name(part))
      return make_error(archive_name + ": entry " + in_quotes(raw) +
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
  explicit WatchedStream(std::string name)
      : m_name(std::move(name)),
        m_scanner([this](const ScannedEntry& e) { m_events.emplace_back(e); },
                  [this](const std::string& text) { m_events.emplace_back(text); }) {}

  Status open(const std::string& path) {
    m_raw.reset(archive_read_new());
    archive_read_support_filter_all(m_raw.get());
    archive_read_support_format_raw(m_raw.get());
    int rc = path == "-" ? archive_read_open_fd(m_raw.get(), STDIN_FILENO, 1 << 20)
                         : archive_read_open_filename(m_raw.get(), path.c_str(), 1 << 20);
    archive_entry* raw_entry = nullptr;
    if (rc == ARCHIVE_OK) rc = archive_read_next_header(m_raw.get(), &raw_entry);
    if (rc == ARCHIVE_EOF || (rc < ARCHIVE_WARN && archive_filter_bytes(m_raw.get(), -1) == 0))
      return make_error("rootfs tar " + m_name + " is empty");
    if (rc < ARCHIVE_WARN) return make_error("cannot read rootfs tar " + m_name + ": " + archive_message(m_raw.get()));

    m_tar.reset(archive_read_new());
    archive_read_support_format_tar(m_tar.get());
    archive_read_support_format_gnutar(m_tar.get());
    if (archive_read_open(m_tar.get(), this, nullptr, &WatchedStream::tee_read, nullptr) != ARCHIVE_OK)
      return make_error("rootfs tar " + m_name + ": " + archive_message(m_tar.get()));
    return ok_status();
  }

  archive* tar() { return m_tar.get(); }

  // The scanner's view of the entry libarchive has just returned (`raw_path`
  // as libarchive reports it): an error if the scanner found a problem first,
  // or sees another entry, or none.
  Result<ScannedEntry> next_entry(std::string_view raw_path) {
    for (;;) {
      if (m_events.empty())
        return make_error("rootfs tar " + m_name + ": entry " + in_quotes(raw_path) +
                          " is not where a tar reader that follows the format finds an entry; an archive that "
                          "readers frame differently is refused");
      auto event = std::move(m_events.front());
      m_events.pop_front();
      if (auto* text = std::get_if<std::string>(&event)) return make_error("rootfs tar " + m_name + ": " + *text);
      auto& entry = std::get<ScannedEntry>(event);
      if (entry.type == 'V') continue;  // a GNU volume label, which libarchive skips too
      if (entry.path.find('\0') != std::string::npos)
        return make_error("rootfs tar " + m_name + ": entry " + in_quotes(entry.path) + " has a NUL byte in its path");
      if (entry.path != raw_path)
        return make_error("rootfs tar " + m_name + ": entry " + std::to_string(entry.number) + " is " +
                          in_quotes(entry.path) + " to a tar reader that follows the format but " +
                          in_quotes(raw_path) + " to libarchive; an archive that readers read differently is refused");
      return std::move(entry);
    }
  }

  // libarchive reached the end: the scanner must agree that nothing follows.
  Status check_end() {
    for (auto& event : m_events) {
      if (auto* text = std::get_if<std::string>(&event)) return make_error("rootfs tar " + m_name + ": " + *text);
      const auto& entry = std::get<ScannedEntry>(event);
      if (entry.type != 'V')
        return make_error("rootfs tar " + m_name + ": entry " + in_quotes(entry.path) +
                          " follows where libarchive ends the archive; an archive that readers frame "
                          "differently is refused");
    }
    if (!m_scanner.ended())
      return make_error("rootfs tar " + m_name + ": libarchive ends the archive at offset " +
                        std::to_string(archive_filter_bytes(m_tar.get(), -1)) +
                        " before its end-of-archive marker; an archive that readers frame differently is refused");
    return ok_status();
  }

 private:
  static la_ssize_t tee_read(archive* tar, void* client, const void** out) {
    auto* self = static_cast<WatchedStream*>(client);
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
      *out = block;
      return static_cast<la_ssize_t>(size);
    }
  }

  std::string m_name;
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

Result<uint64_t> owner_id(la_int64_t value, const char* what, std::string_view entry_path, const std::string& name) {
  if (value < 0 || value > k_max_owner_id)
    return make_error("rootfs tar " + name + ": entry " + in_quotes(entry_path) + " has " + what + " " +
                      std::to_string(value) + " (owner ids must be 0.." + std::to_string(k_max_owner_id) + ")");
  return static_cast<uint64_t>(value);
}

Result<UniqueFd> make_spool(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  std::string pattern = dir + "/.ocipack-spool-XXXXXX";
  int raw = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (raw < 0) return make_error("cannot create a spool file in " + dir + ": " + errno_text(errno));
  ::unlink(pattern.c_str());
  return UniqueFd(raw);
}
}  // namespace

bool is_tar_input(const std::string& rootfs) {
  if (rootfs == "-") return true;
  struct stat st {};
  return ::stat(rootfs.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode));
}

Result<std::unique_ptr<TarInputSource>> TarInputSource::open(const std::string& path,
                                                            const WalkOptions& options,
                                                            const std::string& spool_dir) {
  const std::string name = path == "-" ? "standard input" : "'" + path + "'";
  WatchedStream stream(name);
  OCIPACK_TRY(stream.open(path));
  archive* const reader = stream.tar();
  int rc = ARCHIVE_OK;
  auto spool = make_spool(spool_dir);
  if (!spool) return spool.error();

  std::unique_ptr<TarInputSource> source(new TarInputSource());
  source->m_spool = std::move(*spool);
  const int spool_fd = source->m_spool.get();
  uint64_t spool_end = 0;
  std::map<std::string, size_t> index_of;  // path → position in m_items (archive order)
  std::vector<std::pair<size_t, std::string>> links;  // hard link item → target path
  // The parent rule (tar_scan.h), over the entries read so far.
  auto is_directory = [&](std::string_view prefix) -> std::optional<bool> {
    auto it = index_of.find(std::string(prefix));
    if (it == index_of.end()) return std::nullopt;
    return source->m_items[it->second].entry.type == EntryType::directory;
  };

  for (;;) {
    archive_entry* entry = nullptr;
    rc = archive_read_next_header(reader, &entry);
    if (rc == ARCHIVE_EOF) {
      OCIPACK_TRY(stream.check_end());
      break;
    }
    if (rc < ARCHIVE_WARN)
      return make_error("rootfs tar " + name + ": " + archive_message(reader));
    const char* raw_path = archive_entry_pathname(entry);
    if (!raw_path) return make_error("rootfs tar " + name + ": an entry has no name");
    auto scanned = stream.next_entry(raw_path);
    if (!scanned) return scanned.error();
    auto entry_path = normalise(raw_path, "rootfs tar " + name);
    if (!entry_path) return entry_path.error();
    if (entry_path->empty()) continue;  // the root directory itself

    WalkItem item;
    TarEntry& e = item.entry;
    e.path = *entry_path;
    e.mode = archive_entry_perm(entry) & 07777;
    auto uid = owner_id(archive_entry_uid(entry), "uid", raw_path, name);
    if (!uid) return uid.error();
    auto gid = owner_id(archive_entry_gid(entry), "gid", raw_path, name);
    if (!gid) return gid.error();
    e.uid = options.owner_root ? 0 : *uid;
    e.gid = options.owner_root ? 0 : *gid;
    e.mtime = static_cast<int64_t>(archive_entry_mtime(entry));
    if (options.clamp_mtime && e.mtime > *options.clamp_mtime) e.mtime = *options.clamp_mtime;
    item.source_path = e.path;

    const char* hardlink = archive_entry_hardlink(entry);
    if ((scanned->type == '1' || scanned->type == '2') && scanned->link.find('\0') != std::string::npos)
      return make_error("rootfs tar " + name + ": entry " + in_quotes(raw_path) + " has a NUL byte in its link target " +
                        in_quotes(scanned->link));
    if ((scanned->type == '1') != (hardlink != nullptr))
      return make_error("rootfs tar " + name + ": entry " + in_quotes(raw_path) + " is " +
                        (hardlink ? "" : "not ") + "a hard link to libarchive but " + (hardlink ? "not " : "") +
                        "to a tar reader that follows the format; an archive that readers read differently is refused");
    if (hardlink) {
      auto target = normalise(hardlink, "rootfs tar " + name);
      if (!target) return target.error();
      links.emplace_back(source->m_items.size(), *target);
      e.type = EntryType::hard_link;
    } else {
      if (!set_entry_kind(entry, e)) {
        source->m_warnings.push_back("skipping " + e.path + " in " + name + " (a socket or unknown type)");
        continue;
      }
    }
    const std::string key = e.type == EntryType::directory ? e.path.substr(0, e.path.size() - 1) : e.path;
    if (!index_of.emplace(key, source->m_items.size()).second)
      return make_error("rootfs tar " + name + ": duplicate entry " + in_quotes(key));
    if (auto ancestor = non_directory_ancestor(key, is_directory))
      return make_error("rootfs tar " + name + ": entry " + in_quotes(raw_path) + " lies below " +
                        in_quotes(*ancestor) + ", which is not a directory");
    if (auto below = index_of.lower_bound(key + '/');
        e.type != EntryType::directory && below != index_of.end() && below->first.rfind(key + '/', 0) == 0)
      return make_error("rootfs tar " + name + ": entry " + in_quotes(raw_path) +
                        " is not a directory, but earlier entries lie below it");

    if (auto xattrs = set_entry_xattrs(entry, e); !xattrs)
      return make_error("rootfs tar " + name + ": entry " + in_quotes(e.path) + " " + xattrs.error().message);

    if (e.type == EntryType::regular) {
      const la_int64_t size = archive_entry_size(entry);
      if (size < 0) return make_error("rootfs tar " + name + ": entry " + in_quotes(e.path) + " has a negative size");
      e.size = static_cast<uint64_t>(size);
      item.spool_fd = spool_fd;
      item.spool_offset = spool_end;
      uint64_t written_end = 0;
      for (;;) {
        const void* block = nullptr;
        size_t block_size = 0;
        la_int64_t offset = 0;
        rc = archive_read_data_block(reader, &block, &block_size, &offset);
        if (rc == ARCHIVE_EOF) break;
        if (rc < ARCHIVE_WARN)
          return make_error("rootfs tar " + name + ": entry " + in_quotes(e.path) + ": " + archive_message(reader));
        if (offset < 0 || static_cast<uint64_t>(offset) + block_size > e.size)
          return make_error("rootfs tar " + name + ": entry " + in_quotes(e.path) + " has data beyond its size");
        const char* p = static_cast<const char*>(block);
        size_t left = block_size;
        off_t at = static_cast<off_t>(spool_end + static_cast<uint64_t>(offset));
        while (left > 0) {
          ssize_t n = ::pwrite(spool_fd, p, left, at);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return make_error("cannot spool rootfs tar data in " + spool_dir + ": " + errno_text(errno));
          p += n;
          at += n;
          left -= static_cast<size_t>(n);
        }
        written_end = std::max(written_end, static_cast<uint64_t>(offset) + block_size);
      }
      spool_end += e.size;
      // A trailing hole must still be part of the spool's size.
      if (written_end < e.size && ::ftruncate(spool_fd, static_cast<off_t>(spool_end)) != 0)
        return make_error("cannot spool rootfs tar data in " + spool_dir + ": " + errno_text(errno));
    }
    source->m_items.push_back(std::move(item));
  }

  // Hard links: the target must be an earlier entry; regroup each inode so
  // the first name in walk order holds the data, as a directory walk does.
  std::map<size_t, size_t> group_of;  // item → data-holding item (archive order)
  for (const auto& [link, target] : links) {
    auto it = index_of.find(target);
    if (it == index_of.end())
      return make_error("rootfs tar " + name + ": hard link " + in_quotes(source->m_items[link].entry.path) +
                        " points to missing entry " + in_quotes(target));
    size_t holder = it->second;
    if (holder >= link)
      return make_error("rootfs tar " + name + ": hard link " + in_quotes(source->m_items[link].entry.path) +
                        " points to later entry " + in_quotes(target));
    if (auto g = group_of.find(holder); g != group_of.end()) holder = g->second;  // link to a link
    if (source->m_items[holder].entry.type == EntryType::directory)
      return make_error("rootfs tar " + name + ": hard link " + in_quotes(source->m_items[link].entry.path) +
                        " points to a directory");
    group_of[link] = holder;
  }
  std::map<size_t, std::vector<size_t>> members;  // holder → all names (holder first)
  for (const auto& [link, holder] : group_of) members[holder].push_back(link);
  for (auto& [holder, names] : members) {
    names.push_back(holder);
    // The first name in walk order becomes the data holder.
    auto first = *std::min_element(names.begin(), names.end(), [&](size_t a, size_t b) {
      return walk_order(source->m_items[a], source->m_items[b]);
    });
    WalkItem data = source->m_items[holder];
    for (size_t member : names) {
      WalkItem& item = source->m_items[member];
      const std::string member_path = item.entry.path;
      if (member == first) {
        item = data;
        item.entry.path = member_path;
        item.source_path = member_path;
      } else {
        TarEntry link = data.entry;
        link.path = member_path;
        link.type = EntryType::hard_link;
        item.entry = link;
        item.entry.size = 0;
        item.entry.xattrs.clear();
        item.entry.dev_major = item.entry.dev_minor = 0;
        item.spool_fd = -1;
      }
    }
    const std::string first_path = source->m_items[first].entry.path;
    for (size_t member : names)
      if (member != first) source->m_items[member].entry.link_target = first_path;
  }

  std::stable_sort(source->m_items.begin(), source->m_items.end(), walk_order);
  return source;
}

Result<std::optional<WalkItem>> TarInputSource::next() {
  if (m_next == m_items.size()) return std::optional<WalkItem>{};
  return std::optional<WalkItem>(std::move(m_items[m_next++]));
}

}  // namespace ocipack
