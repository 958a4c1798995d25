#pragma once
// The TLS side of a websocket_session (wss://). The plain session reads and gathers writes straight on
// the fd (readiness + read/sendmsg), which TLS cannot do: OpenSSL must see every byte. So a TLS session
// reads through the stream's async_read_some and writes each batch copied into one buffer with
// async_write; the copy is cheap next to the encryption, and the plain path keeps its zero-copy writes.
#include <cstddef>
#include <string>
#include <vector>

#include "access/tls_context.hpp"

namespace progress::server {

struct websocket_tls {
  // One TLS record carries at most 16 KiB of plaintext, so a bigger read buffer would not fill.
  static constexpr std::size_t kReadBytes = 16 * 1024;

  explicit websocket_tls(tls_stream&& s) : stream(std::move(s)) {}

  tls_stream stream;
  std::vector<char> in = std::vector<char>(kReadBytes);  // own buffer: the read is in flight across handlers
  std::string out;                                       // the batch being written
};

}  // namespace progress::server
