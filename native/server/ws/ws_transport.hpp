#pragma once
// The seam between a websocket_session and its connection. The session frames, talks to the hub,
// decides when to close and keeps one write in flight; its transport reads, writes a batch, ends our
// side of the stream and closes. Three transports: inline_transport (the hub thread sends on the
// socket itself), lane_transport (a send lane, or the hub's ring_queue, sends for it) and
// tls_transport (wss://, through the TLS stream).
// The session calls its transport once per batch or per read, never per frame: a fan-out pays one
// indirect call per subscriber beside a send system call, and a transport's storage lives only as
// long as the session that needs it (no plain session carries a TLS stream).
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "base/net.hpp"
#include "send/ws_batch.hpp"

namespace progress::server {

// What a transport reports to its session, on the hub thread. The session's own reference count:
// a transport takes its references from it rather than keeping one of its own.
class transport_events : public std::enable_shared_from_this<transport_events> {
 public:
  virtual ~transport_events() = default;
  // Bytes from the peer; false once the session ended and wants no more.
  virtual bool on_input(std::span<char> bytes) = 0;
  // The peer ended its stream, or reading failed.
  virtual void on_input_end() = 0;
  // A write that write() left pending is done (or failed).
  virtual void on_written(send_outcome outcome) = 0;
  // After wait_writable: the socket has room again, or `ec` says it never will.
  virtual void on_writable(error_code ec) = 0;
};

class ws_transport {
 public:
  virtual ~ws_transport() = default;

  // Once, before any other call: the session, which every operation in flight keeps alive (and so
  // its transport).
  void attach(transport_events& session) { session_ = &session; }

  virtual net::any_io_executor executor() = 0;
  // Reads until on_input returns false or the stream ends.
  virtual void read() = 0;
  // Where the session puts its next batch; it leaves it alone while a write is pending.
  virtual std::vector<ws_outgoing>& batch() = 0;
  // Writes batch(), whose first `offset` bytes are already on the wire: the outcome now, or nullopt
  // when on_written brings it later.
  virtual std::optional<send_outcome> write(std::size_t offset) = 0;
  // After a write the socket did not wholly take: on_writable once it has room.
  virtual void wait_writable() = 0;
  // Nothing left to write: an idle session holds no write storage.
  virtual void release() = 0;
  // Ends our side of the stream after the close handshake; reading goes on.
  virtual void shutdown_send() = 0;
  // Closes the connection; a write another thread is making finishes first.
  virtual void close() = 0;

 protected:
  // A strong reference, for an operation to hold while it is in flight.
  std::shared_ptr<transport_events> events() const { return session_->shared_from_this(); }
  // Where the caller already holds one (a handler's capture, a lane's job).
  transport_events& session() const { return *session_; }

 private:
  transport_events* session_ = nullptr;
};

}  // namespace progress::server
