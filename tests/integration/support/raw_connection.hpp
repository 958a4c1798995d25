#pragma once
// A raw TCP client for abusive-request tests: sends exactly what it is given, when it is given, and
// tells apart "the server said something", "the server closed" and "nothing yet".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>

#include "support/test_client.hpp"

namespace progress::test {

class raw_connection {
 public:
  explicit raw_connection(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // one byte, one segment
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
  }
  ~raw_connection() { ::close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  // Sends all of `bytes`; a peer that already closed marks the connection closed instead of failing.
  void send(const std::string& bytes) {
    std::size_t at = 0;
    while (at < bytes.size() && !closed_) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        closed_ = true;
      } else if (n <= 0) {
        throw std::runtime_error("send failed");
      } else {
        at += static_cast<std::size_t>(n);
      }
    }
  }

  // Waits up to `wait` for the server; what it sends is appended to received(). Returns once
  // something arrived or the connection ended (EOF or reset), or after `wait` with nothing.
  void wait_for_server(std::chrono::milliseconds wait) {
    if (closed_) return;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      received_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || errno == ECONNRESET) {
      closed_ = true;
    }
  }

  // Reads until the server ends the connection or `guard` runs out; true when it ended.
  bool wait_for_close(std::chrono::milliseconds guard) {
    const auto deadline = std::chrono::steady_clock::now() + guard;
    while (!closed_ && std::chrono::steady_clock::now() < deadline) wait_for_server(std::chrono::milliseconds(100));
    return closed_;
  }

  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

 private:
  int fd_;
  bool closed_ = false;
  std::string received_;
};

inline std::string status_line(const std::string& reply) { return reply.substr(0, reply.find("\r\n")); }

inline Json json_body(const std::string& reply) {
  const auto start = reply.find("\r\n\r\n");
  return start == std::string::npos ? Json() : Json::parse(reply.substr(start + 4), nullptr, false);
}

}  // namespace progress::test
