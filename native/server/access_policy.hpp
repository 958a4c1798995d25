#pragma once
// Who may do what, decided before routing: the producer API key (/ws/publish, POST /api/...),
// the subscription token for SSE and GET /api/processes/{id}, and the Origin allow-list for
// browser streams. The WebSocket forms of subscription are checked by the hub itself (an
// `unauthorized` frame, then close 1008), because a browser never sees a refused handshake's body.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "responses.hpp"

namespace progress::server {

// scheme://host[:port] entries of a comma-separated list; nullopt when an entry is not of that form.
std::optional<std::vector<std::string>> parse_origin_list(std::string_view text);

// The refusal (401/403 with the protocol's JSON error) for `req`, or nullopt when it may go on.
// `now` is wall-clock ms, for token expiry.
std::optional<string_response> check_access(const server_config& config, const request& req, Millis now);

}  // namespace progress::server
