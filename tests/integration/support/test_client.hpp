#pragma once
// Small Beast clients for the tests. Every operation runs the io_context for at most a guard time
// and throws on expiry, so a broken server fails a test instead of hanging it (a hang guard, not a
// speed assertion).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace progress::test {

using Json = nlohmann::json;
using Seq = std::uint64_t;
inline constexpr std::chrono::seconds kGuard{15};

struct http_reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json() const { return Json::parse(body); }
};

// Runs `ioc` one handler at a time until `done` or `guard` passes (then throws "timed out: what"):
// the building block of every client here, for tests that drive their own streams too.
void run_until_done(boost::asio::io_context& ioc, const bool& done, std::chrono::milliseconds guard,
                    const char* what);

// 127.0.0.1:port, where every server under test listens.
boost::asio::ip::tcp::endpoint loopback(unsigned short port);

http_reply http_call(unsigned short port, const std::string& method, const std::string& target,
                     const std::string& body = {}, const std::map<std::string, std::string>& headers = {});

// Sends raw bytes and reads until `until` appears in the reply (or the peer closes); returns all read.
std::string raw_exchange(unsigned short port, const std::string& request, const std::string& until);

struct ws_message {
  bool closed = false;  // the server closed the socket; close_code tells why
  int close_code = 0;
  std::string close_reason;
  bool binary = false;
  std::string text;
};

class ws_client {
 public:
  // Connects and upgrades; `receive_buffer` > 0 shrinks SO_RCVBUF first (slow-consumer tests).
  ws_client(unsigned short port, const std::string& target, int receive_buffer = 0);
  ~ws_client();

  void send(const std::string& text);
  void send(const Json& frame) { send(frame.dump()); }
  void send_binary(const std::string& bytes);
  ws_message read(std::chrono::milliseconds guard = kGuard);
  // The next frame as JSON; throws if the socket closed instead.
  Json read_json(std::chrono::milliseconds guard = kGuard);
  // Reads frames until one has "type" == `type`, returning it (others are skipped).
  Json read_until_type(const std::string& type);
  // Drops the TCP connection without a closing handshake (a killed tab or network loss).
  void kill();
  void close();

 private:
  template <class Start>
  void run(Start&& start, std::chrono::milliseconds guard, const char* what);

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
};

// Parses the `name value` lines of a Prometheus text page (labels kept in the name).
std::map<std::string, double> parse_metrics(const std::string& text);

}  // namespace progress::test
