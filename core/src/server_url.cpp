#include "progress/server_url.hpp"

#include <charconv>

namespace progress {
namespace {

constexpr std::string_view kEndpoint = "/ws/progress";

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

ServerUrlParse refuse(std::string error) { return {std::nullopt, std::move(error)}; }

}  // namespace

ServerUrlParse parse_server_url(std::string_view text) {
  const auto colon = text.find("://");
  if (colon == std::string_view::npos) {
    return refuse("the URL must start with ws://, wss://, http:// or https://, e.g. ws://127.0.0.1:8000");
  }
  const std::string scheme = lowered(text.substr(0, colon));
  ServerUrl url;
  if (scheme == "wss" || scheme == "https") {
    url.tls = true;
  } else if (scheme != "ws" && scheme != "http") {
    return refuse("unsupported scheme " + scheme + ": use ws://, wss://, http:// or https://");
  }
  const std::string_view rest = text.substr(colon + 3);
  const auto slash = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!path.empty() && path.front() != '/') return refuse("the URL may not carry a query or fragment");
  if (path.find_first_of("?#") != std::string_view::npos) return refuse("the URL may not carry a query or fragment");
  if (authority.find('@') != std::string_view::npos) return refuse("the URL may not carry user info");
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return refuse("unterminated IPv6 address in the URL");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return refuse("unexpected text after the IPv6 address");
      port = authority.substr(close + 2);
      if (port.empty()) return refuse("the URL port must be a number from 1 to 65535");
    }
  } else if (const auto c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
    if (port.empty()) return refuse("the URL port must be a number from 1 to 65535");
  }
  if (host.empty()) return refuse("the URL has no host");
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return refuse("the URL port must be a number from 1 to 65535");
    }
    url.port = std::to_string(value);
  } else {
    url.port = url.tls ? "443" : "80";
  }
  url.host = lowered(host);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (ends_with(path, kEndpoint)) path.remove_suffix(kEndpoint.size());
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path = std::string(path);
  return {std::move(url), {}};
}

std::string ServerUrl::base() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = tls ? "wss://" : "ws://";
  out += v6 ? "[" + host + "]" : host;
  if (port != (tls ? "443" : "80")) out += ":" + port;
  return out + path;
}

std::string ServerUrl::endpoint() const { return base() + std::string(kEndpoint); }

std::string ServerUrl::endpoint_path() const { return path + std::string(kEndpoint); }

}  // namespace progress
