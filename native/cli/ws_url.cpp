#include "ws_url.hpp"

#include <charconv>

namespace progress::cli {

url_parse parse_ws_url(std::string_view text) {
  url_parse out;
  std::string_view rest;
  std::string default_port;
  if (text.substr(0, 5) == "ws://") {
    rest = text.substr(5);
    default_port = "80";
  } else if (text.substr(0, 7) == "http://") {
    rest = text.substr(7);
    default_port = "80";
  } else if (text.substr(0, 6) == "wss://" || text.substr(0, 8) == "https://") {
    out.error = "TLS (wss://, https://) is not supported by progress-watch; use ws:// or http://";
    return out;
  } else {
    out.error = "the URL must start with ws:// or http://, e.g. ws://127.0.0.1:8000";
    return out;
  }
  const auto slash = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  if (path.front() != '/') {
    out.error = "the URL may not carry a query or fragment";
    return out;
  }
  ws_url url;
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      out.error = "unterminated IPv6 address in the URL";
      return out;
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        out.error = "unexpected text after the IPv6 address";
        return out;
      }
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || host.find('@') != std::string_view::npos) {
    out.error = "the URL has no host";
    return out;
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      out.error = "the URL port must be a number from 1 to 65535";
      return out;
    }
  }
  url.host = std::string(host);
  url.port = port.empty() ? default_port : std::string(port);
  url.path = std::string(path);
  out.url = std::move(url);
  return out;
}

std::string session_base_url(const ws_url& url) {
  std::string path = url.path;
  constexpr std::string_view endpoint = "/ws/progress";
  if (path.size() >= endpoint.size() && path.compare(path.size() - endpoint.size(), endpoint.size(), endpoint) == 0) {
    path.resize(path.size() - endpoint.size());
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  const bool v6 = url.host.find(':') != std::string::npos;
  return "ws://" + (v6 ? "[" + url.host + "]" : url.host) + ":" + url.port + path;
}

}  // namespace progress::cli
