// Tests for pipeline/blob_flusher.cc: a request runs the sync on the flusher's
// thread (requests during a flush merge); stop() runs a request the thread
// had not taken yet; no request, no thread and no sync; a failed flush is
// kept and returned by stop(), naming the file, but EINVAL (a file that cannot be synced) is not a failure; requests after
// stop() are ignored. The sync is a test function: counting or failing.
#include "pipeline/blob_flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

namespace ocipack {
namespace {

std::atomic<int> g_syncs{0};
std::atomic<int> g_errno{0};  // what the fake sync fails with; 0: succeeds

int fake_sync(int) {
  g_syncs.fetch_add(1);
  if (g_errno.load() != 0) {
    errno = g_errno.load();
    return -1;
  }
  return 0;
}

void reset(int fail_with) {
  g_syncs = 0;
  g_errno = fail_with;
}

// Waits (up to 10 s) for the flusher to finish `n` flushes.
bool wait_for_flushes(const BlobFlusher& flusher, uint64_t n) {
  for (int i = 0; i < 10000 && flusher.flushes() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return flusher.flushes() >= n;
}

TEST(BlobFlusher, ARequestFlushesOnItsThread) {
  reset(0);
  BlobFlusher flusher(7, "the blob", fake_sync);
  flusher.request();
  ASSERT_TRUE(wait_for_flushes(flusher, 1));
  flusher.request();
  flusher.request();
  ASSERT_TRUE(wait_for_flushes(flusher, 2));
  EXPECT_TRUE(flusher.stop().ok());
  EXPECT_GE(g_syncs.load(), 2);
  EXPECT_LE(g_syncs.load(), 3);  // the two last requests may merge
}

TEST(BlobFlusher, StopRunsARequestNotYetStarted) {
  // Whether the thread took the request before stop() or not, it is run:
  // exactly one flush, and its failure is returned.
  for (int round = 0; round < 20; ++round) {
    reset(EIO);
    BlobFlusher flusher(7, "the blob", fake_sync);
    flusher.request();
    auto status = flusher.stop();
    EXPECT_EQ(g_syncs.load(), 1) << "round " << round;
    EXPECT_FALSE(status.ok()) << "round " << round;
  }
}

TEST(BlobFlusher, NoRequestNoSync) {
  reset(0);
  BlobFlusher flusher(7, "the blob", fake_sync);
  EXPECT_TRUE(flusher.stop().ok());
  EXPECT_EQ(g_syncs.load(), 0);
  EXPECT_EQ(flusher.flushes(), 0u);
}

TEST(BlobFlusher, AFailedFlushIsReturnedByStopNamingTheFile) {
  reset(EIO);
  BlobFlusher flusher(7, "the blob", fake_sync);
  flusher.request();
  ASSERT_TRUE(wait_for_flushes(flusher, 1));
  reset(0);  // a later flush that succeeds does not hide the failure
  flusher.request();
  ASSERT_TRUE(wait_for_flushes(flusher, 2));
  auto status = flusher.stop();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.error().is(ErrorKind::io));
  EXPECT_NE(status.error().message.find("cannot write the blob"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("nput/output error"), std::string::npos) << status.error().message;
}

TEST(BlobFlusher, EinvalIsNotAFailure) {
  reset(EINVAL);
  BlobFlusher flusher(7, "the blob", fake_sync);
  flusher.request();
  ASSERT_TRUE(wait_for_flushes(flusher, 1));
  EXPECT_TRUE(flusher.stop().ok());
}

TEST(BlobFlusher, RequestsAfterStopAreIgnored) {
  reset(EIO);
  BlobFlusher flusher(7, "the blob", fake_sync);
  ASSERT_TRUE(flusher.stop().ok());
  flusher.request();
  EXPECT_TRUE(flusher.stop().ok());
  EXPECT_EQ(g_syncs.load(), 0);
}

}  // namespace
}  // namespace ocipack
