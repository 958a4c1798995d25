#include "json_match.hpp"

namespace progress::vectors {

using nlohmann::json;

bool JsonMatcher::match(const json& expected, const json& actual, std::string& why) {
  return match_at(expected, &actual, "$", why);
}

bool JsonMatcher::match_at(const json& expected, const json* actual, const std::string& path, std::string& why) {
  auto fail = [&](const std::string& what) {
    why = path + ": " + what + " (expected " + expected.dump() + ", got " + (actual ? actual->dump() : "<absent>") + ")";
    return false;
  };
  if (expected.is_string()) {
    const auto& s = expected.get_ref<const std::string&>();
    if (s == "$absent") return actual == nullptr ? true : fail("should be absent");
    if (actual == nullptr) return fail("missing");
    if (s == "$any") return true;
    if (s.rfind("$!=", 0) == 0) {
      auto it = vars_.find(s.substr(3));
      if (it == vars_.end()) return fail("variable not bound yet");
      return it->second != *actual ? true : fail("should differ from $" + it->first);
    }
    if (s.rfind("$=", 0) == 0) {
      auto [it, inserted] = vars_.emplace(s.substr(2), *actual);
      return inserted || it->second == *actual ? true : fail("differs from bound " + it->second.dump());
    }
    return *actual == expected ? true : fail("not equal");
  }
  if (actual == nullptr) return fail("missing");
  if (expected.is_object()) {
    if (expected.contains("$range")) {
      const auto& r = expected["$range"];
      if (!actual->is_number()) return fail("not a number");
      double v = actual->get<double>();
      return v >= r.at(0).get<double>() && v <= r.at(1).get<double>() ? true : fail("out of range");
    }
    if (!actual->is_object()) return fail("not an object");
    bool exact = expected.value("$exact", false);
    for (const auto& [key, value] : expected.items()) {
      if (key == "$exact") continue;
      auto it = actual->find(key);
      if (!match_at(value, it == actual->end() ? nullptr : &*it, path + "." + key, why)) return false;
    }
    if (exact) {
      for (const auto& [key, value] : actual->items()) {
        if (!expected.contains(key)) return fail("unexpected key " + key);
      }
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual->is_array()) return fail("not an array");
    if (actual->size() != expected.size()) return fail("length " + std::to_string(actual->size()) + " != " + std::to_string(expected.size()));
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (!match_at(expected[i], &(*actual)[i], path + "[" + std::to_string(i) + "]", why)) return false;
    }
    return true;
  }
  if (expected.is_number() && actual->is_number()) {
    return expected.get<double>() == actual->get<double>() ? true : fail("not equal");
  }
  return *actual == expected ? true : fail("not equal");
}

}  // namespace progress::vectors
