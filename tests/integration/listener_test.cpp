// What every accepted socket gets from the listening socket. The listener no longer sets TCP_NODELAY
// per connection: Linux copies it from the listening socket, and this test guards that assumption
// (without it, small progress frames would wait for the peer's delayed ACK).
#include "conn/listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

namespace progress::server {
namespace {

int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t size = sizeof value;
  EXPECT_EQ(::getsockopt(fd, level, name, &value, &size), 0);
  return value;
}

TEST(Listener, AcceptedSocketsInheritNoDelayAndComeWithTheirPeer) {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc);
  acceptor.open(tcp::v4());
  ASSERT_FALSE(set_inherited_options(acceptor));
  acceptor.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  acceptor.listen();

  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  tcp::endpoint peer;
  tcp::socket accepted = acceptor.accept(peer);

  EXPECT_NE(int_option(accepted.native_handle(), IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_EQ(peer, client.local_endpoint());
  // A socket accepted from a listener without the option does not have it: the option is what
  // carries over, not a default.
  tcp::acceptor plain(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  tcp::socket other_client(ioc);
  other_client.connect(plain.local_endpoint());
  tcp::socket other = plain.accept();
  EXPECT_EQ(int_option(other.native_handle(), IPPROTO_TCP, TCP_NODELAY), 0);
}

}  // namespace
}  // namespace progress::server
