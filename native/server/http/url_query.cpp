#include "http/url_query.hpp"

namespace progress::server {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode_component(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

}  // namespace

split_target_result split_target(std::string_view target) noexcept {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

bool query_has(std::string_view query, std::string_view key) noexcept {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    if (item.substr(0, item.find('=')) == key) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    const auto eq = item.find('=');
    if (item.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : decode_component(item.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string redact_secrets(std::string_view target) {
  const auto [path, query] = split_target(target);
  if (query.empty()) return std::string(target);
  std::string out(path);
  out += '?';
  std::string_view rest = query;
  bool first = true;
  while (true) {
    const auto amp = rest.find('&');
    const auto item = rest.substr(0, amp);
    const auto key = item.substr(0, item.find('='));
    if (!first) out += '&';
    first = false;
    if (key == "api_key" || key == "token" || key == "access_token") {
      out += key;
      out += "=REDACTED";
    } else {
      out += item;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace progress::server
