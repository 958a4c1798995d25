// What the listener's accept4 hands a session: a non-blocking, close-on-exec socket that knows its
// peer and has TCP_NODELAY from the listening socket (Linux copies it to accepted sockets; the
// listener no longer sets it per connection, so this test guards that assumption).
#include "accept.hpp"

#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>

namespace progress::server {
namespace {

struct listening {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  listening() {
    acceptor.open(tcp::v4());
    EXPECT_FALSE(set_listening_options(acceptor));
    acceptor.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    acceptor.listen();
  }
};

int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t size = sizeof value;
  EXPECT_EQ(::getsockopt(fd, level, name, &value, &size), 0);
  return value;
}

TEST(Accept, HandsOverANonBlockingCloseOnExecSocketWithItsPeerAndNoDelay) {
  listening server;
  tcp::socket client(server.ioc);
  client.connect(server.acceptor.local_endpoint());

  const accepted got = accept_one(server.acceptor.native_handle());
  ASSERT_GE(got.fd, 0) << "errno " << got.error;
  EXPECT_EQ(got.peer, client.local_endpoint());
  EXPECT_NE(::fcntl(got.fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(got.fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(int_option(got.fd, IPPROTO_TCP, TCP_NODELAY), 0);

  // The socket works: what the client writes arrives.
  net::write(client, net::buffer("GET", 3));
  std::array<char, 3> buffer{};
  pollfd wait{got.fd, POLLIN, 0};
  ASSERT_EQ(::poll(&wait, 1, 5000), 1);
  EXPECT_EQ(::recv(got.fd, buffer.data(), buffer.size(), 0), 3);
  ::close(got.fd);
}

TEST(Accept, AnEmptyBacklogAnswersEagainAtOnce) {
  listening server;
  const accepted got = accept_one(server.acceptor.native_handle());
  EXPECT_EQ(got.fd, -1);
  EXPECT_EQ(got.error, EAGAIN);
  EXPECT_TRUE(is_transient_accept_error(got.error));
}

TEST(Accept, RunningOutOfDescriptorsIsNotTransient) {
  // The listener backs off on these instead of retrying at once.
  EXPECT_FALSE(is_transient_accept_error(EMFILE));
  EXPECT_FALSE(is_transient_accept_error(ENFILE));
  EXPECT_FALSE(is_transient_accept_error(ENOMEM));
  EXPECT_TRUE(is_transient_accept_error(ECONNABORTED));
}

}  // namespace
}  // namespace progress::server
