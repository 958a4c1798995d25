#pragma once
// One HTTP connection: reads requests with per-route body limits and header/body timeouts, hands
// WebSocket upgrades and SSE requests to their sessions, answers everything else through the router.
// The same code runs on plain TCP (http_session) and on TLS (https_session, --tls-cert).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>

#include "base/net.hpp"
#include "http/request_parser.hpp"
#include "http/responses.hpp"
#include "routes/router.hpp"
#include "routes/server_context.hpp"
#include "access/tls_context.hpp"
#include "routes/uploads.hpp"
#include "wire/ws_handshake.hpp"

namespace progress::server {

// What the registry needs of a connection, whichever stream it runs on.
class http_connection {
 public:
  virtual ~http_connection() = default;
  // Closes the connection if it is waiting for a new request (graceful shutdown).
  virtual void close_if_idle() = 0;
};

// Open HTTP connections, so shutdown can close the ones idling between keep-alive requests.
class http_session_registry {
 public:
  std::uint64_t add(std::weak_ptr<http_connection> session);
  void remove(std::uint64_t id);
  void close_idle();

 private:
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<http_connection>> sessions_;
};

template <class Stream>
class basic_http_session : public http_connection, public std::enable_shared_from_this<basic_http_session<Stream>> {
 public:
  // `stream_args` follow the socket into the stream: nothing for plain TCP, the ssl::context for TLS.
  template <class... StreamArgs>
  basic_http_session(tcp::socket&& socket, server_context& ctx, http_session_registry& registry,
                     StreamArgs&... stream_args)
      : stream_(std::move(socket), stream_args...),
        buffer_(make_read_buffer(ctx.config.max_header_bytes)),
        ctx_(ctx),
        registry_(registry) {}
  ~basic_http_session() override;

  // `peer`: the client's address, as accept reported it (the per-address connection limit).
  void run(const net::ip::address& peer);
  void close_if_idle() override;

 private:
  static constexpr bool kTls = std::is_same_v<Stream, tls_stream>;

  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }
  void on_handshake(error_code ec);
  void do_read();
  void on_header(error_code ec, std::size_t bytes);
  void on_read_failed(error_code ec);
  void route_header();
  void read_body();
  void on_body(error_code ec, std::size_t bytes);
  void finish_request();
  void handle(request&& req);
  // Runs one step of the request; an exception closes this connection (answered 500 when no answer
  // is under way) and never reaches the event loop.
  template <class Step>
  void guarded(const char* where, Step&& step);
  // --trusted-proxies: a proxy's connection is counted per request, for the client its headers name.
  bool admit_forwarded(const request& req);
  void start_websocket(const handshake_fields& handshake, const Target& target);
  void respond(const std::string& method, const std::string& target, const std::string& label,
               routed_response routed);
  void reply_and_close(string_response&& res);
  void on_write(bool keep_alive, error_code ec, std::size_t bytes);
  void do_close();
  void drain();

  Stream stream_;
  beast::flat_buffer buffer_;
  server_context& ctx_;
  http_session_registry& registry_;
  std::uint64_t registry_id_ = 0;
  std::optional<bounded_request_parser> parser_;
  std::unique_ptr<upload_in_progress> upload_;  // POST /api/uploads: where the body is being written
  bool idle_ = false;
  bool answering_ = false;  // a response is being written
  bool draining_ = false;
  std::unique_ptr<char[]> drain_buffer_;  // only once draining: most connections never need it
  std::shared_ptr<void> ticket_;  // this connection's slot of its address (access limits)
  net::ip::address peer_;
  bool from_proxy_ = false;  // the peer is a trusted proxy: the client is read from each request
  std::string client_;       // the client's address, for the logs
};

using http_session = basic_http_session<beast::tcp_stream>;
using https_session = basic_http_session<tls_stream>;
extern template class basic_http_session<beast::tcp_stream>;
extern template class basic_http_session<tls_stream>;

}  // namespace progress::server
