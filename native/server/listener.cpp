#include "listener.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "accept.hpp"

namespace progress::server {
namespace {

// Connections taken per readiness before other work gets a turn; a storm of connects is served in
// rounds rather than starving the sessions already open.
constexpr int kAcceptsPerRound = 64;
// Out of descriptors or memory: the pending connections stay in the backlog until this has passed,
// instead of the listener spinning on an accept that keeps failing.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

}  // namespace

listener::listener(net::io_context& ioc, server_context& ctx, http_session_registry& registry)
    : ioc_(ioc), acceptor_(ioc), backoff_(ioc), ctx_(ctx), registry_(registry) {}

error_code listener::open(const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) ec = set_listening_options(acceptor_);
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
  // One thread runs everything, so sessions share the io_context itself rather than strands.
  acceptor_.async_wait(tcp::acceptor::wait_read,
                       beast::bind_front_handler(&listener::on_readable, shared_from_this()));
}

void listener::on_readable(error_code ec) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) ctx_.log.warn("accept_failed", {{"error", ec.message()}});
  for (int round = 0; round < kAcceptsPerRound; ++round) {
    const accepted next = accept_one(acceptor_.native_handle());
    if (next.fd >= 0) {
      if (accept_failing_) {
        accept_failing_ = false;
        ctx_.log.info("accept_resumed", {});
      }
      start_session(next.fd, next.peer);
      continue;
    }
    if (next.error == EAGAIN) break;
    if (is_transient_accept_error(next.error)) continue;
    // Once per streak: at 20 retries a second, a line each would flood the log while it lasts.
    if (!accept_failing_) {
      accept_failing_ = true;
      ctx_.log.warn("accept_failed", {{"error", std::strerror(next.error)}, {"retry_ms", std::to_string(kAcceptBackoff.count())}});
    }
    backoff_.expires_after(kAcceptBackoff);
    backoff_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  do_accept();
}

void listener::start_session(int fd, const tcp::endpoint& peer) {
  tcp::socket socket(ioc_);
  error_code ec;
  socket.assign(peer.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    ctx_.log.warn("accept_failed", {{"error", ec.message()}});
    return;
  }
  if (ctx_.tls != nullptr) {
    std::make_shared<https_session>(std::move(socket), peer.address(), ctx_, registry_, *ctx_.tls)->run();
  } else {
    std::make_shared<http_session>(std::move(socket), peer.address(), ctx_, registry_)->run();
  }
}

}  // namespace progress::server
