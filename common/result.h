// Recoverable errors as values, the way bpftrace's Result<T> does it: a stage
// returns a value or a Failure (what went wrong, what the user can do, the
// exit code it maps to). Whoever cannot go on turns the Failure into the one
// fatal exception, common::Error (error.h), with or_throw().
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/error.h"

namespace capaudit::common {

struct Failure {
  std::string message;
  std::string hint;   // what the user can do about it; empty if nothing
  int exit_code = 1;

  [[noreturn]] void raise() const { throw Error(message, hint, exit_code); }
  // The Failure an Error carries (at a boundary where exceptions stop).
  static Failure from(const Error& e) { return {e.what(), e.hint, e.exit_code}; }
};

inline Failure fail(std::string message, std::string hint = {}, int exit_code = 1) {
  return Failure{std::move(message), std::move(hint), exit_code};
}

template <typename T = void>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Failure failure) : v_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Failure& error() const { return std::get<1>(v_); }

  // The value, or the Failure thrown as common::Error.
  T or_throw() && {
    if (!ok()) error().raise();
    return std::move(*this).value();
  }

 private:
  std::variant<T, Failure> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Failure failure) : failure_(std::move(failure)) {}  // NOLINT: implicit on purpose

  bool ok() const { return !failure_; }
  explicit operator bool() const { return ok(); }
  const Failure& error() const { return *failure_; }

  void or_throw() const {
    if (failure_) failure_->raise();
  }

 private:
  std::optional<Failure> failure_;
};

}  // namespace capaudit::common
