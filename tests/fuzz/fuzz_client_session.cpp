// The input drives a ClientSession through what a browser host and a server can do to it: frames
// from a model server (valid streams, delivered late, twice or out of order, plus raw bytes),
// socket opens/closes/errors tagged with the current or a stale generation, timers, network and
// visibility changes, and the user's subscribe/unsubscribe/stop/reconnect. The target plays the
// host and checks what a UI relies on:
//   - at most one socket generation is live, and frames are only sent on a live one;
//   - a view's seq strictly increases within an epoch, its percent never decreases;
//   - a watch reports its terminal outcome at most once until it is subscribed again;
//   - the timer is never armed in the past.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "check.hpp"
#include "progress/client_session.hpp"
#include "progress/codec.hpp"

namespace {

using progress::Millis;
using progress::fuzz::check;
using progress::fuzz::trace;

constexpr const char* kIds[] = {"a", "b", "c", "bad id"};

// One process as a correct server holds it: seq and percent only grow within an epoch, nothing
// follows a terminal event, a restart starts a new epoch at seq 0.
struct ModelRecord {
  std::string epoch = "e0";
  int restarts = 0;
  std::vector<progress::ProgressEvent> history;
  progress::Snapshot snapshot(const std::string& id) const {
    progress::Snapshot s;
    s.process_id = id;
    s.epoch = epoch;
    if (!history.empty()) {
      const auto& last = history.back();
      s.seq = last.seq;
      s.state = last.state;
      s.percent = last.percent;
      s.result = last.result;
      s.error = last.error;
      s.updated_at = last.ts;
    }
    return s;
  }
};

struct ViewTrack {
  std::string epoch;
  progress::Seq seq = 0;
  double percent = 0;
  bool seen = false;
  bool finished = false;
  progress::WatchStatus status = progress::WatchStatus::waiting;
};

class Script {
 public:
  explicit Script(FuzzedDataProvider& in) : in_(in), session_(make_config(in)) {}

  void run() {
    session_.start(clocks());
    settle();
    while (in_.remaining_bytes() > 0) {
      if (in_.ConsumeBool()) now_ += in_.ConsumeIntegralInRange<Millis>(0, in_.ConsumeBool() ? 50 : 200'000);
      // Now and then the wall clock steps or the machine sleeps (the wall clock runs on alone).
      if (in_.ConsumeIntegralInRange(0, 15) == 0) {
        wall_ahead_ += in_.ConsumeIntegralInRange<Millis>(-3'600'000, 3'600'000);
      }
      step();
      settle();
    }
    session_.stop(clocks());
    settle();
  }

 private:
  static progress::ClientConfig make_config(FuzzedDataProvider& in) {
    progress::ClientConfig config;
    config.url = "ws://hub";
    config.backoff_min_ms = in.ConsumeIntegralInRange<std::int64_t>(1, 2'000);
    config.backoff_max_ms = config.backoff_min_ms + in.ConsumeIntegralInRange<std::int64_t>(0, 30'000);
    config.heartbeat_ms = in.ConsumeIntegralInRange<std::int64_t>(100, 30'000);
    config.stale_grace_ms = in.ConsumeIntegralInRange<std::int64_t>(100, 20'000);
    config.connect_timeout_ms = in.ConsumeIntegralInRange<std::int64_t>(100, 20'000);
    config.suspend_after_ms = in.ConsumeIntegralInRange<std::int64_t>(100, 200'000);
    config.suspended_retry_ms = in.ConsumeIntegralInRange<std::int64_t>(100, 60'000);
    config.probe_timeout_ms = in.ConsumeIntegralInRange<std::int64_t>(100, 10'000);
    config.min_stable_ms = in.ConsumeIntegralInRange<std::int64_t>(0, 10'000);
    config.clock_jump_ms = in.ConsumeIntegralInRange<std::int64_t>(100, 60'000);
    config.seed = in.ConsumeIntegral<std::uint64_t>();
    return config;
  }

  std::string pick_id() { return kIds[in_.ConsumeIntegralInRange<std::size_t>(0, std::size(kIds) - 1)]; }

  progress::Generation pick_generation() {
    switch (in_.ConsumeIntegralInRange(0, 3)) {
      case 0: return last_generation_ > 0 ? last_generation_ - 1 : 0;  // stale
      case 1: return in_.ConsumeIntegral<progress::Generation>();
      default: return last_generation_;
    }
  }

  void server_advance(const std::string& id) {
    ModelRecord& record = records_[id];
    if (in_.ConsumeIntegralInRange(0, 9) == 0) {
      record.epoch = "e" + std::to_string(++record.restarts);
      record.history.clear();
      return;
    }
    if (!record.history.empty() && progress::is_terminal(record.history.back().state)) return;
    progress::ProgressEvent event;
    event.process_id = id;
    event.epoch = record.epoch;
    event.seq = record.history.empty() ? 1 : record.history.back().seq + 1;
    event.state = progress::State::running;
    double last = record.history.empty() ? 0 : record.history.back().percent;
    event.percent = std::min(100.0, last + in_.ConsumeIntegralInRange(0, 30));
    event.stage = in_.ConsumeBool() ? "load" : "save";
    event.ts = now_;
    switch (in_.ConsumeIntegralInRange(0, 7)) {
      case 0:
        event.state = progress::State::completed;
        event.result = progress::Json{{"ok", true}};
        break;
      case 1:
        event.state = progress::State::failed;
        event.error = "boom";
        break;
      case 2: event.state = progress::State::cancelled; break;
      default: event.state = progress::State::running;
    }
    record.history.push_back(event);
  }

  std::string server_frame() {
    std::string id = pick_id();
    ModelRecord& record = records_[id];
    switch (in_.ConsumeIntegralInRange(0, 8)) {
      case 0: {
        progress::Hello hello;
        hello.heartbeat_ms = in_.ConsumeIntegralInRange<std::int64_t>(0, 60'000);
        hello.server = "model";
        return progress::encode(progress::ServerFrame{hello});
      }
      case 1: return progress::encode(progress::ServerFrame{record.snapshot(id)});
      case 2: return progress::encode(progress::ServerFrame{progress::Pending{id}});
      case 3: {
        progress::Error error{progress::ErrorCode::not_found, "no such process", id, std::nullopt};
        if (in_.ConsumeBool()) error.code = progress::ErrorCode::unauthorized;
        if (in_.ConsumeBool()) error.process_id.reset();
        return progress::encode(progress::ServerFrame{error});
      }
      case 4: return progress::encode(progress::ServerFrame{progress::Ping{now_}});
      case 5: return in_.ConsumeRandomLengthString(200);
      default: {
        // Any recorded event: the newest, or an older one delivered again or late.
        if (record.history.empty()) return progress::encode(progress::ServerFrame{progress::Pong{}});
        std::size_t back = in_.ConsumeIntegralInRange<std::size_t>(0, record.history.size() - 1);
        return progress::encode(progress::ServerFrame{record.history[record.history.size() - 1 - back]});
      }
    }
  }

  void step() {
    switch (in_.ConsumeIntegralInRange(0, 15)) {
      case 0: {
        std::string id = pick_id();
        trace("subscribe " + id);
        session_.subscribe(id, clocks());
        // Subscribing again revives a finished watch (a new incarnation); a live one goes on.
        if (auto it = views_.find(id); it != views_.end() && it->second.finished) views_.erase(it);
        return;
      }
      case 1: {
        std::string id = pick_id();
        trace("unsubscribe " + id);
        session_.unsubscribe(id, clocks());
        views_.erase(id);  // the watch is gone; a later subscribe starts from a blank view
        return;
      }
      case 2:
        trace("reconnect");
        session_.reconnect(clocks());
        // reconnect() is the user's retry: finished watches start a new incarnation.
        std::erase_if(views_, [](const auto& entry) { return entry.second.finished; });
        return;
      case 3:
        trace("stop");
        session_.stop(clocks());
        return;
      case 4: {
        progress::Generation generation = pick_generation();
        trace("open " + std::to_string(generation));
        session_.on_open(generation, clocks());
        return;
      }
      case 5: {
        progress::Generation generation = pick_generation();
        session_.on_close(generation, in_.ConsumeBool() ? 1000 : 1006, "gone", clocks());
        trace("close " + std::to_string(generation));
        live_.erase(generation);
        return;
      }
      case 6: {
        progress::Generation generation = pick_generation();
        trace("error " + std::to_string(generation));
        session_.on_error(generation, clocks());
        return;
      }
      case 7:
        if (auto at = session_.poll_timeout(); at && in_.ConsumeBool()) now_ = std::max(now_, at->count());
        trace("timer at " + std::to_string(now_));
        session_.on_timer(clocks());
        return;
      case 8:
        trace("online");
        session_.on_online(clocks());
        return;
      case 9:
        trace("offline");
        session_.on_offline(clocks());
        return;
      case 10:
        trace("visible");
        session_.on_visible(clocks());
        return;
      case 11:
        trace("hidden");
        session_.on_hidden(clocks());
        return;
      case 12:
      case 13: server_advance(pick_id()); return;
      default: {
        progress::Generation generation = pick_generation();
        std::string text = server_frame();
        trace("text " + std::to_string(generation) + " " + text);
        session_.on_text(generation, text, clocks());
        return;
      }
    }
  }

  void settle() {
    for (auto& action : session_.poll_actions()) {
      if (auto* connect = std::get_if<progress::Connect>(&action)) {
        trace("  connect " + std::to_string(connect->generation));
        check(live_.empty(), "a new socket while another generation is live");
        live_.insert(connect->generation);
        last_generation_ = connect->generation;
      } else if (auto* send = std::get_if<progress::Send>(&action)) {
        trace("  send " + std::to_string(send->generation) + " " + send->text);
        check(live_.contains(send->generation), "a frame sent on a socket that is not live", send->text);
        check(progress::decode_client_frame(send->text).ok(), "the session sent a frame the server rejects",
              send->text);
      } else if (auto* close = std::get_if<progress::Close>(&action)) {
        trace("  close " + std::to_string(close->generation) + " " + std::to_string(close->code));
        check(close->code == 1000 || close->code == 4000, "close code a browser script cannot send");
        live_.erase(close->generation);
      } else if (auto* timer = std::get_if<progress::SetTimer>(&action)) {
        if (timer->at) check(timer->at->count() >= now_, "timer armed in the past");
      }
    }
    for (auto& event : session_.poll_events()) {
      if (auto* changed = std::get_if<progress::ProgressChanged>(&event)) view_changed(changed->view);
    }
  }

  void view_changed(const progress::ProcessView& view) {
    trace("  view " + view.process_id + " " + std::string(progress::to_string(view.status)) + " epoch " +
          view.epoch + " seq " + std::to_string(view.seq) + " percent " + std::to_string(view.percent));
    ViewTrack& track = views_[view.process_id];
    check(!track.finished, "a finished watch changed again", view.process_id);
    if (track.seen && !view.epoch.empty() && view.epoch == track.epoch) {
      if (view.status == track.status) {
        check(view.seq > track.seq, "view seq not increasing within an epoch", view.process_id);
      } else {
        check(view.seq >= track.seq, "view seq went back within an epoch", view.process_id);
      }
      check(view.percent >= track.percent, "view percent went back within an epoch", view.process_id);
    }
    track.seen = true;
    track.epoch = view.epoch;
    track.seq = view.seq;
    track.percent = view.percent;
    track.status = view.status;
    track.finished =
        view.status == progress::WatchStatus::done || view.status == progress::WatchStatus::failed;
  }

  progress::Now clocks() const { return progress::Now{progress::MonoMillis(now_), now_ + wall_ahead_}; }

  FuzzedDataProvider& in_;
  Millis now_ = 1'000'000;  // the monotonic clock
  Millis wall_ahead_ = 0;   // the wall clock is now_ + wall_ahead_
  progress::ClientSession session_;
  std::set<progress::Generation> live_;
  progress::Generation last_generation_ = 0;
  std::map<std::string, ModelRecord> records_;
  std::map<std::string, ViewTrack> views_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Script script(in);
  script.run();
  return 0;
}
