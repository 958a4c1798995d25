#include "conn/http_session.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "access/access_policy.hpp"
#include "http/cors.hpp"
#include "routes/api.hpp"
#include "routes/router.hpp"
#include "routes/uploads.hpp"
#include "sse/sse_session.hpp"
#include "http/url_query.hpp"
#include "ws/inline_transport.hpp"
#include "ws/lane_transport.hpp"
#include "ws/tls_transport.hpp"
#include "ws/websocket_session.hpp"
#include "wire/ws_handshake.hpp"

namespace progress::server {
namespace {

bool is_quiet(error_code ec) {
  return ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == beast::error::timeout ||
         ec == net::error::connection_reset || ec == net::error::eof;
}

constexpr std::chrono::seconds kDrainTimeout{5};
constexpr std::size_t kDrainBufferBytes = 4096;

}  // namespace

std::uint64_t http_session_registry::add(std::weak_ptr<http_connection> session) {
  sessions_.emplace(++next_id_, std::move(session));
  return next_id_;
}

void http_session_registry::remove(std::uint64_t id) { sessions_.erase(id); }

void http_session_registry::close_idle() {
  // Copy first: closing may end a session, which removes itself from the map.
  std::vector<std::shared_ptr<http_connection>> alive;
  for (const auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) alive.push_back(std::move(s));
  }
  for (const auto& s : alive) s->close_if_idle();
}

template <class Stream>
basic_http_session<Stream>::~basic_http_session() {
  if (registry_id_ != 0) registry_.remove(registry_id_);
}

template <class Stream>
void basic_http_session<Stream>::run(const net::ip::address& peer) {
  registry_id_ = registry_.add(this->weak_from_this());
  peer_ = peer;
  client_ = peer.to_string();
  from_proxy_ = ctx_.config.proxies.trusts(peer);
  if (ctx_.connections != nullptr && !from_proxy_) {
    auto ticket = ctx_.connections->admit(peer);
    if (!ticket && kTls) {
      // A TLS client cannot read a plain answer, and a handshake costs what the limit is there to save.
      ctx_.log.info("http_refused",
                    {{"client", client_}, {"status", "503"}, {"reason", "too many connections (TLS: closed)"}});
      error_code ignored;
      tcp_layer().socket().close(ignored);
      return;
    }
    if (!ticket) {
      request none;
      const std::string limit = std::to_string(ctx_.connections->max_per_address());
      reply_and_close(error_response(none, ErrorCode::unavailable,
                                     "too many connections from " + peer.to_string() + " (limit " +
                                         limit + ")"));
      return;
    }
    ticket_ = std::move(*ticket);
  }
  if constexpr (kTls) {
    // The handshake gets the header timeout: plain HTTP or garbage on a TLS port fails it at once, a
    // silent client is cut when it expires.
    tcp_layer().expires_after(ctx_.config.header_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            beast::bind_front_handler(&basic_http_session::on_handshake, this->shared_from_this()));
  } else {
    do_read();
  }
}

template <class Stream>
bool basic_http_session<Stream>::admit_forwarded(const request& req) {
  std::vector<std::string_view> forwarded, x_forwarded_for;
  for (auto [it, end] = req.equal_range(http::field::forwarded); it != end; ++it) forwarded.push_back(it->value());
  for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) x_forwarded_for.push_back(it->value());
  const auto client = ctx_.config.proxies.client(peer_, forwarded, x_forwarded_for);
  client_ = client.to_string();
  ticket_.reset();  // the previous request's client
  if (ctx_.connections == nullptr) return true;
  auto ticket = ctx_.connections->admit(client);
  if (!ticket) {
    const std::string limit = std::to_string(ctx_.connections->max_per_address());
    reply_and_close(error_response(req, ErrorCode::unavailable,
                                   "too many connections from " + client_ + " (limit " + limit + ")"));
    return false;
  }
  ticket_ = std::move(*ticket);
  return true;
}

template <class Stream>
void basic_http_session<Stream>::on_handshake(error_code ec) {
  if (ec) {
    ctx_.log.info("tls_handshake_failed", {{"client", client_}, {"error", ec.message()}});
    error_code ignored;
    tcp_layer().socket().close(ignored);
    return;
  }
  do_read();
}

template <class Stream>
void basic_http_session<Stream>::close_if_idle() {
  if (idle_ && buffer_.size() == 0) {
    error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().socket().cancel(ignored);
  }
}

template <class Stream>
void basic_http_session<Stream>::do_read() {
  if (ctx_.hub.stopping()) {
    do_close();
    return;
  }
  // The real body limit depends on the route, known only after the header; until then the largest
  // (Beast compares a Content-Length with it before the header is handed over).
  parser_.emplace(ctx_.config.max_header_bytes, std::max(ctx_.config.max_upload_bytes, ctx_.config.max_body_bytes));
  upload_.reset();
  answering_ = false;
  idle_ = true;
  tcp_layer().expires_after(ctx_.config.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&basic_http_session::on_header, this->shared_from_this()));
}

template <class Stream>
template <class Step>
void basic_http_session<Stream>::guarded(const char* where, Step&& step) {
  try {
    step();
  } catch (const std::exception& e) {
    ++ctx_.metrics.handler_failures;
    ctx_.log.error("http_handler_failed", {{"where", where}, {"error", e.what()}});
    if (answering_) {
      error_code ignored;
      tcp_layer().socket().close(ignored);
      return;
    }
    request none;
    reply_and_close(error_response(none, http::status::internal_server_error, ErrorCode::unavailable,
                                   "the server failed while handling this request (logged); retry later"));
  }
}

template <class Stream>
void basic_http_session<Stream>::on_header(error_code ec, std::size_t) {
  idle_ = false;
  if (ec) {
    on_read_failed(ec);
    return;
  }
  guarded("header", [this] { route_header(); });
}

template <class Stream>
void basic_http_session<Stream>::on_read_failed(error_code ec) {
  upload_.reset();  // removes a partial upload's file
  if (parser_->failure() == read_failure::none && is_quiet(ec)) {
    do_close();
    return;
  }
  ctx_.log.debug("http_bad_request", {{"error", ec.message()}});
  reply_and_close(read_failure_response(*parser_, ec));
}

// Everything the header alone decides, before a byte of the body is read: access, route, size,
// where the body goes, and whether to tell the client to send it (100 Continue).
template <class Stream>
void basic_http_session<Stream>::route_header() {
  const request& req = parser_->get();
  if (from_proxy_ && !admit_forwarded(req)) return;
  // A preflight carries no credentials: it is answered before access is checked.
  if (auto preflight = cors::preflight(ctx_.config.allowed_origins, req)) {
    preflight->keep_alive(preflight->keep_alive() && parser_->is_done());  // never a body left unread
    respond("OPTIONS", std::string(req.target()), "preflight", make_routed(std::move(*preflight)));
    return;
  }
  const auto cors_fields = cors::response_headers(ctx_.config.allowed_origins, req);
  const request_shape shape(req);
  if (auto refused = check_access(ctx_.config, req, shape, wall_now())) {
    cors::attach(cors_fields, refused->base());
    reply_and_close(std::move(*refused));
    return;
  }
  const bool upload = shape.path == "/api/uploads" && !shape.websocket;
  const std::size_t limit = upload ? ctx_.config.max_upload_bytes : ctx_.config.max_body_bytes;
  if (const auto length = parser_->content_length(); length && *length > limit) {
    reply_and_close(error_response(req, http::status::payload_too_large, ErrorCode::too_large,
                                   "the request body is over the limit of " + std::to_string(limit) + " bytes"));
    return;
  }
  if (upload) {
    if (auto refused = begin_upload(ctx_, req, client_, upload_)) {
      cors::attach(cors_fields, refused->base());
      reply_and_close(std::move(*refused));
      return;
    }
    parser_->stream_body_to(upload_->sink.get());
  }
  parser_->limit_body(limit);
  if (parser_->is_done()) {
    finish_request();
    return;
  }
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
    tcp_layer().expires_after(ctx_.config.body_timeout);
    http::async_write(stream_, *go_on, [self = this->shared_from_this(), go_on](error_code write_ec, std::size_t) {
      if (write_ec) {
        self->do_close();
        return;
      }
      self->read_body();
    });
    return;
  }
  read_body();
}

template <class Stream>
void basic_http_session<Stream>::read_body() {
  tcp_layer().expires_after(ctx_.config.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&basic_http_session::on_body, this->shared_from_this()));
}

template <class Stream>
void basic_http_session<Stream>::on_body(error_code ec, std::size_t) {
  if (ec) {
    on_read_failed(ec);
    return;
  }
  guarded("body", [this] { finish_request(); });
}

template <class Stream>
void basic_http_session<Stream>::finish_request() {
  if (!upload_) {
    handle(parser_->release());
    return;
  }
  // The sink leaves with this scope: its file is removed unless the job took it.
  const auto upload = std::move(upload_);
  const request& req = parser_->get();
  auto res = finish_upload(ctx_, req, *upload);
  cors::attach(cors::response_headers(ctx_.config.allowed_origins, req), res.base());
  respond(std::string(req.method_string()), std::string(req.target()), "uploads", make_routed(std::move(res)));
}

template <class Stream>
void basic_http_session<Stream>::handle(request&& req) {
  // Access was decided on the header (route_header).
  const request_shape shape(req);
  const auto cors_fields = cors::response_headers(ctx_.config.allowed_origins, req);
  const auto& stream_target = shape.stream;
  const bool upgrade = shape.handshake.wants_websocket();
  if ((upgrade || (stream_target && stream_target->endpoint == Endpoint::sse)) && ctx_.hub.stopping()) {
    reply_and_close(error_response(req, ErrorCode::unavailable, "the server is shutting down"));
    return;
  }
  if (upgrade) {
    if (!stream_target || stream_target->endpoint == Endpoint::sse) {
      reply_and_close(not_found(req));
      return;
    }
    if (auto refused = check_handshake(req, shape.handshake)) {
      reply_and_close(std::move(*refused));
      return;
    }
    ctx_.metrics.count("ws", 101);
    if (ctx_.log.enabled(log_level::debug)) {
      ctx_.log.debug("ws_upgrade", {{"client", client_}, {"target", redact_secrets(req.target())}});
    }
    start_websocket(shape.handshake, *stream_target);
    return;
  }
  if (stream_target && stream_target->endpoint == Endpoint::sse && req.method() == http::verb::get) {
    Target sse_target = *stream_target;
    if (const auto last_id = req["Last-Event-ID"]; !last_id.empty()) {
      apply_last_event_id(sse_target, last_id);
    }
    ctx_.metrics.count("sse", 200);
    if (ctx_.log.enabled(log_level::debug)) {
      ctx_.log.debug("sse_start", {{"client", client_}, {"target", redact_secrets(req.target())}});
    }
    std::make_shared<basic_sse_session<Stream>>(std::move(stream_), ctx_.hub, ctx_.log, std::move(sse_target),
                                                std::move(ticket_))
        ->run(cors::head_lines(cors_fields), client_);
    return;
  }
  const std::string target(req.target());
  const std::string_view path = shape.path;  // into req: used only before req is moved below
  const std::string method(req.method_string());
  const std::string label = route_label(path);
  if (is_processes_api(path)) {  // the engine may answer later (Redis)
    handle_processes_api(ctx_, std::make_shared<const request>(std::move(req)),
                         [self = this->shared_from_this(), method, target, label, cors_fields](string_response res) {
                           cors::attach(cors_fields, res.base());
                           self->respond(method, target, label, make_routed(std::move(res)));
                         });
    return;
  }
  respond(method, target, label, handle_request(ctx_, std::move(req)));
}

template <class Stream>
void basic_http_session<Stream>::start_websocket(const handshake_fields& handshake, const Target& target) {
  tcp_layer().expires_never();
  // Bytes the client sent right behind its request were read with it; they are its first frames.
  std::string early = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  std::unique_ptr<ws_transport> transport;
  if constexpr (kTls) {
    transport = std::make_unique<tls_transport>(std::move(stream_));
  } else {
    // A producer writes itself: its acks pace its window of publishes, and waiting for a lane's round
    // trip, or behind a whole kick pass in the ring's round, would stretch every one of them (with its
    // acks in the ring, fanout-max was no faster than with a send call per write). Lanes, or the
    // ring's rounds, carry the fan-out to subscribers.
    send_queue* sender = nullptr;
    if (target.endpoint != Endpoint::publish) sender = ctx_.lanes ? ctx_.lanes->next() : ctx_.ring;
    if (sender) {
      transport = std::make_unique<lane_transport>(stream_.release_socket(), *sender);
    } else {
      transport = std::make_unique<inline_transport>(stream_.release_socket());
    }
  }
  const auto session =
      std::make_shared<websocket_session>(std::move(transport), ctx_.hub, ctx_.log, target, std::move(ticket_));
  session->run(switching_protocols(handshake, ctx_.hub.config().server_name), std::move(early), client_);
}

template <class Stream>
void basic_http_session<Stream>::respond(const std::string& method, const std::string& target,
                                         const std::string& label, routed_response routed) {
  ctx_.metrics.count(label, routed.status);
  ctx_.log.info("http_request", {{"client", client_}, {"method", method}, {"target", redact_secrets(target)},
                                 {"status", std::to_string(routed.status)}});
  const bool keep_alive = routed.keep_alive;
  answering_ = true;
  tcp_layer().expires_after(ctx_.config.body_timeout);
  beast::async_write(stream_, std::move(routed.message),
                     beast::bind_front_handler(&basic_http_session::on_write, this->shared_from_this(), keep_alive));
}

template <class Stream>
void basic_http_session<Stream>::reply_and_close(string_response&& res) {
  res.keep_alive(false);
  answering_ = true;
  ctx_.metrics.count("error", res.result_int());
  ctx_.log.info("http_refused", {{"client", client_}, {"status", std::to_string(res.result_int())}});
  tcp_layer().expires_after(ctx_.config.header_timeout);
  beast::async_write(stream_, http::message_generator(std::move(res)),
                     [self = this->shared_from_this()](error_code ec, std::size_t) {
                       if (ec) return;
                       self->do_close();
                       // TLS: the close_notify exchange of do_close reads (and drops) what is left.
                       if constexpr (!kTls) self->drain();
                     });
}

template <class Stream>
void basic_http_session<Stream>::drain() {
  // The client may still be sending the body we refused; closing with unread bytes would reset
  // the connection and could destroy our answer before it reads it, so swallow them for a while.
  if (!draining_) {
    draining_ = true;
    drain_buffer_ = std::make_unique_for_overwrite<char[]>(kDrainBufferBytes);
    tcp_layer().expires_after(kDrainTimeout);
  }
  stream_.async_read_some(net::buffer(drain_buffer_.get(), kDrainBufferBytes),
                          [self = this->shared_from_this()](error_code ec, std::size_t) {
                            if (!ec) self->drain();
                          });
}

template <class Stream>
void basic_http_session<Stream>::on_write(bool keep_alive, error_code ec, std::size_t) {
  if (ec) {
    if (!is_quiet(ec)) ctx_.log.debug("http_write_failed", {{"error", ec.message()}});
    return;
  }
  if (!keep_alive) {
    do_close();
    return;
  }
  do_read();
}

template <class Stream>
void basic_http_session<Stream>::do_close() {
  if constexpr (kTls) {
    // close_notify first, so clients see a clean end of the TLS stream, then our FIN; bounded like a
    // drain for clients that never answer it.
    tcp_layer().expires_after(kDrainTimeout);
    stream_.async_shutdown([self = this->shared_from_this()](error_code) {
      error_code ignored;
      self->tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  } else {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
}

template class basic_http_session<beast::tcp_stream>;
template class basic_http_session<tls_stream>;

}  // namespace progress::server
