#pragma once
// A TCP proxy that forwards every connection until it is told to silence the ones whose client
// sent a given text: those then forward nothing in either direction and keep both sockets open,
// as a flow that a NAT or a middlebox dropped without telling either end.
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

namespace progress::test {

class silencing_proxy {
 public:
  explicit silencing_proxy(unsigned short upstream);
  ~silencing_proxy();
  silencing_proxy(const silencing_proxy&) = delete;
  silencing_proxy& operator=(const silencing_proxy&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  // Silences the open connections whose client has sent `text`; returns how many. Connections
  // closed before, or opened later, are not touched.
  std::size_t silence(const std::string& text);

 private:
  struct link;

  void accept();

  unsigned short upstream_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<link>> links_;  // touched on the proxy's thread only
  std::thread thread_;
};

}  // namespace progress::test
