#pragma once
// Who may do what, decided before routing: the producer API key (/ws/publish, POST /api/...),
// the subscription token for SSE and GET /api/processes/{id}, and the Origin allow-list for
// browser streams. The WebSocket forms of subscription are checked by the hub itself (an
// `unauthorized` frame, then close 1008), because a browser never sees a refused handshake's body.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "progress/hub.hpp"
#include "http/responses.hpp"
#include "wire/ws_handshake.hpp"

namespace progress::server {

// scheme://host[:port] entries of a comma-separated list; nullopt when an entry is not of that form.
std::optional<std::vector<std::string>> parse_origin_list(std::string_view text);

// What the access decision and the routing both need of a request, worked out once: the target
// parsed (percent-decoding included) and the handshake headers found. Views into `req`.
struct request_shape {
  explicit request_shape(const request& req);

  std::string_view path;
  std::string_view query;
  std::optional<Target> stream;  // a WebSocket or SSE target
  handshake_fields handshake;
  bool websocket;  // a complete upgrade request
};

// The refusal (401/403 with the protocol's JSON error) for `req`, or nullopt when it may go on.
// `now` is wall-clock ms, for token expiry.
std::optional<string_response> check_access(const server_config& config, const request& req,
                                            const request_shape& shape, Millis now);
std::optional<string_response> check_access(const server_config& config, const request& req, Millis now);

}  // namespace progress::server
