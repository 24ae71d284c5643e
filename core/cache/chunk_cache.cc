// The local chunk store (chunk_cache.h): one file per entry below
// DIR/chunks/, and packs (a layer blob linked in, and its index) below
// DIR/packs/, reached without following symlinks below DIR and opened only
// once seen to be regular files (entries and packed chunks are checked
// anyway: a planted or torn file is refused, removed and recomputed). Nothing here is fsynced: the cache is a speed-up whose every
// entry is verified on read, so a crash costs at most a recomputation.
#include "core/cache/chunk_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <unordered_map>

#include "core/codec/crc64.h"

#include "core/util/file_io.h"
#include "core/util/open_beneath.h"

namespace ocipack {

namespace {

constexpr const char* k_chunks_dir = "chunks";
constexpr const char* k_packs_dir = "packs";
constexpr std::string_view k_pack_suffix = ".pack";
constexpr std::string_view k_index_suffix = ".idx";
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

// Opens the directory `name` below `dir_fd`, never through a symlink
// (invalid if it is missing, a symlink or not a directory; errno says which).
UniqueFd open_dir_below(int dir_fd, const char* name) {
  return UniqueFd(::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// Opens (creating if asked) the directory `name` below `dir_fd`, never through a symlink.
Result<UniqueFd> open_subdir(int dir_fd, const std::string& name, bool create, const std::string& shown) {
  if (create && ::mkdirat(dir_fd, name.c_str(), 0755) != 0 && errno != EEXIST)
    return cache_io_error("cannot create " + shown, errno);
  UniqueFd fd = open_dir_below(dir_fd, name.c_str());
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
  UniqueFd chunks = open_dir_below(dir_fd, path.substr(0, first).c_str());
  if (!chunks.valid()) return;
  const std::string shard_name = path.substr(first + 1, last - first - 1);
  UniqueFd shard = open_dir_below(chunks.get(), shard_name.c_str());
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

uint64_t random_u64() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof value, 0) != sizeof value) value = static_cast<uint64_t>(::getpid()) ^ static_cast<uint64_t>(std::time(nullptr));
  return value;
}

std::string random_suffix() {
  const uint64_t value = random_u64();
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
  std::string path;  // relative to DIR ("packs/<hex>" for a pack: the sort key)
  int64_t mtime_ns = 0;
  uint64_t bytes = 0;
  uint64_t chunks = 1;
  std::string pack_hex{};  // a pack (removed with remove_pack), not an entry file
};

int64_t mtime_of(const struct stat& st) { return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec; }

// Every entry file below DIR/chunks (and, in `stale`, temp files older than
// an hour). Directories that vanish meanwhile (a concurrent prune) are skipped.
Result<std::vector<EntryFile>> list_entries(int dir_fd, const std::string& dir, std::vector<std::string>* stale) {
  std::vector<EntryFile> entries;
  UniqueFd chunks = open_dir_below(dir_fd, k_chunks_dir);
  if (!chunks.valid()) {
    if (errno == ENOENT) return entries;
    return cache_io_error("cannot open " + dir + "/chunks", errno);
  }
  OCIPACK_TRY_ASSIGN(auto shards, list_directory_at(chunks.get(), dir + "/chunks", /*fresh=*/true));
  const int64_t now_ns = int64_t{std::time(nullptr)} * 1'000'000'000;
  for (const std::string& shard : shards) {
    UniqueFd shard_fd = open_dir_below(chunks.get(), shard.c_str());
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

// Opens `name` below `dir_fd` for reading if it is a regular file: checked
// before the open (a device planted there must not have its driver's open
// run) and after it (the same inode). errno-style: 0, or why not — ELOOP
// for a symlink, EINVAL for anything but a regular file.
int open_regular_at(int dir_fd, const std::string& name, UniqueFd& out, struct stat& st) {
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  if (S_ISLNK(st.st_mode)) return ELOOP;
  if (!S_ISREG(st.st_mode)) return EINVAL;
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  struct stat opened{};
  if (::fstat(fd.get(), &opened) != 0) return errno;
  if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino || !S_ISREG(opened.st_mode)) return EAGAIN;
  st = opened;
  out = std::move(fd);
  return 0;
}

// A file below `dir_fd` read whole (open_regular_at; at most `max` bytes,
// else EFBIG). errno-style: 0, or why not.
int read_file_at(int dir_fd, const std::string& name, uint64_t max, std::vector<std::byte>& out, struct stat& st) {
  UniqueFd fd;
  if (const int err = open_regular_at(dir_fd, name, fd, st)) return err;
  if (static_cast<uint64_t>(st.st_size) > max) return EFBIG;
  out.resize(static_cast<size_t>(st.st_size));
  const ssize_t n = pread_full(fd.get(), out.data(), out.size(), 0);
  if (n < 0) return errno;
  out.resize(static_cast<size_t>(n));
  return 0;
}

// Whether a failure to read an index says the index itself is bad (a
// symlink, not a regular file, too large): then it is removed. Any other
// (EMFILE, EACCES, EIO) says nothing about it: it is left alone.
bool index_is_refused(int err) { return err == ELOOP || err == EINVAL || err == EFBIG; }

// The later of a file's mtime and ctime: a link made now (a pack) changes
// the ctime only, and must not look an hour old because its blob does.
int64_t changed_of(const struct stat& st) {
  return std::max(mtime_of(st), int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec);
}

// A pack as a scan finds it: "<hex>.idx" and "<hex>.pack" below DIR/packs.
struct PackFile {
  enum class State { sound, refused, unknown };
  std::string hex;
  int64_t mtime_ns = 0;    // the index's: the pack's last use
  uint64_t bytes = 0;      // the pack's and the index's sizes
  uint64_t chunks = 0;     // records in a sound index
  // sound: an index that decodes, of its pack's blob and size; refused: one
  // that does not (removed by prune); unknown: unreadable now (kept).
  State state = State::unknown;
};

// Every pack below DIR/packs; in `stale` (names below packs/), temp files
// and packs without an index changed more than an hour ago, and indexes
// without a pack.
std::vector<PackFile> list_packs(int dir_fd, std::vector<std::string>* stale) {
  std::vector<PackFile> packs;
  UniqueFd packs_fd = open_dir_below(dir_fd, k_packs_dir);
  if (!packs_fd.valid()) return packs;
  auto names = list_directory_at(packs_fd.get(), k_packs_dir, /*fresh=*/true);
  if (!names) return packs;
  const int64_t now_ns = int64_t{std::time(nullptr)} * 1'000'000'000;
  auto old = [&](const struct stat& st) { return now_ns - changed_of(st) > k_stale_temp_seconds * 1'000'000'000; };
  for (const std::string& name : *names) {
    struct stat st{};
    if (::fstatat(packs_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (name.starts_with(k_temp_prefix)) {
      if (stale && old(st)) stale->push_back(name);
      continue;
    }
    if (name.ends_with(k_pack_suffix)) {
      const std::string hex = name.substr(0, name.size() - k_pack_suffix.size());
      struct stat index{};
      const bool indexed = ::fstatat(packs_fd.get(), (hex + std::string(k_index_suffix)).c_str(), &index,
                                     AT_SYMLINK_NOFOLLOW) == 0;
      if (!indexed && stale && old(st)) stale->push_back(name);
      continue;
    }
    if (!name.ends_with(k_index_suffix)) continue;
    PackFile pack;
    pack.hex = name.substr(0, name.size() - k_index_suffix.size());
    pack.mtime_ns = mtime_of(st);
    pack.bytes = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
    struct stat blob{};
    if (::fstatat(packs_fd.get(), (pack.hex + std::string(k_pack_suffix)).c_str(), &blob, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT && stale) stale->push_back(name);
      continue;
    }
    if (S_ISREG(blob.st_mode)) pack.bytes += static_cast<uint64_t>(blob.st_size);
    std::vector<std::byte> bytes;
    struct stat index_st{};
    const int err = read_file_at(packs_fd.get(), name, k_max_pack_index_bytes, bytes, index_st);
    if (err == 0) {
      auto decoded = decode_pack_index(bytes);
      const bool sound = decoded && S_ISREG(blob.st_mode) &&
                         static_cast<uint64_t>(blob.st_size) == decoded->blob_size && decoded->blob.hex() == pack.hex;
      pack.state = sound ? PackFile::State::sound : PackFile::State::refused;
      if (sound) pack.chunks = decoded->records.size();
    } else if (index_is_refused(err)) {
      pack.state = PackFile::State::refused;
    }
    packs.push_back(std::move(pack));
  }
  return packs;
}

// Removes a pack from DIR/packs (`packs_fd`): its index first (from then
// on no build loads it), then the pack.
void remove_pack(int packs_fd, const std::string& hex) {
  ::unlinkat(packs_fd, (hex + std::string(k_index_suffix)).c_str(), 0);
  ::unlinkat(packs_fd, (hex + std::string(k_pack_suffix)).c_str(), 0);
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

// The packs a build loaded: their files and records, found by key.
struct LoadedPack {
  std::string hex;
  UniqueFd fd;
  dev_t index_dev = 0;  // the index loaded: dropped or touched only if still it
  ino_t index_ino = 0;
  mutable std::atomic<bool> touched{false};  // its index's time set by this build
  mutable std::atomic<bool> dropped{false};  // damaged: used no more
};

// A build loads at most this many packs (the most recently used first), so
// a cache full of small ones (interrupted builds, or planted) cannot take
// the build's descriptors, and at most this many records in all.
constexpr size_t k_max_loaded_packs = 64;
constexpr size_t k_max_loaded_records = size_t{1} << 21;

struct PackSet {
  // Keys come from files anyone who can write to the cache may have made:
  // hashed with a per-build random seed over all 32 bytes, so no one can
  // choose keys that all land in one bucket.
  struct KeyHash {
    uint64_t seed = 0;
    static uint64_t mix(uint64_t x) {
      x += 0x9e3779b97f4a7c15;
      x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
      x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
      return x ^ (x >> 31);
    }
    size_t operator()(const Digest& digest) const {
      uint64_t h = seed;
      for (size_t i = 0; i < Digest::k_size; i += 8) {
        uint64_t word = 0;
        std::memcpy(&word, digest.bytes().data() + i, sizeof word);
        h = mix(h ^ word);
      }
      return static_cast<size_t>(h);
    }
  };
  struct Located {
    size_t pack;
    PackRecord record;
  };
  explicit PackSet(uint64_t seed) : chunks(16, KeyHash{seed}) {}
  UniqueFd dir;  // DIR/packs
  std::vector<std::unique_ptr<LoadedPack>> packs;
  std::unordered_map<Digest, Located, KeyHash> chunks;
};

namespace {

// Opens a loaded pack's index again if it is still the one loaded (a
// concurrent build may have renamed a new one over it).
UniqueFd reopen_index(const PackSet& set, const LoadedPack& pack) {
  UniqueFd fd;
  struct stat st{};
  if (open_regular_at(set.dir.get(), pack.hex + std::string(k_index_suffix), fd, st) != 0) return UniqueFd();
  if (st.st_dev != pack.index_dev || st.st_ino != pack.index_ino) return UniqueFd();
  return fd;
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
  UniqueFd chunks = open_dir_below(fd.get(), k_chunks_dir);
  if (!chunks.valid()) return refused("cannot open " + dir + "/chunks", errno);
  return ChunkCacheDir(dir, std::move(fd));
}

std::vector<std::string> ChunkCacheDir::load_packs() {
  std::vector<std::string> problems;
  auto set = std::make_shared<PackSet>(random_u64());
  set->dir = open_dir_below(m_fd.get(), k_packs_dir);
  if (!set->dir.valid()) return problems;  // no pack yet (or none usable)
  auto names = list_directory_at(set->dir.get(), m_dir + "/packs", /*fresh=*/true);
  if (!names) return problems;
  // The most recently used first (then by name: the first loaded wins a key two hold).
  std::vector<std::pair<int64_t, std::string>> indexes;
  for (const std::string& name : *names) {
    struct stat st{};
    if (!name.ends_with(k_index_suffix) || name.starts_with(k_temp_prefix)) continue;
    if (::fstatat(set->dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    indexes.emplace_back(-mtime_of(st), name);
  }
  std::sort(indexes.begin(), indexes.end());
  std::vector<std::byte> bytes;
  size_t records = 0;
  for (const auto& [_, name] : indexes) {
    if (set->packs.size() == k_max_loaded_packs) break;
    const std::string hex = name.substr(0, name.size() - k_index_suffix.size());
    const std::string shown = m_dir + "/packs/" + name;
    UniqueFd pack;
    struct stat st{};
    if (open_regular_at(set->dir.get(), hex + std::string(k_pack_suffix), pack, st) != 0) continue;  // prune's
    struct stat index_st{};
    const int err = read_file_at(set->dir.get(), name, k_max_pack_index_bytes, bytes, index_st);
    if (err && !index_is_refused(err)) continue;  // unreadable now (EMFILE, EACCES, …): not this build's
    Result<PackIndex> index = err ? Result<PackIndex>(corrupt_error(errno_text(err))) : decode_pack_index(bytes);
    if (index && (index->blob.hex() != hex || index->blob_size != static_cast<uint64_t>(st.st_size)))
      index = corrupt_error("does not match its pack");
    if (!index) {
      problems.push_back("cache pack index " + shown + ": " + index.error().message + "; removed");
      ::unlinkat(set->dir.get(), name.c_str(), 0);
      continue;
    }
    if (records + index->records.size() > k_max_loaded_records) break;
    records += index->records.size();
    auto loaded = std::make_unique<LoadedPack>();
    loaded->hex = hex;
    loaded->fd = std::move(pack);
    loaded->index_dev = index_st.st_dev;
    loaded->index_ino = index_st.st_ino;
    set->packs.push_back(std::move(loaded));
    for (PackRecord& record : index->records)
      set->chunks.try_emplace(record.key.digest, PackSet::Located{set->packs.size() - 1, std::move(record)});
  }
  m_packs = std::move(set);
  return problems;
}

size_t ChunkCacheDir::packed_chunks() const { return m_packs ? m_packs->chunks.size() : 0; }

bool ChunkCacheDir::pack_dropped(size_t pack) const {
  return m_packs && pack < m_packs->packs.size() && m_packs->packs[pack]->dropped.load();
}

std::string ChunkCacheDir::drop_pack(size_t pack, const std::string& why) const {
  if (!m_packs || pack >= m_packs->packs.size()) return {};
  const LoadedPack& loaded = *m_packs->packs[pack];
  if (loaded.dropped.exchange(true)) return {};  // another thread's lookup said so already
  // The whole pack goes: the blob was changed (it may be the layout's file).
  if (reopen_index(*m_packs, loaded).valid())
    ::unlinkat(m_packs->dir.get(), (loaded.hex + std::string(k_index_suffix)).c_str(), 0);
  return "cache pack " + m_dir + "/packs/" + loaded.hex + std::string(k_pack_suffix) + ": " + why +
         "; pack dropped, recomputed";
}

CacheLookup ChunkCacheDir::lookup_packed(const ChunkKey& key, std::span<std::byte> into, std::vector<std::byte>& spill,
                                         CacheEntryView& view, std::string& problem) const {
  const auto found = m_packs->chunks.find(key.digest);
  if (found == m_packs->chunks.end()) return CacheLookup::miss;
  const PackRecord& record = found->second.record;
  const LoadedPack& pack = *m_packs->packs[found->second.pack];
  if (pack.dropped.load(std::memory_order_relaxed)) return CacheLookup::miss;
  const size_t size = static_cast<size_t>(record.size);
  if (size > into.size()) {
    spill.resize(size);
    into = spill;
  }
  std::string why;
  const ssize_t n = pread_full(pack.fd.get(), into.data(), size, record.offset);
  if (n < 0) {
    why = "cannot read: " + errno_text(errno);
  } else if (static_cast<size_t>(n) < size) {
    why = "truncated";
  } else if (crc64_iso(0, into.first(size)) != record.crc) {
    why = "checksum mismatch";
  }
  if (!why.empty()) {
    problem = drop_pack(found->second.pack, "chunk at offset " + std::to_string(record.offset) + ": " + why);
    // Only the lookup that dropped it reports it (one warning); the others miss.
    return problem.empty() ? CacheLookup::miss : CacheLookup::corrupt;
  }
  view.compress_nanoseconds = record.compress_nanoseconds;
  view.pack = found->second.pack;
  view.crc = record.crc;
  view.frame_sizes = record.frame_sizes;
  view.payload = into.first(size);
  // Least recently used goes first: the index's time is the pack's last use.
  if (!pack.touched.exchange(true))
    if (UniqueFd index = reopen_index(*m_packs, pack); index.valid()) ::futimens(index.get(), nullptr);
  return CacheLookup::hit;
}

Result<uint64_t> ChunkCacheDir::store_pack(int blob_fd, const PackIndex& index) const {
  const std::string shown = m_dir + "/" + k_packs_dir;
  OCIPACK_TRY_ASSIGN(UniqueFd packs, open_subdir(m_fd.get(), k_packs_dir, true, shown));
  const std::string hex = index.blob.hex();
  const std::string pack_name = hex + std::string(k_pack_suffix);
  const std::string temp = std::string(k_temp_prefix) + hex.substr(0, 16) + "-" + random_suffix();
  // The blob by its descriptor (it may not have its name yet): a new name
  // for the same inode, never a copy.
  const std::string proc = "/proc/self/fd/" + std::to_string(blob_fd);
  if (::linkat(AT_FDCWD, proc.c_str(), packs.get(), temp.c_str(), AT_SYMLINK_FOLLOW) != 0)
    return cache_io_error("cannot link the layer blob into " + shown, errno);
  struct stat linked{}, blob{};
  if (::fstatat(packs.get(), temp.c_str(), &linked, AT_SYMLINK_NOFOLLOW) != 0 || ::fstat(blob_fd, &blob) != 0 ||
      linked.st_dev != blob.st_dev || linked.st_ino != blob.st_ino ||
      static_cast<uint64_t>(blob.st_size) != index.blob_size) {
    ::unlinkat(packs.get(), temp.c_str(), 0);
    return corrupt_error("the link in " + shown + " is not the layer blob");
  }
  if (::renameat(packs.get(), temp.c_str(), packs.get(), pack_name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(packs.get(), temp.c_str(), 0);
    return cache_io_error("cannot rename a pack into " + shown, err);
  }
  const std::vector<std::byte> encoded = encode_pack_index(index);
  const std::span<const std::byte> parts[] = {encoded};
  const std::string index_name = hex + std::string(k_index_suffix);
  Status written = replace_in(packs.get(), hex.substr(0, 16), index_name, parts, "cannot create a pack index in " + shown,
                              shown, [&](int err) { return cache_io_error("cannot rename a pack index into " + shown, err); });
  if (!written) {
    ::unlinkat(packs.get(), pack_name.c_str(), 0);
    return written.error();
  }
  return index.blob_size + encoded.size();
}

CacheLookup ChunkCacheDir::lookup(const ChunkKey& key, std::span<std::byte> into, std::vector<std::byte>& spill,
                                  CacheEntryView& view, std::string& problem) const {
  if (m_packs) {
    const CacheLookup packed = lookup_packed(key, into, spill, view, problem);
    if (packed != CacheLookup::miss) return packed;
  }
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
  for (const PackFile& pack : list_packs(dir_fd, nullptr)) {
    usage.entries += pack.chunks;
    usage.bytes += pack.bytes;
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
  std::vector<std::string> stale, stale_packs;
  OCIPACK_TRY_ASSIGN(auto entries, list_entries(m_fd.get(), m_dir, &stale));
  for (const std::string& path : stale) remove_entry(m_fd.get(), path);
  std::vector<PackFile> packs = list_packs(m_fd.get(), &stale_packs);
  // list_packs found packs only if DIR/packs opens.
  const UniqueFd packs_fd = open_dir_below(m_fd.get(), k_packs_dir);
  for (const std::string& name : stale_packs) ::unlinkat(packs_fd.get(), name.c_str(), 0);
  // An index that does not decode, or whose pack is not its blob, is of no use.
  std::erase_if(packs, [&](const PackFile& pack) {
    if (pack.state == PackFile::State::refused) remove_pack(packs_fd.get(), pack.hex);
    return pack.state == PackFile::State::refused;
  });
  CacheUsage usage;
  for (const EntryFile& entry : entries) usage.bytes += entry.bytes;
  usage.entries = entries.size();
  for (const PackFile& pack : packs) {
    entries.push_back({std::string(k_packs_dir) + "/" + pack.hex, pack.mtime_ns, pack.bytes, pack.chunks, pack.hex});
    usage.bytes += pack.bytes;
    usage.entries += pack.chunks;
  }
  // Oldest use first; equal times in path order, so a prune is deterministic.
  std::sort(entries.begin(), entries.end(), [](const EntryFile& a, const EntryFile& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.path < b.path;
  });
  for (const EntryFile& entry : entries) {
    if (usage.bytes <= max_bytes) break;
    if (!entry.pack_hex.empty()) {
      remove_pack(packs_fd.get(), entry.pack_hex);
    } else {
      remove_entry(m_fd.get(), entry.path);
    }
    usage.bytes -= entry.bytes;
    usage.entries -= entry.chunks;
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
