#include "sse/sse_session.hpp"

#include <charconv>
#include <chrono>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

namespace progress::server {
namespace {

// The header is written by hand: the body is open-ended and ends when the connection does.
constexpr std::string_view kStatusLine = "HTTP/1.1 200 OK\r\n";
constexpr std::string_view kResponseHead =
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "Connection: close\r\n"
    "X-Accel-Buffering: no\r\n"
    "\r\n"
    "retry: 2000\n\n";

constexpr std::chrono::seconds kStuckWriteTimeout{5};

}  // namespace

std::string format_sse_event(std::string_view frame) {
  const Json json = Json::parse(frame, nullptr, false);
  if (!json.is_object()) return {};
  const auto type = json.value("type", std::string());
  if (type == "ping") return ": ping " + json.value("ts", Json(0)).dump() + "\n\n";
  std::string out;
  if ((type == "snapshot" || type == "progress") && json.contains("epoch") && json.contains("seq")) {
    out += "id: " + json.value("epoch", std::string()) + ":" + json["seq"].dump() + "\n";
  }
  out += "data: ";
  out += frame;  // one line: the hub's frames are compact JSON
  out += "\n\n";
  return out;
}

void apply_last_event_id(Target& target, std::string_view last_event_id) {
  const auto colon = last_event_id.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return;
  const auto seq_text = last_event_id.substr(colon + 1);
  Seq seq = 0;
  const auto [end, ec] = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
  if (ec != std::errc{} || end != seq_text.data() + seq_text.size()) return;
  target.after_seq = seq;
  target.epoch = std::string(last_event_id.substr(0, colon));
}

template <class Stream>
basic_sse_session<Stream>::basic_sse_session(Stream&& stream, hub_service& hub, const logger& log, Target target,
                                             std::shared_ptr<void> ticket)
    : stream_(std::move(stream)),
      hub_(hub),
      log_(log),
      target_(std::move(target)),
      ticket_(std::move(ticket)) {}

template <class Stream>
void basic_sse_session<Stream>::run(std::string extra_head, std::string client) {
  client_ = std::move(client);
  beast::get_lowest_layer(stream_).expires_never();
  writing_ = true;
  head_ = std::string(kStatusLine) + extra_head + std::string(kResponseHead);
  net::async_write(stream_, net::buffer(head_),
                   beast::bind_front_handler(&basic_sse_session::on_header, this->shared_from_this()));
}

template <class Stream>
void basic_sse_session<Stream>::on_header(error_code ec, std::size_t) {
  writing_ = false;
  if (ec) return;
  conn_ = hub_.open(target_, this->weak_from_this());
  registered_ = true;
  log_.debug("sse_open", {{"conn", std::to_string(conn_)}, {"client", client_}, {"process_id", target_.process_id}});
  hub_.deliver();
  do_watch();
}

template <class Stream>
void basic_sse_session<Stream>::do_watch() {
  // Clients send nothing on an event stream; a read only tells us when they go away. (On TLS it goes
  // through the stream: OpenSSL must see the bytes, even the close_notify.)
  auto handler = beast::bind_front_handler(&basic_sse_session::on_watch, this->shared_from_this());
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    stream_.async_read_some(net::buffer(sink_buffer_), std::move(handler));
  } else {
    stream_.socket().async_read_some(net::buffer(sink_buffer_), std::move(handler));
  }
}

template <class Stream>
void basic_sse_session<Stream>::on_watch(error_code ec, std::size_t) {
  if (ec) {
    end();
    return;
  }
  if (!ended_) do_watch();
}

template <class Stream>
void basic_sse_session<Stream>::kick() {
  if (!registered_ || ended_) return;
  while (!writing_) {
    auto frame = hub_.poll_outgoing(conn_);
    if (!frame) break;
    out_ = format_sse_event(**frame);
    if (out_.empty()) continue;
    writing_ = true;
    net::async_write(stream_, net::buffer(out_),
                     beast::bind_front_handler(&basic_sse_session::on_write, this->shared_from_this()));
    return;
  }
  if (!close_requested_) close_requested_ = hub_.poll_close(conn_).has_value();
  if (!close_requested_) return;
  if (writing_) {
    // A reader that stopped reading would hold the stream open forever: bound the last write.
    beast::get_lowest_layer(stream_).expires_after(kStuckWriteTimeout);
    return;
  }
  log_.debug("sse_close", {{"conn", std::to_string(conn_)}});
  end();
}

template <class Stream>
void basic_sse_session<Stream>::on_write(error_code ec, std::size_t) {
  writing_ = false;
  if (ec) {
    end();
    return;
  }
  kick();
}

template <class Stream>
void basic_sse_session<Stream>::end() {
  if (ended_) return;
  ended_ = true;
  if (registered_) {
    registered_ = false;
    hub_.on_closed(conn_);
  }
  // TLS too ends without close_notify: an event stream has no end a reader could take for complete,
  // and EventSource reconnects either way.
  error_code ignored;
  auto& socket = beast::get_lowest_layer(stream_).socket();
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

template class basic_sse_session<beast::tcp_stream>;
template class basic_sse_session<tls_stream>;

}  // namespace progress::server
