#include "websocket_session.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace progress::server {
namespace {

// Read in pieces so an oversized message is drained without ever being held whole.
constexpr std::size_t kReadChunkBytes = 16 * 1024;
// Beast's own cap on one message; past it Beast closes with 1009 itself. Ours (max_frame_bytes) is
// enforced below it so the client first gets the `too_large` error frame.
constexpr std::uint64_t kHardMessageCapBytes = 64ull * 1024 * 1024;
// How long the write in flight may take once the hub has asked to close.
constexpr std::chrono::seconds kStuckWriteTimeout{5};

bool is_quiet_close(error_code ec) {
  return ec == websocket::error::closed || ec == net::error::operation_aborted || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == beast::error::timeout;
}

}  // namespace

websocket_session::websocket_session(tcp::socket&& socket, hub_service& hub, const logger& log, Target target)
    : ws_(std::move(socket)),
      hub_(hub),
      log_(log),
      target_(std::move(target)),
      max_frame_bytes_(hub.config().max_frame_bytes) {}

// Sessions end through a failed read (forget); one destroyed with a stopped io_context must not
// call into a hub that may already be gone.
websocket_session::~websocket_session() = default;

void websocket_session::run(http::request<http::string_body> request) {
  // The hub runs the heartbeat and stale detection; Beast only bounds the handshakes.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([name = hub_.config().server_name](websocket::response_type& res) {
    res.set(http::field::server, name);
  }));
  ws_.read_message_max(std::max<std::uint64_t>(kHardMessageCapBytes, max_frame_bytes_ + 1));
  ws_.async_accept(request, beast::bind_front_handler(&websocket_session::on_accept, shared_from_this()));
}

void websocket_session::on_accept(error_code ec) {
  if (ec) {
    log_.debug("ws_accept_failed", {{"error", ec.message()}});
    return;
  }
  ws_.text(true);
  conn_ = hub_.open(target_, weak_from_this());
  registered_ = true;
  log_.debug("ws_open", {{"conn", std::to_string(conn_)}});
  hub_.deliver();
  do_read();
}

void websocket_session::do_read() {
  ws_.async_read_some(buffer_, kReadChunkBytes,
                      beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
}

void websocket_session::on_read(error_code ec, std::size_t) {
  if (ec == websocket::error::message_too_big) {
    if (registered_) hub_.on_oversize(conn_);
    forget();
    return;
  }
  if (ec) {
    if (!is_quiet_close(ec)) log_.debug("ws_read_failed", {{"conn", std::to_string(conn_)}, {"error", ec.message()}});
    forget();
    return;
  }
  if (!oversize_ && buffer_.size() > max_frame_bytes_) oversize_ = true;
  if (oversize_ || ws_.got_binary()) buffer_.clear();  // only the fact matters, not the bytes
  if (ws_.is_message_done()) end_of_message();
  if (registered_) do_read();
}

void websocket_session::end_of_message() {
  if (!registered_) return;
  if (oversize_) {
    oversize_ = false;
    hub_.on_oversize(conn_);
  } else if (ws_.got_binary()) {
    hub_.on_binary(conn_);
  } else {
    const auto data = buffer_.cdata();
    hub_.on_text(conn_, std::string_view(static_cast<const char*>(data.data()), data.size()));
  }
  buffer_.clear();
}

void websocket_session::kick() {
  if (!registered_ || closing_) return;
  if (!writing_) {
    if (auto frame = hub_.pop_outgoing(conn_)) {
      writing_ = true;
      in_flight_ = std::move(*frame);
      ws_.async_write(net::buffer(*in_flight_),
                      beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
      return;
    }
  }
  if (!close_) close_ = hub_.poll_close(conn_);
  if (!close_) return;
  if (writing_) {
    // A peer that stopped reading (slow consumer) would hold the last write, and so the socket,
    // forever: bound it; on expiry the write fails and the session ends.
    beast::get_lowest_layer(ws_).expires_after(kStuckWriteTimeout);
    return;
  }
  closing_ = true;
  log_.debug("ws_close", {{"conn", std::to_string(conn_)}, {"code", std::to_string(close_->code)},
                          {"reason", close_->reason}});
  const auto code = static_cast<websocket::close_code>(close_->code);
  ws_.async_close(websocket::close_reason(code, close_->reason),
                  beast::bind_front_handler(&websocket_session::on_close, shared_from_this()));
}

void websocket_session::on_write(error_code ec, std::size_t) {
  writing_ = false;
  in_flight_.reset();
  if (ec) {
    if (!is_quiet_close(ec)) log_.debug("ws_write_failed", {{"conn", std::to_string(conn_)}, {"error", ec.message()}});
    forget();
    return;
  }
  kick();
}

void websocket_session::on_close(error_code ec) {
  if (ec && !is_quiet_close(ec)) log_.debug("ws_close_failed", {{"error", ec.message()}});
  // The pending read finishes with `closed` once the peer answers; a peer that never answers is
  // cut by the handshake timeout.
}

void websocket_session::forget() {
  if (!registered_) return;
  registered_ = false;
  hub_.on_closed(conn_);
}

}  // namespace progress::server
