#pragma once
// A TCP proxy for the chaos test that misbehaves the way real networks do: it cuts connections,
// delays bytes and stalls one direction of a connection for a while. Every decision comes from
// one seeded generator, drawn per connection in accept order, so a seed replays the same pattern
// (when each connection arrives still varies from run to run).
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <thread>

#include <boost/asio.hpp>

namespace progress::test {

struct chaos_counts {
  std::size_t connections = 0;
  std::size_t cuts = 0;
  std::size_t delayed_chunks = 0;  // chunks held back for a few tens of milliseconds
  std::size_t stalls = 0;          // times one direction stopped forwarding for a while
};

class chaos_proxy {
 public:
  // Once this many cuts / stalls happened the proxy stops doing them, so a run always ends.
  static constexpr std::size_t kMaxCuts = 40;
  static constexpr std::size_t kMaxStalls = 12;
  // A stall outlasts many publish steps (the watcher gets a burst when it ends) but stays far
  // below the client's stale detection (heartbeat 20 s + 10 s), so it tests delivery, not reconnects.
  static constexpr std::chrono::milliseconds kStallMin{300};
  static constexpr std::chrono::milliseconds kStallMax{1200};
  static constexpr std::chrono::milliseconds kDelayMin{5};
  static constexpr std::chrono::milliseconds kDelayMax{40};

  chaos_proxy(unsigned short upstream, std::uint64_t seed);
  ~chaos_proxy();
  chaos_proxy(const chaos_proxy&) = delete;
  chaos_proxy& operator=(const chaos_proxy&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  chaos_counts counts() const;
  // The next `connections` accepted carry the request whole and are cut at the first byte of the
  // answer: the hub did the work, the client never hears it (a lost reply, for retry tests). These
  // connections draw no plan, so the seeded sequence of the others is unchanged.
  void drop_replies(std::size_t connections) { drop_replies_ = connections; }

 private:
  struct link;
  friend struct link;

  void accept();

  unsigned short upstream_;
  std::mt19937_64 rng_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> cuts_{0};
  std::atomic<std::size_t> delayed_chunks_{0};
  std::atomic<std::size_t> stalls_{0};
  std::atomic<std::size_t> drop_replies_{0};
};

}  // namespace progress::test
