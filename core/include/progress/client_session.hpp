#pragma once
// The browser/CLI side of the protocol with no I/O: one multiplexed connection carrying any
// number of subscriptions. The host (web ProgressClient, native progress-watch) owns the socket
// and one timer, feeds every event in and carries out the actions it polls:
//
//   inputs   start / subscribe / unsubscribe / reconnect / stop
//            watch / release (counted holders; the last release lingers, then unsubscribes)
//            retain / release_client (counted users; the last one lingers, then stops)
//            on_open / on_text / on_close / on_error / on_send_failed (tagged with the
//            socket's generation)
//            on_timer(now) / on_online / on_offline / on_visible / on_hidden / on_pageshow
//            on_token / on_token_failed (the host's token source answering a NeedToken)
//   outputs  poll_actions() -> Connect, Send, Close, SetTimer, NeedToken
//            poll_events()  -> StateChanged, ProgressChanged, ErrorEvent, WatchRemoved
//
// Host contract: every input carries both clocks read once (time.hpp: performance.now() or
// steady_clock as `mono`, Date.now() or system_clock as `wall`); deadlines run on `mono`, and the
// two together tell sleep apart. Carry out the actions in order. SetTimer (a monotonic time)
// replaces the one timer (nullopt cancels it); once it fires and on_timer(now) is called it is
// spent, and the session arms whatever remains. Close carries 1000 for a normal end (done, idle,
// stop, reconnect) and 4000 for a socket the session gave up on (stale, connect/probe timeout,
// error), and a reason of at most kMaxCloseReason bytes: browsers let scripts close with nothing
// else, so a host passes both on unchanged. A Send the host cannot carry out (its socket is no
// longer open) is reported with on_send_failed, never dropped. While offline, attempts run only
// every suspended_retry_ms. With `tokens` set, every subscribe waits for a NeedToken to be answered
// with on_token (or on_token_failed) within token_timeout_ms.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "progress/client_display.hpp"
#include "progress/protocol.hpp"
#include "progress/server_url.hpp"
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
  std::int64_t clock_jump_ms = 30'000;      // timer this late, or the clocks this far apart -> sleep, probe
  std::int64_t linger_ms = 3'000;           // a released watch or client lives on this long
  std::uint64_t seed = 0;                   // jitter PRNG seed
  bool tokens = false;                      // the host has a token source: ask it per subscribe
  std::int64_t token_timeout_ms = 10'000;   // a token source this slow fails the watch
};

// Browsers refuse a close reason over 123 bytes.
constexpr std::size_t kMaxCloseReason = 123;

// What a UI shows for one process.
enum class WatchStatus { waiting, pending, active, done, failed };
std::string_view to_string(WatchStatus status) noexcept;

// The process as the last frame showed it (ProcessFields), and how watching it goes.
struct ProcessView : ProcessFields {
  WatchStatus status = WatchStatus::waiting;
  Millis updated_at = 0;
  std::vector<StageSpan> stages;
  std::optional<Error> failure;      // why watching failed (invalid id, unauthorized, not_found)
  std::optional<std::int64_t> eta_ms;  // from the observed rate; absent until it can be estimated
  Display display;                   // client side only: what a UI shows (client_display.hpp)
};

using Generation = std::uint32_t;

struct Connect { std::string url; Generation generation = 0; };
struct Send { Generation generation = 0; std::string text; };
struct Close { Generation generation = 0; int code = 1000; std::string reason; };
struct SetTimer { std::optional<MonoMillis> at; };  // on the monotonic clock; nullopt: cancel the timer
// Ask the host's token source for a subscription token for this process; answer with on_token
// or on_token_failed.
struct NeedToken { std::string process_id; };
using Action = std::variant<Connect, Send, Close, SetTimer, NeedToken>;

struct StateChanged { SessionState state = SessionState::idle; };
struct ProgressChanged { ProcessView view; };
struct ErrorEvent { Error error; };
// A released watch whose linger ran out: the session no longer holds its view.
struct WatchRemoved { std::string process_id; };
using ClientEvent = std::variant<StateChanged, ProgressChanged, ErrorEvent, WatchRemoved>;

class ClientSession {
 public:
  explicit ClientSession(ClientConfig config);
  ~ClientSession();
  ClientSession(ClientSession&&) noexcept;
  ClientSession& operator=(ClientSession&&) noexcept;

  void start(Now now);
  void subscribe(std::string_view process_id, Now now);
  void unsubscribe(std::string_view process_id, Now now);
  void reconnect(Now now);
  void stop(Now now);
  // One more holder of a process's watch (subscribes on the first); release() drops one, and
  // the last release unsubscribes after linger_ms unless watch() takes it again meanwhile.
  void watch(std::string_view process_id, Now now);
  void release(std::string_view process_id, Now now);
  // One more user of the whole session; the last release_client() stops it after linger_ms
  // unless retain() comes first.
  void retain(Now now);
  void release_client(Now now);

  void on_open(Generation generation, Now now);
  void on_text(Generation generation, std::string_view text, Now now);
  void on_close(Generation generation, int code, std::string_view reason, Now now);
  void on_error(Generation generation, Now now);
  // The host could not carry out a Send of this generation (its socket is closing or closed).
  void on_send_failed(Generation generation, Now now);
  void on_timer(Now now);
  void on_online(Now now);
  void on_offline(Now now);
  void on_visible(Now now);
  void on_hidden(Now now);
  // The page was shown; `persisted`: restored from the back/forward cache, its socket dead.
  void on_pageshow(bool persisted, Now now);
  // The token source's answer to NeedToken{process_id} (empty: subscribe without one); an
  // answer nothing waits for is ignored.
  void on_token(std::string_view process_id, std::string_view token, Now now);
  void on_token_failed(std::string_view process_id, std::string_view why, Now now);

  std::vector<Action> poll_actions();
  std::vector<ClientEvent> poll_events();
  std::optional<MonoMillis> poll_timeout() const;

  SessionState state() const noexcept;
  // The server base URL the session connects to, or why the configured one was refused.
  const std::optional<ServerUrl>& server_url() const noexcept;
  const ProcessView* view(std::string_view process_id) const;
  std::vector<std::string> process_ids() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace progress
