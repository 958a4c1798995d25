#include "conn/listener.hpp"

#include <chrono>
#include <string>

namespace progress::server {
namespace {

// Out of descriptors or memory: the pending connections stay in the backlog until this has passed,
// instead of the listener spinning on an accept that keeps failing.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

}  // namespace

error_code set_inherited_options(tcp::acceptor& acceptor) {
  error_code ec;
  acceptor.set_option(tcp::no_delay(true), ec);
  return ec;
}

listener::listener(net::io_context& ioc, server_context& ctx, http_session_registry& registry)
    : acceptor_(ioc), peer_socket_(ioc), backoff_(ioc), ctx_(ctx), registry_(registry) {}

error_code listener::open(const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) ec = set_inherited_options(acceptor_);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  return ec;
}

tcp::endpoint listener::local_endpoint() const { return acceptor_.local_endpoint(); }

void listener::run() { do_accept(); }

void listener::stop() {
  error_code ignored;
  backoff_.cancel();
  acceptor_.close(ignored);
}

void listener::do_accept() {
  // One thread runs everything, so sessions share the io_context itself rather than strands. One
  // connection per completion: the next session starts behind this one's first read, so a storm of
  // connects does not pile up half-read HTTP sessions, whose buffers, freed between long-lived
  // WebSocket sessions, fragment the heap (idle-10k: 1.8 KiB per socket this way, 2.1 KiB taking up
  // to 64 per readiness with accept4). The peer's address comes with the accept (no getpeername).
  acceptor_.async_accept(peer_socket_, peer_, beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(error_code ec) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    if (accept_failing_) {
      accept_failing_ = false;
      ctx_.log.info("accept_resumed", {});
    }
    // A moved-from socket is closed and ready for the next accept.
    if (ctx_.tls != nullptr) {
      std::make_shared<https_session>(std::move(peer_socket_), ctx_, registry_, *ctx_.tls)->run(peer_.address());
    } else {
      std::make_shared<http_session>(std::move(peer_socket_), ctx_, registry_)->run(peer_.address());
    }
    do_accept();
    return;
  }
  if (ec == net::error::connection_aborted || ec == net::error::interrupted) {
    do_accept();  // that client is gone; the next may be waiting
    return;
  }
  // Out of descriptors or memory. Once per streak: at 20 retries a second, a line each would flood
  // the log while it lasts.
  if (!accept_failing_) {
    accept_failing_ = true;
    ctx_.log.warn("accept_failed", {{"error", ec.message()}, {"retry_ms", std::to_string(kAcceptBackoff.count())}});
  }
  backoff_.expires_after(kAcceptBackoff);
  backoff_.async_wait([self = shared_from_this()](error_code wait_ec) {
    if (!wait_ec) self->do_accept();
  });
}

}  // namespace progress::server
