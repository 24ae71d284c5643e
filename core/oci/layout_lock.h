// LayoutLock: the advisory lock that keeps builds and gc of one layout from
// interleaving.
//
// Locking contract: a process that writes a layout (a build) or removes blobs
// from it (gc) holds LayoutLock for the whole operation. The lock is a
// flock(2) on the layout directory itself (no lock file: the layout holds
// only what the OCI spec describes). Readers (tags, inspect, load_image) take
// no lock: a blob removed by gc stays readable through a descriptor already
// open, and gc removes only blobs that the current index.json does not reach.
#pragma once

#include <functional>
#include <string>

#include "core/util/unique_fd.h"
#include "core/util/result.h"

namespace ocipack {

// RAII exclusive flock on the layout directory (which must exist). Move-only;
// unlocks on destruction. path() is the locked directory.
class LayoutLock {
 public:
  // Waits for the lock; `on_wait` (if set) is called once, before waiting,
  // when another holder has it (so a front end can say why nothing happens).
  static Result<LayoutLock> acquire(const std::string& layout_dir, const std::function<void()>& on_wait = {});
  // Fails at once, naming the layout, when another holder has it.
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
  static Result<LayoutLock> lock(const std::string& layout_dir, bool wait, const std::function<void()>& on_wait);
  void unlock();

  UniqueFd m_fd;
  std::string m_path;
};

}  // namespace ocipack
