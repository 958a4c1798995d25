#pragma once
// A plain ws:// connection whose writes are handed to a send_queue: a send lane's thread (--threads N)
// or the hub thread's ring_queue (--threads 1 with io_uring), which sends many sessions' batches in
// one system call. Reading is inline_transport's. The batch and the descriptor belong to the queue
// until its answer comes back on the hub thread, so a close asked for meanwhile waits for it: closed
// earlier, the number could already name a new socket.
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "send/send_job.hpp"
#include "ws/inline_transport.hpp"

namespace progress::server {

class lane_transport final : public inline_transport, public lane_client {
 public:
  lane_transport(tcp::socket&& socket, send_queue& queue) : inline_transport(std::move(socket)), queue_(queue) {}

  std::vector<ws_outgoing>& batch() override { return batch_; }
  std::optional<send_outcome> write(std::size_t offset) override;
  void release() override;
  void close() override;
  void on_sent(send_outcome outcome) override;

 private:
  send_queue& queue_;
  std::vector<ws_outgoing> batch_;  // the session's batch, out with the queue while busy_
  bool busy_ = false;
  bool close_waiting_ = false;  // close() came while busy_
};

}  // namespace progress::server
