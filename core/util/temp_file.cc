// Implementation of TempFile and write_file_atomic (see temp_file.h). The
// order in commit() — data fsync, close, rename, directory fsync — is what
// keeps an existing layout valid when a build fails or is killed half-way.
// The registry of live temp files is a static array of slots guarded by
// per-slot sequence numbers (a seqlock): writers claim a slot with a
// compare-and-swap, readers in a signal handler copy the path and keep it
// only if the sequence number was even and unchanged around the copy.
#include "core/util/temp_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/util/file_io.h"
#include "core/util/path.h"

namespace ocipack {

namespace {
constexpr size_t k_registry_slots = 128;
constexpr size_t k_registry_path_max = 4096;  // with its NUL

struct RegistrySlot {
  std::atomic<bool> claimed{false};
  std::atomic<uint32_t> sequence{0};  // odd while `path` is being written
  std::atomic<char> path[k_registry_path_max];  // NUL-terminated, "" when free
};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<char>::is_always_lock_free,
              "the registry is read in a signal handler");

RegistrySlot g_registry[k_registry_slots];

void store_path(RegistrySlot& slot, const char* path, size_t length) {
  slot.sequence.fetch_add(1, std::memory_order_acq_rel);  // odd: being written
  for (size_t i = 0; i < length; ++i) slot.path[i].store(path[i], std::memory_order_relaxed);
  slot.path[length].store('\0', std::memory_order_relaxed);
  slot.sequence.fetch_add(1, std::memory_order_release);  // even: stable
}

// Lists `path`; the slot, or -1 when it is too long or every slot is taken.
int register_temp_path(const std::string& path) {
  if (path.size() >= k_registry_path_max) return -1;
  for (size_t i = 0; i < k_registry_slots; ++i) {
    bool expected = false;
    if (!g_registry[i].claimed.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
    store_path(g_registry[i], path.c_str(), path.size());
    return static_cast<int>(i);
  }
  return -1;
}

void unregister_temp_path(int slot) {
  if (slot < 0) return;
  store_path(g_registry[slot], "", 0);
  g_registry[slot].claimed.store(false, std::memory_order_release);
}

// Copies slot `i`'s path into `out` when it is listed and stable.
bool read_slot(size_t i, char (&out)[k_registry_path_max]) noexcept {
  RegistrySlot& slot = g_registry[i];
  const uint32_t before = slot.sequence.load(std::memory_order_acquire);
  if (before % 2 != 0) return false;
  size_t n = 0;
  for (; n + 1 < k_registry_path_max; ++n) {
    out[n] = slot.path[n].load(std::memory_order_relaxed);
    if (out[n] == '\0') break;
  }
  out[n] = '\0';
  std::atomic_thread_fence(std::memory_order_acquire);
  return slot.sequence.load(std::memory_order_relaxed) == before && out[0] != '\0';
}
}  // namespace

size_t remove_registered_temp_files() noexcept {
  size_t removed = 0;
  char path[k_registry_path_max];
  for (size_t i = 0; i < k_registry_slots; ++i)
    if (read_slot(i, path) && ::unlink(path) == 0) ++removed;
  return removed;
}

size_t registered_temp_file_count() noexcept {
  size_t count = 0;
  char path[k_registry_path_max];
  for (size_t i = 0; i < k_registry_slots; ++i)
    if (read_slot(i, path)) ++count;
  return count;
}

std::string temp_file_prefix(std::string_view stem) { return "." + std::string(stem) + ".tmp-"; }

bool is_temp_file_name(std::string_view name, std::string_view stem) {
  const std::string prefix = temp_file_prefix(stem);
  return name.size() == prefix.size() + k_temp_file_random_chars && name.substr(0, prefix.size()) == prefix;
}

Result<TempFile> TempFile::create(const std::string& dir, const std::string& stem) {
  const std::string pattern = dir + "/" + temp_file_prefix(stem) + std::string(k_temp_file_random_chars, 'X');
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return io_error("cannot create a temporary file in " + dir + ": " + errno_text(errno));
  ::fchmod(fd, 0644);
  return TempFile(UniqueFd(fd), std::string(buf.data()));
}

TempFile::TempFile(UniqueFd fd, std::string path)
    : m_fd(std::move(fd)), m_path(std::move(path)), m_slot(register_temp_path(m_path)) {}

TempFile::TempFile(TempFile&& other) noexcept
    : m_fd(std::move(other.m_fd)), m_path(std::move(other.m_path)), m_committed(other.m_committed),
      m_slot(other.m_slot) {
  other.m_committed = true;  // the moved-from object owns nothing
  other.m_slot = -1;
}

TempFile::~TempFile() {
  if (!m_committed && !m_path.empty()) ::unlink(m_path.c_str());
  unregister_temp_path(m_slot);
}

Status TempFile::commit(const std::string& final_path) {
  if (::fsync(m_fd.get()) != 0) return io_error("cannot fsync " + final_path + ": " + errno_text(errno));
  int fd = m_fd.release();
  if (::close(fd) != 0) return io_error("cannot write " + final_path + ": " + errno_text(errno));
  if (::rename(m_path.c_str(), final_path.c_str()) != 0)
    return io_error("cannot rename into " + final_path + ": " + errno_text(errno));
  m_committed = true;
  unregister_temp_path(m_slot);
  m_slot = -1;
  return fsync_dir(parent_directory(final_path));
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  OCIPACK_TRY_ASSIGN(auto temp, TempFile::create(parent_directory(path), base_name(path)));
  OCIPACK_TRY(write_all(temp.fd(), data, path));
  return temp.commit(path);
}

}  // namespace ocipack
