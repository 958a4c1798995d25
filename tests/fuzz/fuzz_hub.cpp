// The input drives a script against Hub: connections open and close, send frames built from
// structured choices or raw bytes, producers publish over HTTP and WebSocket, time moves forward.
// The target plays each connection's client side and checks what a browser relies on:
//   - per process and epoch, seq strictly increases across events and never goes back on a snapshot;
//   - percent never decreases within an epoch; a terminal event arrives at most once and ends it;
//   - a fresh subscription (no after_seq) sees a snapshot before any event of that process;
//   - a connection's queue never holds more than the configured bound plus one frame;
//   - processes and subscriptions stay within the configured bounds.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "check.hpp"
#include "progress/codec.hpp"
#include "progress/hub.hpp"

namespace {

using progress::Json;
using progress::Millis;
using progress::fuzz::check;
using progress::fuzz::trace;

constexpr const char* kIds[] = {"a", "b", "c.1", "d:2", "e-3", "not valid!"};
constexpr progress::State kStates[] = {progress::State::pending, progress::State::running,
                                       progress::State::completed, progress::State::failed,
                                       progress::State::cancelled};

struct Track {
  bool need_snapshot = true;  // fresh subscription: events only after a snapshot
  std::string epoch;
  std::optional<progress::Seq> seq;
  double percent = 0;
  bool terminal = false;
  std::optional<progress::Seq> resumed_after;  // a resume's after_seq, its epoch named
};

struct Client {
  progress::Endpoint endpoint = progress::Endpoint::progress_multi;
  bool slow = false;  // reads only when the script says so, letting its queue fill
  bool closed = false;
  std::map<std::string, Track> tracks;
  // Set while the answer to a subscribe/unsubscribe is read: an error there means the hub refused
  // the frame (rate limit, a limit, a bad field) and the subscription is as it was before.
  std::optional<std::pair<std::string, std::optional<Track>>> undo;
};

class Script {
 public:
  explicit Script(FuzzedDataProvider& in)
      : in_(in), config_(make_config(in)), hub_(config_, clocks(), in.ConsumeIntegral<std::uint64_t>()) {}

  void run() {
    while (in_.remaining_bytes() > 0) {
      now_ += in_.ConsumeIntegralInRange<Millis>(0, in_.ConsumeBool() ? 100 : 400'000);
      // Now and then the wall clock steps (NTP, a VM resumed): no countdown may notice.
      if (in_.ConsumeIntegralInRange(0, 15) == 0) {
        wall_ahead_ += in_.ConsumeIntegralInRange<Millis>(-3'600'000, 3'600'000);
      }
      step();
      drain(false);
      check_bounds();
    }
    hub_.close_all(clocks());
    drain(true);
  }

 private:
  static progress::HubConfig make_config(FuzzedDataProvider& in) {
    progress::HubConfig config;
    config.heartbeat_ms = in.ConsumeIntegralInRange<std::int64_t>(1'000, 30'000);
    config.stale_grace_ms = in.ConsumeIntegralInRange<std::int64_t>(1'000, 20'000);
    config.pending_timeout_ms = in.ConsumeIntegralInRange<std::int64_t>(1'000, 600'000);
    config.retention_ms = in.ConsumeIntegralInRange<std::int64_t>(1'000, 600'000);
    config.history = in.ConsumeIntegralInRange<std::size_t>(1, 16);
    config.max_processes = in.ConsumeIntegralInRange<std::size_t>(1, 6);
    config.max_subscriptions = in.ConsumeIntegralInRange<std::size_t>(1, 12);
    config.max_subscriptions_per_connection = in.ConsumeIntegralInRange<std::size_t>(1, 6);
    config.max_queue_bytes = in.ConsumeIntegralInRange<std::size_t>(256, 8 * 1024);
    config.max_frames_per_s = in.ConsumeIntegralInRange<std::size_t>(0, 20);
    config.frame_burst = in.ConsumeIntegralInRange<std::size_t>(1, 20);
    config.max_publish_frames_per_s = in.ConsumeIntegralInRange<std::size_t>(0, 20);
    config.rate_limit_grace = in.ConsumeIntegralInRange<std::size_t>(0, 4);
    return config;
  }

  std::string pick_id() { return kIds[in_.ConsumeIntegralInRange<std::size_t>(0, std::size(kIds) - 1)]; }

  // An epoch the hub really issued when the script has seen one, so resumes can succeed.
  std::optional<std::string> pick_epoch() {
    switch (in_.ConsumeIntegralInRange(0, 2)) {
      case 0: return std::nullopt;
      case 1: return seen_epoch_.empty() ? std::string("e0") : seen_epoch_;
      default: return in_.ConsumeRandomLengthString(70);
    }
  }

  progress::Publish make_publish() {
    progress::Publish publish;
    publish.process_id = pick_id();
    if (in_.ConsumeBool()) publish.id = "p" + std::to_string(in_.ConsumeIntegral<std::uint8_t>());
    if (in_.ConsumeBool()) publish.state = kStates[in_.ConsumeIntegralInRange<std::size_t>(0, 4)];
    if (in_.ConsumeBool()) publish.stage = in_.ConsumeBool() ? "load" : "save";
    if (in_.ConsumeBool())
      publish.percent = in_.ConsumeIntegralInRange(-5, 105) + (in_.ConsumeBool() ? 0.5 : 0.0);
    if (in_.ConsumeBool())
      publish.message = std::string(in_.ConsumeIntegralInRange<std::size_t>(0, 3000), 'm');
    if (in_.ConsumeBool())
      publish.data = Json{{"pad", std::string(in_.ConsumeIntegralInRange<std::size_t>(0, 5000), 'd')}};
    if (in_.ConsumeBool()) publish.result = Json{{"ok", true}};
    if (in_.ConsumeBool()) publish.error = "boom";
    if (in_.ConsumeBool()) publish.lease_ms = in_.ConsumeIntegralInRange<std::int64_t>(-1, 100'000);
    return publish;
  }

  std::string make_target() {
    switch (in_.ConsumeIntegralInRange(0, 7)) {
      case 0: return "/ws/progress";
      case 6: return "/sse/progress/" + pick_id();
      case 1: return "/ws/health";
      case 2: return "/ws/publish";
      case 3: return "/ws/test";
      case 4: {
        std::string target =
            "/ws/progress/" + pick_id() + "?after_seq=" + std::to_string(in_.ConsumeIntegralInRange(0, 40));
        if (auto epoch = pick_epoch()) target += "&epoch=" + *epoch;
        return target;
      }
      case 5: return "/ws/progress/" + in_.ConsumeRandomLengthString(40);
      default: return "/ws/progress/" + pick_id();
    }
  }

  std::optional<progress::ConnId> pick_conn() {
    if (clients_.empty()) return std::nullopt;
    auto it = clients_.begin();
    std::advance(it, in_.ConsumeIntegralInRange<std::size_t>(0, clients_.size() - 1));
    return it->first;
  }

  // The client's view of a subscription restarts where its frame is sent; frames already queued
  // for the previous one are read first, as a real client would before its next frame matters.
  // The answer is read at once: a refusal (an error frame) puts the previous view back.
  void subscribe_text(progress::ConnId conn, const std::string& id, std::optional<progress::Seq> after,
                      std::optional<std::string> epoch) {
    Client& client = clients_.at(conn);
    drain_one(conn, client, true);
    Json frame{{"type", "subscribe"}, {"process_id", id}};
    if (after) frame["after_seq"] = *after;
    if (epoch) frame["epoch"] = *epoch;
    remember_for_undo(client, id);
    restart_track(client, id, after, epoch);
    // A random epoch may not be UTF-8; the client's JSON library would replace such bytes too.
    send_text(conn, frame.dump(-1, ' ', false, Json::error_handler_t::replace));
    drain_one(conn, client, true);
    client.undo.reset();
  }

  void unsubscribe_text(progress::ConnId conn, const std::string& id) {
    Client& client = clients_.at(conn);
    drain_one(conn, client, true);
    remember_for_undo(client, id);
    client.tracks.erase(id);
    send_text(conn, Json{{"type", "unsubscribe"}, {"process_id", id}}.dump());
    drain_one(conn, client, true);
    client.undo.reset();
  }

  static void remember_for_undo(Client& client, const std::string& id) {
    const auto it = client.tracks.find(id);
    client.undo.emplace(id, it == client.tracks.end() ? std::nullopt : std::optional<Track>(it->second));
  }

  static void restart_track(Client& client, const std::string& id, std::optional<progress::Seq> after,
                            const std::optional<std::string>& epoch) {
    Track track;
    if (after) {
      // A resume may start with replayed events; with its epoch named they continue after it.
      track.need_snapshot = false;
      // The client's claimed position binds replayed events, not a snapshot: after_seq past
      // the record's end or out of its history is answered with a snapshot from seq 0 on.
      if (epoch) {
        track.epoch = *epoch;
        track.resumed_after = *after;
      }
    }
    client.tracks[id] = track;
  }

  void send_text(progress::ConnId conn, const std::string& text) {
    trace("at " + std::to_string(now_) + " text " + std::to_string(conn) + " " + text);
    hub_.on_text(conn, text, clocks());
  }

  void step() {
    switch (in_.ConsumeIntegralInRange(0, 11)) {
      case 0: {
        std::string target_text = make_target();
        auto target = progress::parse_target(target_text);
        if (!target) return;
        progress::ConnId conn = hub_.open(*target, clocks());
        trace("at " + std::to_string(now_) + " open " + std::to_string(conn) + " " + target_text);
        Client& client = clients_[conn];
        client.endpoint = target->endpoint;
        client.slow = in_.ConsumeBool();
        if (target->endpoint == progress::Endpoint::progress || target->endpoint == progress::Endpoint::sse) {
          restart_track(client, target->process_id, target->after_seq, target->epoch);
        }
        return;
      }
      case 1: {
        if (auto conn = pick_conn()) {
          std::optional<progress::Seq> after;
          if (in_.ConsumeBool()) after = in_.ConsumeIntegralInRange<progress::Seq>(0, 40);
          subscribe_text(*conn, pick_id(), after, pick_epoch());
        }
        return;
      }
      case 2: {
        if (auto conn = pick_conn()) unsubscribe_text(*conn, pick_id());
        return;
      }
      case 3:
        if (auto conn = pick_conn()) {
          send_text(*conn, in_.ConsumeBool() ? R"({"type":"ping","ts":1})" : R"({"type":"pong"})");
        }
        return;
      case 4:
        // Raw text never touches a subscription the model tracks unless it parses as one; a
        // subscribe/unsubscribe that happens to parse is left out of the model by skipping it.
        if (auto conn = pick_conn()) {
          std::string text = in_.ConsumeRandomLengthString(300);
          auto frame = progress::decode_client_frame(text);
          if (frame && (std::holds_alternative<progress::Subscribe>(frame.value()) ||
                        std::holds_alternative<progress::Unsubscribe>(frame.value()))) {
            return;
          }
          send_text(*conn, text);
        }
        return;
      case 5:
        if (auto conn = pick_conn())
          send_text(*conn, progress::encode(progress::ClientFrame{make_publish()}));
        return;
      case 6: {
        progress::Publish publish = make_publish();
        trace("at " + std::to_string(now_) + " publish " + progress::encode(progress::ClientFrame{publish}));
        auto ack = hub_.publish(publish, clocks());
        if (!ack) check(!ack.error().message.empty(), "publish error without a message");
        return;
      }
      case 7: {
        auto created = hub_.create_process(
            in_.ConsumeBool() ? std::optional<std::string>(pick_id()) : std::nullopt, clocks());
        trace("at " + std::to_string(now_) + " create -> " +
              (created ? created.value().process_id + " " + created.value().epoch : created.error().message));
        if (created) seen_epoch_ = created.value().epoch;
        return;
      }
      case 8:
        if (auto at = hub_.poll_timeout(); at && in_.ConsumeBool()) now_ = std::max(now_, at->count());
        trace("at " + std::to_string(now_) + " tick");
        hub_.handle_timeout(clocks());
        return;
      case 9:
        if (auto conn = pick_conn()) {
          trace("at " + std::to_string(now_) + " closed " + std::to_string(*conn));
          hub_.on_closed(*conn);
          clients_.erase(*conn);
        }
        return;
      case 10:
        if (auto conn = pick_conn()) {
          trace("at " + std::to_string(now_) + " binary/oversize " + std::to_string(*conn));
          if (in_.ConsumeBool()) {
            hub_.on_binary(*conn, clocks());
          } else {
            hub_.on_oversize(*conn, clocks());
          }
        }
        return;
      default:
        for (auto& [conn, client] : clients_) drain_one(conn, client, true);
        return;
    }
  }

  void drain(bool all) {
    hub_.poll_dirty();
    for (auto& [conn, client] : clients_) drain_one(conn, client, all || !client.slow);
  }

  void drain_one(progress::ConnId conn, Client& client, bool read) {
    if (!read || client.closed) return;
    std::size_t queued = hub_.queued_bytes(conn);
    std::size_t total = 0;
    std::size_t largest = 0;
    while (auto text = hub_.poll_outgoing(conn)) {
      trace("  " + std::to_string(conn) + " <- " + **text);
      total += (*text)->size();
      largest = std::max(largest, (*text)->size());
      receive(client, **text);
    }
    check(total == queued, "queued_bytes differs from the bytes popped");
    check(total <= config_.max_queue_bytes + largest, "queue above its bound plus one frame",
          std::to_string(total));
    if (hub_.poll_close(conn)) {
      // The host closes the socket once the hub asks; from then on the connection is gone.
      client.closed = true;
      hub_.on_closed(conn);
    }
  }

  void receive(Client& client, const std::string& text) {
    if (client.endpoint == progress::Endpoint::test_echo) return;
    auto frame = progress::decode_server_frame(text);
    check(frame.ok(), "hub sent a frame its own codec rejects", text);
    if (auto* snapshot = std::get_if<progress::Snapshot>(&frame.value())) {
      seen_epoch_ = snapshot->epoch;
      auto it = client.tracks.find(snapshot->process_id);
      check(it != client.tracks.end(), "snapshot for a process the client never subscribed", text);
      Track& track = it->second;
      if (track.epoch == snapshot->epoch && track.seq) {
        check(snapshot->seq >= *track.seq, "snapshot seq went back", text);
        check(snapshot->percent >= track.percent, "snapshot percent went back", text);
      }
      track = Track{false,
                    snapshot->epoch,
                    snapshot->seq,
                    snapshot->percent,
                    progress::is_terminal(snapshot->state),
                    std::nullopt};
    } else if (auto* event = std::get_if<progress::ProgressEvent>(&frame.value())) {
      seen_epoch_ = event->epoch;
      auto it = client.tracks.find(event->process_id);
      check(it != client.tracks.end(), "event for a process the client never subscribed", text);
      Track& track = it->second;
      check(!track.need_snapshot, "event before the snapshot of a fresh subscription", text);
      if (!track.seq) {
        if (track.resumed_after) {
          check(event->epoch == track.epoch, "replay of another epoch than the resume named", text);
          check(event->seq > *track.resumed_after, "replay not after the resume's after_seq", text);
        }
        track.epoch = event->epoch;
      } else {
        check(event->epoch == track.epoch, "event of another epoch without a snapshot", text);
        check(event->seq > *track.seq, "event seq not increasing", text);
        check(event->percent >= track.percent, "event percent went back", text);
        check(!track.terminal, "event after the terminal one", text);
      }
      track.seq = event->seq;
      track.percent = event->percent;
      track.terminal = progress::is_terminal(event->state);
    } else if (auto* error = std::get_if<progress::Error>(&frame.value())) {
      check(!error->message.empty(), "error frame without a message", text);
      if (client.undo) {
        auto& [id, previous] = *client.undo;
        if (previous) {
          client.tracks[id] = *previous;
        } else {
          client.tracks.erase(id);
        }
        client.undo.reset();
      }
    }
  }

  void check_bounds() {
    progress::HubStats stats = hub_.stats();
    std::uint64_t processes = 0;
    for (const auto& [state, count] : stats.processes_by_state) processes += count;
    check(processes <= config_.max_processes, "more processes than max_processes");
    // `subscriptions` counts the pending ones too.
    check(stats.subscriptions <= config_.max_subscriptions, "more subscriptions than max_subscriptions");
    check(stats.pending_subscriptions <= stats.subscriptions,
          "more pending subscriptions than subscriptions");
  }

  progress::Now clocks() const { return progress::Now{progress::MonoMillis(now_), now_ + wall_ahead_}; }

  FuzzedDataProvider& in_;
  Millis now_ = 1'700'000'000'000;  // the monotonic clock
  Millis wall_ahead_ = 0;             // the wall clock is now_ + wall_ahead_
  progress::HubConfig config_;
  progress::Hub hub_;
  std::map<progress::ConnId, Client> clients_;
  std::string seen_epoch_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Script script(in);
  script.run();
  return 0;
}
