// BlobFlusher: fdatasync of a blob file on a thread of its own while the
// build writes it (see blob_flusher.h for why, and how errors are kept).
#include "pipeline/blob_flusher.h"

#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "core/util/file_io.h"

namespace ocipack {

BlobFlusher::BlobFlusher(int fd, std::string name, SyncFunction sync)
    : m_fd(fd), m_name(std::move(name)), m_sync(sync ? sync : ::fdatasync) {}

BlobFlusher::~BlobFlusher() { (void)halt(/*finish_pending=*/false); }

void BlobFlusher::request() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping || m_no_thread) return;
    m_pending = true;
  }
  if (m_thread.joinable()) {
    m_wake.notify_one();
    return;
  }
  try {
    m_thread = std::thread([this] { loop(); });
  } catch (const std::system_error&) {
    // No thread to be had (a pids limit): the commit's fsync does it all.
    std::lock_guard lock(m_mutex);
    m_no_thread = true;
    m_pending = false;
  }
}

void BlobFlusher::loop() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_wake.wait(lock, [&] { return m_pending || m_stopping; });
    if (m_stopping && !(m_pending && m_finish_pending)) return;
    m_pending = false;
    lock.unlock();
    int failure = 0;
    while (m_sync(m_fd) != 0) {
      if (errno == EINTR) continue;
      failure = errno;
      break;
    }
    lock.lock();
    ++m_flushes;
    // EINVAL: a file that cannot be synced (not ours to judge here; the
    // commit's fsync decides). Anything else is a write that failed.
    if (failure != 0 && failure != EINVAL && m_errno == 0) m_errno = failure;
  }
}

Status BlobFlusher::stop() { return halt(/*finish_pending=*/true); }

Status BlobFlusher::halt(bool finish_pending) {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_finish_pending = finish_pending;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
  std::lock_guard lock(m_mutex);
  if (m_errno != 0) return io_error("cannot write " + m_name + ": " + errno_text(m_errno));
  return ok_status();
}

uint64_t BlobFlusher::flushes() const {
  std::lock_guard lock(m_mutex);
  return m_flushes;
}

}  // namespace ocipack
