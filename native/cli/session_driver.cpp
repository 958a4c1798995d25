#include "session_driver.hpp"

#include <chrono>
#include <deque>
#include <utility>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "progress/server_url.hpp"

namespace progress::cli {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = beast::error_code;

Millis wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Now clock_now() {
  const auto mono =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
  return Now{MonoMillis(mono.count()), wall_now()};
}

// One socket of one generation. Reports to the driver through `report`, which stays valid while
// the driver lives (the driver outlives io_context::run).
struct session_driver::connection : std::enable_shared_from_this<connection> {
  connection(net::io_context& ioc, Generation gen, session_driver& owner)
      : resolver(ioc), ws(ioc), generation(gen), driver(owner) {}

  tcp::resolver resolver;
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> outbox;
  Generation generation;
  session_driver& driver;
  std::string host;
  std::string target;
  bool open = false;
  bool writing = false;
  bool closing = false;
  bool finished = false;  // the session has been told this socket is gone
  bool gone = false;      // the socket is closed

  void release() {
    if (gone) return;
    gone = true;
    error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    driver.on_socket_closed_();
  }

  void start(const ServerUrl& url) {
    host = url.host + ":" + url.port;
    target = url.endpoint_path();
    resolver.async_resolve(url.host, url.port, [self = shared_from_this()](error_code ec, tcp::resolver::results_type r) {
      if (ec) return self->fail();
      beast::get_lowest_layer(self->ws).async_connect(r, [self](error_code ec2, const tcp::endpoint&) {
        if (ec2) return self->fail();
        beast::get_lowest_layer(self->ws).expires_never();
        self->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        self->ws.async_handshake(self->host, self->target, [self](error_code ec3) {
          if (ec3) return self->fail();
          self->open = true;
          self->ws.text(true);
          self->driver.feed([g = self->generation](ClientSession& s, Now now) { s.on_open(g, now); });
          self->do_read();
          self->do_write();
        });
      });
    });
  }

  void do_read() {
    ws.async_read(buffer, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec == websocket::error::closed) {
        const auto reason = self->ws.reason();
        return self->closed(reason.code, std::string(reason.reason.c_str()));
      }
      if (ec) return self->fail();
      const auto data = self->buffer.cdata();
      const std::string text(static_cast<const char*>(data.data()), data.size());
      self->buffer.consume(self->buffer.size());
      self->driver.feed([g = self->generation, &text](ClientSession& s, Now now) { s.on_text(g, text, now); });
      if (!self->finished) self->do_read();
    });
  }

  void queue(std::string text) {
    outbox.push_back(std::move(text));
    do_write();
  }

  void do_write() {
    if (!open || writing || closing || outbox.empty()) return;
    writing = true;
    ws.async_write(net::buffer(outbox.front()), [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing = false;
      self->outbox.pop_front();
      if (ec) return self->fail();
      self->do_write();
    });
  }

  void close(int code, std::string reason) {
    if (closing) return;
    closing = true;
    finished = true;  // the session asked for it: it needs no report
    outbox.clear();
    if (!open) {
      resolver.cancel();
      release();
      return;
    }
    ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                   [self = shared_from_this()](error_code) { self->release(); });
  }

  void fail() {
    if (finished) return;
    finished = true;
    release();
    driver.feed([g = generation](ClientSession& s, Now now) { s.on_error(g, now); });
  }

  void closed(int code, std::string reason) {
    if (finished) return;
    finished = true;
    release();
    driver.feed([g = generation, code, &reason](ClientSession& s, Now now) { s.on_close(g, code, reason, now); });
  }
};

session_driver::session_driver(net::io_context& ioc, ClientSession& session, event_handler on_event,
                               std::function<void()> on_socket_closed)
    : ioc_(ioc),
      session_(session),
      on_event_(std::move(on_event)),
      on_socket_closed_(std::move(on_socket_closed)),
      timer_(ioc) {}

session_driver::~session_driver() = default;

void session_driver::feed(const std::function<void(ClientSession&, Now)>& input) {
  input(session_, clock_now());
  pump();
}

bool session_driver::has_socket() const { return current_ && !current_->gone; }

void session_driver::pump() {
  for (auto& action : session_.poll_actions()) {
    if (auto* c = std::get_if<Connect>(&action)) {
      connect(c->url, c->generation);
    } else if (auto* s = std::get_if<Send>(&action)) {
      send(s->generation, std::move(s->text));
    } else if (auto* cl = std::get_if<Close>(&action)) {
      close(cl->generation, cl->code, std::move(cl->reason));
    } else if (auto* t = std::get_if<SetTimer>(&action)) {
      arm_timer(t->at);
    } else if (auto* n = std::get_if<NeedToken>(&action)) {
      // Answered from the loop, not from inside this one, so events keep their order.
      net::post(ioc_, [this, id = std::move(n->process_id)] {
        feed([&](ClientSession& session, Now now) { session.on_token(id, token_, now); });
      });
    }
  }
  for (const auto& event : session_.poll_events()) on_event_(event);
}

void session_driver::connect(std::string url, Generation generation) {
  if (current_) current_->close(1000, "replaced");
  current_ = std::make_shared<connection>(ioc_, generation, *this);
  const auto parsed = parse_server_url(url);
  if (!parsed.url) {
    // The base URL was checked at start-up, so this cannot happen; report it like a failed socket.
    net::post(ioc_, [c = current_] { c->fail(); });
    return;
  }
  current_->start(*parsed.url);
}

void session_driver::send(Generation generation, std::string text) {
  if (current_ && current_->generation == generation) current_->queue(std::move(text));
}

void session_driver::close(Generation generation, int code, std::string reason) {
  if (current_ && current_->generation == generation) current_->close(code, std::move(reason));
}

void session_driver::arm_timer(std::optional<MonoMillis> at) {
  timer_.cancel();
  if (!at) return;
  const auto delay = std::max<Millis>(0, *at - clock_now().mono);
  timer_.expires_after(std::chrono::milliseconds(delay));
  timer_.async_wait([this](error_code ec) {
    if (ec) return;
    feed([](ClientSession& s, Now now) { s.on_timer(now); });
  });
}

}  // namespace progress::cli
