#include "batch_recv.hpp"

#include <liburing.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace progress::bench {

batch_recv::batch_recv() : ring_(std::make_unique<io_uring>()) {}

batch_recv::~batch_recv() {
  if (buffer_) io_uring_queue_exit(ring_.get());  // the buffer is made once the ring is set up
}

std::unique_ptr<batch_recv> batch_recv::open(std::string& why) {
  std::unique_ptr<batch_recv> reader(new batch_recv());
  if (const int rc = io_uring_queue_init(kEntries, reader->ring_.get(), 0); rc < 0) {
    why = std::strerror(-rc);
    return nullptr;
  }
  reader->buffer_ = std::make_unique_for_overwrite<char[]>(kEntries * kSliceBytes);
  io_uring_probe* probe = io_uring_get_probe_ring(reader->ring_.get());
  const bool recv = probe != nullptr && io_uring_opcode_supported(probe, IORING_OP_RECV) != 0;
  if (probe != nullptr) io_uring_free_probe(probe);
  if (!recv) {
    why = "the kernel has no IORING_OP_RECV (added in 5.6)";
    return nullptr;
  }
  return reader;
}

void batch_recv::receive(std::span<recv_request> group) {
  io_uring* ring = ring_.get();
  for (std::size_t i = 0; i < group.size(); ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    io_uring_prep_recv(sqe, group[i].fd, buffer_.get() + i * kSliceBytes, kSliceBytes, MSG_DONTWAIT);
    io_uring_sqe_set_data64(sqe, i);
    group[i].result = -EIO;
    group[i].data = {};
  }
  std::size_t answered = 0;
  std::array<io_uring_cqe*, kEntries> cqes;
  while (answered < group.size()) {
    const auto left = static_cast<unsigned>(group.size() - answered);
    const int rc = io_uring_submit_and_wait(ring, left);
    const unsigned ready = io_uring_peek_batch_cqe(ring, cqes.data(), left);
    for (unsigned k = 0; k < ready; ++k) {
      const auto i = static_cast<std::size_t>(io_uring_cqe_get_data64(cqes[k]));
      group[i].result = cqes[k]->res;
      if (cqes[k]->res > 0) group[i].data = {buffer_.get() + i * kSliceBytes, static_cast<std::size_t>(cqes[k]->res)};
    }
    io_uring_cq_advance(ring, ready);
    answered += ready;
    if (ready == 0 && rc < 0 && rc != -EINTR && rc != -EAGAIN) return;  // unanswered ones stay -EIO
  }
}

}  // namespace progress::bench
