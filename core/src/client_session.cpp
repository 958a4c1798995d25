// The connection state machine of the client. Per-process rules (duplicates, epochs, stages)
// live in client_watch.cpp; this file decides when to connect, subscribe, probe, give up on a
// socket and wait.
//
// Connection rules:
//   - One socket at a time. Every Connect carries a new generation; input tagged with any other
//     generation is ignored, and a socket the session gives up on gets a Close first, so a host
//     that follows the actions never holds two sockets.
//   - connecting --open--> open --hello--> live (subscribe every unfinished watch, resuming with
//     after_seq + epoch). No hello within connect_timeout_ms of the attempt or of the open ->
//     give up on the socket.
//   - live: any frame is life; silence for heartbeat_ms (from hello) + stale_grace_ms -> stale.
//   - A lost socket -> `reconnecting` with full-jitter backoff; attempts reset only when the
//     lost connection had stayed live for min_stable_ms (checked when it is lost, so a flapping
//     server cannot keep the delays short). suspend_after_ms without a live connection ->
//     `suspended`, one attempt every suspended_retry_ms.
//   - online / visible / sleep: a live socket is probed with `ping` (no frame within
//     probe_timeout_ms -> new socket, backoff reset); a waiting session connects at once with
//     backoff reset.
//   - Sleep is told by the two clocks of time.hpp: the timer fired clock_jump_ms later than it
//     asked on the monotonic one (a throttled tab, or a host whose monotonic clock runs through
//     sleep), or the wall clock ran clock_jump_ms further than the monotonic one since the timer
//     was armed (performance.now() and CLOCK_MONOTONIC stop while the machine sleeps). A wall
//     step backwards is no sleep; a step forwards costs one probe.
//   - offline: attempts drop to the suspended pace until `online` (at backoff pace each would
//     fail and only lengthen the backoff; one now and then still runs in case the browser's
//     offline signal is wrong); a socket that is still open is left alone, stale detection
//     covers it.
//   - Every watch finished -> Close 1000, `done` (or `failed` when every watch failed). No
//     watches left after unsubscribe -> Close 1000, `idle`.
//   - stop(): Close 1000, timer cancelled, `stopped`; only start()/reconnect() revive it.
//   - watch()/release() count holders: the last release keeps the subscription for linger_ms,
//     so a remount (React StrictMode, a route change) takes it again without a round trip;
//     when it runs out the watch is unsubscribed and removed. retain()/release_client() do the
//     same for the whole session, which then stops.
//   - A bad server URL never connects: the first attempt reports why and the session fails.
//
// Token rules (config.tokens: the host has a token source):
//   - Every subscribe first asks for a token (NeedToken) and goes out with it once on_token
//     answers while the socket is live, so a reconnect after the token expired carries a fresh
//     one. An answer arriving with no live socket is dropped: the next hello asks again.
//   - No answer within token_timeout_ms, or on_token_failed, ends the watch with the error shown.
//   - An `unauthorized` refusal with reason `expired` asks once more and resubscribes; any
//     other reason, or a second expiry in a row (no frame of the process in between), ends it.
#include "progress/client_session.hpp"

#include <algorithm>
#include <utility>

#include "client_watch.hpp"
#include "progress/backoff.hpp"
#include "progress/codec.hpp"
#include "progress/limits.hpp"

namespace progress {

std::string_view to_string(SessionState state) noexcept {
  switch (state) {
    case SessionState::idle: return "idle";
    case SessionState::connecting: return "connecting";
    case SessionState::open: return "open";
    case SessionState::live: return "live";
    case SessionState::reconnecting: return "reconnecting";
    case SessionState::suspended: return "suspended";
    case SessionState::done: return "done";
    case SessionState::failed: return "failed";
    case SessionState::stopped: return "stopped";
  }
  return "unknown";
}

std::string_view to_string(WatchStatus status) noexcept {
  switch (status) {
    case WatchStatus::waiting: return "waiting";
    case WatchStatus::pending: return "pending";
    case WatchStatus::active: return "active";
    case WatchStatus::done: return "done";
    case WatchStatus::failed: return "failed";
  }
  return "unknown";
}

namespace {

// Browsers let scripts close with 1000 or 3000-4999 only (anything else throws), so a socket the
// session gives up on is closed with a private-use code the server can tell from a normal close.
constexpr int kCloseNormal = 1000;
constexpr int kCloseAbandoned = 4000;

// A token source's answer this long is refused before it is sent (the server's frame limit
// would refuse the subscribe anyway, without naming the token).
constexpr std::size_t kMaxTokenBytes = 4096;

std::optional<ServerUrl> parsed_url(const std::string& text, std::string& error) {
  auto parsed = parse_server_url(text);
  error = std::move(parsed.error);
  return std::move(parsed.url);
}

}  // namespace

// Outside the anonymous namespace: Impl has external linkage and holds one.
enum class SocketPhase { none, connecting, open, live };

struct ClientSession::Impl {
  explicit Impl(ClientConfig cfg)
      : config(std::move(cfg)),
        url(parsed_url(config.url, url_error)),
        endpoint(url ? url->endpoint() : std::string()),
        backoff(config.backoff_min_ms, config.backoff_max_ms, config.seed),
        heartbeat_ms(config.heartbeat_ms) {}

  ClientConfig config;
  std::string url_error;
  std::optional<ServerUrl> url;
  std::string endpoint;
  Backoff backoff;
  SessionState state = SessionState::idle;
  std::vector<client::Watch> watches;  // in subscription order: frames go out in that order
  std::vector<Action> actions;
  std::vector<ClientEvent> events;

  SocketPhase phase = SocketPhase::none;
  Generation generation = 0;  // of the current socket while phase != none
  std::int64_t heartbeat_ms;
  MonoMillis live_since;
  std::optional<MonoMillis> without_live_since;  // the suspension clock
  bool network_offline = false;

  std::optional<MonoMillis> connect_deadline;
  std::optional<MonoMillis> stale_deadline;
  std::optional<MonoMillis> probe_deadline;
  std::optional<MonoMillis> retry_at;
  std::optional<MonoMillis> armed;  // the timer the host currently holds
  Millis armed_offset = 0;          // wall minus monotonic clock when it was armed
  int users = 0;                // retain() minus release_client()
  std::optional<MonoMillis> stop_at;

  // ---- small helpers ------------------------------------------------------------------------

  bool active() const noexcept {
    return state == SessionState::connecting || state == SessionState::open || state == SessionState::live ||
           state == SessionState::reconnecting || state == SessionState::suspended;
  }

  std::vector<client::Watch>::iterator locate(std::string_view id) {
    return std::find_if(watches.begin(), watches.end(),
                        [&](const client::Watch& w) { return w.view().process_id == id; });
  }

  client::Watch* find(std::string_view id) {
    auto it = locate(id);
    return it == watches.end() ? nullptr : &*it;
  }

  bool has_unfinished() const {
    return std::any_of(watches.begin(), watches.end(), [](const client::Watch& w) { return !w.finished(); });
  }

  void set_state(SessionState next) {
    if (next == state) return;
    state = next;
    events.push_back(StateChanged{next});
  }

  void emit_view(const client::Watch& watch) { events.push_back(ProgressChanged{watch.view()}); }

  void send(const ClientFrame& frame) { actions.push_back(Send{generation, encode(frame)}); }

  std::optional<MonoMillis> next_deadline() const {
    std::optional<MonoMillis> next;
    for (const auto& d : {connect_deadline, stale_deadline, probe_deadline, retry_at, stop_at}) {
      if (d && (!next || *d < *next)) next = d;
    }
    for (const auto& w : watches) {
      for (const auto& d : {w.release_at, w.token_deadline}) {
        if (d && (!next || *d < *next)) next = d;
      }
    }
    return next;
  }

  // Called at the end of every input: the host holds exactly one timer, re-armed on change.
  void sync_timer(Now now) {
    const auto next = next_deadline();
    if (next == armed) return;
    armed = next;
    armed_offset = now.wall - now.mono.count();
    actions.push_back(SetTimer{next});
  }

  // The host slept between arming the timer and its firing (rules above): the timer fired
  // clock_jump_ms later than asked on the monotonic clock, or the wall clock ran clock_jump_ms
  // further than the monotonic one meanwhile.
  bool slept(MonoMillis fired_for, Now now) const {
    return now.mono - fired_for > config.clock_jump_ms ||
           (now.wall - now.mono.count()) - armed_offset > config.clock_jump_ms;
  }

  // ---- socket lifecycle --------------------------------------------------------------------

  void clear_socket_deadlines() {
    connect_deadline.reset();
    stale_deadline.reset();
    probe_deadline.reset();
  }

  void connect(MonoMillis now) {
    if (!url) {
      events.push_back(ErrorEvent{Error{ErrorCode::unavailable, "bad server URL " + config.url + ": " + url_error, std::nullopt, std::nullopt}});
      retry_at.reset();
      set_state(SessionState::failed);
      return;
    }
    ++generation;
    actions.push_back(Connect{endpoint, generation});
    phase = SocketPhase::connecting;
    clear_socket_deadlines();
    retry_at.reset();
    connect_deadline = now + config.connect_timeout_ms;
    if (!without_live_since) without_live_since = now;
    set_state(SessionState::connecting);
  }

  // Gives up on the current socket (if any): the host is told to close it.
  void abandon(int code, std::string reason) {
    if (phase == SocketPhase::none) return;
    if (reason.size() > kMaxCloseReason) reason.resize(kMaxCloseReason);
    actions.push_back(Close{generation, code, std::move(reason)});
    phase = SocketPhase::none;
    clear_socket_deadlines();
  }

  // A connect from a resting state or on the user's or the network's word: a fresh start.
  void connect_fresh(MonoMillis now) {
    backoff.reset();
    without_live_since = now;
    connect(now);
  }

  // The socket is gone (closed by the peer, errored, or abandoned by us): wait, then retry.
  void lost(MonoMillis now, bool was_live) {
    if (was_live) {
      if (now - live_since >= config.min_stable_ms) backoff.reset();
      without_live_since = now;
    }
    if (!without_live_since) without_live_since = now;
    const bool suspend = now - *without_live_since >= config.suspend_after_ms;
    retry_at = now + (suspend || network_offline ? config.suspended_retry_ms : backoff.next_delay());
    set_state(suspend ? SessionState::suspended : SessionState::reconnecting);
  }

  // After a watch finished or went away: when nothing is left to watch, end cleanly.
  void settle() {
    if (!active() && state != SessionState::idle) return;
    if (has_unfinished()) return;
    abandon(kCloseNormal, watches.empty() ? "idle" : "done");
    retry_at.reset();
    set_state(resting_state());
  }

  SessionState resting_state() const {
    if (watches.empty()) return SessionState::idle;
    const bool all_failed = std::all_of(watches.begin(), watches.end(), [](const client::Watch& w) {
      return w.view().status == WatchStatus::failed;
    });
    return all_failed ? SessionState::failed : SessionState::done;
  }

  // online, visible, or a clock jump: whatever we were waiting for may be long dead.
  void wake(Now clocks) {
    const MonoMillis now = clocks.mono;
    switch (phase) {
      case SocketPhase::live:
        if (!probe_deadline) {
          send(Ping{clocks.wall});
          probe_deadline = now + config.probe_timeout_ms;
          // The probe decides; silence that accumulated while asleep proves nothing yet.
          stale_deadline = std::max(stale_deadline.value_or(*probe_deadline), *probe_deadline);
        }
        return;
      case SocketPhase::connecting:
      case SocketPhase::open:
        backoff.reset();
        if (connect_deadline && *connect_deadline <= now) {
          abandon(kCloseAbandoned, "connect timeout");
          connect_fresh(now);
        }
        return;
      case SocketPhase::none:
        // Offline, an attempt would fail at once; on_online will do this.
        if (network_offline) return;
        if (state == SessionState::reconnecting || state == SessionState::suspended) connect_fresh(now);
        return;
    }
  }

  // Unsubscribes and forgets every released watch whose linger ran out (all of them: `now`
  // unset), then ends cleanly if nothing is left.
  void drop_released(std::optional<MonoMillis> now) {
    bool dropped = false;
    for (auto it = watches.begin(); it != watches.end();) {
      if (!it->release_at || (now && *it->release_at > *now)) {
        ++it;
        continue;
      }
      if (phase == SocketPhase::live && !it->rejected_locally()) send(Unsubscribe{it->view().process_id});
      events.push_back(WatchRemoved{it->view().process_id});
      it = watches.erase(it);
      dropped = true;
    }
    if (dropped && now) settle();
  }

  void stop_now() {
    drop_released(std::nullopt);
    abandon(kCloseNormal, "stopped");
    retry_at.reset();
    stop_at.reset();
    set_state(SessionState::stopped);
  }

  void handle_due(MonoMillis now) {
    if (stop_at && *stop_at <= now) {
      stop_now();
      return;
    }
    drop_released(now);
    if (probe_deadline && *probe_deadline <= now) {
      abandon(kCloseAbandoned, "probe timeout");
      connect_fresh(now);
    } else if (stale_deadline && *stale_deadline <= now) {
      abandon(kCloseAbandoned, "stale");
      lost(now, true);
    } else if (connect_deadline && *connect_deadline <= now) {
      abandon(kCloseAbandoned, "connect timeout");
      lost(now, false);
    } else if (retry_at && *retry_at <= now) {
      connect(now);
    }
  }

  // ---- subscriptions and tokens ------------------------------------------------------------

  // Subscribes a watch on the live socket, first asking for a token when there is a source.
  void subscribe_watch(client::Watch& watch, MonoMillis now) {
    if (!config.tokens) {
      send(watch.subscribe_frame());
    } else if (!watch.token_deadline) {
      watch.token_deadline = now + config.token_timeout_ms;
      actions.push_back(NeedToken{watch.view().process_id});
    }
  }

  void fail_watch(client::Watch& watch, Error error) {
    events.push_back(ErrorEvent{error});
    watch.fail(std::move(error), false);
    emit_view(watch);
    settle();
  }

  void fail_token(client::Watch& watch, std::string_view why) {
    const std::string& id = watch.view().process_id;
    watch.token_deadline.reset();
    fail_watch(watch, Error{ErrorCode::unauthorized, "no token for " + id + ": " + first_chars(why, limits::kMaxMessageLength), id,
                            std::nullopt});
  }

  void token_timeouts(MonoMillis now) {
    for (auto& watch : watches) {
      if (watch.token_deadline && *watch.token_deadline <= now) {
        fail_token(watch, "the token source did not answer within " + std::to_string(config.token_timeout_ms) + " ms");
      }
    }
  }

  // ---- frames --------------------------------------------------------------------------------

  void on_frame(const Hello& hello, MonoMillis now) {
    if (phase != SocketPhase::open) return;
    phase = SocketPhase::live;
    connect_deadline.reset();
    heartbeat_ms = hello.heartbeat_ms > 0 ? hello.heartbeat_ms : config.heartbeat_ms;
    live_since = now;
    without_live_since.reset();
    stale_deadline = now + heartbeat_ms + config.stale_grace_ms;
    set_state(SessionState::live);
    for (auto& watch : watches) {
      if (!watch.finished()) subscribe_watch(watch, now);
    }
  }

  void on_frame(const Snapshot& snapshot, MonoMillis) {
    client::Watch* watch = find(snapshot.process_id);
    if (watch != nullptr) watch->refreshed = false;  // the subscribe was accepted
    if (watch == nullptr || watch->apply(snapshot) != client::Applied::changed) return;
    emit_view(*watch);
    settle();
  }

  void on_frame(const ProgressEvent& event, MonoMillis now) {
    client::Watch* watch = find(event.process_id);
    if (watch == nullptr) return;
    watch->refreshed = false;
    switch (watch->apply(event)) {
      case client::Applied::ignored: return;
      case client::Applied::resync: subscribe_watch(*watch, now); return;
      case client::Applied::changed: emit_view(*watch); settle(); return;
    }
  }

  void on_frame(const Pending& pending, MonoMillis) {
    client::Watch* watch = find(pending.process_id);
    if (watch != nullptr) watch->refreshed = false;
    if (watch != nullptr && watch->apply_pending()) emit_view(*watch);
  }

  void on_frame(const Error& error, MonoMillis now) {
    // An error naming a watched process answers its subscribe (invalid id, unauthorized,
    // not_found after the pending timeout, a subscription limit): retrying the same subscribe
    // on the same server would get the same answer, so the watch ends with the server's reason.
    // Only an expired token is worth one more try, with a fresh one.
    client::Watch* watch = error.process_id ? find(*error.process_id) : nullptr;
    if (watch == nullptr || watch->finished()) {
      events.push_back(ErrorEvent{error});
      return;
    }
    if (config.tokens && error.code == ErrorCode::unauthorized && error.reason == RefusalReason::expired &&
        !watch->refreshed) {
      watch->refreshed = true;
      subscribe_watch(*watch, now);
      return;
    }
    fail_watch(*watch, error);
  }

  void on_frame(const Ping& ping, MonoMillis) { send(Pong{ping.ts}); }
  void on_frame(const Pong&, MonoMillis) {}    // life; the probe was cleared on arrival
  void on_frame(const Ack&, MonoMillis) {}     // answers publishes, which this session never sends
  void on_frame(const Health&, MonoMillis) {}  // /ws/health only
};

// ---- public API: each input ends by syncing the host's timer ---------------------------------

ClientSession::ClientSession(ClientConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
ClientSession::~ClientSession() = default;
ClientSession::ClientSession(ClientSession&&) noexcept = default;
ClientSession& ClientSession::operator=(ClientSession&&) noexcept = default;

void ClientSession::start(Now now) {
  Impl& s = *impl_;
  if (s.active()) return;
  if (s.has_unfinished()) {
    s.connect_fresh(now.mono);
  } else {
    s.set_state(s.resting_state());
  }
  s.sync_timer(now);
}

void ClientSession::subscribe(std::string_view process_id, Now now) {
  Impl& s = *impl_;
  if (!is_valid_process_id(process_id)) {
    Error error = invalid_process_id_error(process_id);
    const std::string shown = error.process_id.value_or(std::string());
    s.events.push_back(ErrorEvent{error});
    client::Watch* watch = s.find(shown);
    // A long invalid id cut to 128 characters may equal a valid watched one: leave that alone.
    if (watch == nullptr || watch->rejected_locally()) {
      if (watch == nullptr) watch = &s.watches.emplace_back(shown);
      watch->fail(std::move(error), true);
      s.emit_view(*watch);
      s.settle();
    }
    s.sync_timer(now);
    return;
  }
  client::Watch* watch = s.find(process_id);
  if (watch != nullptr && !watch->finished()) return;
  if (watch != nullptr) {
    watch->restart();
  } else {
    watch = &s.watches.emplace_back(std::string(process_id));
  }
  if (s.state == SessionState::stopped) {
    // Registered; start() or reconnect() brings the session back.
  } else if (s.active()) {
    if (s.phase == SocketPhase::live) s.subscribe_watch(*watch, now.mono);
  } else {
    s.connect_fresh(now.mono);
  }
  s.sync_timer(now);
}

void ClientSession::unsubscribe(std::string_view process_id, Now now) {
  Impl& s = *impl_;
  auto it = s.locate(process_id);
  if (it == s.watches.end()) return;
  if (s.phase == SocketPhase::live && !it->rejected_locally()) s.send(Unsubscribe{std::string(process_id)});
  s.watches.erase(it);
  s.settle();
  s.sync_timer(now);
}

void ClientSession::reconnect(Now now) {
  Impl& s = *impl_;
  for (auto& watch : s.watches) {
    if (watch.finished() && !watch.rejected_locally()) {
      watch.restart();
      s.emit_view(watch);
    }
  }
  if (s.has_unfinished()) {
    s.abandon(kCloseNormal, "reconnect");
    s.connect_fresh(now.mono);
  }
  s.sync_timer(now);
}

void ClientSession::stop(Now now) {
  impl_->stop_now();
  impl_->sync_timer(now);
}

namespace {

// The id a watch of `process_id` is kept under: an invalid one is shown cut short.
std::string watch_key(std::string_view process_id) {
  if (is_valid_process_id(process_id)) return std::string(process_id);
  return invalid_process_id_error(process_id).process_id.value_or(std::string());
}

}  // namespace

void ClientSession::watch(std::string_view process_id, Now now) {
  Impl& s = *impl_;
  client::Watch* watch = s.find(watch_key(process_id));
  if (watch == nullptr || (watch->holders == 0 && !watch->release_at)) {
    subscribe(process_id, now);
    watch = s.find(watch_key(process_id));
    if (watch == nullptr) return;
  }
  watch->release_at.reset();
  ++watch->holders;
  s.sync_timer(now);
}

void ClientSession::release(std::string_view process_id, Now now) {
  Impl& s = *impl_;
  client::Watch* watch = s.find(watch_key(process_id));
  if (watch == nullptr || watch->holders == 0) return;
  if (--watch->holders == 0) watch->release_at = now.mono + s.config.linger_ms;
  s.sync_timer(now);
}

void ClientSession::retain(Now now) {
  Impl& s = *impl_;
  ++s.users;
  s.stop_at.reset();
  s.sync_timer(now);
}

void ClientSession::release_client(Now now) {
  Impl& s = *impl_;
  if (s.users == 0) return;
  if (--s.users == 0 && s.state != SessionState::stopped) s.stop_at = now.mono + s.config.linger_ms;
  s.sync_timer(now);
}

void ClientSession::on_open(Generation generation, Now now) {
  Impl& s = *impl_;
  if (generation != s.generation || s.phase != SocketPhase::connecting) return;
  s.phase = SocketPhase::open;
  s.connect_deadline = now.mono + s.config.connect_timeout_ms;
  s.set_state(SessionState::open);
  s.sync_timer(now);
}

void ClientSession::on_text(Generation generation, std::string_view text, Now now) {
  Impl& s = *impl_;
  if (generation != s.generation || (s.phase != SocketPhase::open && s.phase != SocketPhase::live)) return;
  s.probe_deadline.reset();
  if (s.phase == SocketPhase::live) s.stale_deadline = now.mono + s.heartbeat_ms + s.config.stale_grace_ms;
  auto frame = decode_server_frame(text);
  if (!frame) {
    // A frame this client cannot read is reported, not fatal: the rest of the stream is intact.
    s.events.push_back(ErrorEvent{frame.error()});
  } else {
    std::visit([&](const auto& f) { s.on_frame(f, now.mono); }, frame.value());
  }
  s.sync_timer(now);
}

void ClientSession::on_close(Generation generation, int, std::string_view, Now now) {
  Impl& s = *impl_;
  if (generation != s.generation || s.phase == SocketPhase::none) return;
  const bool was_live = s.phase == SocketPhase::live;
  s.phase = SocketPhase::none;
  s.clear_socket_deadlines();
  s.lost(now.mono, was_live);
  s.sync_timer(now);
}

void ClientSession::on_error(Generation generation, Now now) {
  Impl& s = *impl_;
  if (generation != s.generation || s.phase == SocketPhase::none) return;
  const bool was_live = s.phase == SocketPhase::live;
  s.abandon(kCloseAbandoned, "socket error");
  s.lost(now.mono, was_live);
  s.sync_timer(now);
}

void ClientSession::on_send_failed(Generation generation, Now now) {
  Impl& s = *impl_;
  if (generation != s.generation || s.phase == SocketPhase::none) return;
  const bool was_live = s.phase == SocketPhase::live;
  s.abandon(kCloseAbandoned, "send failed");
  s.lost(now.mono, was_live);
  s.sync_timer(now);
}

void ClientSession::on_timer(Now now) {
  Impl& s = *impl_;
  const auto fired_for = s.armed;
  s.armed.reset();  // the host's timer is spent: whatever remains must be armed again
  if (fired_for && s.slept(*fired_for, now)) s.wake(now);
  s.token_timeouts(now.mono);
  s.handle_due(now.mono);
  s.sync_timer(now);
}

void ClientSession::on_online(Now now) {
  Impl& s = *impl_;
  s.network_offline = false;
  s.wake(now);
  s.sync_timer(now);
}

void ClientSession::on_offline(Now now) {
  Impl& s = *impl_;
  s.network_offline = true;
  if (s.phase == SocketPhase::none && s.retry_at) s.retry_at = now.mono + s.config.suspended_retry_ms;
  s.sync_timer(now);
}

void ClientSession::on_visible(Now now) {
  Impl& s = *impl_;
  s.wake(now);
  s.sync_timer(now);
}

// Hidden tabs keep their socket: the server's pings are answered from the network handler even
// when timers are throttled, and a throttled timer that fires late counts as a clock jump.
void ClientSession::on_hidden(Now) {}

// Only a page restored from the back/forward cache lost its socket (the cache froze it, the
// server closed it): start over at once, as the user would with reconnect().
void ClientSession::on_pageshow(bool persisted, Now now) {
  if (persisted) reconnect(now);
}

void ClientSession::on_token(std::string_view process_id, std::string_view token, Now now) {
  Impl& s = *impl_;
  client::Watch* watch = s.find(process_id);
  if (watch == nullptr || !watch->token_deadline || watch->finished()) {
    // Nothing waits for it (the watch ended, failed or timed out).
  } else if (token.size() > kMaxTokenBytes) {
    s.fail_token(*watch, "the token is over " + std::to_string(kMaxTokenBytes) + " bytes");
  } else {
    watch->token_deadline.reset();
    if (s.phase == SocketPhase::live) {
      Subscribe frame = watch->subscribe_frame();
      if (!token.empty()) frame.token = std::string(token);
      s.send(frame);
    }
  }
  s.sync_timer(now);
}

void ClientSession::on_token_failed(std::string_view process_id, std::string_view why, Now now) {
  Impl& s = *impl_;
  client::Watch* watch = s.find(process_id);
  if (watch != nullptr && watch->token_deadline && !watch->finished()) s.fail_token(*watch, why);
  s.sync_timer(now);
}

std::vector<Action> ClientSession::poll_actions() { return std::exchange(impl_->actions, {}); }

std::vector<ClientEvent> ClientSession::poll_events() { return std::exchange(impl_->events, {}); }

std::optional<MonoMillis> ClientSession::poll_timeout() const { return impl_->next_deadline(); }

SessionState ClientSession::state() const noexcept { return impl_->state; }

const std::optional<ServerUrl>& ClientSession::server_url() const noexcept { return impl_->url; }

const ProcessView* ClientSession::view(std::string_view process_id) const {
  const client::Watch* watch = impl_->find(process_id);
  return watch == nullptr ? nullptr : &watch->view();
}

std::vector<std::string> ClientSession::process_ids() const {
  std::vector<std::string> ids;
  ids.reserve(impl_->watches.size());
  for (const auto& watch : impl_->watches) ids.push_back(watch.view().process_id);
  return ids;
}

}  // namespace progress
