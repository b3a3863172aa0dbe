// Errors as values at API edges: Status (ok or a message) and Result<T> (a value or a Status).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace qseg {

// A failed Status carries one human-readable line naming the file, tensor or op at fault.
class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), Kind::kError); }
  // An error in what the caller asked for (a flag's value out of range, flags that contradict each
  // other), found before any work: the command line exits 2 for these, 1 for other errors.
  static Status invalid_argument(std::string message) {
    return Status(std::move(message), Kind::kInvalidArgument);
  }
  // The work was done for some inputs only, as asked (bad ones skipped under --skip-bad) or cut
  // short (an interrupted run): the command line exits 3 for these (128 + N after signal N).
  static Status incomplete(std::string message) {
    return Status(std::move(message), Kind::kIncomplete);
  }

  bool is_ok() const { return kind_ == Kind::kOk; }
  bool is_invalid_argument() const { return kind_ == Kind::kInvalidArgument; }
  bool is_incomplete() const { return kind_ == Kind::kIncomplete; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message" (for adding the file or op name).
  Status with_context(const std::string& context) const {
    return is_ok() ? *this : Status(context + ": " + message_, kind_);
  }

 private:
  enum class Kind : unsigned char { kOk, kError, kInvalidArgument, kIncomplete };
  Status(std::string message, Kind kind) : message_(std::move(message)), kind_(kind) {}
  std::string message_;
  Kind kind_ = Kind::kOk;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: must be an error

  bool is_ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace qseg

#define QSEG_CONCAT_INNER(a, b) a##b
#define QSEG_CONCAT(a, b) QSEG_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if it is an error.
#define QSEG_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::qseg::Status qseg_status_ = (expr);           \
    if (!qseg_status_.is_ok()) return qseg_status_; \
  } while (0)

// `QSEG_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result, or returns its error.
#define QSEG_ASSIGN_OR_RETURN(lhs, expr) \
  QSEG_ASSIGN_OR_RETURN_IMPL(QSEG_CONCAT(qseg_result_, __LINE__), lhs, expr)
#define QSEG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.is_ok()) return tmp.status();           \
  lhs = std::move(tmp).value()
