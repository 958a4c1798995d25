#include "send/send_ring.hpp"

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace progress::server {

send_ring::send_ring() : ring_(std::make_unique<io_uring>()) {}

send_ring::~send_ring() {
  if (arena_) io_uring_queue_exit(ring_.get());  // the arena is made once the ring is set up
}

namespace {

bool supports_send(io_uring* ring) {
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  const bool yes = probe != nullptr && io_uring_opcode_supported(probe, IORING_OP_SEND) != 0;
  if (probe != nullptr) io_uring_free_probe(probe);
  return yes;
}

// send_all relies on a MSG_DONTWAIT send to a full socket failing inside the submission, not waiting
// for room: otherwise one stuck subscriber would stop the hub's thread. Checked on a real full socket.
bool full_socket_answers_at_once(io_uring* ring) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) return false;
  const std::array<char, 4096> chunk{};
  while (::send(fds[0], chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
  }
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  io_uring_prep_send(sqe, fds[0], chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  io_uring_submit(ring);
  io_uring_cqe* cqe = nullptr;
  const bool answered = io_uring_peek_cqe(ring, &cqe) == 0 && cqe != nullptr && cqe->res == -EAGAIN;
  ::close(fds[1]);  // a send still waiting ends now, with an error, before the ring is used
  if (cqe == nullptr) io_uring_wait_cqe(ring, &cqe);
  if (cqe != nullptr) io_uring_cqe_seen(ring, cqe);
  ::close(fds[0]);
  return answered;
}

}  // namespace

std::unique_ptr<send_ring> send_ring::open(std::string& why) {
  std::unique_ptr<send_ring> ring(new send_ring());
  if (const int rc = io_uring_queue_init(kRingEntries, ring->ring_.get(), 0); rc < 0) {
    why = std::string("refused (") + std::strerror(-rc) + ")";
    return nullptr;
  }
  // Allocated, not touched: its pages cost memory only once a round copies into them. Also what
  // tells the destructor the ring was set up.
  ring->arena_ = std::make_unique_for_overwrite<char[]>(kRingArenaBytes);
  if (!supports_send(ring->ring_.get())) {
    why = "refused (the kernel has no IORING_OP_SEND, added in 5.6)";
    return nullptr;
  }
  if (!full_socket_answers_at_once(ring->ring_.get())) {
    why = "refused (a send to a full socket waits instead of failing at once)";
    return nullptr;
  }
  return ring;
}

void send_ring::send_all(std::span<send_job> jobs) {
  std::size_t next = 0;
  while (next < jobs.size()) {
    if (failed_) {
      send_round(nullptr, jobs.subspan(next));
      return;
    }
    next = send_some(jobs, next);
  }
}

std::size_t send_ring::send_some(std::span<send_job> jobs, std::size_t first) {
  io_uring* ring = ring_.get();
  std::size_t used = 0;
  unsigned queued = 0;
  std::size_t next = first;
  for (; next < jobs.size() && queued < kRingEntries; ++next) {
    send_job& job = jobs[next];
    const auto size = copied_size(*job.batch);
    if (!size) {
      // Gathered in place from the shared payloads: a copy would cost more than the call it saves.
      job.outcome = send_batch(job.fd, *job.batch, job.offset);
      continue;
    }
    if (used + *size > kRingArenaBytes) break;
    char* bytes = arena_.get() + used;
    copy_batch(*job.batch, bytes);
    io_uring_sqe* sqe = io_uring_get_sqe(ring);  // never null: at most kRingEntries are queued
    io_uring_prep_send(sqe, job.fd, bytes + job.offset, *size - job.offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    io_uring_sqe_set_data64(sqe, next);
    // The job's outcome until its completion says otherwise: failed, never sent twice.
    job.outcome = send_outcome{0, EIO};
    used += *size;
    ++queued;
  }
  unsigned answered = 0;
  std::array<io_uring_cqe*, kRingEntries> cqes;
  while (answered < queued) {
    const int rc = io_uring_submit_and_wait(ring, queued - answered);
    const unsigned ready = io_uring_peek_batch_cqe(ring, cqes.data(), queued - answered);
    for (unsigned i = 0; i < ready; ++i) {
      const int res = cqes[i]->res;
      jobs[io_uring_cqe_get_data64(cqes[i])].outcome =
          res >= 0 ? send_outcome{static_cast<std::size_t>(res), 0} : failed_send(-res);
    }
    io_uring_cq_advance(ring, ready);
    answered += ready;
    if (ready == 0 && rc < 0 && rc != -EINTR && rc != -EAGAIN) {
      // The ring itself failed. Sends it did not answer keep EIO (their sessions close and their
      // clients resume elsewhere): resending them could put bytes on the wire twice.
      failed_ = true;
      break;
    }
  }
  return next;
}

void send_round(send_ring* ring, std::span<send_job> jobs) {
  if (ring != nullptr) {
    ring->send_all(jobs);
    return;
  }
  for (send_job& job : jobs) job.outcome = send_batch(job.fd, *job.batch, job.offset);
}

}  // namespace progress::server
