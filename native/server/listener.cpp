#include "listener.hpp"

namespace progress::server {

listener::listener(net::io_context& ioc, server_context& ctx, http_session_registry& registry)
    : ioc_(ioc), acceptor_(ioc), ctx_(ctx), registry_(registry) {}

error_code listener::open(const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  return ec;
}

tcp::endpoint listener::local_endpoint() const { return acceptor_.local_endpoint(); }

void listener::run() { do_accept(); }

void listener::stop() {
  error_code ignored;
  acceptor_.close(ignored);
}

void listener::do_accept() {
  // One thread runs everything, so sessions share the io_context itself rather than strands.
  acceptor_.async_accept(ioc_, beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    ctx_.log.warn("accept_failed", {{"error", ec.message()}});
  } else {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (ctx_.tls != nullptr) {
      std::make_shared<https_session>(std::move(socket), ctx_, registry_, *ctx_.tls)->run();
    } else {
      std::make_shared<http_session>(std::move(socket), ctx_, registry_)->run();
    }
  }
  do_accept();
}

}  // namespace progress::server
