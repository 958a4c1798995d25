#include "ws/websocket_session.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "ws/websocket_tls.hpp"

namespace progress::server {
namespace {

// Bytes per batch: the hub's own queue bound, so one batch in flight at most doubles it.
constexpr std::size_t kBatchBytes = 256 * 1024;
// Reads go into one buffer per thread, so an idle socket pins no read buffer of its own.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
// Reads per readiness before yielding to other sockets.
constexpr int kReadRounds = 4;
// How long a close may take: a write stuck on a peer that stopped reading, or a peer that never
// answers our close frame.
constexpr std::chrono::seconds kCloseTimeout{5};

// Every heartbeat pings every socket: one frame shared by all of them, not an allocation each.
const SharedText& control_ping_frame() {
  static const SharedText frame = std::make_shared<const std::string>(ws::control_frame(ws::opcode::ping, {}));
  return frame;
}

std::span<char> thread_read_buffer() {
  thread_local std::array<char, kReadBufferBytes> buffer;
  return buffer;
}

}  // namespace

websocket_session::websocket_session(tcp::socket&& socket, hub_service& hub, const logger& log, Target target,
                                     std::shared_ptr<void> ticket, send_queue* lane)
    : socket_(std::move(socket)),
      hub_(hub),
      log_(log),
      target_(std::make_unique<Target>(std::move(target))),
      ticket_(std::move(ticket)),
      parser_(hub.config().max_frame_bytes),
      lane_(lane) {}

// Sessions leave the hub through shut(); one destroyed with a stopped io_context must not call
// into a hub that may already be gone.
websocket_session::~websocket_session() = default;

void websocket_session::run(std::string accept_head, std::string early) {
  queue_whole(std::move(accept_head));
  conn_ = hub_.open(*target_, weak_from_this());
  target_.reset();
  registered_ = true;
  if (log_.enabled(log_level::debug)) log_.debug("ws_open", {{"conn", std::to_string(conn_)}});
  hub_.deliver();
  flush();  // the 101 and whatever the hub queued on open go out together
  if (!early.empty()) consume(std::span<char>(early.data(), early.size()));
  if (!shut_) wait_readable();
}

void websocket_session::wait_readable() {
  if (tls_) {
    read_tls();
    return;
  }
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
}

void websocket_session::on_readable(error_code ec) {
  if (shut_) return;
  if (ec) {
    shut();
    return;
  }
  const std::span<char> buffer = thread_read_buffer();
  for (int round = 0; round < kReadRounds && !shut_; ++round) {
    // MSG_DONTWAIT rather than the socket's non-blocking mode: setting that is a syscall per session.
    const ssize_t n = ::recv(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      // EOF after our close handshake is the normal end; anything else is a vanished peer.
      shut();
      return;
    }
    const auto read = static_cast<std::size_t>(n);
    consume(buffer.first(read));
    if (read < buffer.size()) break;
  }
  if (!shut_) wait_readable();
}

void websocket_session::consume(std::span<char> input) {
  for (;;) {
    const ws::event e = parser_.next(input);
    switch (e.kind) {
      case ws::event_kind::need_more:
        return;
      case ws::event_kind::text:
        if (registered_) hub_.on_text(conn_, e.payload);
        break;
      case ws::event_kind::binary:
        if (registered_) hub_.on_binary(conn_);
        break;
      case ws::event_kind::oversize:
        if (registered_) hub_.on_oversize(conn_);
        break;
      case ws::event_kind::ping:
        // Answering only the latest of pings that pile up behind a stuck write is allowed (RFC 6455 5.5.3).
        if (pending_.size() + in_lane_.size() + 2 < kMaxBatchEntries && !close_queued_) {
          queue_whole(ws::control_frame(ws::opcode::pong, e.payload));
          flush();
        }
        if (registered_) hub_.on_control(conn_);
        break;
      case ws::event_kind::pong:
        // Most often a browser's automatic answer to our control ping: the sign of life the hub wants.
        if (registered_) hub_.on_control(conn_);
        break;
      case ws::event_kind::close:
        on_peer_close(e.code);
        break;
      case ws::event_kind::fail:
        if (log_.enabled(log_level::debug)) {
          log_.debug("ws_protocol_error", {{"conn", std::to_string(conn_)}, {"code", std::to_string(e.code)}});
        }
        peer_closed_ = true;
        forget();
        if (!close_queued_) queue_close(e.code, e.code == ws::kCloseInvalidPayload ? "invalid UTF-8" : "protocol error");
        flush();
        break;
    }
  }
}

void websocket_session::on_peer_close(std::uint16_t code) {
  peer_closed_ = true;
  forget();
  if (!close_queued_) {
    // Echo the peer's code (RFC 6455 5.5.1); a close without one is answered without one.
    if (code == ws::kCloseNoStatus) {
      close_queued_ = true;
      queue_whole(ws::control_frame(ws::opcode::close, {}));
      // Bounded like any close: a client that keeps its TCP side open must not hold the socket.
      arm_close_timer();
    } else {
      queue_close(code, {});
    }
  }
  flush();
}

void websocket_session::kick() {
  if (!registered_ || shut_) return;
  if (waiting_write_) {
    // A peer that stopped reading holds the batch forever: once the hub wants the socket closed,
    // bound the wait.
    if (!close_queued_) {
      if (auto close = hub_.poll_close(conn_)) queue_close(static_cast<std::uint16_t>(close->code), close->reason);
    }
    return;
  }
  flush();
}

void websocket_session::queue_whole(std::string bytes) {
  pending_.push_back(ws_outgoing{std::make_shared<const std::string>(std::move(bytes)), true});
}

void websocket_session::queue_control_ping() {
  if (registered_ && !close_queued_ && hub_.take_control_ping(conn_)) {
    pending_.push_back(ws_outgoing{control_ping_frame(), true});
  }
}

void websocket_session::queue_close(std::uint16_t code, std::string_view reason) {
  close_queued_ = true;
  if (log_.enabled(log_level::debug)) {
    log_.debug("ws_close", {{"conn", std::to_string(conn_)}, {"code", std::to_string(code)},
                            {"reason", std::string(reason)}});
  }
  queue_whole(ws::close_frame(code, reason));
  arm_close_timer();
}

void websocket_session::arm_close_timer() {
  if (close_timer_) return;
  close_timer_ = std::make_unique<net::steady_timer>(socket_.get_executor(), kCloseTimeout);
  close_timer_->async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->shut();
  });
}

void websocket_session::flush() {
  if (tls_) {
    flush_tls();
    return;
  }
  if (waiting_write_ || shut_) return;
  // An inline batch is built, written and released within one call and flush never runs inside
  // another flush, so one scratch pair per thread serves every socket without a per-call construction.
  thread_local std::vector<ws_outgoing> scratch;
  thread_local std::vector<SharedText> popped;
  std::vector<ws_outgoing>& batch = lane_ ? in_lane_ : scratch;
  bool hub_drained = false;  // the last pop left the hub's queue empty: skip asking again
  for (;;) {
    queue_control_ping();
    // What the socket did not take last time goes first, then as much as the hub has queued.
    batch.clear();
    for (auto& entry : pending_) batch.push_back(std::move(entry));
    pending_.clear();
    if (registered_ && !close_queued_ && !hub_drained && batch.size() < kBatchFrames) {
      const std::size_t want = kBatchFrames - batch.size();
      popped.clear();
      const std::size_t got = hub_.pop_outgoing(conn_, popped, want, kBatchBytes);
      std::size_t bytes = 0;
      for (auto& frame : popped) {
        bytes += frame->size();
        batch.push_back(ws_outgoing{std::move(frame), false});
      }
      popped.clear();
      hub_drained = got < want && bytes < kBatchBytes;
    }
    if (batch.empty()) {
      if (registered_ && !close_queued_) {
        if (auto close = hub_.poll_close(conn_)) {
          queue_close(static_cast<std::uint16_t>(close->code), close->reason);
          continue;
        }
      }
      after_flush();
      return;
    }
    if (lane_) {
      waiting_write_ = true;
      lane_busy_ = true;
      lane_->submit(send_job{shared_from_this(), socket_.native_handle(), &in_lane_, pending_offset_, {}});
      return;
    }
    if (!wrote(batch, send_batch(socket_.native_handle(), batch, pending_offset_))) return;
  }
}

void websocket_session::on_sent(send_outcome outcome) {
  lane_busy_ = false;
  waiting_write_ = false;
  if (shut_) {
    // shut() left the descriptor open while the lane could still write to it.
    in_lane_.clear();
    close_socket();
    return;
  }
  if (wrote(in_lane_, outcome)) flush();
}

bool websocket_session::wrote(std::vector<ws_outgoing>& batch, send_outcome outcome) {
  if (outcome.error != 0) {
    if (log_.enabled(log_level::debug)) {
      log_.debug("ws_write_failed",
                 {{"conn", std::to_string(conn_)}, {"errno", std::to_string(outcome.error)}});
    }
    batch.clear();
    shut();
    return false;
  }
  const std::size_t done = settle_batch(batch, outcome.sent, pending_offset_);
  if (done == batch.size()) {
    batch.clear();
    return true;
  }
  // The rest goes out before anything queued while the batch was being written (a pong, our close).
  const auto rest = batch.begin() + static_cast<std::ptrdiff_t>(done);
  pending_.insert(pending_.begin(), std::make_move_iterator(rest), std::make_move_iterator(batch.end()));
  batch.clear();
  waiting_write_ = true;
  socket_.async_wait(tcp::socket::wait_write,
                     [self = shared_from_this()](error_code ec) { self->on_writable(ec); });
  return false;
}

void websocket_session::on_writable(error_code ec) {
  waiting_write_ = false;
  if (shut_) return;
  if (ec) {
    shut();
    return;
  }
  flush();
}

void websocket_session::after_flush() {
  // Everything is written. A session that is not closing holds no write storage at all.
  if (!pending_.empty() || pending_.capacity() != 0) pending_ = {};
  if (in_lane_.capacity() != 0) in_lane_ = {};
  if (!close_queued_ || !peer_closed_ || send_shut_) return;
  // Both close frames are exchanged: the server ends the TCP stream first (RFC 6455 7.1.1). Reads go
  // on (discarded) until the peer's FIN, so unread bytes never turn our close into a reset.
  send_shut_ = true;
  if (tls_) {
    shutdown_tls();
    return;
  }
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void websocket_session::shut() {
  if (shut_) return;
  shut_ = true;
  forget();
  if (close_timer_) close_timer_->cancel();
  pending_ = {};
  // A lane writing to the descriptor must finish first, or the number could already name a new socket.
  if (!lane_busy_) close_socket();
}

void websocket_session::close_socket() {
  error_code ignored;
  tcp_socket().close(ignored);
}

void websocket_session::forget() {
  if (!registered_) return;
  // What the hub queued for this socket before it closed (the echo or ack of a frame that arrived in
  // the same read as the close or the faulty frame) still goes out, ahead of our close frame.
  std::vector<SharedText> queued;
  while (hub_.pop_outgoing(conn_, queued, kBatchFrames, kBatchBytes) > 0) {
  }
  for (auto& frame : queued) pending_.push_back(ws_outgoing{std::move(frame), false});
  registered_ = false;
  hub_.on_closed(conn_);
}

}  // namespace progress::server
