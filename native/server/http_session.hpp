#pragma once
// One HTTP connection: reads requests with per-route body limits and header/body timeouts, hands
// WebSocket upgrades and SSE requests to their sessions, answers everything else through the router.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "net.hpp"
#include "responses.hpp"
#include "routes/router.hpp"
#include "server_context.hpp"

namespace progress::server {

class http_session;

// Open HTTP connections, so shutdown can close the ones idling between keep-alive requests.
class http_session_registry {
 public:
  std::uint64_t add(std::weak_ptr<http_session> session);
  void remove(std::uint64_t id);
  void close_idle();

 private:
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<http_session>> sessions_;
};

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket&& socket, server_context& ctx, http_session_registry& registry);
  ~http_session();

  void run();
  // Closes the connection if it is waiting for a new request (graceful shutdown).
  void close_if_idle();

 private:
  void do_read();
  void on_header(error_code ec, std::size_t bytes);
  void on_body(error_code ec, std::size_t bytes);
  void handle(request&& req);
  void respond(const std::string& method, const std::string& target, const std::string& label,
               routed_response routed);
  void reply_and_close(string_response&& res);
  void on_write(bool keep_alive, error_code ec, std::size_t bytes);
  void do_close();
  void drain();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  server_context& ctx_;
  http_session_registry& registry_;
  std::uint64_t registry_id_ = 0;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool idle_ = false;
  bool draining_ = false;
  std::array<char, 4096> drain_buffer_{};
  std::shared_ptr<void> ticket_;  // this connection's slot of its address (access limits)
};

}  // namespace progress::server
