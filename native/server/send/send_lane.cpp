#include "send/send_lane.hpp"

#include <string>
#include <utility>

#include "send/send_ring.hpp"

namespace progress::server {

send_lane::send_lane(net::io_context& hub, bool io_uring)
    : hub_(hub), io_uring_(io_uring), thread_([this] { run(); }) {}

send_lane::~send_lane() { stop(); }

void send_lane::submit(send_job job) {
  if (outstanding_++ == 0) busy_.emplace(hub_.get_executor());
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
    wake = idle_;
    idle_ = false;
  }
  if (wake) wake_.notify_one();
}

void send_lane::answered(std::size_t jobs) {
  outstanding_ -= jobs;
  if (outstanding_ == 0) busy_.reset();
}

void send_lane::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  queue_.clear();
}

void send_lane::run() {
  // The lane's own ring: an io_uring instance is cheapest used from one thread. Without one (refused
  // by the kernel, or --io-uring off) the lane makes one send call per job.
  std::string why;
  const std::unique_ptr<send_ring> ring = io_uring_ ? send_ring::open(why) : nullptr;
  std::vector<send_job> round;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      while (queue_.empty() && !stopping_) {
        idle_ = true;
        wake_.wait(lock);
      }
      if (stopping_) return;
      round.swap(queue_);
    }
    send_round(ring.get(), round);
    net::post(hub_, [this, done = std::move(round)]() mutable {
      // Answers first, bookkeeping last: an answer may submit the session's next batch.
      for (send_job& job : done) job.client->on_sent(job.outcome);
      answered(done.size());
    });
    round = {};
  }
}

send_lanes::send_lanes(net::io_context& hub, std::size_t count, bool io_uring) {
  lanes_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) lanes_.push_back(std::make_unique<send_lane>(hub, io_uring));
}

send_lane* send_lanes::next() {
  if (lanes_.empty()) return nullptr;
  send_lane* lane = lanes_[next_].get();
  next_ = (next_ + 1) % lanes_.size();
  return lane;
}

void send_lanes::stop() {
  for (auto& lane : lanes_) lane->stop();
}

}  // namespace progress::server
