#include "send/ring_queue.hpp"

#include <utility>

namespace progress::server {

ring_queue::ring_queue(net::io_context& ioc, std::unique_ptr<send_ring> ring) : ioc_(ioc), ring_(std::move(ring)) {}

void ring_queue::submit(send_job job) {
  queue_.push_back(std::move(job));
  if (posted_) return;
  posted_ = true;
  net::post(ioc_, [this] {
    send_now();
    posted_ = false;
  });
}

void ring_queue::send_now() {
  while (!queue_.empty()) {
    round_.swap(queue_);
    ring_->send_all(round_);
    // An answer may submit its session's next batch: it joins queue_ and goes out in the next turn.
    for (send_job& job : round_) job.client->on_sent(job.outcome);
    round_.clear();
  }
}

void ring_queue::stop() {
  queue_.clear();
  round_.clear();
}

}  // namespace progress::server
