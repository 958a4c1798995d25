#include "support/test_client.hpp"

#include <sstream>
#include <stdexcept>

namespace progress::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = beast::error_code;

void run_until_done(net::io_context& ioc, const bool& done, std::chrono::milliseconds guard,
                    const char* what) {
  ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    // One handler at a time, so we return as soon as `done` is set.
    ioc.run_one_until(deadline);
    if (ioc.stopped()) ioc.restart();
  }
  if (!done) throw std::runtime_error(std::string("timed out: ") + what);
}

tcp::endpoint loopback(unsigned short port) { return {net::ip::make_address("127.0.0.1"), port}; }


http_reply http_call(unsigned short port, const std::string& method, const std::string& target,
                     const std::string& body, const std::map<std::string, std::string>& headers) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  bool done = false;
  error_code ec;
  stream.async_connect(loopback(port), [&](error_code e) { ec = e; done = true; });
  run_until_done(ioc, done, kGuard, "http connect");
  if (ec) throw std::runtime_error("connect: " + ec.message());

  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
  done = false;
  http::async_write(stream, req, [&](error_code e, std::size_t) { ec = e; done = true; });
  run_until_done(ioc, done, kGuard, "http write");
  // A server that refuses a body early may reset the rest of our write; its answer still counts.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  done = false;
  http::async_read(stream, buffer, parser, [&](error_code e, std::size_t) { ec = e; done = true; });
  run_until_done(ioc, done, kGuard, "http read");
  if (ec) throw std::runtime_error("http read: " + ec.message());
  const auto& res = parser.get();
  http_reply out;
  out.status = res.result_int();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = res.body();
  return out;
}

std::string raw_exchange(unsigned short port, const std::string& request, const std::string& until) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  bool done = false;
  error_code ec;
  socket.async_connect(loopback(port), [&](error_code e) { ec = e; done = true; });
  run_until_done(ioc, done, kGuard, "raw connect");
  if (ec) throw std::runtime_error("connect: " + ec.message());
  done = false;
  net::async_write(socket, net::buffer(request), [&](error_code e, std::size_t) { ec = e; done = true; });
  run_until_done(ioc, done, kGuard, "raw write");
  std::string got;
  std::array<char, 4096> chunk{};
  while (got.find(until) == std::string::npos) {
    done = false;
    std::size_t n = 0;
    socket.async_read_some(net::buffer(chunk), [&](error_code e, std::size_t k) { ec = e; n = k; done = true; });
    run_until_done(ioc, done, kGuard, ("raw read waiting for " + until).c_str());
    got.append(chunk.data(), n);
    if (ec) break;
  }
  return got;
}

ws_client::ws_client(unsigned short port, const std::string& target, int receive_buffer) : ws_(ioc_) {
  auto& socket = beast::get_lowest_layer(ws_).socket();
  socket.open(tcp::v4());
  if (receive_buffer > 0) socket.set_option(net::socket_base::receive_buffer_size(receive_buffer));
  error_code ec;
  run([&](bool& done) {
    beast::get_lowest_layer(ws_).async_connect(loopback(port), [&](error_code e) { ec = e; done = true; });
  }, kGuard, "ws connect");
  if (ec) throw std::runtime_error("connect: " + ec.message());
  run([&](bool& done) {
    ws_.async_handshake("127.0.0.1", target, [&](error_code e) { ec = e; done = true; });
  }, kGuard, "ws handshake");
  if (ec) throw std::runtime_error("handshake to " + target + ": " + ec.message());
}

ws_client::~ws_client() {
  error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

template <class Start>
void ws_client::run(Start&& start, std::chrono::milliseconds guard, const char* what) {
  bool done = false;
  start(done);
  run_until_done(ioc_, done, guard, what);
}

void ws_client::send(const std::string& text) {
  error_code ec;
  ws_.text(true);
  run([&](bool& done) {
    ws_.async_write(net::buffer(text), [&](error_code e, std::size_t) { ec = e; done = true; });
  }, kGuard, "ws write");
  if (ec) throw std::runtime_error("ws write: " + ec.message());
}

void ws_client::send_binary(const std::string& bytes) {
  error_code ec;
  ws_.binary(true);
  run([&](bool& done) {
    ws_.async_write(net::buffer(bytes), [&](error_code e, std::size_t) { ec = e; done = true; });
  }, kGuard, "ws write");
  ws_.text(true);
  if (ec) throw std::runtime_error("ws write: " + ec.message());
}

ws_message ws_client::read(std::chrono::milliseconds guard) {
  error_code ec;
  run([&](bool& done) {
    ws_.async_read(buffer_, [&](error_code e, std::size_t) { ec = e; done = true; });
  }, guard, "ws read");
  ws_message out;
  if (ec == websocket::error::closed) {
    out.closed = true;
    out.close_code = ws_.reason().code;
    out.close_reason = std::string(ws_.reason().reason.c_str());
    return out;
  }
  if (ec) {
    out.closed = true;
    out.close_code = 1006;  // no closing handshake
    return out;
  }
  out.binary = ws_.got_binary();
  out.text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  return out;
}

Json ws_client::read_json(std::chrono::milliseconds guard) {
  const auto m = read(guard);
  if (m.closed) throw std::runtime_error("socket closed (" + std::to_string(m.close_code) + ") while expecting a frame");
  return Json::parse(m.text);
}

Json ws_client::read_until_type(const std::string& type) {
  while (true) {
    Json frame = read_json();
    if (frame.value("type", "") == type) return frame;
  }
}

void ws_client::kill() {
  error_code ignored;
  auto& socket = beast::get_lowest_layer(ws_).socket();
  socket.set_option(net::socket_base::linger(true, 0), ignored);  // RST, like a crashed client
  socket.close(ignored);
}

void ws_client::close() {
  error_code ec;
  run([&](bool& done) {
    ws_.async_close(websocket::close_code::normal, [&](error_code e) { ec = e; done = true; });
  }, kGuard, "ws close");
}

std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

}  // namespace progress::test
