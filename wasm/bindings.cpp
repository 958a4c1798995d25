// The JavaScript face of progress::ClientSession: one embind class with raw `_methods` that the
// web package's session wrapper (web/src/session.js) turns into an ergonomic API.
//
// Everything structured crosses the boundary as JSON text rather than as embind value_objects:
// the core already links nlohmann/json, so one serializer here costs less code than a
// value_object/enum_/register_vector instantiation per type (a ProcessView alone has 15 fields,
// nested spans and optional JSON), and the JS side gets plain objects with no `.delete()` to
// forget. Times cross as doubles: embind maps int64 to BigInt, which every caller would have to
// convert from Date.now().
//
// No exception may reach JavaScript (an escaping C++ exception surfaces as an opaque number and
// leaves the session half-updated), so every entry point runs under `guarded`, which reports a
// failure as a returned message the wrapper turns into a thrown Error.
#include <cmath>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include <emscripten/bind.h>
#include <malloc.h>

#include "progress/client_json.hpp"
#include "progress/client_session.hpp"
#include "progress/codec.hpp"
#include "progress/protocol.hpp"

namespace {

using progress::Json;
using progress::Millis;

Millis to_millis(double now) {
  return std::isfinite(now) ? static_cast<Millis>(now) : 0;
}

template <class Fn>
std::string guarded(Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
    return {};
  } catch (const std::exception& e) {
    return std::string("progress_wasm: ") + e.what();
  } catch (...) {
    return "progress_wasm: unknown exception";
  }
}

class Session {
 public:
  explicit Session(const std::string& config_json) {
    config_error_ = guarded([&] { session_.emplace(progress::client_config_from_json(Json::parse(config_json))); });
    if (!session_) session_.emplace(progress::ClientConfig{});
  }

  // Empty when the configuration was accepted; the wrapper throws otherwise.
  std::string config_error() const { return config_error_; }

  std::string start(double now) {
    return guarded([&] { session_->start(to_millis(now)); });
  }
  std::string subscribe(const std::string& id, double now) {
    return guarded([&] { session_->subscribe(id, to_millis(now)); });
  }
  std::string unsubscribe(const std::string& id, double now) {
    return guarded([&] { session_->unsubscribe(id, to_millis(now)); });
  }
  std::string reconnect(double now) {
    return guarded([&] { session_->reconnect(to_millis(now)); });
  }
  std::string stop(double now) {
    return guarded([&] { session_->stop(to_millis(now)); });
  }
  std::string on_open(progress::Generation gen, double now) {
    return guarded([&] { session_->on_open(gen, to_millis(now)); });
  }
  std::string on_text(progress::Generation gen, const std::string& text, double now) {
    return guarded([&] { session_->on_text(gen, text, to_millis(now)); });
  }
  std::string on_close(progress::Generation gen, int code, const std::string& reason, double now) {
    return guarded([&] { session_->on_close(gen, code, reason, to_millis(now)); });
  }
  std::string on_error(progress::Generation gen, double now) {
    return guarded([&] { session_->on_error(gen, to_millis(now)); });
  }
  std::string on_timer(double now) {
    return guarded([&] { session_->on_timer(to_millis(now)); });
  }
  std::string on_online(double now) {
    return guarded([&] { session_->on_online(to_millis(now)); });
  }
  std::string on_offline(double now) {
    return guarded([&] { session_->on_offline(to_millis(now)); });
  }
  std::string on_visible(double now) {
    return guarded([&] { session_->on_visible(to_millis(now)); });
  }
  std::string on_hidden(double now) {
    return guarded([&] { session_->on_hidden(to_millis(now)); });
  }

  // Actions and events drained together in one crossing: {"actions":[...],"events":[...]}.
  // The host must carry out every action in order before it polls again.
  std::string poll() {
    std::string out;
    const std::string failure = guarded([&] {
      Json actions = Json::array();
      for (const auto& a : session_->poll_actions()) actions.push_back(progress::action_to_json(a));
      Json events = Json::array();
      for (const auto& e : session_->poll_events()) events.push_back(progress::event_to_json(e));
      out = Json{{"actions", std::move(actions)}, {"events", std::move(events)}}.dump();
    });
    return failure.empty() ? out : Json{{"failure", failure}}.dump();
  }

  // -1 when no timer is wanted (timestamps are never negative).
  double timeout() const {
    const auto at = session_->poll_timeout();
    return at ? static_cast<double>(*at) : -1.0;
  }

  std::string state() const { return std::string(progress::to_string(session_->state())); }

  // The view as JSON, or "" when the process is not watched.
  std::string view(const std::string& id) const {
    const auto* v = session_->view(id);
    return v ? progress::view_to_json(*v).dump() : std::string();
  }

  std::string process_ids() const { return Json(session_->process_ids()).dump(); }

 private:
  std::optional<progress::ClientSession> session_;
  std::string config_error_;
};

// The codec for hosts that look at frames themselves (demo page, tests):
// {"frame": {...}} or {"error": {"code", "message"}}.
std::string decode_server_frame(const std::string& text) {
  auto result = progress::decode_server_frame(text);
  if (!result) return Json{{"error", progress::error_to_json(result.error())}}.dump();
  return Json{{"frame", progress::to_json(result.value())}}.dump();
}

bool is_valid_process_id(const std::string& id) { return progress::is_valid_process_id(id); }

// Bytes currently allocated by malloc. The wasm memory only ever grows, and the first growth
// comes after megabytes, so a leak test needs the allocator's own count to see a few bytes lost
// per session (web/test/memory.test.js).
double heap_in_use() { return static_cast<double>(mallinfo().uordblks); }

}  // namespace

EMSCRIPTEN_BINDINGS(progress_wasm) {
  namespace em = emscripten;
  em::class_<Session>("Session")
      .constructor<const std::string&>()
      .function("_configError", &Session::config_error)
      .function("_start", &Session::start)
      .function("_subscribe", &Session::subscribe)
      .function("_unsubscribe", &Session::unsubscribe)
      .function("_reconnect", &Session::reconnect)
      .function("_stop", &Session::stop)
      .function("_onOpen", &Session::on_open)
      .function("_onText", &Session::on_text)
      .function("_onClose", &Session::on_close)
      .function("_onError", &Session::on_error)
      .function("_onTimer", &Session::on_timer)
      .function("_onOnline", &Session::on_online)
      .function("_onOffline", &Session::on_offline)
      .function("_onVisible", &Session::on_visible)
      .function("_onHidden", &Session::on_hidden)
      .function("_poll", &Session::poll)
      .function("_timeout", &Session::timeout)
      .function("_state", &Session::state)
      .function("_view", &Session::view)
      .function("_processIds", &Session::process_ids);
  em::function("_decodeServerFrame", &decode_server_frame);
  em::function("_isValidProcessId", &is_valid_process_id);
  em::function("_heapInUse", &heap_in_use);
}
