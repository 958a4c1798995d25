#pragma once
// A wss:// connection. The plain transports read and gather writes straight on the descriptor, which
// TLS cannot do: OpenSSL must see every byte. So this one reads through the stream's async_read_some
// and writes each batch copied into one buffer with async_write; the copy is cheap next to the
// encryption, and the plain path keeps its zero-copy writes. The stream arrives with its TLS context
// (the one current when the connection was accepted) and its handshake done.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/tls_context.hpp"
#include "ws/ws_transport.hpp"

namespace progress::server {

class tls_transport final : public ws_transport {
 public:
  explicit tls_transport(tls_stream&& stream) : stream_(std::move(stream)) {}

  net::any_io_executor executor() override;
  void read() override;
  std::vector<ws_outgoing>& batch() override;
  // Copies the batch out and empties it, so the outcome later counts no bytes of it.
  std::optional<send_outcome> write(std::size_t offset) override;
  void wait_writable() override;
  void release() override;
  void shutdown_send() override;
  void close() override;

 private:
  // One TLS record carries at most 16 KiB of plaintext, so a bigger read buffer would not fill.
  static constexpr std::size_t kReadBytes = 16 * 1024;

  void read_some(std::shared_ptr<transport_events> events);
  tcp::socket& socket();

  tls_stream stream_;
  std::vector<char> in_ = std::vector<char>(kReadBytes);  // own buffer: the read is in flight across handlers
  std::string out_;                                        // the batch being written
};

}  // namespace progress::server
