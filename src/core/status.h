// Status and Result<T>: how every module reports an expected failure across its boundary.
//
// Exceptions may be used inside a module (LibTorch throws c10::Error), but a public function
// of any module returns a Status or a Result<T>. A corrupt photo is expected, not exceptional.
#ifndef MEDIADEX_CORE_STATUS_H_
#define MEDIADEX_CORE_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace mediadex {

enum class StatusCode {
  kOk = 0,
  kNotFound,         // a file, model or catalog row that is not there
  kCorrupt,          // data that is there but malformed (truncated JPEG, bad model.json)
  kUnsupported,      // a format, op or dtype we do not handle
  kInvalidArgument,  // a flag or parameter out of range
  kIOError,          // the OS refused (permission denied, read error)
  kOutOfMemory,      // host or device allocation failed; callers may retry smaller
  kOverBudget,       // more memory than --max-memory can ever give this request
  kDeviceError,      // the device (CUDA/MPS) failed for another reason
  kBusy,             // the catalog is locked by someone else
  kCancelled,        // the user or a cancel token stopped the work
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Corrupt: truncated JPEG data" style, for logs and error lines.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context + ": "`.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
inline Status OutOfMemory(std::string m) { return {StatusCode::kOutOfMemory, std::move(m)}; }
inline Status OverBudget(std::string m) { return {StatusCode::kOverBudget, std::move(m)}; }
inline Status DeviceError(std::string m) { return {StatusCode::kDeviceError, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }

// A value or the Status that explains why there is none (C++17 has no std::expected).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit on purpose
    assert(!status_.ok() && "a Result made from a Status must carry an error");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace mediadex

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define MDX_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::mediadex::Status mdx_status_ = (expr);   \
    if (!mdx_status_.ok()) return mdx_status_; \
  } while (0)

#endif  // MEDIADEX_CORE_STATUS_H_
