#pragma once
// A WebSocket session's write handed to someone else to make: a send lane's thread (send_lane.hpp)
// or a round on the hub's own thread that sends many sessions' writes in one system call
// (ring_queue.hpp). Either way the session does not touch its batch, nor close its socket, until
// the answer comes back on the hub thread.
#include <cstddef>
#include <memory>
#include <vector>

#include "send/ws_batch.hpp"

namespace progress::server {

// The side that handed a write off (a session's transport, ws/lane_transport).
class lane_client {
 public:
  virtual ~lane_client() = default;
  // On the hub thread, once the batch was written (or not).
  virtual void on_sent(send_outcome outcome) = 0;
};

struct send_job {
  std::shared_ptr<lane_client> client;  // keeps the session (and so its socket and batch) alive
  int fd = -1;
  const std::vector<ws_outgoing>* batch = nullptr;  // owned by the client, untouched until on_sent
  std::size_t offset = 0;
  send_outcome outcome;
};

// Where a session hands its writes.
class send_queue {
 public:
  virtual ~send_queue() = default;
  virtual void submit(send_job job) = 0;  // hub thread
};

}  // namespace progress::server
