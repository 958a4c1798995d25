#include "silencing_proxy.hpp"

#include <array>
#include <future>

namespace progress::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// What a link remembers of its client's bytes to match `silence` against: the commands that name
// a connection's role come first.
constexpr std::size_t kRememberedBytes = 64 * 1024;

}  // namespace

struct silencing_proxy::link : std::enable_shared_from_this<silencing_proxy::link> {
  struct direction {
    direction(tcp::socket& source, tcp::socket& sink, bool upward) : from(source), to(sink), to_upstream(upward) {}
    tcp::socket& from;
    tcp::socket& to;
    bool to_upstream;
    std::array<char, 4096> buffer{};
  };

  explicit link(net::io_context& ioc)
      : client(ioc), upstream(ioc), up(client, upstream, true), down(upstream, client, false) {}

  void start() {
    pump(up);
    pump(down);
  }

  // Reads, forwards, reads again; once silent a read's bytes are dropped and nothing is read again.
  void pump(direction& d) {
    auto self = shared_from_this();
    d.from.async_read_some(net::buffer(d.buffer), [self, &d](error_code ec, std::size_t n) {
      if (ec) self->closed = true;
      if (ec || self->silent) return;
      if (d.to_upstream && self->sent.size() < kRememberedBytes) self->sent.append(d.buffer.data(), n);
      net::async_write(d.to, net::buffer(d.buffer.data(), n), [self, &d](error_code write_ec, std::size_t) {
        if (!write_ec) self->pump(d);
      });
    });
  }

  tcp::socket client;
  tcp::socket upstream;
  direction up;
  direction down;
  std::string sent;
  bool silent = false;
  bool closed = false;  // either end closed it: nothing left to silence
};

silencing_proxy::silencing_proxy(unsigned short upstream)
    : upstream_(upstream), acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
  accept();
  thread_ = std::thread([this] { ioc_.run(); });
}

silencing_proxy::~silencing_proxy() {
  ioc_.stop();
  thread_.join();
}

std::size_t silencing_proxy::silence(const std::string& text) {
  std::promise<std::size_t> silenced;
  net::post(ioc_, [this, &text, &silenced] {
    std::size_t count = 0;
    for (auto& l : links_) {
      if (!l->silent && !l->closed && l->sent.find(text) != std::string::npos) {
        l->silent = true;
        ++count;
      }
    }
    silenced.set_value(count);
  });
  return silenced.get_future().get();
}

void silencing_proxy::accept() {
  auto next = std::make_shared<link>(ioc_);
  acceptor_.async_accept(next->client, [this, next](error_code ec) {
    if (ec) return;
    error_code connect_ec;
    next->upstream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), upstream_), connect_ec);
    if (!connect_ec) {
      links_.push_back(next);
      next->start();
    }
    accept();
  });
}

}  // namespace progress::test
