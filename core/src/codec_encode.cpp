// The one encoder: every frame is written with appends (json_writer.hpp) into a stack buffer, in
// the bytes nlohmann's dump() gave when it was the encoder (keys in byte order, ensure_ascii off,
// invalid UTF-8 replaced by U+FFFD, integral percents as integers), so the wire did not change
// with it. nlohmann only holds the user JSON (`data`, `result`, `error`), which is walked here too.
#include <array>
#include <cstdint>
#include <cstring>
#include <variant>

#include "progress/codec.hpp"
#include "progress/json_writer.hpp"

namespace progress {
namespace {

using namespace json_writer;

// The stack buffer of one encode: an event with a small `data` takes about 200 bytes.
constexpr std::size_t kStackFrameBytes = 1024;

// A fixed buffer on the stack: appends are an inline bounds check and a memcpy, where std::string's
// are an out-of-line call each (a few dozen of them per event). A frame that does not fit marks
// the buffer full and is written again into a std::string (the writers take either).
template <std::size_t Capacity>
class FixedOut {
 public:
  // Inlined into every writer, as it was when one function wrote the whole event.
  [[gnu::always_inline]] void append(const char* data, std::size_t n) {
    if (n > Capacity - size_) {
      full_ = true;
      return;
    }
    std::memcpy(buffer_.data() + size_, data, n);
    size_ += n;
  }
  // A literal's length is known when compiled: the copy is a fixed-size move, not a strlen and a call.
  template <std::size_t N>
  FixedOut& operator+=(const char (&literal)[N]) {
    if (N - 1 > Capacity - size_) {
      full_ = true;
    } else {
      std::memcpy(buffer_.data() + size_, literal, N - 1);
      size_ += N - 1;
    }
    return *this;
  }
  FixedOut& operator+=(std::string_view s) {
    append(s.data(), s.size());
    return *this;
  }
  FixedOut& operator+=(char c) {
    append(&c, 1);
    return *this;
  }
  bool full() const noexcept { return full_; }
  std::string str() const { return std::string(buffer_.data(), size_); }

 private:
  std::array<char, Capacity> buffer_;
  std::size_t size_ = 0;
  bool full_ = false;
};

template <class Out>
void write_stages(Out& out, const std::vector<StageSpan>& stages) {
  out += '[';
  bool first = true;
  for (const StageSpan& span : stages) {
    if (!first) out += ',';
    first = false;
    ObjectWriter<Out> item(out);
    if (span.ended_at) item.integer("ended_at", *span.ended_at);
    item.string("name", span.name);
    item.integer("started_at", span.started_at);
    item.close();
  }
  out += ']';
}

// `,"key":value` (the key and its punctuation one literal) for the frames of the fan-out.
template <class Out, std::size_t N>
void field(Out& out, const char (&key)[N], std::string_view value) {
  out += key;
  append_string(out, value);
}
template <class Out, std::size_t N>
void json_field(Out& out, const char (&key)[N], const Json& value) {
  out += key;
  append_json(out, value);
}
template <class Out, std::size_t N, class Int>
  requires std::is_integral_v<Int>
void field(Out& out, const char (&key)[N], Int value) {
  out += key;
  append_int(out, value);
}

template <class Out, std::size_t N>
void field(Out& out, const char (&key)[N], State value) {
  out += key;
  out += '"';
  out += to_string(value);  // no state name needs escaping
  out += '"';
}
template <class Out, std::size_t N>
void field(Out& out, const char (&key)[N], const std::vector<StageSpan>& stages) {
  out += key;
  write_stages(out, stages);
}
template <class Out, std::size_t N>
void number_field(Out& out, const char (&key)[N], double value) {
  out += key;
  append_number(out, value);
}

enum class ProcessFrame { snapshot, progress, record };

// The process view (ProcessFields, protocol.hpp) with the fields of its frame, in key order;
// `record` is the snapshot served over HTTP, which has no `type`. One line a field.
template <ProcessFrame kind, class Out, class Frame>
void write_process(Out& out, const Frame& f) {
  constexpr bool progress = kind == ProcessFrame::progress;
  json_field(out, R"({"data":)", plain(f.data));
  field(out, R"(,"epoch":)", f.epoch);
  if (f.error) json_field(out, R"(,"error":)", *f.error);
  field(out, R"(,"message":)", plain(f.message));
  number_field(out, R"(,"percent":)", f.percent);
  field(out, R"(,"process_id":)", f.process_id);
  if (f.result) json_field(out, R"(,"result":)", *f.result);
  field(out, R"(,"seq":)", f.seq);
  field(out, R"(,"stage":)", f.stage);
  if constexpr (!progress) field(out, R"(,"stages":)", f.stages);
  field(out, R"(,"state":)", f.state);
  if constexpr (progress) field(out, R"(,"ts":)", f.ts);
  if constexpr (progress) out += R"(,"type":"progress")";
  if constexpr (kind == ProcessFrame::snapshot) out += R"(,"type":"snapshot")";
  if constexpr (!progress) field(out, R"(,"updated_at":)", f.updated_at);
  out += '}';
}

template <class Out>
struct ServerWriter {
  Out& out;
  void operator()(const Hello& h) const {
    ObjectWriter<Out> o(out);
    o.integer("heartbeat_ms", h.heartbeat_ms);
    o.integer("protocol", h.protocol);
    o.string("server", h.server);
    o.string("type", "hello");
    o.close();
  }
  void operator()(const Snapshot& s) const { write_process<ProcessFrame::snapshot>(out, s); }
  void operator()(const ProgressEvent& p) const { write_process<ProcessFrame::progress>(out, p); }
  void operator()(const Pending& p) const {
    ObjectWriter<Out> o(out);
    o.string("process_id", p.process_id);
    o.string("type", "pending");
    o.close();
  }
  void operator()(const Error& e) const {
    ObjectWriter<Out> o(out);
    o.string("code", to_string(e.code));
    if (e.id) o.string("id", *e.id);
    o.string("message", e.message);
    if (e.process_id) o.string("process_id", *e.process_id);
    if (e.reason) o.string("reason", to_string(*e.reason));
    o.string("type", "error");
    o.close();
  }
  void operator()(const Ping& p) const { timestamped(p.ts, "ping"); }
  void operator()(const Pong& p) const { timestamped(p.ts, "pong"); }
  void operator()(const Ack& a) const {  // one per publish: written as the fan-out's frames are
    field(out, R"({"id":)", a.id);
    field(out, R"(,"process_id":)", a.process_id);
    field(out, R"(,"seq":)", a.seq);
    out += R"(,"type":"ack"})";
  }
  void operator()(const Health& h) const {
    ObjectWriter<Out> o(out);
    o.integer("connections", h.connections);
    o.integer("processes", h.processes);
    o.string("type", "health");
    o.integer("uptime_s", h.uptime_s);
    o.close();
  }
  void timestamped(const std::optional<std::int64_t>& ts, const char* type) const {
    ObjectWriter<Out> o(out);
    if (ts) o.integer("ts", *ts);
    o.string("type", type);
    o.close();
  }
};

template <class Out>
struct ClientWriter {
  Out& out;
  void operator()(const Subscribe& s) const {
    ObjectWriter<Out> o(out);
    if (s.after_seq) o.integer("after_seq", *s.after_seq);
    if (s.epoch) o.string("epoch", *s.epoch);
    o.string("process_id", s.process_id);
    if (s.token) o.string("token", *s.token);
    o.string("type", "subscribe");
    o.close();
  }
  void operator()(const Unsubscribe& u) const {
    ObjectWriter<Out> o(out);
    o.string("process_id", u.process_id);
    o.string("type", "unsubscribe");
    o.close();
  }
  void operator()(const Ping& p) const { ServerWriter<Out>{out}(p); }
  void operator()(const Pong& p) const { ServerWriter<Out>{out}(p); }
  void operator()(const Publish& p) const {
    ObjectWriter<Out> o(out);
    if (p.data) o.json("data", *p.data);
    if (p.error) o.json("error", *p.error);
    if (p.id) o.string("id", *p.id);
    if (p.idempotency_key) o.string("idempotency_key", *p.idempotency_key);
    if (p.lease_ms) o.integer("lease_ms", *p.lease_ms);
    if (p.message) o.string("message", *p.message);
    if (p.percent) append_number(o.key("percent"), *p.percent);
    o.string("process_id", p.process_id);
    if (p.result) o.json("result", *p.result);
    if (p.stage) o.string("stage", *p.stage);
    if (p.state) o.string("state", to_string(*p.state));
    o.string("type", "publish");
    o.close();
  }
};

// Most frames fit the stack buffer; the rest (large `data`, `result` or `error`) are written again
// into a string. The browser's module (wasm/module.cmake) writes every frame into the string: it
// encodes a frame per subscribe, and a second copy of each writer would cost it kilobytes.
template <class Write>
std::string encode_with(Write write) {
#ifndef PROGRESS_ENCODE_INTO_STRING
  FixedOut<kStackFrameBytes> fixed;
  write(fixed);
  if (!fixed.full()) return fixed.str();
#endif
  std::string text;
  text.reserve(kStackFrameBytes * 2);
  write(text);
  return text;
}

}  // namespace

std::string encode(const ServerFrame& frame) {
  return encode_with([&](auto& out) { std::visit(ServerWriter<std::decay_t<decltype(out)>>{out}, frame); });
}

std::string encode(const ClientFrame& frame) {
  return encode_with([&](auto& out) { std::visit(ClientWriter<std::decay_t<decltype(out)>>{out}, frame); });
}

std::string encode_event(const ProgressEvent& event) {
  return encode_with([&](auto& out) { write_process<ProcessFrame::progress>(out, event); });
}

std::string encode_record(const Snapshot& snapshot) {
  return encode_with([&](auto& out) { write_process<ProcessFrame::record>(out, snapshot); });
}

std::string encode_json(const Json& value) {
  return encode_with([&](auto& out) { append_json(out, value); });
}

std::string encode_http_error(const Error& error) {
  return encode_with([&](auto& out) {
    ObjectWriter<std::decay_t<decltype(out)>> body(out);
    ObjectWriter<std::decay_t<decltype(out)>> inner(body.key("error"));
    inner.string("code", to_string(error.code));
    inner.string("message", error.message);
    if (error.reason) inner.string("reason", to_string(*error.reason));
    inner.close();
    body.close();
  });
}

Json to_json(const ServerFrame& frame) { return Json::parse(encode(frame)); }
Json to_json(const ClientFrame& frame) { return Json::parse(encode(frame)); }
Json to_json(const Snapshot& snapshot) { return Json::parse(encode_record(snapshot)); }

}  // namespace progress
