#pragma once
// Plain HTTP requests (everything that is not a WebSocket upgrade or an SSE stream) to handlers.
#include <string>
#include <string_view>

#include "http/responses.hpp"
#include "routes/server_context.hpp"

namespace progress::server {

// A response ready to write, with what the session logs and counts about it.
struct routed_response {
  unsigned status;
  bool keep_alive;
  http::message_generator message;
};

template <class Body>
routed_response make_routed(http::response<Body>&& res) {
  const unsigned status = res.result_int();
  const bool keep_alive = res.keep_alive();
  return routed_response{status, keep_alive, http::message_generator(std::move(res))};
}

routed_response handle_request(server_context& ctx, request&& req);

// A fixed label for metrics (never a raw path, so the label set stays small).
std::string route_label(std::string_view path);

}  // namespace progress::server
