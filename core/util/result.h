// Result<T>: the library's way of reporting expected failures without
// exceptions or printing. A Result holds either a value or an Error whose
// message names the culprit (a path, a field, a value) and whose kind says
// what sort of failure it is, so that callers decide by kind, never by
// comparing message text. Only cli/ turns an Error into output and an exit
// status (usage → 2, interrupted → 130, every other kind → 1).
// (std::expected is C++23; this is the small subset we need.)
//
// Propagation, instead of hand-written unwraps:
//   OCIPACK_TRY(expr);                     // a Status or Result whose value is not needed
//   OCIPACK_TRY_ASSIGN(auto x, expr);      // declares x from the value, or returns the error
//   OCIPACK_TRY_ASSIGN(existing, expr);    // assigns to an existing variable
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ocipack {

enum class ErrorKind {
  usage,        // the caller asked for something impossible (bad option value, conflicting options)
  input,        // an input is missing, unreadable or refused (rootfs, tar, base image, layout)
  io,           // reading or writing ocipack's own output failed (full disk, permissions)
  corrupt,      // stored data does not match what describes it (digest, size, damaged blob)
  interrupted,  // the caller's cancel flag was set (Ctrl-C)
};

// "usage", "input", ... (for tests and diagnostics).
constexpr const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return "usage";
    case ErrorKind::input: return "input";
    case ErrorKind::io: return "io";
    case ErrorKind::corrupt: return "corrupt";
    case ErrorKind::interrupted: return "interrupted";
  }
  return "unknown";
}

// One mention of an option field in an error message: its name, as the
// library names it ("tar_output", "layers[1].diff_base", "codec.level"), and
// where it stands in the message.
struct FieldMention {
  std::string name;
  size_t at = 0;
};

struct Error {
  ErrorKind kind = ErrorKind::input;
  std::string message;  // one line, names the offending path/field/value
  // The option fields the message names, in message order; the first is the
  // one at fault. A front end shows its own names for them: cli/ turns
  // "tar_output '/x' lies inside ..." into "--tar-output '/x' lies inside ...".
  std::vector<FieldMention> fields;

  // The field at fault ("" when the error names none).
  std::string_view field() const { return fields.empty() ? std::string_view() : fields.front().name; }

  // The same error with `prefix` put before its message ("--base: " + ...).
  Error with_context(std::string_view prefix) const& {
    Error copy = *this;
    return std::move(copy).with_context(prefix);
  }
  Error with_context(std::string_view prefix) && {
    message.insert(0, prefix);
    for (auto& mention : fields) mention.at += prefix.size();
    return std::move(*this);
  }
  // Appends text, or a mention of another field, to the message.
  Error then(std::string_view text) && {
    message += text;
    return std::move(*this);
  }
  Error then_field(std::string name) && {
    fields.push_back({name, message.size()});
    message += name;
    return std::move(*this);
  }
  // The message with each field `name_of` knows shown by that name (a
  // function of the field name returning std::optional<std::string_view>);
  // fields it does not know stay as they are.
  template <typename NameOf>
  std::string with_fields_named(NameOf&& name_of) const {
    std::string out;
    size_t from = 0;
    for (const auto& mention : fields) {
      out.append(message, from, mention.at - from);
      const auto shown = name_of(std::string_view(mention.name));
      if (shown) out.append(*shown);
      else out.append(mention.name);
      from = mention.at + mention.name.size();
    }
    out.append(message, from, std::string::npos);
    return out;
  }
  // The message with the field at fault shown as `name` (other mentions kept).
  std::string with_field_named(std::string_view name) const {
    const std::string_view at_fault = field();
    return with_fields_named([&](std::string_view f) {
      return f == at_fault ? std::optional<std::string_view>(name) : std::nullopt;
    });
  }
  bool is(ErrorKind k) const { return kind == k; }
};

inline Error error_of_kind(ErrorKind kind, std::string message) {
  Error error;
  error.kind = kind;
  error.message = std::move(message);
  return error;
}
inline Error usage_error(std::string message) { return error_of_kind(ErrorKind::usage, std::move(message)); }
inline Error input_error(std::string message) { return error_of_kind(ErrorKind::input, std::move(message)); }
inline Error io_error(std::string message) { return error_of_kind(ErrorKind::io, std::move(message)); }
inline Error corrupt_error(std::string message) { return error_of_kind(ErrorKind::corrupt, std::move(message)); }
inline Error interrupted_error() { return error_of_kind(ErrorKind::interrupted, "interrupted"); }

// An error about the field `field` of the caller's options: the message is
// `field` followed by `rest` ("tar_output" + " '/x' lies inside ...").
inline Error field_error(ErrorKind kind, std::string field, std::string_view rest) {
  return error_of_kind(kind, "").then_field(std::move(field)).then(rest);
}

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

  const Error& error() const& { return std::get<Error>(m_state); }
  Error&& error() && { return std::get<Error>(std::move(m_state)); }

 private:
  std::variant<T, Error> m_state;
};

// Status: a Result without a value.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace ocipack

#define OCIPACK_CONCAT_INNER_(a, b) a##b
#define OCIPACK_CONCAT_(a, b) OCIPACK_CONCAT_INNER_(a, b)

// Propagate an error from an expression returning Result/Status.
#define OCIPACK_TRY(expr)                                                 \
  do {                                                                    \
    auto ocipack_try_result_ = (expr);                                    \
    if (!ocipack_try_result_.ok()) return std::move(ocipack_try_result_).error(); \
  } while (0)

// `lhs = value of expr`, or return its error. `lhs` may declare a variable
// (`auto x`, `const auto& x`) or name an existing one. Expands to several
// statements: use it only where a declaration may stand.
#define OCIPACK_TRY_ASSIGN(lhs, expr) \
  OCIPACK_TRY_ASSIGN_IMPL_(OCIPACK_CONCAT_(ocipack_try_assign_, __COUNTER__), lhs, expr)
#define OCIPACK_TRY_ASSIGN_IMPL_(tmp, lhs, expr)            \
  auto tmp = (expr);                                        \
  if (!tmp.ok()) return std::move(tmp).error();             \
  lhs = std::move(tmp).value()
