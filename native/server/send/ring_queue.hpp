#pragma once
// --threads 1: the plain WebSocket sessions' writes, made on the hub's own thread through a
// send_ring. A kick pass queues one job per session it kicks, and hub_service's after-pass hook
// sends them together (send_now); a write handed over outside a pass goes out in a posted round.
// Each session gets its answer there, as from a send lane, and answers that hand over the same
// sessions' next batches are sent before send_now returns.
#include <memory>
#include <vector>

#include "base/net.hpp"
#include "send/send_ring.hpp"

namespace progress::server {

class ring_queue final : public send_queue {
 public:
  ring_queue(net::io_context& ioc, std::unique_ptr<send_ring> ring);
  ring_queue(const ring_queue&) = delete;
  ring_queue& operator=(const ring_queue&) = delete;

  void submit(send_job job) override;
  // Sends what is queued now instead of in the posted round (which then finds nothing to do).
  void send_now();
  // After the io_context stopped: drops jobs never sent (their sessions are being torn down).
  void stop();

 private:
  net::io_context& ioc_;
  std::unique_ptr<send_ring> ring_;
  std::vector<send_job> queue_;
  std::vector<send_job> round_;
  bool posted_ = false;  // a round is posted and has not run yet: submit only queues
};

}  // namespace progress::server
