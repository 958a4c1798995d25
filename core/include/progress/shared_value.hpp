#pragma once
// An immutable value held once and shared by every copy. A record's events carry the same
// `message` and `data` from one publish to the next unless the producer changes them; held this way
// a history of N events keeps one copy of each unchanged value instead of N (issue 20).
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace progress {

template <class T>
class SharedValue {
 public:
  SharedValue() : value_(std::make_shared<const T>()) {}
  SharedValue(T value) : value_(std::make_shared<const T>(std::move(value))) {}  // NOLINT: implicit by design
  SharedValue(const char* text)  // NOLINT: a string literal where a string goes
    requires std::is_same_v<T, std::string>
      : value_(std::make_shared<const T>(text)) {}

  const T& get() const noexcept { return *value_; }
  operator const T&() const noexcept { return *value_; }  // NOLINT: reads like the value itself
  const T* operator->() const noexcept { return value_.get(); }
  // Both hold the one copy (not merely equal values).
  bool shares(const SharedValue& other) const noexcept { return value_ == other.value_; }

  friend bool operator==(const SharedValue& a, const SharedValue& b) {
    return a.value_ == b.value_ || *a.value_ == *b.value_;
  }
  friend bool operator==(const SharedValue& a, const T& b) { return *a.value_ == b; }
  friend bool operator==(const SharedValue& a, const char* b)
    requires std::is_same_v<T, std::string>
  {
    return *a.value_ == b;
  }

 private:
  std::shared_ptr<const T> value_;
};

// The value itself, whether held plainly or shared: for code written once for both forms.
template <class T>
const T& plain(const T& value) noexcept {
  return value;
}
template <class T>
const T& plain(const SharedValue<T>& value) noexcept {
  return value.get();
}

}  // namespace progress
