// The JavaScript face of progress::ClientSession: plain C exports over a session handle, which the
// web package's session wrapper (web/src/session.js) turns into an ergonomic API.
//
// Plain exports instead of embind: embind's C++ registry and its JS runtime were a third of the
// gzipped bundle (issue #5) for twenty calls that only move numbers and UTF-8 text. A session is a
// pointer the wrapper holds and hands back to `pw_session_delete` exactly once.
//
// Strings in: the wrapper writes UTF-8 into memory it got from `malloc`, passes pointer and length
// (so a frame may hold NUL bytes), and frees it after the call. Strings out: a NUL-terminated copy
// from `malloc` that the wrapper reads and frees; NUL can end them because everything returned is
// JSON text (control characters escaped), a state name or an exception message.
//
// Everything structured crosses as JSON text: the core already links nlohmann/json, and the JS side
// gets plain objects. Times cross as doubles (what Date.now() gives).
//
// No exception may reach JavaScript (it would surface as an opaque trap and leave the session
// half-updated), so every entry point runs under `guarded`, which returns a failure as a message
// the wrapper turns into a thrown Error; a null result means success.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <emscripten/emscripten.h>
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

std::string_view text_of(const char* data, std::size_t size) {
  return size ? std::string_view(data, size) : std::string_view();
}

// The caller (JavaScript) owns the copy and frees it.
char* give(std::string_view text) {
  auto* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (!out) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

// One try/catch for every entry point (kept out of line: a copy of the handlers per call site was
// a few hundred bytes each).
[[gnu::noinline]] char* run_guarded(void (*call)(void*), void* fn) {
  try {
    call(fn);
    return nullptr;
  } catch (const std::exception& e) {
    return give(std::string("progress_wasm: ") + e.what());
  } catch (...) {
    return give("progress_wasm: unknown exception");
  }
}

template <class Fn>
char* guarded(Fn&& fn) {
  return run_guarded([](void* f) { (*static_cast<std::remove_reference_t<Fn>*>(f))(); }, &fn);
}

// The calls whose result is JSON report a failure as "!" and the message: no JSON text starts
// with "!", and the wrapper needs no second channel for it.
char* failure_text(char* failure) {
  const std::size_t size = std::strlen(failure);
  auto* out = static_cast<char*>(std::malloc(size + 2));
  if (out) {
    out[0] = '!';
    std::memcpy(out + 1, failure, size + 1);
  }
  std::free(failure);
  return out;
}

struct Session {
  std::optional<progress::ClientSession> session;
  std::string config_error;
};

}  // namespace

extern "C" {

// Never null: a refused configuration leaves a default session and a message in
// pw_session_config_error, so the wrapper has one path to free either way.
EMSCRIPTEN_KEEPALIVE Session* pw_session_new(const char* config, std::size_t size) {
  auto* s = new Session;
  char* failure = guarded([&] {
    s->session.emplace(progress::client_config_from_json(Json::parse(text_of(config, size))));
  });
  if (failure) {
    s->config_error = failure;
    std::free(failure);
  }
  if (!s->session) s->session.emplace(progress::ClientConfig{});
  return s;
}

EMSCRIPTEN_KEEPALIVE char* pw_session_config_error(const Session* s) {
  return s->config_error.empty() ? nullptr : give(s->config_error);
}

EMSCRIPTEN_KEEPALIVE void pw_session_delete(Session* s) { delete s; }

// The inputs that carry only a time, by number (one export instead of eight; the order is the
// wrapper's TIME_INPUTS in web/src/session.js).

EMSCRIPTEN_KEEPALIVE char* pw_input(Session* s, int input, double now) {
  using Input = void (progress::ClientSession::*)(Millis);
  static constexpr Input inputs[] = {
      &progress::ClientSession::start,     &progress::ClientSession::reconnect,
      &progress::ClientSession::stop,      &progress::ClientSession::on_timer,
      &progress::ClientSession::on_online, &progress::ClientSession::on_offline,
      &progress::ClientSession::on_visible, &progress::ClientSession::on_hidden,
  };
  if (input < 0 || input >= static_cast<int>(std::size(inputs))) return give("progress_wasm: unknown input");
  return guarded([&] { ((*s->session).*inputs[input])(to_millis(now)); });
}
EMSCRIPTEN_KEEPALIVE char* pw_subscribe(Session* s, const char* id, std::size_t size, double now) {
  return guarded([&] { s->session->subscribe(text_of(id, size), to_millis(now)); });
}
EMSCRIPTEN_KEEPALIVE char* pw_unsubscribe(Session* s, const char* id, std::size_t size, double now) {
  return guarded([&] { s->session->unsubscribe(text_of(id, size), to_millis(now)); });
}
EMSCRIPTEN_KEEPALIVE char* pw_on_open(Session* s, progress::Generation gen, double now) {
  return guarded([&] { s->session->on_open(gen, to_millis(now)); });
}
EMSCRIPTEN_KEEPALIVE char* pw_on_text(Session* s, progress::Generation gen, const char* text,
                                      std::size_t size, double now) {
  return guarded([&] { s->session->on_text(gen, text_of(text, size), to_millis(now)); });
}
EMSCRIPTEN_KEEPALIVE char* pw_on_close(Session* s, progress::Generation gen, int code, const char* reason,
                                       std::size_t size, double now) {
  return guarded([&] { s->session->on_close(gen, code, text_of(reason, size), to_millis(now)); });
}
EMSCRIPTEN_KEEPALIVE char* pw_on_error(Session* s, progress::Generation gen, double now) {
  return guarded([&] { s->session->on_error(gen, to_millis(now)); });
}

// Actions and events drained together in one crossing: {"actions":[...],"events":[...]} (or a
// failure, see failure_text). The host must carry out every action in order before it polls again.
EMSCRIPTEN_KEEPALIVE char* pw_poll(Session* s) {
  std::string out;
  char* failure = guarded([&] {
    Json actions = Json::array();
    for (const auto& a : s->session->poll_actions()) actions.push_back(progress::action_to_json(a));
    Json events = Json::array();
    for (const auto& e : s->session->poll_events()) events.push_back(progress::event_to_json(e));
    out = Json{{"actions", std::move(actions)}, {"events", std::move(events)}}.dump();
  });
  return failure ? failure_text(failure) : give(out);
}

// -1 when no timer is wanted (timestamps are never negative).
EMSCRIPTEN_KEEPALIVE double pw_timeout(const Session* s) {
  const auto at = s->session->poll_timeout();
  return at ? static_cast<double>(*at) : -1.0;
}

EMSCRIPTEN_KEEPALIVE char* pw_state(const Session* s) {
  return give(progress::to_string(s->session->state()));
}

// The view as JSON, or null when the process is not watched (or a failure, see failure_text).
EMSCRIPTEN_KEEPALIVE char* pw_view(const Session* s, const char* id, std::size_t size) {
  char* out = nullptr;
  char* failure = guarded([&] {
    const auto* v = s->session->view(text_of(id, size));
    if (v) out = give(progress::view_to_json(*v).dump());
  });
  return failure ? failure_text(failure) : out;
}

EMSCRIPTEN_KEEPALIVE char* pw_process_ids(const Session* s) {
  char* out = nullptr;
  char* failure = guarded([&] { out = give(Json(s->session->process_ids()).dump()); });
  return failure ? failure_text(failure) : out;
}

// The codec for hosts that look at frames themselves (demo page, tests):
// {"frame": {...}} or {"error": {"code", "message"}} (or a failure, see failure_text).
EMSCRIPTEN_KEEPALIVE char* pw_decode_server_frame(const char* text, std::size_t size) {
  char* out = nullptr;
  char* failure = guarded([&] {
    auto result = progress::decode_server_frame(text_of(text, size));
    if (!result) {
      out = give(Json{{"error", progress::error_to_json(result.error())}}.dump());
    } else {
      out = give(Json{{"frame", progress::to_json(result.value())}}.dump());
    }
  });
  return failure ? failure_text(failure) : out;
}

EMSCRIPTEN_KEEPALIVE int pw_is_valid_process_id(const char* id, std::size_t size) {
  return progress::is_valid_process_id(text_of(id, size)) ? 1 : 0;
}

// Bytes currently allocated by malloc. The wasm memory only ever grows, and the first growth
// comes after megabytes, so a leak test needs the allocator's own count to see a few bytes lost
// per session (web/test/memory.test.js).
EMSCRIPTEN_KEEPALIVE double heapInUse() { return static_cast<double>(mallinfo().uordblks); }

}  // extern "C"
