#include "ws/inline_transport.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <span>
#include <utility>
#include <vector>

namespace progress::server {
namespace {

// Reads go into one buffer per thread, so an idle socket pins no read buffer of its own.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
// Reads per readiness before yielding to other sockets.
constexpr int kReadRounds = 4;

std::span<char> thread_read_buffer() {
  thread_local std::array<char, kReadBufferBytes> buffer;
  return buffer;
}

std::vector<ws_outgoing>& thread_batch() {
  thread_local std::vector<ws_outgoing> scratch;
  return scratch;
}

}  // namespace

net::any_io_executor inline_transport::executor() { return socket_.get_executor(); }

void inline_transport::read() { wait_readable(events()); }

void inline_transport::wait_readable(std::shared_ptr<transport_events> events) {
  socket_.async_wait(tcp::socket::wait_read, [this, events = std::move(events)](error_code ec) mutable {
    on_readable(std::move(events), ec);
  });
}

void inline_transport::on_readable(std::shared_ptr<transport_events> events, error_code ec) {
  if (ec) {
    events->on_input_end();
    return;
  }
  const std::span<char> buffer = thread_read_buffer();
  for (int round = 0; round < kReadRounds; ++round) {
    // MSG_DONTWAIT rather than the socket's non-blocking mode: setting that is a syscall per session.
    const ssize_t n = ::recv(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      // EOF after our close handshake is the normal end; anything else is a vanished peer.
      events->on_input_end();
      return;
    }
    const auto read = static_cast<std::size_t>(n);
    if (!events->on_input(buffer.first(read))) return;
    if (read < buffer.size()) break;
  }
  wait_readable(std::move(events));
}

// A batch is built, written and settled within one flush, and a flush never runs inside another,
// so one scratch vector per thread serves every socket without a per-call construction.
std::vector<ws_outgoing>& inline_transport::batch() { return thread_batch(); }

std::optional<send_outcome> inline_transport::write(std::size_t offset) {
  return send_batch(socket_.native_handle(), thread_batch(), offset);
}

void inline_transport::wait_writable() {
  socket_.async_wait(tcp::socket::wait_write,
                     [events = events()](error_code ec) { events->on_writable(ec); });
}

void inline_transport::shutdown_send() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void inline_transport::close() {
  error_code ignored;
  socket_.close(ignored);
}

}  // namespace progress::server
