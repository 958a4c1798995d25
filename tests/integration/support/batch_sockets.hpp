#pragma once
// What the write-path tests (send_lane_test, send_ring_test) share: queued entries as a session
// makes them, and a connected socket pair whose server side is non-blocking like a session's.
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "send/ws_batch.hpp"

namespace progress::test {

inline server::ws_outgoing text(std::string payload) {
  return {std::make_shared<const std::string>(std::move(payload)), false};
}
inline server::ws_outgoing whole(std::string bytes) {
  return {std::make_shared<const std::string>(std::move(bytes)), true};
}

struct socket_pair {
  std::array<int, 2> fds{-1, -1};
  socket_pair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds.data()) != 0) {
      throw std::runtime_error("socketpair");
    }
  }
  socket_pair(const socket_pair&) = delete;
  socket_pair& operator=(const socket_pair&) = delete;
  ~socket_pair() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  int server() const { return fds[0]; }
  void close_peer() {
    ::close(fds[1]);
    fds[1] = -1;
  }
  // Everything the server side wrote so far.
  std::string drain() const {
    std::string out;
    std::array<char, 4096> buf;
    for (;;) {
      const ssize_t n = ::recv(fds[1], buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) return out;
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
  }
  // Writes to the server side until its buffer takes nothing more; the bytes written.
  std::size_t fill() const {
    const std::string chunk(64 * 1024, 'f');
    std::size_t total = 0;
    for (;;) {
      const ssize_t n = ::send(fds[0], chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) return total;
      total += static_cast<std::size_t>(n);
    }
  }
};

}  // namespace progress::test
