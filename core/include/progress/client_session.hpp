#pragma once
// The browser/CLI side of the protocol with no I/O: one multiplexed connection carrying any
// number of subscriptions. The host (web ProgressClient, native progress-watch) owns the socket
// and one timer, feeds every event in and carries out the actions it polls:
//
//   inputs   start / subscribe / unsubscribe / reconnect / stop
//            on_open / on_text / on_close / on_error (tagged with the socket's generation)
//            on_timer(now) / on_online / on_offline / on_visible / on_hidden
//   outputs  poll_actions() -> Connect, Send, Close, SetTimer
//            poll_events()  -> StateChanged, ProgressChanged, ErrorEvent
//
// Host contract: carry out the actions in order. SetTimer replaces the one timer (nullopt
// cancels it); once it fires and on_timer(now) is called it is spent, and the session arms
// whatever remains. Close carries 1000 for a normal end (done, idle, stop, reconnect) and 4000
// for a socket the session gave up on (stale, connect/probe timeout, error): browsers let
// scripts close with nothing else. While offline, attempts run only every suspended_retry_ms.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "progress/protocol.hpp"
#include "progress/time.hpp"

namespace progress {

enum class SessionState { idle, connecting, open, live, reconnecting, suspended, done, failed, stopped };
std::string_view to_string(SessionState state) noexcept;

struct ClientConfig {
  std::string url;                          // server base, e.g. "ws://127.0.0.1:8000"
  std::int64_t backoff_min_ms = 500;
  std::int64_t backoff_max_ms = 20'000;
  std::int64_t heartbeat_ms = 20'000;       // until the server's hello says otherwise
  std::int64_t stale_grace_ms = 10'000;     // no frame for heartbeat+grace -> stale
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t suspend_after_ms = 120'000;  // without a connection -> suspended
  std::int64_t suspended_retry_ms = 30'000;
  std::int64_t probe_timeout_ms = 3'000;    // ping deadline after online/visible/clock jump
  std::int64_t min_stable_ms = 5'000;       // connection up this long -> backoff resets
  std::int64_t clock_jump_ms = 30'000;      // timer this late -> assume sleep, probe
  std::uint64_t seed = 0;                   // jitter PRNG seed
};

// What a UI shows for one process.
enum class WatchStatus { waiting, pending, active, done, failed };
std::string_view to_string(WatchStatus status) noexcept;

struct ProcessView {
  std::string process_id;
  WatchStatus status = WatchStatus::waiting;
  std::string epoch;
  Seq seq = 0;
  State state = State::pending;
  std::string stage;
  double percent = 0;
  std::string message;
  Json data = Json::object();
  Millis updated_at = 0;
  std::vector<StageSpan> stages;
  std::optional<Json> result;
  std::optional<Json> error;         // the process's own error (failed jobs)
  std::optional<Error> failure;      // why watching failed (invalid id, unauthorized, not_found)
  std::optional<std::int64_t> eta_ms;  // from the observed rate; absent until it can be estimated
};

using Generation = std::uint32_t;

struct Connect { std::string url; Generation generation = 0; };
struct Send { Generation generation = 0; std::string text; };
struct Close { Generation generation = 0; int code = 1000; std::string reason; };
struct SetTimer { std::optional<Millis> at; };  // nullopt: cancel the timer
using Action = std::variant<Connect, Send, Close, SetTimer>;

struct StateChanged { SessionState state = SessionState::idle; };
struct ProgressChanged { ProcessView view; };
struct ErrorEvent { Error error; };
using ClientEvent = std::variant<StateChanged, ProgressChanged, ErrorEvent>;

class ClientSession {
 public:
  explicit ClientSession(ClientConfig config);
  ~ClientSession();
  ClientSession(ClientSession&&) noexcept;
  ClientSession& operator=(ClientSession&&) noexcept;

  void start(Millis now);
  void subscribe(std::string_view process_id, Millis now);
  void unsubscribe(std::string_view process_id, Millis now);
  void reconnect(Millis now);
  void stop(Millis now);

  void on_open(Generation generation, Millis now);
  void on_text(Generation generation, std::string_view text, Millis now);
  void on_close(Generation generation, int code, std::string_view reason, Millis now);
  void on_error(Generation generation, Millis now);
  void on_timer(Millis now);
  void on_online(Millis now);
  void on_offline(Millis now);
  void on_visible(Millis now);
  void on_hidden(Millis now);

  std::vector<Action> poll_actions();
  std::vector<ClientEvent> poll_events();
  std::optional<Millis> poll_timeout() const;

  SessionState state() const noexcept;
  const ProcessView* view(std::string_view process_id) const;
  std::vector<std::string> process_ids() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace progress
