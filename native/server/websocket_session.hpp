#pragma once
// One WebSocket connection: carries frames between the socket and the hub. Exactly one write is
// in flight; the hub decides what to send and when to close.
#include <cstddef>
#include <memory>
#include <optional>

#include "hub_service.hpp"
#include "log.hpp"
#include "net.hpp"

namespace progress::server {

class websocket_session : public stream_sink, public std::enable_shared_from_this<websocket_session> {
 public:
  websocket_session(tcp::socket&& socket, hub_service& hub, const logger& log, Target target);
  ~websocket_session() override;

  // Completes the upgrade of `request`, already read by the http_session.
  void run(http::request<http::string_body> request);
  void kick() override;

 private:
  void on_accept(error_code ec);
  void do_read();
  void on_read(error_code ec, std::size_t bytes);
  void end_of_message();
  void on_write(error_code ec, std::size_t bytes);
  void on_close(error_code ec);
  void forget();

  websocket::stream<beast::tcp_stream> ws_;
  hub_service& hub_;
  const logger& log_;
  Target target_;
  std::size_t max_frame_bytes_;
  beast::flat_buffer buffer_;
  ConnId conn_ = 0;
  bool registered_ = false;  // the hub knows this connection
  bool writing_ = false;
  bool closing_ = false;
  bool oversize_ = false;   // the current message passed max_frame_bytes: drain it, then report
  SharedText in_flight_;    // keeps the frame being written alive
  std::optional<CloseRequest> close_;  // asked by the hub, sent once the write in flight is done
};

}  // namespace progress::server
