#pragma once
// One WebSocket connection on the raw socket after the upgrade: client frames go through
// ws::frame_parser to the hub; the hub's frames go out in batches, every frame queued for the socket
// in one gathered write, the payload bytes shared with every other subscriber of the same event.
// At most one batch is unsent at a time, so the hub's per-connection queue bound still holds.
// How the bytes reach the peer is its transport's business (ws_transport.hpp): inline on the hub
// thread, handed to a send lane or the hub's ring, or through TLS.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hub/hub_service.hpp"
#include "base/log.hpp"
#include "base/net.hpp"
#include "send/ws_batch.hpp"
#include "wire/ws_frames.hpp"
#include "ws/ws_transport.hpp"

namespace progress::server {

// Made with std::make_shared: its reference count is transport_events' (ws_transport.hpp).
class websocket_session final : public stream_sink, public transport_events {
 public:
  // `transport`: the connection after the HTTP upgrade request. `ticket` is held until the session
  // ends (the per-address connection count of access limits).
  websocket_session(std::unique_ptr<ws_transport> transport, hub_service& hub, const logger& log, Target target,
                    std::shared_ptr<void> ticket = {});
  ~websocket_session() override;

  // Sends `accept_head` (the serialised 101 answer), registers with the hub and starts reading.
  // `early` holds bytes the client sent right after its request (read along with it). `client`: the
  // address the `ws_open` log line names, so an operator can tie a conn id to who opened it.
  void run(std::string accept_head, std::string early, std::string_view client);
  void kick() override;

 private:
  bool on_input(std::span<char> bytes) override;
  void on_input_end() override;
  void on_written(send_outcome outcome) override;
  void on_writable(error_code ec) override;
  void consume(std::span<char> input);
  void flush();
  void after_flush();
  // Settles a written batch; true when all of it went out (else the rest waits or the session ended).
  bool wrote(std::vector<ws_outgoing>& batch, send_outcome outcome);
  void queue_whole(std::string bytes);
  void queue_control_ping();  // when the hub asks for one (once per heartbeat)
  void queue_close(std::uint16_t code, std::string_view reason);
  void on_peer_close(std::uint16_t code);
  void arm_close_timer();  // shut() after kCloseTimeout, whatever the peer does
  void shut();
  void forget();
  std::shared_ptr<websocket_session> self();

  std::unique_ptr<ws_transport> transport_;
  hub_service& hub_;
  const logger& log_;
  std::unique_ptr<Target> target_;  // until run() registers with the hub
  std::shared_ptr<void> ticket_;
  ws::frame_parser parser_;
  std::vector<ws_outgoing> pending_;  // the part of a batch the socket did not take yet
  std::size_t pending_offset_ = 0;  // bytes of pending_.front() (header included) already sent
  std::unique_ptr<net::steady_timer> close_timer_;  // only while closing
  ConnId conn_ = 0;
  bool registered_ = false;   // the hub knows this connection
  bool waiting_write_ = false;
  bool close_queued_ = false; // our close frame is queued (or sent once pending_ is empty)
  bool peer_closed_ = false;  // the peer's close arrived or it broke the protocol: nothing more to parse
  bool send_shut_ = false;    // our side of the TCP stream is shut down after the close handshake
  bool shut_ = false;         // the session ended: the transport is closed (or closes once its write ends)
};

}  // namespace progress::server
