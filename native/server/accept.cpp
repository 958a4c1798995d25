#include "accept.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace progress::server {

error_code set_listening_options(tcp::acceptor& acceptor) {
  error_code ec;
  acceptor.set_option(tcp::no_delay(true), ec);
  if (!ec) acceptor.non_blocking(true, ec);
  return ec;
}

accepted accept_one(int listen_fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return accepted{-1, {}, errno};
  accepted out{fd, {}, 0};
  if (length <= out.peer.capacity()) {
    std::memcpy(out.peer.data(), &address, length);
    out.peer.resize(length);
  }
  return out;
}

bool is_transient_accept_error(int error) {
  // EWOULDBLOCK is EAGAIN on Linux.
  return error == EAGAIN || error == EINTR || error == ECONNABORTED || error == EPROTO;
}

}  // namespace progress::server
