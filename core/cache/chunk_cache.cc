// The local chunk store (chunk_cache.h): one file per entry below
// DIR/chunks/, reached without following symlinks below DIR (entries are
// checked whole anyway: a planted or torn file is refused, removed and
// recomputed). Nothing here is fsynced: the cache is a speed-up whose every
// entry is verified on read, so a crash costs at most a recomputation.
#include "core/cache/chunk_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "core/util/file_io.h"
#include "core/util/open_beneath.h"

namespace ocipack {

namespace {

constexpr const char* k_chunks_dir = "chunks";
constexpr const char* k_builds_log = "builds.log";
constexpr const char* k_usage_file = "usage";
constexpr std::string_view k_temp_prefix = ".tmp-";
constexpr int64_t k_stale_temp_seconds = 3600;
constexpr int64_t k_touch_after_seconds = 3600;  // older temp files belong to no running build
constexpr off_t k_builds_log_limit = 256 * 1024;  // then the log keeps its last lines only
constexpr size_t k_builds_log_keep = 200;

// Errors after open() are about one file of the cache and end up in
// warnings, so they name the file, not the option.
Error cache_io_error(const std::string& what, int err) { return io_error(what + ": " + errno_text(err)); }

// Opens (creating if asked) the directory `name` below `dir_fd`, never through a symlink.
Result<UniqueFd> open_subdir(int dir_fd, const std::string& name, bool create, const std::string& shown) {
  if (create && ::mkdirat(dir_fd, name.c_str(), 0755) != 0 && errno != EEXIST)
    return cache_io_error("cannot create " + shown, errno);
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.valid()) return fd;
  // A symlink or a file where the directory should be blocks the entries
  // below it only (kind corrupt), never followed.
  if (errno == ELOOP || errno == ENOTDIR) return corrupt_error("cannot store below " + shown + ": not a directory");
  return cache_io_error("cannot open " + shown, errno);
}

// Removes the entry `path` ("chunks/ab/<hex>") through directory fds opened
// without following symlinks, so a planted symlink in the shard's place
// can never make the cache delete outside itself. An empty directory in
// the entry's place is removed too; anything else stays (and stays refused).
void remove_entry(int dir_fd, const std::string& path) {
  const size_t first = path.find('/'), last = path.rfind('/');
  UniqueFd chunks(::openat(dir_fd, path.substr(0, first).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!chunks.valid()) return;
  const std::string shard_name = path.substr(first + 1, last - first - 1);
  UniqueFd shard(::openat(chunks.get(), shard_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!shard.valid()) {
    // A symlink or a file in the shard's place: remove that (unlinking a
    // symlink never touches its target), so the shard is made anew.
    if (errno == ELOOP || errno == ENOTDIR) ::unlinkat(chunks.get(), shard_name.c_str(), 0);
    return;
  }
  const std::string name = path.substr(last + 1);
  if (::unlinkat(shard.get(), name.c_str(), 0) != 0 && errno == EISDIR)
    ::unlinkat(shard.get(), name.c_str(), AT_REMOVEDIR);
}

std::string random_suffix() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof value, 0) != sizeof value) value = static_cast<uint64_t>(::getpid()) ^ static_cast<uint64_t>(std::time(nullptr));
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

// Writes `bytes` to a new temp file ".tmp-<stem>-<random>" in `dir_fd`
// (O_EXCL | O_NOFOLLOW: never through a planted link) and renames it to
// `name` there; no fsync (see the file comment). Nothing is left behind on
// failure: a failed create is `cannot_create` + errno, a failed rename
// whatever `rename_failed(errno)` makes of it.
template <typename RenameError>
Status replace_in(int dir_fd, const std::string& stem, const std::string& name,
                  std::span<const std::span<const std::byte>> bytes, const std::string& cannot_create,
                  const std::string& shown_dir, RenameError rename_failed) {
  const std::string temp = std::string(k_temp_prefix) + stem + "-" + random_suffix();
  UniqueFd out(::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!out.valid()) return cache_io_error(cannot_create, errno);
  Status written = write_all(out.get(), bytes, shown_dir + "/" + temp);
  if (written && ::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0) written = rename_failed(errno);
  if (!written) ::unlinkat(dir_fd, temp.c_str(), 0);
  return written;
}

struct EntryFile {
  std::string path;  // relative to DIR
  int64_t mtime_ns = 0;
  uint64_t bytes = 0;
};

int64_t mtime_of(const struct stat& st) { return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec; }

// Every entry file below DIR/chunks (and, in `stale`, temp files older than
// an hour). Directories that vanish meanwhile (a concurrent prune) are skipped.
Result<std::vector<EntryFile>> list_entries(int dir_fd, const std::string& dir, std::vector<std::string>* stale) {
  std::vector<EntryFile> entries;
  UniqueFd chunks(::openat(dir_fd, k_chunks_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!chunks.valid()) {
    if (errno == ENOENT) return entries;
    return cache_io_error("cannot open " + dir + "/chunks", errno);
  }
  OCIPACK_TRY_ASSIGN(auto shards, list_directory_at(chunks.get(), dir + "/chunks", /*fresh=*/true));
  const int64_t now_ns = int64_t{std::time(nullptr)} * 1'000'000'000;
  for (const std::string& shard : shards) {
    UniqueFd shard_fd(::openat(chunks.get(), shard.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!shard_fd.valid()) continue;
    auto names = list_directory_at(shard_fd.get(), dir + "/chunks/" + shard, /*fresh=*/true);
    if (!names) continue;
    for (const std::string& name : *names) {
      struct stat st{};
      if (::fstatat(shard_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      const std::string path = std::string(k_chunks_dir) + "/" + shard + "/" + name;
      if (name.starts_with(k_temp_prefix)) {
        if (stale && now_ns - mtime_of(st) > k_stale_temp_seconds * 1'000'000'000) stale->push_back(path);
        continue;
      }
      if (S_ISREG(st.st_mode)) entries.push_back({path, mtime_of(st), static_cast<uint64_t>(st.st_size)});
    }
  }
  return entries;
}

std::string format_record(const CacheBuildRecord& r) {
  char line[256];
  std::snprintf(line, sizeof line,
                "build finished=%" PRId64 " hits=%" PRIu64 " remote_hits=%" PRIu64 " misses=%" PRIu64
                " corrupt=%" PRIu64 " saved_ns=%" PRIu64 "\n",
                r.finished_at, r.hits, r.remote_hits, r.misses, r.corrupt, r.saved_nanoseconds);
  return line;
}

bool parse_record(const std::string& line, CacheBuildRecord& r) {
  return std::sscanf(line.c_str(),
                     "build finished=%" SCNd64 " hits=%" SCNu64 " remote_hits=%" SCNu64 " misses=%" SCNu64
                     " corrupt=%" SCNu64 " saved_ns=%" SCNu64,
                     &r.finished_at, &r.hits, &r.remote_hits, &r.misses, &r.corrupt, &r.saved_nanoseconds) == 6;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

Result<ChunkCacheDir> ChunkCacheDir::open(const std::string& dir, bool create) {
  auto refused = [&](const std::string& what, int err) {
    return field_error(ErrorKind::io, "cache.dir", " " + what + ": " + errno_text(err));
  };
  if (dir.empty()) return field_error(ErrorKind::usage, "cache.dir", " is empty");
  if (!create) {
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0) return field_error(ErrorKind::input, "cache.dir", " " + dir + ": no such cache");
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return refused("cannot create " + dir, errno);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOTDIR) return field_error(ErrorKind::io, "cache.dir", " " + dir + " is not a directory");
    return refused("cannot open " + dir, errno);
  }
  if (::mkdirat(fd.get(), k_chunks_dir, 0755) != 0 && errno != EEXIST) return refused("cannot create " + dir + "/chunks", errno);
  UniqueFd chunks(::openat(fd.get(), k_chunks_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!chunks.valid()) return refused("cannot open " + dir + "/chunks", errno);
  return ChunkCacheDir(dir, std::move(fd));
}

CacheLookup ChunkCacheDir::lookup(const ChunkKey& key, std::span<std::byte> into, std::vector<std::byte>& spill,
                                  CacheEntryView& view, std::string& problem) const {
  const std::string path = cache_entry_path(key);
  auto opened = open_regular_file(m_dir, path);
  if (opened && !*opened) return CacheLookup::miss;
  auto refuse = [&](const std::string& why) {
    problem = "cache entry " + m_dir + "/" + path + ": " + why + "; recomputed";
    remove_entry(m_fd.get(), path);
    return CacheLookup::corrupt;
  };
  if (!opened) return refuse(opened.error().message);
  RegularFile& file = **opened;
  if (static_cast<uint64_t>(file.size) > k_max_cache_entry_bytes) return refuse("too large");
  const size_t size = static_cast<size_t>(file.size);
  if (size > into.size()) {
    spill.resize(size);
    into = spill;
  }
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(file.fd.get(), into.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return refuse("cannot read: " + errno_text(errno));
    if (n == 0) break;  // shorter than it was: the decode below refuses it
    done += static_cast<size_t>(n);
  }
  auto decoded = decode_cache_entry(into.first(done), key);
  if (!decoded) return refuse(decoded.error().message);
  view = std::move(*decoded);
  // Least recently used goes first. Uses an hour apart are one use: a
  // rebuild loop does not write to every entry it reads.
  struct stat st{};
  if (::fstat(file.fd.get(), &st) == 0 && std::time(nullptr) - st.st_mtim.tv_sec > k_touch_after_seconds)
    ::futimens(file.fd.get(), nullptr);  // a read-only cache still hits
  return CacheLookup::hit;
}

Status ChunkCacheDir::store(const ChunkKey& key, std::span<const std::span<const std::byte>> encoded_entry) const {
  const std::string path = cache_entry_path(key);
  const std::string shard = path.substr(0, path.rfind('/'));
  const std::string name = path.substr(path.rfind('/') + 1);
  OCIPACK_TRY_ASSIGN(UniqueFd chunks_fd, open_subdir(m_fd.get(), k_chunks_dir, true, m_dir + "/" + k_chunks_dir));
  OCIPACK_TRY_ASSIGN(UniqueFd shard_fd,
                     open_subdir(chunks_fd.get(), shard.substr(shard.rfind('/') + 1), true, m_dir + "/" + shard));
  return replace_in(shard_fd.get(), name.substr(0, 16), name, encoded_entry,
                    "cannot create an entry in " + m_dir + "/" + shard, m_dir + "/" + shard, [&](int err) {
                      // Something not a file in the entry's place (a directory)
                      // blocks only this entry: not a reason to stop storing others.
                      if (err == EISDIR || err == ENOTEMPTY || err == EEXIST || err == ENOTDIR)
                        return corrupt_error("cannot store " + m_dir + "/" + path + ": " + errno_text(err) +
                                             " in its place");
                      return cache_io_error("cannot rename an entry into " + m_dir + "/" + shard, err);
                    });
}

namespace {

// DIR/usage, opened and locked (flock: builds finishing at once take turns).
// Invalid when it cannot be opened (a read-only cache): callers then scan.
UniqueFd lock_usage_file(int dir_fd) {
  UniqueFd fd(::openat(dir_fd, k_usage_file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644));
  if (!fd.valid()) return fd;
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return UniqueFd();
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) return UniqueFd();
  return fd;
}

std::optional<CacheUsage> read_usage(int fd) {
  char text[64] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return std::nullopt;
  CacheUsage usage;
  char end = 0;
  if (std::sscanf(text, "%" SCNu64 " %" SCNu64 "%c", &usage.bytes, &usage.entries, &end) != 3 || end != '\n')
    return std::nullopt;
  return usage;
}

// A hint: a failure only means the next build scans.
void write_usage(int fd, const CacheUsage& usage) {
  char text[64];
  const int n = std::snprintf(text, sizeof text, "%" PRIu64 " %" PRIu64 "\n", usage.bytes, usage.entries);
  if (::pwrite(fd, text, static_cast<size_t>(n), 0) == n) {
    if (::ftruncate(fd, n) != 0) return;
  } else {
    if (::ftruncate(fd, 0) != 0) return;  // never leave half a number behind
  }
}

Result<CacheUsage> count_entries(int dir_fd, const std::string& dir) {
  OCIPACK_TRY_ASSIGN(auto entries, list_entries(dir_fd, dir, nullptr));
  CacheUsage usage;
  for (const EntryFile& entry : entries) {
    ++usage.entries;
    usage.bytes += entry.bytes;
  }
  return usage;
}

}  // namespace

Result<CacheUsage> ChunkCacheDir::usage() const {
  const UniqueFd lock = lock_usage_file(m_fd.get());
  OCIPACK_TRY_ASSIGN(const CacheUsage usage, count_entries(m_fd.get(), m_dir));
  if (lock.valid()) write_usage(lock.get(), usage);
  return usage;
}

Result<CacheUsage> ChunkCacheDir::add_usage(const CacheUsage& stored) const {
  const UniqueFd lock = lock_usage_file(m_fd.get());
  std::optional<CacheUsage> known = lock.valid() ? read_usage(lock.get()) : std::nullopt;
  if (!known) {
    // The scan already sees what this build stored.
    OCIPACK_TRY_ASSIGN(const CacheUsage counted, count_entries(m_fd.get(), m_dir));
    if (lock.valid()) write_usage(lock.get(), counted);
    return counted;
  }
  known->bytes += stored.bytes;
  known->entries += stored.entries;
  write_usage(lock.get(), *known);
  return *known;
}

Result<CacheUsage> ChunkCacheDir::prune(uint64_t max_bytes) const {
  std::vector<std::string> stale;
  OCIPACK_TRY_ASSIGN(auto entries, list_entries(m_fd.get(), m_dir, &stale));
  for (const std::string& path : stale) remove_entry(m_fd.get(), path);
  CacheUsage usage;
  for (const EntryFile& entry : entries) usage.bytes += entry.bytes;
  usage.entries = entries.size();
  // Oldest use first; equal times in path order, so a prune is deterministic.
  std::sort(entries.begin(), entries.end(), [](const EntryFile& a, const EntryFile& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.path < b.path;
  });
  for (const EntryFile& entry : entries) {
    if (usage.bytes <= max_bytes) break;
    remove_entry(m_fd.get(), entry.path);
    usage.bytes -= entry.bytes;
    --usage.entries;
  }
  if (const UniqueFd lock = lock_usage_file(m_fd.get()); lock.valid()) write_usage(lock.get(), usage);
  return usage;
}

Status ChunkCacheDir::record_build(const CacheBuildRecord& record) const {
  UniqueFd log(::openat(m_fd.get(), k_builds_log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!log.valid()) return cache_io_error("cannot open " + m_dir + "/" + k_builds_log, errno);
  OCIPACK_TRY(write_all(log.get(), format_record(record), m_dir + "/" + k_builds_log));
  struct stat st{};
  if (::fstat(log.get(), &st) != 0 || st.st_size <= k_builds_log_limit) return ok_status();
  // Keep the log short: its last lines, replaced by rename (a line appended
  // meanwhile by another build may be lost; they are statistics).
  OCIPACK_TRY_ASSIGN(auto text, read_regular_file(m_dir, k_builds_log, 4 * k_builds_log_limit));
  const std::vector<std::string> lines = split_lines(text.value_or(""));
  const size_t first = lines.size() > k_builds_log_keep ? lines.size() - k_builds_log_keep : 0;
  std::string kept;
  for (size_t i = first; i < lines.size(); ++i) kept += lines[i] + "\n";
  const std::string shorten = "cannot shorten " + m_dir + "/" + k_builds_log;
  const std::span<const std::byte> parts[] = {std::as_bytes(std::span(kept.data(), kept.size()))};
  return replace_in(m_fd.get(), "builds", k_builds_log, parts, shorten,
                    m_dir, [&](int err) { return cache_io_error(shorten, err); });
}

Result<std::vector<CacheBuildRecord>> ChunkCacheDir::recent_builds(size_t count) const {
  auto text = read_regular_file(m_dir, k_builds_log, 4 * k_builds_log_limit);
  if (!text) return text.error();
  std::vector<CacheBuildRecord> records;
  if (!*text) return records;
  for (const std::string& line : split_lines(**text)) {
    CacheBuildRecord record;
    if (parse_record(line, record)) records.push_back(record);
  }
  if (records.size() > count) records.erase(records.begin(), records.end() - static_cast<std::ptrdiff_t>(count));
  return records;
}

}  // namespace ocipack
