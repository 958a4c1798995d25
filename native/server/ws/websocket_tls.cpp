// websocket_session's TLS transport (see websocket_tls.hpp for why it differs from the plain one).
#include <array>
#include <memory>
#include <span>
#include <utility>

#include "ws/websocket_session.hpp"
#include "ws/websocket_tls.hpp"

namespace progress::server {
namespace {

// Bytes per write: the hub's own queue bound, as on the plain path.
constexpr std::size_t kTlsBatchBytes = 256 * 1024;

}  // namespace

websocket_session::websocket_session(std::unique_ptr<websocket_tls> tls, hub_service& hub, const logger& log,
                                     Target target, std::shared_ptr<void> ticket)
    : socket_(tls->stream.get_executor()),  // stays closed: the connection's socket is inside tls_
      hub_(hub),
      log_(log),
      target_(std::make_unique<Target>(std::move(target))),
      ticket_(std::move(ticket)),
      parser_(hub.config().max_frame_bytes),
      tls_(std::move(tls)) {}

tcp::socket& websocket_session::tcp_socket() {
  return tls_ ? beast::get_lowest_layer(tls_->stream).socket() : socket_;
}

void websocket_session::read_tls() {
  tls_->stream.async_read_some(net::buffer(tls_->in), [self = shared_from_this()](error_code ec, std::size_t n) {
    if (self->shut_) return;
    if (ec) {
      // The peer's close_notify or FIN after our close handshake is the normal end.
      self->shut();
      return;
    }
    self->consume(std::span<char>(self->tls_->in.data(), n));
    if (!self->shut_) self->read_tls();
  });
}

void websocket_session::flush_tls() {
  if (waiting_write_ || shut_) return;
  std::string& out = tls_->out;
  out.clear();
  queue_control_ping();
  // Control frames and the 101 queued whole; pending_offset_ stays 0 as async_write sends everything.
  for (const auto& entry : pending_) out += *entry.bytes;
  pending_.clear();
  std::array<std::uint8_t, ws::kMaxServerHeader> head;
  while (registered_ && !close_queued_ && out.size() < kTlsBatchBytes) {
    auto frame = hub_.pop_outgoing(conn_);
    if (!frame) break;
    const std::string& payload = **frame;
    const std::size_t head_size = ws::encode_header(head, ws::opcode::text, payload.size());
    out.append(reinterpret_cast<const char*>(head.data()), head_size);
    out += payload;
  }
  if (out.empty()) {
    if (registered_ && !close_queued_) {
      if (auto close = hub_.poll_close(conn_)) {
        queue_close(static_cast<std::uint16_t>(close->code), close->reason);
        flush_tls();
        return;
      }
    }
    std::string().swap(out);  // an idle session holds no write storage
    after_flush();
    return;
  }
  waiting_write_ = true;
  net::async_write(tls_->stream, net::buffer(out),
                   [self = shared_from_this()](error_code ec, std::size_t) { self->on_writable(ec); });
}

void websocket_session::shutdown_tls() {
  // close_notify first, so the client's TLS layer sees a clean end rather than a truncated stream;
  // then our FIN. A peer that never answers is cut by the close timer.
  tls_->stream.async_shutdown([self = shared_from_this()](error_code) {
    error_code ignored;
    if (!self->shut_) self->tcp_socket().shutdown(tcp::socket::shutdown_send, ignored);
  });
}

}  // namespace progress::server
