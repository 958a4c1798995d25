#pragma once
// One WebSocket connection on the raw socket after the upgrade: client frames go through
// ws::frame_parser to the hub; the hub's frames go out in batches, every frame queued for the socket
// in one gathered write, the payload bytes shared with every other subscriber of the same event.
// At most one batch is unsent at a time, so the hub's per-connection queue bound still holds.
// A wss:// session runs the same logic over TLS (websocket_tls.hpp says how its I/O differs).
// With a send lane (--threads N) the gathered write runs on the lane's thread (send_lane.hpp); with
// the hub's ring it goes out in a round with other sessions' writes (ring_queue.hpp).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hub/hub_service.hpp"
#include "base/log.hpp"
#include "base/net.hpp"
#include "send/send_job.hpp"
#include "send/ws_batch.hpp"
#include "wire/ws_frames.hpp"

namespace progress::server {

struct websocket_tls;

class websocket_session : public stream_sink,
                          public lane_client,
                          public std::enable_shared_from_this<websocket_session> {
 public:
  // `ticket` is held until the session ends (the per-address connection count of access limits).
  // `lane` null: this thread makes the session's writes, one send call each.
  websocket_session(tcp::socket&& socket, hub_service& hub, const logger& log, Target target,
                    std::shared_ptr<void> ticket = {}, send_queue* lane = nullptr);
  // wss://: the TLS stream after its handshake and the HTTP upgrade request (websocket_tls.cpp).
  websocket_session(std::unique_ptr<websocket_tls> tls, hub_service& hub, const logger& log, Target target,
                    std::shared_ptr<void> ticket = {});
  ~websocket_session() override;

  // Sends `accept_head` (the serialised 101 answer), registers with the hub and starts reading.
  // `early` holds bytes the client sent right after its request (read along with it).
  void run(std::string accept_head, std::string early);
  void kick() override;
  void on_sent(send_outcome outcome) override;

 private:
  void wait_readable();
  void on_readable(error_code ec);
  void consume(std::span<char> input);
  void flush();
  void on_writable(error_code ec);
  void after_flush();
  // Settles a written batch; true when all of it went out (else the rest waits or the session ended).
  bool wrote(std::vector<ws_outgoing>& batch, send_outcome outcome);
  void close_socket();
  void queue_whole(std::string bytes);
  void queue_control_ping();  // when the hub asks for one (once per heartbeat)
  void queue_close(std::uint16_t code, std::string_view reason);
  void on_peer_close(std::uint16_t code);
  void arm_close_timer();  // shut() after kCloseTimeout, whatever the peer does
  void shut();
  void forget();
  // The TLS transport (websocket_tls.cpp).
  tcp::socket& tcp_socket();
  void read_tls();
  void flush_tls();
  void shutdown_tls();

  tcp::socket socket_;
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
  bool shut_ = false;         // the session ended: the socket is closed (once the lane answers, if it writes)
  std::unique_ptr<websocket_tls> tls_;  // set: wss://, and socket_ is unused
  send_queue* lane_ = nullptr;        // null: this session sends on the hub thread itself
  std::vector<ws_outgoing> in_lane_;  // the batch a lane is writing; the socket stays open meanwhile
  bool lane_busy_ = false;            // in_lane_ is out on the lane; the descriptor must stay open
};

}  // namespace progress::server
