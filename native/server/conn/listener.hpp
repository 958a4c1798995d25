#pragma once
// Accepts TCP connections and starts an http_session for each.
#include <memory>

#include "conn/http_session.hpp"
#include "base/net.hpp"
#include "routes/server_context.hpp"

namespace progress::server {

// Options every accepted socket inherits on Linux, so no connection pays a setsockopt of its own:
// TCP_NODELAY (progress frames are small and must not wait for an ACK).
error_code set_inherited_options(tcp::acceptor& acceptor);

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, server_context& ctx, http_session_registry& registry);

  // Binds and listens; on failure returns the error (the caller reports it and exits).
  error_code open(const tcp::endpoint& endpoint);
  tcp::endpoint local_endpoint() const;
  void run();
  void stop();

 private:
  void do_accept();
  void on_accept(error_code ec);

  tcp::acceptor acceptor_;
  tcp::socket peer_socket_;  // the next connection's socket, and its address
  tcp::endpoint peer_;
  net::steady_timer backoff_;
  bool accept_failing_ = false;  // out of descriptors or memory since the last accept that worked
  server_context& ctx_;
  http_session_registry& registry_;
};

}  // namespace progress::server
