// Implementation of LayoutLock (see layout_lock.h).
#include "core/oci/layout_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>

#include "core/util/path.h"
#include "core/util/file_io.h"

namespace ocipack {

Result<LayoutLock> LayoutLock::lock(const std::string& layout_dir, bool wait, const std::function<void()>& on_wait) {
  // The lock is a flock(2) on the layout directory itself: no lock file, so
  // a layout stays byte-for-byte what the OCI spec describes.
  std::string path = trim_trailing_slashes(layout_dir);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid())
    return input_error("cannot open layout directory " + path + " to lock it: " + errno_text(errno));
  bool blocking = false;  // try once without waiting, to tell on_wait
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | (blocking ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK && wait && !blocking) {
      if (on_wait) on_wait();
      blocking = true;
      continue;
    }
    if (errno == EWOULDBLOCK) return input_error("layout '" + path + "' is locked by another process (a build or gc)");
    return io_error("cannot lock " + path + ": " + errno_text(errno));
  }
  return LayoutLock(std::move(fd), std::move(path));
}

Result<LayoutLock> LayoutLock::acquire(const std::string& layout_dir, const std::function<void()>& on_wait) {
  return lock(layout_dir, true, on_wait);
}

Result<LayoutLock> LayoutLock::try_acquire(const std::string& layout_dir) { return lock(layout_dir, false, {}); }

Result<bool> LayoutLock::names_locked_directory() const {
  struct stat locked {}, named {};
  if (::fstat(m_fd.get(), &locked) != 0) return io_error("cannot stat " + m_path + ": " + errno_text(errno));
  if (::stat(m_path.c_str(), &named) != 0) {
    if (errno == ENOENT) return false;
    return input_error("cannot access " + m_path + ": " + errno_text(errno));
  }
  return locked.st_dev == named.st_dev && locked.st_ino == named.st_ino;
}

LayoutLock& LayoutLock::operator=(LayoutLock&& other) noexcept {
  if (this != &other) {
    unlock();
    m_fd = std::move(other.m_fd);
    m_path = std::move(other.m_path);
  }
  return *this;
}

void LayoutLock::unlock() {
  // Unlock explicitly: a forked child may share the open file description,
  // and closing our descriptor alone would then not release the lock.
  if (m_fd.valid()) ::flock(m_fd.get(), LOCK_UN);
  m_fd.reset();
}

}  // namespace ocipack
