#pragma once
// A plain ws:// connection written by the hub thread itself: readiness, then recv on the descriptor
// into one buffer per thread; each batch sent with send_batch (copied into one buffer, or gathered
// from the shared payloads in place) and its outcome known at once. Producers write this way, and
// every session when there are neither send lanes nor the hub's ring (lane_transport).
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "base/net.hpp"
#include "ws/ws_transport.hpp"

namespace progress::server {

class inline_transport : public ws_transport {
 public:
  explicit inline_transport(tcp::socket&& socket) : socket_(std::move(socket)) {}

  net::any_io_executor executor() override;
  void read() override;
  std::vector<ws_outgoing>& batch() override;
  std::optional<send_outcome> write(std::size_t offset) override;
  void wait_writable() override;
  void release() override {}
  void shutdown_send() override;
  void close() override;

 protected:
  tcp::socket socket_;

 private:
  void wait_readable(std::shared_ptr<transport_events> events);
  void on_readable(std::shared_ptr<transport_events> events, error_code ec);
};

}  // namespace progress::server
