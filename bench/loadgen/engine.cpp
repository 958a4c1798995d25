#include "engine.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <utility>

#include "batch_recv.hpp"
#include "clock.hpp"
#include "frame_scan.hpp"
#include "ws_framing.hpp"

namespace progress::bench {
namespace {

// One source address carries at most this many connections (the ephemeral range is ~28k ports);
// past it, connections bind to 127.0.0.2, .3, ...
constexpr std::uint32_t connections_per_source = 20'000;
constexpr std::size_t read_chunk = 256 * 1024;
constexpr int max_events = 1024;
constexpr double setup_deadline_s = 120;
constexpr double drain_deadline_s = 5;
constexpr int error_lines_max = 5;

enum class role : std::uint8_t { subscriber, publisher };
enum class phase : std::uint8_t { connecting, upgrading, open, closing, closed };

struct connection {
  int fd = -1;
  int spare_fd = -1;  // a disconnected socket still in the epoll set, for the slot's next connect
  std::uint32_t generation = 0;
  role kind = role::subscriber;
  phase state = phase::closed;
  bool writable_armed = false;
  bool has_view = false;  // received its snapshot
  bool terminal = false;
  std::uint32_t process = 0;
  std::uint64_t last_seq = 0;
  std::string in;   // an incomplete frame carried to the next read; keeps its capacity
  std::string out;  // bytes the socket did not take yet
  std::size_t out_off = 0;
};

long read_rss_bytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;
  }
  return -1;
}

sockaddr_in ipv4_address(const std::string& host, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) a.sin_family = AF_UNSPEC;
  return a;
}

class engine {
 public:
  engine(const scenario& sc, const target& tg) : sc_(sc), tg_(tg), scratch_(read_chunk) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    std::string why;
    if (tg.io_uring) reader_ = batch_recv::open(why);
    final_seq_.assign(sc.processes, 0);
    char prefix[64];
    std::snprintf(prefix, sizeof prefix, "bench-%s-%d-%llu", sc.name.c_str(), static_cast<int>(getpid()),
                  static_cast<unsigned long long>(now_ns() % 1'000'000'000U));
    prefix_ = prefix;
    // Addresses and upgrade requests are the same for every connection to a process: built once
    // here, a connect only copies them (churn opens ~10k connections a second).
    const std::uint16_t publish_port = tg.publish_port != 0 ? tg.publish_port : tg.port;
    dst_ = ipv4_address(tg.host, tg.port);
    publish_dst_ = ipv4_address(tg.host, publish_port);
    if (dst_.sin_family != AF_INET) fail("--host must be an IPv4 address: " + tg.host);
    append_upgrade_request(publish_request_, tg.host + ":" + std::to_string(publish_port), "/ws/publish");
    const std::string host = tg.host + ":" + std::to_string(tg.port);
    upgrade_requests_.resize(sc.processes);
    for (std::uint32_t p = 0; p < sc.processes; ++p) {
      append_upgrade_request(upgrade_requests_[p], host, "/ws/progress/" + process_id(p));
    }
  }
  ~engine() {
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
      if (c.spare_fd >= 0) ::close(c.spare_fd);
    }
    ::close(epoll_);
  }
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  result run();

 private:
  std::uint32_t open_connection(role kind, std::uint32_t process, std::uint32_t ordinal);
  void close_connection(std::uint32_t idx);
  void abort_connection(std::uint32_t idx);
  void release_slot(std::uint32_t idx);
  void poll(int timeout_ms);
  void on_event(std::uint32_t idx, std::uint32_t events);
  void on_readable(std::uint32_t idx);
  // One read's outcome: `n` bytes in `data`, 0 at end of stream, negative for a failed read.
  void on_read(std::uint32_t idx, long n, std::string_view data);
  std::size_t consume(std::uint32_t idx, std::string_view data);
  void on_text(std::uint32_t idx, std::string_view frame);
  void flush(std::uint32_t idx);
  void send_frame(std::uint32_t idx, opcode op, std::string_view payload);
  void publish(bool setup);
  void fail(std::string message);
  bool wait_until(const std::function<bool()>& done, double deadline_s, const char* what);
  std::string process_id(std::uint32_t p) const { return prefix_ + "-" + std::to_string(p); }

  const scenario& sc_;
  const target& tg_;
  int epoll_ = -1;
  std::vector<char> scratch_;
  std::array<epoll_event, max_events> events_{};
  std::unique_ptr<batch_recv> reader_;  // null: one recv() per readable socket
  std::vector<recv_request> reads_;     // this poll's readable sockets
  sockaddr_in dst_{};
  sockaddr_in publish_dst_{};
  std::string publish_request_;
  std::vector<std::string> upgrade_requests_;  // per process
  std::vector<connection> conns_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint64_t> final_seq_;  // per process, from acks
  std::string prefix_;
  std::string payload_;  // reused for outgoing JSON
  std::uint64_t read_ns_ = 0;  // when the current chunk was read (0: not looked at the clock yet)
  std::uint32_t publisher_ = 0;
  std::uint32_t mask_ = 0x9e3779b9U;
  std::uint64_t next_id_ = 1;
  std::uint64_t in_flight_ = 0;
  std::uint32_t next_process_ = 0;
  std::uint32_t views_ = 0;
  std::uint32_t connecting_ = 0;
  std::uint32_t live_subscribers_ = 0;
  bool measuring_ = false;
  bool publisher_open_ = false;
  int error_lines_ = 0;
  result r_;
};

std::uint32_t engine::open_connection(role kind, std::uint32_t process, std::uint32_t ordinal) {
  std::uint32_t idx;
  if (!free_slots_.empty()) {
    idx = free_slots_.back();
    free_slots_.pop_back();
  } else {
    idx = static_cast<std::uint32_t>(conns_.size());
    conns_.emplace_back();
  }
  auto& c = conns_[idx];
  c.kind = kind;
  c.process = process;
  c.has_view = false;
  c.terminal = false;
  c.last_seq = 0;
  c.in.clear();
  c.out.clear();
  c.out_off = 0;

  const bool registered = c.spare_fd >= 0;
  if (registered) {
    // Same socket and epoll registration; the generation stays too: level-triggered epoll reports
    // only the new connection's state, the old one's unread bytes were dropped by the disconnect.
    c.fd = std::exchange(c.spare_fd, -1);
  } else {
    ++c.generation;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (c.fd < 0) {
    fail(std::string("socket: ") + std::strerror(errno));
    c.state = phase::closed;
    if (sc_.churn_concurrency > 0) free_slots_.push_back(idx);
    return idx;
  }
  const int one = 1;
  // Subscribers write only the upgrade request, and a close frame after the server's answer has
  // acknowledged it, so Nagle never holds their bytes back: one setsockopt less per connect.
  if (kind == role::publisher) setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::uint32_t source = ordinal / connections_per_source;
  if (source > 0 && !registered) {
    // Without IP_BIND_ADDRESS_NO_PORT, bind() would pick the port before knowing the peer and
    // the whole range would be shared by all sources again.
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7F000001U + source);
    if (::bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      fail(std::string("bind source address: ") + std::strerror(errno));
    }
  }
  const sockaddr_in& dst = kind == role::publisher ? publish_dst_ : dst_;
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS) {
    fail(std::string("connect: ") + std::strerror(errno));
  }
  c.state = phase::connecting;
  ++connecting_;
  if (kind == role::subscriber) ++live_subscribers_;
  c.out.assign(kind == role::publisher ? publish_request_ : upgrade_requests_[process]);
  // On loopback the TCP handshake has usually completed inside connect(), so the request goes out
  // now: no EPOLLOUT wakeup, SO_ERROR check and epoll_ctl to disarm EPOLLOUT per connection. A
  // socket still in SYN_SENT answers EAGAIN and waits for EPOLLOUT as before.
  const auto sent = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
  if (sent > 0) {
    c.state = phase::upgrading;
    c.out_off = static_cast<std::size_t>(sent);
  } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    fail(std::string("connect: ") + std::strerror(errno));
    ++r_.unexpected_closes;
    close_connection(idx);
    return idx;
  }
  const bool pending = c.out_off < c.out.size();
  if (!pending) {
    c.out.clear();
    c.out_off = 0;
  }
  if (!registered || pending != c.writable_armed) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0U);
    ev.data.u64 = (std::uint64_t{c.generation} << 32) | idx;
    epoll_ctl(epoll_, registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev);
  }
  c.writable_armed = pending;
  return idx;
}

void engine::close_connection(std::uint32_t idx) {
  auto& c = conns_[idx];
  if (c.fd < 0) return;
  ::close(c.fd);  // also removes it from the epoll set
  release_slot(idx);
}

void engine::release_slot(std::uint32_t idx) {
  auto& c = conns_[idx];
  if (c.state == phase::connecting || c.state == phase::upgrading) --connecting_;
  c.fd = -1;
  c.state = phase::closed;
  if (c.kind == role::publisher) publisher_open_ = false;
  if (c.kind == role::subscriber) --live_subscribers_;
  if (sc_.churn_concurrency > 0) free_slots_.push_back(idx);
}

void engine::abort_connection(std::uint32_t idx) {
  auto& c = conns_[idx];
  // connect(AF_UNSPEC) on a TCP socket is tcp_disconnect(): a RST to the server (as close() with
  // SO_LINGER 0 sends), no TIME_WAIT on either end (10k+ cycles a second would use up the ephemeral
  // ports), no FIN/ACK exchange, and the socket stays open and in the epoll set for the slot's next
  // connect: no socket(), close() and epoll_ctl(ADD) per cycle.
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  const bool recyclable = sc_.churn_concurrency > 0 && c.kind == role::subscriber;
  if (recyclable && ::connect(c.fd, &unspec, sizeof unspec) == 0) {
    c.spare_fd = c.fd;
    release_slot(idx);
    return;
  }
  const linger abort{1, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  close_connection(idx);
}

void engine::fail(std::string message) {
  if (r_.error.empty()) r_.error = std::move(message);
}

void engine::send_frame(std::uint32_t idx, opcode op, std::string_view payload) {
  auto& c = conns_[idx];
  if (c.fd < 0) return;
  mask_ = mask_ * 1664525U + 1013904223U;
  append_frame(c.out, op, payload, mask_);
  flush(idx);
}

void engine::flush(std::uint32_t idx) {
  auto& c = conns_[idx];
  if (c.state == phase::connecting) return;  // the upgrade request waits for the connect
  while (c.out_off < c.out.size()) {
    const auto n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    ++r_.unexpected_closes;
    close_connection(idx);
    return;
  }
  const bool pending = c.out_off < c.out.size();
  if (!pending) {
    c.out.clear();
    c.out_off = 0;
  }
  if (pending != c.writable_armed) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0U);
    ev.data.u64 = (std::uint64_t{c.generation} << 32) | idx;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    c.writable_armed = pending;
  }
}

void engine::publish(bool setup) {
  const std::uint32_t p = next_process_;
  next_process_ = (next_process_ + 1) % sc_.processes;
  const std::uint64_t id = next_id_++;
  payload_.clear();
  payload_ += R"({"type":"publish","id":")";
  payload_ += std::to_string(id);
  payload_ += R"(","process_id":")";
  payload_ += prefix_;
  payload_ += '-';
  payload_ += std::to_string(p);
  payload_ += '"';
  if (setup && sc_.finished_processes) payload_ += R"(,"state":"completed","result":{"ok":true})";
  payload_ += R"(,"data":{"bench_t":)";
  payload_ += std::to_string(now_ns());
  payload_ += R"(,"bench_n":)";
  payload_ += std::to_string(id);
  payload_ += "}}";
  ++in_flight_;
  if (measuring_) ++r_.published;
  send_frame(publisher_, opcode::text, payload_);
}

void engine::poll(int timeout_ms) {
  const int n = epoll_wait(epoll_, events_.data(), max_events, timeout_ms);
  reads_.clear();
  for (int i = 0; i < n; ++i) {
    const epoll_event& e = events_[static_cast<std::size_t>(i)];
    const auto idx = static_cast<std::uint32_t>(e.data.u64 & 0xFFFFFFFFU);
    const auto gen = static_cast<std::uint32_t>(e.data.u64 >> 32);
    if (idx >= conns_.size() || conns_[idx].generation != gen || conns_[idx].fd < 0) continue;
    on_event(idx, e.events);
  }
  if (reads_.empty()) return;
  reader_->read_all(reads_, [this](const recv_request& r) {
    const auto idx = static_cast<std::uint32_t>(r.tag & 0xFFFFFFFFU);
    // Handling an earlier socket's bytes may have closed this one (or given its slot a new socket).
    if (conns_[idx].generation != static_cast<std::uint32_t>(r.tag >> 32) || conns_[idx].fd != r.fd) return;
    if (r.result == -EAGAIN || r.result == -EWOULDBLOCK || r.result == -EINTR) return;
    on_read(idx, r.result, r.data);
  });
}

void engine::on_event(std::uint32_t idx, std::uint32_t events) {
  auto& c = conns_[idx];
  if (c.state == phase::connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(std::string("connect: ") + std::strerror(err));
      ++r_.unexpected_closes;
      close_connection(idx);
      return;
    }
    c.state = phase::upgrading;
  }
  if ((events & EPOLLOUT) != 0) flush(idx);
  if (c.fd < 0 || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) return;
  if (reader_) {
    reads_.push_back(recv_request{c.fd, (std::uint64_t{c.generation} << 32) | idx, 0, {}});
  } else {
    on_readable(idx);
  }
}

void engine::on_readable(std::uint32_t idx) {
  for (;;) {
    if (conns_[idx].fd < 0) return;
    const auto n = ::recv(conns_[idx].fd, scratch_.data(), scratch_.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    on_read(idx, n, std::string_view(scratch_.data(), n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n <= 0 || static_cast<std::size_t>(n) < scratch_.size()) return;
  }
}

void engine::on_read(std::uint32_t idx, long n, std::string_view chunk) {
  auto& c = conns_[idx];
  if (n <= 0) {
    if (c.state == phase::closing) {
      if (sc_.churn_concurrency > 0 && measuring_) ++r_.cycles;
    } else {
      ++r_.unexpected_closes;
      if (r_.unexpected_closes == 1) fail("server closed a connection");
    }
    close_connection(idx);
    return;
  }
  read_ns_ = 0;  // read lazily by the first timed frame of this chunk
  if (c.in.empty()) {
    const auto used = consume(idx, chunk);
    if (conns_[idx].fd >= 0 && used < chunk.size()) conns_[idx].in.assign(chunk.substr(used));
  } else {
    c.in.append(chunk);
    const auto used = consume(idx, c.in);
    if (conns_[idx].fd >= 0) conns_[idx].in.erase(0, used);
  }
}

std::size_t engine::consume(std::uint32_t idx, std::string_view data) {
  std::size_t used = 0;
  if (conns_[idx].state == phase::upgrading) {
    const upgrade_reply reply = parse_upgrade_response(data);
    if (reply.status == upgrade_status::incomplete) return 0;
    if (reply.status != upgrade_status::accepted) {
      const std::string status_line(data.substr(0, data.find('\r')));
      fail(reply.status == upgrade_status::refused
               ? "upgrade refused: " + status_line
               : "upgrade without the right Sec-WebSocket-Accept: " + status_line);
      close_connection(idx);
      return 0;
    }
    conns_[idx].state = phase::open;
    --connecting_;
    if (conns_[idx].kind == role::publisher) publisher_open_ = true;
    used = reply.head;
  }
  while (conns_[idx].fd >= 0) {
    frame_view f{};
    const auto st = parse_frame(data.substr(used), f);
    if (st == parse_status::need_more) break;
    if (st == parse_status::protocol_error) {
      fail("WebSocket protocol error from the server");
      close_connection(idx);
      break;
    }
    used += f.consumed;
    switch (f.op) {
      case opcode::text:
        on_text(idx, f.payload);
        break;
      case opcode::ping:
        send_frame(idx, opcode::pong, f.payload);
        break;
      case opcode::close:
        if (conns_[idx].state == phase::closing) {
          if (sc_.churn_concurrency > 0 && measuring_) ++r_.cycles;
        } else {
          ++r_.unexpected_closes;
          fail("server sent close");
        }
        close_connection(idx);
        break;
      default:
        break;
    }
  }
  return used;
}

void engine::on_text(std::uint32_t idx, std::string_view frame) {
  auto& c = conns_[idx];
  const frame_fields f = scan_fields(frame);
  const auto type = f.type;
  if (type == "progress") {
    const auto seq = f.seq.value_or(0);
    if (seq <= c.last_seq) {
      ++r_.duplicates;
    } else {
      if (c.has_view && seq > c.last_seq + 1) r_.undelivered += seq - c.last_seq - 1;
      c.last_seq = seq;
    }
    if (is_terminal_state(f.state)) c.terminal = true;
    if (measuring_) {
      ++r_.delivered;
      if (const auto t = f.bench_t) {
        // Frames that came in one read arrived together: one clock reading per read.
        if (read_ns_ == 0) read_ns_ = now_ns();
        r_.latency_us.record(read_ns_ > *t ? (read_ns_ - *t) / 1000U : 0);
      }
    }
    return;
  }
  if (type == "snapshot") {
    c.last_seq = f.seq.value_or(0);
    c.terminal = is_terminal_state(f.state);
    if (!c.has_view) {
      c.has_view = true;
      ++views_;
    }
    if (sc_.churn_concurrency > 0 && c.terminal && c.state == phase::open) {
      if (sc_.churn_close == close_mode::reset) {
        // The cycle is what a page load needs: 101 received, then the terminal snapshot.
        if (measuring_) ++r_.cycles;
        abort_connection(idx);
        return;
      }
      c.state = phase::closing;
      send_frame(idx, opcode::close, std::string_view("\x03\xe8", 2));
    }
    return;
  }
  if (type == "ack") {
    --in_flight_;
    if (measuring_) ++r_.acked;
    const auto seq = f.seq.value_or(0);
    const auto dash = f.process_id.rfind('-');
    if (dash != std::string_view::npos) {
      // process ids end in "-<index>"
      std::uint32_t p = 0;
      for (auto i = dash + 1; i < f.process_id.size(); ++i) {
        p = p * 10 + static_cast<std::uint32_t>(f.process_id[i] - '0');
      }
      if (p < final_seq_.size()) final_seq_[p] = std::max(final_seq_[p], seq);
    }
    return;
  }
  if (type == "ping") {
    payload_.assign(R"({"type":"pong"})");
    send_frame(idx, opcode::text, payload_);
    return;
  }
  if (type == "error") {
    ++r_.error_frames;
    if (c.kind == role::publisher && frame.find("\"id\":") != std::string_view::npos) --in_flight_;
    if (error_lines_++ < error_lines_max) {
      std::fprintf(stderr, "error frame: %.*s\n", static_cast<int>(frame.size()), frame.data());
    }
    return;
  }
  if (type == "pending") {
    fail("subscriber got pending: the process was not created");
  }
  // hello, pong: nothing to do
}

bool engine::wait_until(const std::function<bool()>& done, double deadline_s, const char* what) {
  const auto deadline = now_ns() + static_cast<std::uint64_t>(deadline_s * 1e9);
  while (!done()) {
    if (now_ns() > deadline) {
      fail(std::string("timed out: ") + what);
      return false;
    }
    poll(10);
  }
  return true;
}

result engine::run() {
  if (!r_.error.empty()) return r_;
  publisher_ = open_connection(role::publisher, 0, 0);
  if (!wait_until([&] { return publisher_open_ || !r_.error.empty(); }, 10, "publisher connect") ||
      !r_.error.empty()) {
    return r_;
  }

  // Every process exists (running, or finished) before anyone subscribes, so subscribers start
  // from a snapshot and all later events count.
  for (std::uint32_t p = 0; p < sc_.processes; ++p) {
    publish(true);
    if (in_flight_ >= sc_.window) {
      wait_until([&] { return in_flight_ < sc_.window; }, setup_deadline_s, "setup acks");
    }
  }
  if (!wait_until([&] { return in_flight_ == 0; }, setup_deadline_s, "setup acks") || !r_.error.empty()) {
    return r_;
  }

  if (sc_.churn_concurrency > 0) {
    measuring_ = true;
    const auto t0 = now_ns();
    const auto cpu0 = cpu_ns();
    const auto end = t0 + static_cast<std::uint64_t>(sc_.duration_s * 1e9);
    std::uint32_t ordinal = 0;
    while (now_ns() < end && r_.error.empty()) {
      while (live_subscribers_ < sc_.churn_concurrency && r_.error.empty()) {
        open_connection(role::subscriber, ordinal++ % sc_.processes, 0);
      }
      poll(1);
    }
    r_.measured_s = static_cast<double>(now_ns() - t0) / 1e9;
    r_.generator_cpu = static_cast<double>(cpu_ns() - cpu0) / static_cast<double>(now_ns() - t0);
    return r_;
  }

  const long rss0 = tg_.server_pid > 0 ? read_rss_bytes(tg_.server_pid) : -1;
  const auto setup0 = now_ns();
  const auto cpu_setup0 = cpu_ns();
  std::uint32_t opened = 0;
  const bool ok = wait_until(
      [&] {
        while (opened < sc_.subscribers && connecting_ < sc_.connect_batch) {
          open_connection(role::subscriber, opened % sc_.processes, opened);
          ++opened;
        }
        return (opened == sc_.subscribers && views_ == sc_.subscribers) || !r_.error.empty();
      },
      setup_deadline_s, "subscribers' snapshots");
  r_.setup_s = static_cast<double>(now_ns() - setup0) / 1e9;
  if (!ok || !r_.error.empty()) return r_;

  if (!sc_.publish) {
    if (sc_.hold_s > 0) {
      const auto until = now_ns() + static_cast<std::uint64_t>(sc_.hold_s * 1e9);
      while (now_ns() < until) poll(10);
    }
    if (rss0 > 0) {
      const long rss1 = read_rss_bytes(tg_.server_pid);
      r_.rss_per_conn_bytes = static_cast<double>(rss1 - rss0) / static_cast<double>(sc_.subscribers);
    }
    r_.measured_s = r_.setup_s;
    r_.generator_cpu = static_cast<double>(cpu_ns() - cpu_setup0) / static_cast<double>(now_ns() - setup0);
    bool all_terminal = true;
    for (const auto& c : conns_) all_terminal = all_terminal && (c.kind == role::publisher || c.terminal);
    if (sc_.finished_processes && !all_terminal) fail("a subscriber's snapshot was not terminal");
    return r_;
  }

  measuring_ = true;
  const auto t0 = now_ns();
  const auto cpu0 = cpu_ns();
  const auto end = t0 + static_cast<std::uint64_t>(sc_.duration_s * 1e9);
  std::uint64_t sent = 0;
  for (auto now = t0; now < end && r_.error.empty(); now = now_ns()) {
    const double elapsed_ns = static_cast<double>(now - t0);
    std::uint64_t due = sc_.publish_rate > 0 ? static_cast<std::uint64_t>(elapsed_ns * sc_.publish_rate / 1e9)
                                             : sent + sc_.window;
    while (sent < due && in_flight_ < sc_.window) {
      publish(false);
      ++sent;
    }
    poll(sc_.publish_rate > 0 ? 1 : 0);
    if (sc_.publish_rate <= 0 && in_flight_ >= sc_.window) poll(1);
  }
  r_.measured_s = static_cast<double>(now_ns() - t0) / 1e9;
  r_.generator_cpu = static_cast<double>(cpu_ns() - cpu0) / static_cast<double>(now_ns() - t0);
  measuring_ = false;

  // Let the last publishes arrive, then count what each subscriber never received.
  auto all_delivered = [&] {
    if (in_flight_ != 0) return false;
    for (const auto& c : conns_) {
      if (c.kind == role::subscriber && c.fd >= 0 && c.last_seq < final_seq_[c.process]) return false;
    }
    return true;
  };
  const auto deadline = now_ns() + static_cast<std::uint64_t>(drain_deadline_s * 1e9);
  while (!all_delivered() && now_ns() < deadline) poll(10);
  for (const auto& c : conns_) {
    if (c.kind == role::subscriber && c.last_seq < final_seq_[c.process]) {
      r_.undelivered += final_seq_[c.process] - c.last_seq;
    }
  }
  return r_;
}

}  // namespace

result run(const scenario& sc, const target& tg) {
  engine e(sc, tg);
  return e.run();
}

}  // namespace progress::bench
