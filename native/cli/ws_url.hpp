#pragma once
// The server URL given on the command line: ws://host[:port][/base], http:// accepted as ws://.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace progress::cli {

struct ws_url {
  std::string host;
  std::string port;
  std::string path;  // starts with '/'
};

struct url_parse {
  std::optional<ws_url> url;
  std::string error;
};

url_parse parse_ws_url(std::string_view text);

// The base the ClientSession appends "/ws/progress" to: scheme ws, no trailing slash, and a
// pasted ".../ws/progress" endpoint reduced to its base.
std::string session_base_url(const ws_url& url);

}  // namespace progress::cli
