#include "chaos_proxy.hpp"

#include <cstdint>
#include <memory>

namespace progress::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using std::chrono::milliseconds;

namespace {

struct plan {
  std::size_t bytes_before_cut = SIZE_MAX;  // over both directions
  bool delays = false;
  bool stall_to_client = false;
  std::size_t stall_after_bytes = SIZE_MAX;  // in the stalled direction
  milliseconds stall_for{0};
  std::uint64_t delay_seed = 0;
  bool drop_reply = false;  // cut at the first byte towards the client
};

// Half the links are cut after 32..1500 bytes, half delay every chunk, a quarter stall one
// direction once after 1..600 bytes of it. Drawn in a fixed order, so one seed gives one sequence.
plan draw_plan(std::mt19937_64& rng) {
  plan p;
  std::uniform_int_distribution<std::size_t> cut_bytes(32, 1500);
  std::uniform_int_distribution<std::size_t> stall_bytes(1, 600);
  std::uniform_int_distribution<std::int64_t> stall_ms(chaos_proxy::kStallMin.count(),
                                                       chaos_proxy::kStallMax.count());
  const bool cut = rng() % 2 == 0;
  const std::size_t cut_at = cut_bytes(rng);
  p.bytes_before_cut = cut ? cut_at : SIZE_MAX;
  p.delays = rng() % 2 == 0;
  const bool stall = rng() % 4 == 0;
  p.stall_to_client = rng() % 2 == 0;
  const std::size_t stall_at = stall_bytes(rng);
  p.stall_after_bytes = stall ? stall_at : SIZE_MAX;
  p.stall_for = milliseconds(stall_ms(rng));
  p.delay_seed = rng();
  return p;
}

}  // namespace

struct chaos_proxy::link : std::enable_shared_from_this<chaos_proxy::link> {
  // One direction of the link: reads from `from`, holds the chunk if the plan says so, writes it
  // to `to`, and only then reads again, so bytes keep their order.
  struct direction {
    direction(net::io_context& ioc, tcp::socket& source, tcp::socket& sink)
        : from(source), to(sink), timer(ioc) {}
    tcp::socket& from;
    tcp::socket& to;
    net::steady_timer timer;
    std::array<char, 2048> buffer{};
    std::size_t carried = 0;
    std::size_t stall_after = SIZE_MAX;
  };

  link(net::io_context& ioc, chaos_proxy& owner, const plan& p)
      : client(ioc),
        upstream(ioc),
        proxy(owner),
        budget(p.bytes_before_cut),
        delays(p.delays),
        stall_for(p.stall_for),
        delay_rng(p.delay_seed),
        drop_reply(p.drop_reply),
        to_upstream(ioc, client, upstream),
        to_client(ioc, upstream, client) {
    (p.stall_to_client ? to_client : to_upstream).stall_after = p.stall_after_bytes;
  }

  void start() {
    pump(to_upstream);
    pump(to_client);
  }

  void pump(direction& d) {
    auto self = shared_from_this();
    d.from.async_read_some(net::buffer(d.buffer), [self, &d](error_code ec, std::size_t n) {
      if (ec) return self->close();
      if (self->drop_reply && &d == &self->to_client) return self->close();
      if (n >= self->budget && self->proxy.cuts_ < kMaxCuts) {
        ++self->proxy.cuts_;
        return self->close();
      }
      self->budget = n >= self->budget ? SIZE_MAX : self->budget - n;
      d.carried += n;
      const milliseconds hold = self->hold_for(d);
      if (hold.count() == 0) return self->forward(d, n);
      d.timer.expires_after(hold);
      d.timer.async_wait([self, &d, n](error_code wait_ec) {
        if (wait_ec) return self->close();
        self->forward(d, n);
      });
    });
  }

  milliseconds hold_for(direction& d) {
    if (d.carried >= d.stall_after) {
      d.stall_after = SIZE_MAX;  // once per link
      if (proxy.stalls_ < kMaxStalls) {
        ++proxy.stalls_;
        return stall_for;
      }
    }
    if (!delays) return milliseconds(0);
    ++proxy.delayed_chunks_;
    std::uniform_int_distribution<std::int64_t> ms(kDelayMin.count(), kDelayMax.count());
    return milliseconds(ms(delay_rng));
  }

  void forward(direction& d, std::size_t n) {
    auto self = shared_from_this();
    net::async_write(d.to, net::buffer(d.buffer.data(), n), [self, &d](error_code ec, std::size_t) {
      if (ec) return self->close();
      self->pump(d);
    });
  }

  void close() {
    error_code ignored;
    client.close(ignored);
    upstream.close(ignored);
    to_upstream.timer.cancel();
    to_client.timer.cancel();
  }

  tcp::socket client;
  tcp::socket upstream;
  chaos_proxy& proxy;
  std::size_t budget;
  bool delays;
  milliseconds stall_for;
  std::mt19937_64 delay_rng;
  bool drop_reply;
  direction to_upstream;
  direction to_client;
};

chaos_proxy::chaos_proxy(unsigned short upstream, std::uint64_t seed)
    : upstream_(upstream), rng_(seed), acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
  accept();
  thread_ = std::thread([this] { ioc_.run(); });
}

chaos_proxy::~chaos_proxy() {
  ioc_.stop();
  thread_.join();
}

chaos_counts chaos_proxy::counts() const {
  return {connections_.load(), cuts_.load(), delayed_chunks_.load(), stalls_.load()};
}

void chaos_proxy::accept() {
  // The plan is drawn once the connection is in, so drop_replies applies to connections opened
  // after the call.
  acceptor_.async_accept([this](error_code ec, tcp::socket client) {
    if (ec) return;
    plan p;
    if (std::size_t left = drop_replies_.load(); left > 0 && drop_replies_.compare_exchange_strong(left, left - 1)) {
      p.drop_reply = true;
    } else {
      p = draw_plan(rng_);
    }
    auto next = std::make_shared<link>(ioc_, *this, p);
    next->client = std::move(client);
    ++connections_;
    // Connections to a hub that is down are closed at once, as a refused connect would be.
    error_code connect_ec;
    next->upstream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), upstream_), connect_ec);
    if (connect_ec) {
      next->close();
    } else {
      next->start();
    }
    accept();
  });
}

}  // namespace progress::test
