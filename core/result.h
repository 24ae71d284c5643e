// Result<T>: the library's way of reporting expected failures without
// exceptions or printing. A Result holds either a value or an Error whose
// message names the culprit (a path, a flag value, a JSON field). Only cli/
// turns an Error into output and an exit status. (std::expected is C++23; this
// is the small subset we need.)
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ocipack {

struct Error {
  std::string message;  // one line, names the offending path/value
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_state(std::move(value)) {}        // NOLINT(implicit)
  Result(Error error) : m_state(std::move(error)) {}    // NOLINT(implicit)

  bool ok() const { return std::holds_alternative<T>(m_state); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(m_state); }
  const T& value() const& { return std::get<T>(m_state); }
  T&& value() && { return std::get<T>(std::move(m_state)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(m_state); }

 private:
  std::variant<T, Error> m_state;
};

// Status: a Result without a value.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace ocipack

// Propagate an error from an expression returning Result/Status.
#define OCIPACK_TRY(expr)                                  \
  do {                                                     \
    auto ocipack_try_result_ = (expr);                     \
    if (!ocipack_try_result_.ok()) return ocipack_try_result_.error(); \
  } while (0)
