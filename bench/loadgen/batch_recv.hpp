#pragma once
// The generator's reads: one io_uring call receives from every socket an epoll_wait reported,
// where plain recv() made one system call per socket. On the VM the bench runs on a system call
// costs about 1 us before it does anything, and a fan-out makes the generator read about one
// socket per two or three frames: with a recv() each, the generator, not the server, set the pace.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct io_uring;

namespace progress::bench {

struct recv_request {
  int fd = -1;
  std::uint64_t tag = 0;  // the caller's: which connection this was
  long result = 0;        // after read_all: bytes received, 0 at end of stream, -errno on failure
  std::string_view data;  // the bytes, valid until the next read_all
};

class batch_recv {
 public:
  // Null, with the reason in `why`, where the kernel refuses io_uring: the caller reads with recv().
  static std::unique_ptr<batch_recv> open(std::string& why);
  ~batch_recv();
  batch_recv(const batch_recv&) = delete;
  batch_recv& operator=(const batch_recv&) = delete;

  // Receives once from each request's socket (non-blocking: -EAGAIN when nothing is there), at
  // most kSliceBytes each; a socket with more stays readable for the next epoll_wait. `handle` is
  // called per request in order, before the next group of kEntries is received into the same buffer.
  template <class Handle>
  void read_all(std::span<recv_request> requests, Handle&& handle) {
    for (std::size_t first = 0; first < requests.size(); first += kEntries) {
      const auto group = requests.subspan(first, std::min(kEntries, requests.size() - first));
      receive(group);
      for (recv_request& r : group) handle(r);
    }
  }

  static constexpr std::size_t kEntries = 256;
  static constexpr std::size_t kSliceBytes = 64 * 1024;

 private:
  batch_recv();
  void receive(std::span<recv_request> group);

  std::unique_ptr<io_uring> ring_;
  std::unique_ptr<char[]> buffer_;  // kEntries slices
};

}  // namespace progress::bench
