#pragma once
// Request-target helpers: path/query split and `key=value` lookup with percent-decoding.
#include <optional>
#include <string>
#include <string_view>

namespace progress::server {

struct split_target_result {
  std::string_view path;
  std::string_view query;
};

split_target_result split_target(std::string_view target) noexcept;

bool query_has(std::string_view query, std::string_view key) noexcept;

// The decoded value of `key` in `query`; nullopt when absent or badly encoded.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

// `target` with the values of credential parameters (api_key, token, access_token) replaced by
// "REDACTED", for logs: a key or token must never reach a log line, at any level.
std::string redact_secrets(std::string_view target);

}  // namespace progress::server
