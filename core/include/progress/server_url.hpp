#pragma once
// The one reading of a hub's URL for every client: the wasm session (the browser package),
// progress-watch and the vectors. Accepts ws, wss, http and https (http(s) read as ws(s)), a
// base path, and a pasted ".../ws/progress" endpoint reduced to its base. Refuses what a client
// could only guess at: another scheme, user info, a query or fragment, a bad port.
#include <optional>
#include <string>
#include <string_view>

namespace progress {

struct ServerUrl {
  bool tls = false;
  std::string host;  // lower case; an IPv6 address without its brackets
  std::string port;  // always set: the scheme's default when the URL gave none
  std::string path;  // the base path: empty or "/a/b", never a trailing '/'

  // "ws://host[:port]/base": the default port left out, as a browser writes it.
  std::string base() const;
  // base() + "/ws/progress", the multiplexed endpoint.
  std::string endpoint() const;
  // path + "/ws/progress": the request target of the endpoint.
  std::string endpoint_path() const;
};

struct ServerUrlParse {
  std::optional<ServerUrl> url;
  std::string error;  // why not, when url is empty
};

ServerUrlParse parse_server_url(std::string_view text);

}  // namespace progress
