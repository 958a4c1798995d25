#pragma once
// --threads 1: the plain WebSocket sessions' writes, made on the hub's own thread through a
// send_ring. A kick pass queues one job per session it kicks; the pass's jobs go out together in
// one posted round, and each session gets its answer in that round, as from a send lane. Answers
// that hand over the same sessions' next batches are sent in the same round.
#include <memory>
#include <vector>

#include "net.hpp"
#include "send_ring.hpp"

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
  bool posted_ = false;  // a run() is posted or running: submit only queues
};

}  // namespace progress::server
