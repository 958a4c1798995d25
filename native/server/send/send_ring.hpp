#pragma once
// Many sessions' writes in one system call, through io_uring. On the machines the bench runs on (a
// VM with page-table isolation) a system call costs about 1 us before it does anything, and a
// fan-out makes one send per subscriber socket: a kick pass of a thousand sessions paid a thousand
// of them. A round here copies each small batch into the ring's arena, queues one send per socket
// and enters the kernel once for up to kRingEntries of them.
//
// Every send is MSG_DONTWAIT, so the kernel makes it (or fails it with EAGAIN) during the submission
// itself: when send_all returns no send is in flight and the arena is free again. A batch too large
// to copy is written by send_batch, as before.
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "send/send_job.hpp"

struct io_uring;

namespace progress::server {

// Sends queued per system call; also the size of the ring's submission queue.
inline constexpr unsigned kRingEntries = 256;
// The copies of one system call's batches; a round needing more enters the kernel again.
inline constexpr std::size_t kRingArenaBytes = 256 * 1024;

class send_ring {
 public:
  // Null, with the reason in `why`, where io_uring is refused (seccomp, the
  // kernel.io_uring_disabled sysctl) or cannot do what send_all needs (a kernel before 5.6, or one
  // whose sends to a full socket wait).
  static std::unique_ptr<send_ring> open(std::string& why);
  ~send_ring();
  send_ring(const send_ring&) = delete;
  send_ring& operator=(const send_ring&) = delete;

  // Sets every job's outcome, as send_batch would have.
  void send_all(std::span<send_job> jobs);

 private:
  send_ring();
  // Queues jobs from `first` on until the ring or the arena is full, sends them; the next job's index.
  std::size_t send_some(std::span<send_job> jobs, std::size_t first);

  std::unique_ptr<io_uring> ring_;
  std::unique_ptr<char[]> arena_;
  bool failed_ = false;  // the ring broke (never seen): every later job goes through send_batch
};

// Sends a round of jobs: through `ring` when there is one, else one send_batch each.
void send_round(send_ring* ring, std::span<send_job> jobs);

}  // namespace progress::server
