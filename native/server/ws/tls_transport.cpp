#include "ws/tls_transport.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <utility>

#include "wire/ws_frames.hpp"

namespace progress::server {

net::any_io_executor tls_transport::executor() { return stream_.get_executor(); }

tcp::socket& tls_transport::socket() { return beast::get_lowest_layer(stream_).socket(); }

void tls_transport::read() { read_some(events()); }

void tls_transport::read_some(std::shared_ptr<transport_events> events) {
  stream_.async_read_some(net::buffer(in_), [this, events = std::move(events)](error_code ec, std::size_t n) mutable {
    if (ec) {
      // The peer's close_notify or FIN after our close handshake is the normal end.
      events->on_input_end();
      return;
    }
    if (events->on_input(std::span<char>(in_.data(), n))) read_some(std::move(events));
  });
}

std::vector<ws_outgoing>& tls_transport::batch() {
  // Emptied by write() within the flush that filled it: one vector per thread serves every session.
  thread_local std::vector<ws_outgoing> scratch;
  return scratch;
}

std::optional<send_outcome> tls_transport::write(std::size_t /*offset: always 0, async_write sends all*/) {
  std::vector<ws_outgoing>& frames = batch();
  out_.clear();
  std::array<std::uint8_t, ws::kMaxServerHeader> head;
  for (const ws_outgoing& entry : frames) {
    if (!entry.whole) {
      const std::size_t head_size = ws::encode_header(head, ws::opcode::text, entry.bytes->size());
      out_.append(reinterpret_cast<const char*>(head.data()), head_size);
    }
    out_ += *entry.bytes;
  }
  frames.clear();
  net::async_write(stream_, net::buffer(out_), [events = events()](error_code ec, std::size_t) {
    events->on_written(send_outcome{0, ec ? ec.value() : 0});
  });
  return std::nullopt;
}

void tls_transport::wait_writable() {
  // write() leaves nothing unsent, so the session never waits here; kept correct all the same.
  socket().async_wait(tcp::socket::wait_write, [events = events()](error_code ec) { events->on_writable(ec); });
}

void tls_transport::release() { std::string().swap(out_); }

void tls_transport::shutdown_send() {
  // close_notify first, so the client's TLS layer sees a clean end rather than a truncated stream;
  // then our FIN (refused harmlessly once the session closed the socket). A peer that never answers
  // is cut by the session's close timer.
  stream_.async_shutdown([this, events = events()](error_code) {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
  });
}

void tls_transport::close() {
  error_code ignored;
  socket().close(ignored);
}

}  // namespace progress::server
