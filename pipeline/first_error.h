// FirstError: where the stages of a run report failures. The first error
// recorded wins (later ones are dropped); failed() is cheap to poll, so
// every stage can skip its work once something failed while the graph
// still drains. guard() is the task boundary: it runs a stage body and
// turns both an Error it returns and an exception it throws into the
// recorded error, so nothing escapes a TBB task.
#pragma once

#include <atomic>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <type_traits>

#include "core/util/result.h"

namespace ocipack {

class FirstError {
 public:
  void record(const Error& error) {
    std::lock_guard lock(m_mutex);
    if (!m_error) m_error = error;
    m_failed.store(true, std::memory_order_release);
  }
  bool failed() const { return m_failed.load(std::memory_order_acquire); }
  std::optional<Error> get() const {
    std::lock_guard lock(m_mutex);
    return m_error;
  }

  // Runs `body` (returning a Status, or void) and records its error or
  // exception. Returns whether it succeeded.
  template <typename Body>
  bool guard(Body&& body) noexcept {
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<Body>>) {
        body();
      } else {
        Status status = body();
        if (!status) {
          record(status.error());
          return false;
        }
      }
      return true;
    } catch (const std::bad_alloc&) {
      record(io_error("out of memory"));
    } catch (const std::exception& e) {
      record(io_error(std::string("layer pipeline failed: ") + e.what()));
    } catch (...) {
      record(io_error("layer pipeline failed"));
    }
    return false;
  }

 private:
  mutable std::mutex m_mutex;
  std::optional<Error> m_error;
  std::atomic<bool> m_failed{false};
};

}  // namespace ocipack
