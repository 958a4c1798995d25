#pragma once
// The matching rules of tests/vectors/README.md ("Matching"), shared by every suite runner.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace progress::vectors {

class JsonMatcher {
 public:
  // True when `actual` matches `expected`; otherwise `why` says where and how it differs.
  bool match(const nlohmann::json& expected, const nlohmann::json& actual, std::string& why);

 private:
  bool match_at(const nlohmann::json& expected, const nlohmann::json* actual, const std::string& path,
                std::string& why);
  std::map<std::string, nlohmann::json> vars_;  // "$=name" bindings, per case
};

}  // namespace progress::vectors
