#pragma once
// --threads N: the hub stays on the io_context thread, and N-1 send lanes make the WebSocket
// sessions' send calls, the part of a delivery that grows with subscribers (the kernel's TCP send
// path is most of a delivery once the frame is encoded once and shared).
//
// A session hands a lane its whole batch and does not touch it, nor close its socket, until the
// lane's answer comes back on the hub thread. The lane touches nothing but the batch and the file
// descriptor; every socket object, timer and hub call stays on the hub thread. Jobs queued while a
// lane is writing go in its next round, and a round's answers return in one posted handler, so a
// busy hub pays one wake-up per lane per round, not one per socket.
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/net.hpp"
#include "send/send_job.hpp"

namespace progress::server {

class send_lane final : public send_queue {
 public:
  // `io_uring`: the lane sends each round through a send_ring of its own when the kernel allows one.
  send_lane(net::io_context& hub, bool io_uring);
  ~send_lane();
  send_lane(const send_lane&) = delete;
  send_lane& operator=(const send_lane&) = delete;

  void submit(send_job job) override;
  // Joins the thread; jobs not yet written are dropped (their sessions are being torn down).
  void stop();

 private:
  void run();
  void answered(std::size_t jobs);  // hub thread

  net::io_context& hub_;
  const bool io_uring_;
  // Hub thread only: jobs submitted and not answered; while any are, run() on the hub must not return.
  std::size_t outstanding_ = 0;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> busy_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<send_job> queue_;  // guarded by mutex_
  bool idle_ = false;            // guarded by mutex_: the lane waits on wake_
  bool stopping_ = false;        // guarded by mutex_
  std::thread thread_;
};

// The lanes of one server; sessions are spread over them round-robin.
class send_lanes {
 public:
  send_lanes(net::io_context& hub, std::size_t count, bool io_uring);
  send_lane* next();  // null when there are no lanes (--threads 1: sessions write themselves)
  void stop();

 private:
  std::vector<std::unique_ptr<send_lane>> lanes_;
  std::size_t next_ = 0;
};

}  // namespace progress::server
