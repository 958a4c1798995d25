#pragma once
// A set of keyed deadlines with cheap re-arming: the registry and the hub each keep one, so
// `poll_timeout()` is the first entry instead of a scan over every process or connection.
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "progress/time.hpp"

namespace progress {

template <class Key>
class Deadlines {
 public:
  // Arms (or moves) the deadline of `key`. The hub re-arms a producer's deadline after each of its
  // frames, mostly to the same millisecond: that costs a lookup, and moving it re-uses the nodes.
  void set(const Key& key, MonoMillis at) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      by_key_.emplace(key, at);
      by_time_.emplace(at, key);
      return;
    }
    if (it->second == at) return;
    auto node = by_time_.extract({it->second, key});
    node.value().first = at;
    by_time_.insert(std::move(node));
    it->second = at;
  }

  void clear(const Key& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    by_time_.erase({it->second, key});
    by_key_.erase(it);
  }

  std::optional<MonoMillis> at(const Key& key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    return it->second;
  }

  std::optional<MonoMillis> next() const {
    if (by_time_.empty()) return std::nullopt;
    return by_time_.begin()->first;
  }

  // Removes and returns every key due at `now`, earliest first.
  std::vector<Key> poll_due(MonoMillis now) {
    std::vector<Key> due;
    while (!by_time_.empty() && by_time_.begin()->first <= now) {
      due.push_back(by_time_.begin()->second);
      by_key_.erase(due.back());
      by_time_.erase(by_time_.begin());
    }
    return due;
  }

  std::size_t size() const noexcept { return by_key_.size(); }

 private:
  std::map<Key, MonoMillis> by_key_;
  std::set<std::pair<MonoMillis, Key>> by_time_;
};

}  // namespace progress
