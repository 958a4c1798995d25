#pragma once
// Takes one pending connection off a listening socket the way the sessions want it: non-blocking,
// close-on-exec and with its peer's address, in one accept4 call. Asio's accept adds a getpeername,
// an ioctl for non-blocking mode and a setsockopt for TCP_NODELAY to every connection; the first two
// come with accept4, the last is inherited from the listening socket (set_listening_options).
#include "net.hpp"

namespace progress::server {

struct accepted {
  int fd = -1;        // -1: nothing accepted, see error
  tcp::endpoint peer;
  int error = 0;      // errno when fd is -1; EAGAIN when no connection is pending
};

// Options every accepted socket inherits on Linux: TCP_NODELAY (progress frames are small and must
// not wait for an ACK). The listening socket itself becomes non-blocking, so accept_one never waits.
error_code set_listening_options(tcp::acceptor& acceptor);

accepted accept_one(int listen_fd);

// Errors that end this round of accepting without being the listener's fault or a reason to log:
// nothing pending, or a connection that went away before it was taken.
bool is_transient_accept_error(int error);

}  // namespace progress::server
