// BlobFlusher: makes a blob file durable while the build is still writing
// it, so the fsync that commits the blob (TempFile::commit) has little left
// to wait for. Starting the writeback (sync_file_range, BlobSink) moves the
// bytes to the device, but the device's own write cache is only flushed by
// fsync/fdatasync — and that flush is what the commit waited for: 35–60 ms
// for the 57 MiB minbase layer on this project's test machines, paid after
// every other stage had finished. Here an fdatasync runs on a thread of its
// own whenever BlobSink has written another k_flush_bytes, overlapping that
// wait with the hashing and compressing of the chunks that follow.
//
// The thread does no computing (it waits in the kernel), so it is not one of
// the graph's --threads; it is started on the first request, so a small blob
// never starts one. Requests made while a flush runs are merged into one.
// A background fdatasync that fails consumes the error (the kernel reports
// a writeback error once per open file), so it is kept here and stop()
// returns it, naming the file: a failed flush fails the build exactly as the
// commit's fsync would have. stop() is called before the blob is committed;
// the destructor stops too, for the paths that fail early. A thread that
// cannot be started (a pids limit) only means no background flushing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/util/result.h"

namespace ocipack {

// How often BlobSink asks for a flush: every 8 MiB of blob. Fewer, larger
// flushes leave more for the commit to wait for; smaller ones make more
// journal commits, each a few milliseconds of the device's time.
inline constexpr uint64_t k_blob_flush_bytes = uint64_t{8} << 20;

class BlobFlusher {
 public:
  // `sync` is fdatasync; tests pass one that fails or counts.
  using SyncFunction = int (*)(int fd);
  BlobFlusher(int fd, std::string name, SyncFunction sync = nullptr);
  ~BlobFlusher();
  BlobFlusher(const BlobFlusher&) = delete;
  BlobFlusher& operator=(const BlobFlusher&) = delete;

  // Ask for a flush of what was written so far (returns at once).
  void request();
  // Runs a request not yet started, waits for the flush in progress, ends
  // the thread; the first failure, if any. (The destructor drops a request
  // not yet started instead: a layer that failed is not committed.)
  Status stop();
  // Flushes completed (for tests).
  uint64_t flushes() const;

 private:
  void loop();
  Status halt(bool finish_pending);

  int m_fd;
  std::string m_name;
  SyncFunction m_sync;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_pending = false;
  bool m_stopping = false;
  bool m_finish_pending = false;  // stop(): run a request not yet started
  bool m_no_thread = false;       // the thread could not be started: no flushing
  int m_errno = 0;  // the first failure
  uint64_t m_flushes = 0;
  std::thread m_thread;
};

}  // namespace ocipack
