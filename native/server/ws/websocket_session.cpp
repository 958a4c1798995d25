#include "ws/websocket_session.hpp"

#include <chrono>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace progress::server {
namespace {

// Bytes per batch: the hub's own queue bound, so one batch in flight at most doubles it.
constexpr std::size_t kBatchBytes = 256 * 1024;
// How long a close may take: a write stuck on a peer that stopped reading, or a peer that never
// answers our close frame.
constexpr std::chrono::seconds kCloseTimeout{5};

// Every heartbeat pings every socket: one frame shared by all of them, not an allocation each.
const SharedText& control_ping_frame() {
  static const SharedText frame = std::make_shared<const std::string>(ws::control_frame(ws::opcode::ping, {}));
  return frame;
}

}  // namespace

websocket_session::websocket_session(std::unique_ptr<ws_transport> transport, hub_service& hub, const logger& log,
                                     Target target, std::shared_ptr<void> ticket)
    : transport_(std::move(transport)),
      hub_(hub),
      log_(log),
      target_(std::make_unique<Target>(std::move(target))),
      ticket_(std::move(ticket)),
      parser_(hub.config().max_frame_bytes) {}

// Sessions leave the hub through shut(); one destroyed with a stopped io_context must not call
// into a hub that may already be gone.
websocket_session::~websocket_session() = default;

void websocket_session::run(std::string accept_head, std::string early, std::string_view client) {
  transport_->attach(*this);
  queue_whole(std::move(accept_head));
  conn_ = hub_.open(*target_, self());
  target_.reset();
  registered_ = true;
  if (log_.enabled(log_level::debug)) {
    log_.debug("ws_open", {{"conn", std::to_string(conn_)}, {"client", std::string(client)}});
  }
  hub_.deliver();
  flush();  // the 101 and whatever the hub queued on open go out together
  if (!early.empty()) consume(std::span<char>(early.data(), early.size()));
  if (!shut_) transport_->read();
}

bool websocket_session::on_input(std::span<char> bytes) {
  if (shut_) return false;
  consume(bytes);
  return !shut_;
}

// EOF after our close handshake is the normal end; anything else is a vanished peer.
void websocket_session::on_input_end() { shut(); }

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
        if (pending_.size() + transport_->batch().size() + 2 < kMaxBatchEntries && !close_queued_) {
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
  if (registered_ && !close_queued_ && hub_.poll_control_ping(conn_)) {
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
  close_timer_ = std::make_unique<net::steady_timer>(transport_->executor(), kCloseTimeout);
  close_timer_->async_wait([session = self()](error_code ec) {
    if (!ec) session->shut();
  });
}

void websocket_session::flush() {
  if (waiting_write_ || shut_) return;
  // Filled and emptied within one call, and flush never runs inside another flush: one per thread.
  thread_local std::vector<SharedText> popped;
  std::vector<ws_outgoing>& batch = transport_->batch();
  bool hub_drained = false;  // the last poll left the hub's queue empty: skip asking again
  for (;;) {
    queue_control_ping();
    // What the socket did not take last time goes first, then as much as the hub has queued.
    batch.clear();
    for (auto& entry : pending_) batch.push_back(std::move(entry));
    pending_.clear();
    if (registered_ && !close_queued_ && !hub_drained && batch.size() < kBatchFrames) {
      const std::size_t want = kBatchFrames - batch.size();
      popped.clear();
      const std::size_t got = hub_.poll_outgoing(conn_, popped, want, kBatchBytes);
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
    // One write in flight: set before the call, as a transport may answer later.
    waiting_write_ = true;
    const std::optional<send_outcome> outcome = transport_->write(pending_offset_);
    if (!outcome) return;
    waiting_write_ = false;
    if (!wrote(batch, *outcome)) return;
  }
}

void websocket_session::on_written(send_outcome outcome) {
  waiting_write_ = false;
  if (shut_) return;
  if (wrote(transport_->batch(), outcome)) flush();
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
  transport_->wait_writable();
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
  transport_->release();
  if (!close_queued_ || !peer_closed_ || send_shut_) return;
  // Both close frames are exchanged: the server ends the TCP stream first (RFC 6455 7.1.1). Reads go
  // on (discarded) until the peer's FIN, so unread bytes never turn our close into a reset.
  send_shut_ = true;
  transport_->shutdown_send();
}

void websocket_session::shut() {
  if (shut_) return;
  shut_ = true;
  forget();
  if (close_timer_) close_timer_->cancel();
  pending_ = {};
  transport_->close();
}

std::shared_ptr<websocket_session> websocket_session::self() {
  return std::static_pointer_cast<websocket_session>(shared_from_this());
}

void websocket_session::forget() {
  if (!registered_) return;
  // What the hub queued for this socket before it closed (the echo or ack of a frame that arrived in
  // the same read as the close or the faulty frame) still goes out, ahead of our close frame.
  std::vector<SharedText> queued;
  while (hub_.poll_outgoing(conn_, queued, kBatchFrames, kBatchBytes) > 0) {
  }
  for (auto& frame : queued) pending_.push_back(ws_outgoing{std::move(frame), false});
  registered_ = false;
  hub_.on_closed(conn_);
}

}  // namespace progress::server
