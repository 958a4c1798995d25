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
// Everything structured crosses as JSON text, written by the core's writers (client_json.hpp), so
// the JS side gets plain objects from JSON.parse. Times cross as doubles: performance.now()
// (monotonic) and Date.now() (wall).
//
// No exception may reach JavaScript (it would surface as an opaque trap and leave the session
// half-updated), so every entry point runs under `guarded`. A failing input is reported by the
// next pw_poll as an `internal` error event, decided here rather than by the page; the other
// calls return the failure as a message the wrapper turns into a thrown Error.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <emscripten/emscripten.h>
#include <malloc.h>

#include "progress/client_json.hpp"
#include "progress/client_session.hpp"
#include "progress/codec.hpp"
#include "progress/json_writer.hpp"
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

// The comma before every item of a JSON list but its first.
void next_item(std::string& out) {
  if (out.back() != '[') out += ',';
}

struct Session {
  std::optional<progress::ClientSession> session;
  std::string config_error;
  std::vector<std::string> failures;  // reported by the next pw_poll
};

}  // namespace

extern "C" {

// Never null: a refused configuration leaves a default session and a message in
// pw_session_config_error, so the wrapper has one path to free either way.
EMSCRIPTEN_KEEPALIVE Session* pw_session_new(const char* config, std::size_t size) {
  auto* s = new Session;
  char* failure = guarded([&] {
    // Read by the core's own JSON reader: nlohmann's parser is then not in the module at all.
    auto options = progress::decode_json(text_of(config, size));
    if (!options) throw std::invalid_argument("client options are not JSON: " + options.error().message);
    s->session.emplace(progress::client_config_from_json(options.value()));
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

}  // extern "C"

namespace {

// Every input, by number: one export and one table. JavaScript learns the numbering from
// pw_input_names (the same table), so nothing on its side copies it; the vectors run from JS
// call every input by name, so a case out of step with its name fails them. Each input reads the
// arguments it needs: `text` (a process id, a frame, a close reason), `a` (a generation, or
// pageshow's `persisted`) and `b` (a close code).
struct Input {
  const char* name;
  const char* args;  // what the wrapper passes before `now`, in order: a, b, t(ext)
};

constexpr Input kInputs[] = {
    {"start", ""},        {"reconnect", ""},    {"stop", ""},          {"subscribe", "t"},
    {"unsubscribe", "t"}, {"watch", "t"},       {"release", "t"},      {"retain", ""},
    {"release_client", ""}, {"on_open", "a"},   {"on_text", "at"},     {"on_close", "abt"},
    {"on_error", "a"},    {"on_send_failed", "a"}, {"on_timer", ""},   {"on_online", ""},
    {"on_offline", ""},   {"on_visible", ""},   {"on_hidden", ""},     {"on_pageshow", "a"},
    {"on_token", "t"},    {"on_token_failed", "t"},  // t: "<process id> <token or why>"
};

// kInputs[input] with its arguments: one switch costs the module less than a function each.
void run_input(progress::ClientSession& s, int input, std::string_view t, double a, double b, progress::Now now) {
  const auto gen = static_cast<progress::Generation>(a);
  switch (input) {
    case 0: return s.start(now);
    case 1: return s.reconnect(now);
    case 2: return s.stop(now);
    case 3: return s.subscribe(t, now);
    case 4: return s.unsubscribe(t, now);
    case 5: return s.watch(t, now);
    case 6: return s.release(t, now);
    case 7: return s.retain(now);
    case 8: return s.release_client(now);
    case 9: return s.on_open(gen, now);
    case 10: return s.on_text(gen, t, now);
    case 11: return s.on_close(gen, static_cast<int>(b), t, now);
    case 12: return s.on_error(gen, now);
    case 13: return s.on_send_failed(gen, now);
    case 14: return s.on_timer(now);
    case 15: return s.on_online(now);
    case 16: return s.on_offline(now);
    case 17: return s.on_visible(now);
    case 18: return s.on_hidden(now);
    case 19: return s.on_pageshow(a != 0, now);
    case 20:
    case 21: {
      // A process id has no space, so the first one ends it.
      const auto cut = std::min(t.find(' '), t.size());
      const auto rest = t.substr(std::min(cut + 1, t.size()));
      return input == 20 ? s.on_token(t.substr(0, cut), rest, now) : s.on_token_failed(t.substr(0, cut), rest, now);
    }
    default: return;
  }
}
static_assert(std::size(kInputs) == 22, "every kInputs entry needs its case in run_input");

}  // namespace

extern "C" {

// The input table in order, comma-separated: each name with its arguments after a colon
// ("on_close:abt").
EMSCRIPTEN_KEEPALIVE char* pw_input_names() {
  std::string names;
  for (const auto& input : kInputs) {
    if (!names.empty()) names += ',';
    names += std::string(input.name) + ':' + input.args;
  }
  return give(names);
}

// A C++ failure inside an input is kept and reported by the next pw_poll as an `internal` error
// event, like every other error the page sees; an unknown input number is the wrapper's bug.
EMSCRIPTEN_KEEPALIVE char* pw_input(Session* s, int input, const char* text, std::size_t size, double a, double b,
                                    double mono, double wall) {
  if (input < 0 || input >= static_cast<int>(std::size(kInputs))) return give("progress_wasm: unknown input");
  const progress::Now now{progress::MonoMillis(to_millis(mono)), to_millis(wall)};
  char* failure = guarded([&] { run_input(*s->session, input, text_of(text, size), a, b, now); });
  if (failure) {
    s->failures.emplace_back(failure);
    std::free(failure);
  }
  return nullptr;
}

// Actions and events drained together in one crossing: {"actions":[...],"events":[...]} (or a
// failure, see failure_text). The host must carry out every action in order before it polls again.
EMSCRIPTEN_KEEPALIVE char* pw_poll(Session* s) {
  std::string out;
  char* failure = guarded([&] {
    out = "{\"actions\":[";
    for (const auto& a : s->session->poll_actions()) {
      next_item(out);
      progress::write_action(out, a);
    }
    out += "],\"events\":[";
    for (const auto& e : s->session->poll_events()) {
      next_item(out);
      progress::write_event(out, e);
    }
    for (auto& message : std::exchange(s->failures, {})) {
      next_item(out);
      out += R"({"error":{"code":"internal","message":)";
      progress::json_writer::append_string(out, message);
      out += "}}";
    }
    out += "]}";
  });
  return failure ? failure_text(failure) : give(out);
}

// -1 when no timer is wanted (timestamps are never negative).
EMSCRIPTEN_KEEPALIVE double pw_timeout(const Session* s) {
  const auto at = s->session->poll_timeout();
  return at ? static_cast<double>(at->count()) : -1.0;
}

EMSCRIPTEN_KEEPALIVE char* pw_state(const Session* s) {
  return give(progress::to_string(s->session->state()));
}

// The view as JSON, or null when the process is not watched (or a failure, see failure_text).
EMSCRIPTEN_KEEPALIVE char* pw_view(const Session* s, const char* id, std::size_t size) {
  char* out = nullptr;
  char* failure = guarded([&] {
    if (const auto* v = s->session->view(text_of(id, size))) {
      std::string text;
      progress::write_view(text, *v);
      out = give(text);
    }
  });
  return failure ? failure_text(failure) : out;
}

EMSCRIPTEN_KEEPALIVE char* pw_process_ids(const Session* s) {
  char* out = nullptr;
  char* failure = guarded([&] {
    std::string text = "[";
    for (const auto& id : s->session->process_ids()) {
      next_item(text);
      progress::json_writer::append_string(text, id);
    }
    out = give(text + "]");
  });
  return failure ? failure_text(failure) : out;
}

// The codec for hosts that look at frames themselves (demo page, tests):
// {"frame": {...}} or {"error": {"code", "message"}} (or a failure, see failure_text).
EMSCRIPTEN_KEEPALIVE char* pw_decode_server_frame(const char* text, std::size_t size) {
  char* out = nullptr;
  char* failure = guarded([&] {
    auto result = progress::decode_server_frame(text_of(text, size));
    std::string body = result ? "{\"frame\":" + progress::encode(result.value()) : "{\"error\":";
    if (!result) progress::write_error(body, result.error());
    out = give(body + "}");
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
