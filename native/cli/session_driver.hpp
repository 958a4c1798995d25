#pragma once
// Carries out what a progress::ClientSession asks (connect, send, close, set timer, token) with Beast on
// one io_context, and feeds every socket and timer event back in. Each socket carries the
// session's generation; events of an older one are passed on and the session ignores them.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio.hpp>

#include "progress/client_session.hpp"

namespace progress::cli {

class session_driver {
 public:
  using event_handler = std::function<void(const ClientEvent&)>;

  // `on_socket_closed` runs whenever a socket the session opened is fully closed.
  session_driver(boost::asio::io_context& ioc, ClientSession& session, event_handler on_event,
                 std::function<void()> on_socket_closed);
  ~session_driver();

  // Runs `input` against the session (with the current time), then carries out its actions.
  void feed(const std::function<void(ClientSession&, Now)>& input);
  // True while a socket of the session is connecting, open or closing.
  bool has_socket() const;
  // The answer to every NeedToken: one fixed subscription token (--token / PROGRESS_TOKEN).
  void set_token(std::string token) { token_ = std::move(token); }

 private:
  struct connection;
  void pump();
  void connect(std::string url, Generation generation);
  void send(Generation generation, std::string text);
  void close(Generation generation, int code, std::string reason);
  void arm_timer(std::optional<MonoMillis> at);

  boost::asio::io_context& ioc_;
  ClientSession& session_;
  event_handler on_event_;
  std::function<void()> on_socket_closed_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<connection> current_;
  std::string token_;
};

Millis wall_now();
// Both clocks, read once per input: steady_clock runs the session's timers (time.hpp).
Now clock_now();

}  // namespace progress::cli
