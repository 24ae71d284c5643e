// Tests for pipeline/first_error.h: the first recorded error wins, failed()
// turns true with it, and guard() turns an Error result and every kind of
// exception into the recorded error (nothing escapes a task).
#include "pipeline/first_error.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace ocipack {
namespace {

TEST(FirstError, TheFirstErrorWins) {
  FirstError errors;
  EXPECT_FALSE(errors.failed());
  EXPECT_FALSE(errors.get().has_value());
  errors.record(io_error("first"));
  errors.record(input_error("second"));
  EXPECT_TRUE(errors.failed());
  ASSERT_TRUE(errors.get().has_value());
  EXPECT_EQ(errors.get()->message, "first");
  EXPECT_TRUE(errors.get()->is(ErrorKind::io));
}

TEST(FirstError, ConcurrentRecordsKeepOne) {
  FirstError errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&errors, t] { errors.record(io_error("thread " + std::to_string(t))); });
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(errors.get().has_value());
  EXPECT_EQ(errors.get()->message.rfind("thread ", 0), 0u);
}

TEST(FirstError, GuardRecordsErrorsAndExceptions) {
  {
    FirstError errors;
    EXPECT_TRUE(errors.guard([] { return ok_status(); }));
    EXPECT_TRUE(errors.guard([] {}));
    EXPECT_FALSE(errors.failed());
  }
  {
    FirstError errors;
    EXPECT_FALSE(errors.guard([]() -> Status { return interrupted_error(); }));
    EXPECT_TRUE(errors.get()->is(ErrorKind::interrupted));
  }
  {
    FirstError errors;
    EXPECT_FALSE(errors.guard([] { throw std::runtime_error("boom"); }));
    EXPECT_NE(errors.get()->message.find("boom"), std::string::npos);
  }
  {
    FirstError errors;
    EXPECT_FALSE(errors.guard([] { throw std::bad_alloc(); }));
    EXPECT_NE(errors.get()->message.find("out of memory"), std::string::npos);
  }
  {
    FirstError errors;
    EXPECT_FALSE(errors.guard([] { throw 42; }));
    EXPECT_TRUE(errors.failed());
  }
}

}  // namespace
}  // namespace ocipack
