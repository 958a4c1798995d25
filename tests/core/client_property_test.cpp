// Seeded property loop: a model hub (records with epochs and bounded history, pending
// subscriptions, replay-or-snapshot on subscribe) talks to a ClientSession through a host that
// misbehaves the ways networks do: duplicated and swapped frames, conflation gaps, dropped and
// refused sockets, frames of old sockets arriving late, records recreated with a new epoch,
// sleep-sized time jumps, offline/online. Whatever the order, every view the session emits must
//   - show a seq the hub really produced in that epoch, with that seq's percent;
//   - within an epoch: seq strictly increasing, percent never decreasing;
//   - reach a terminal state at most once per process;
// and once the network calms down, every watch must end on the hub's final state.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "progress/client_session.hpp"
#include "progress/codec.hpp"
#include "progress/splitmix.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

constexpr std::size_t kHistory = 8;  // small, so resumes often fall back to a snapshot
constexpr int kProcesses = 3;

struct Record {
  bool exists = false;
  std::string epoch;
  Seq seq = 0;
  State state = State::running;
  std::string stage = "upload_received";
  double percent = 0;
  Millis ts = 0;
  std::deque<ProgressEvent> history;

  Snapshot snapshot(const std::string& id) const {
    Snapshot s;
    s.process_id = id;
    s.epoch = epoch;
    s.seq = seq;
    s.state = state;
    s.stage = stage;
    s.percent = percent;
    s.updated_at = ts;
    return s;
  }
};

struct Delivered {
  Generation generation;
  std::string text;
};

class World {
 public:
  explicit World(std::uint64_t seed) : rng_(seed), session_(make_config(seed)) {}

  void run(int steps) {
    for (int i = 0; i < kProcesses; ++i) {
      ids_.push_back("p" + std::to_string(i));
      session_.subscribe(ids_.back(), at(now_));
      settle();
    }
    for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) random_step();
    calm_down();
  }

 private:
  static ClientConfig make_config(std::uint64_t seed) {
    ClientConfig c;
    c.url = "ws://hub.test";
    c.seed = seed;
    c.suspend_after_ms = 60'000;
    return c;
  }

  std::uint64_t pick(std::uint64_t n) { return rng_.next() % n; }
  // size_t is 32 bits on wasm32: indices get their own draw so no narrowing warning fires.
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(pick(n)); }
  bool chance(int percent) { return pick(100) < static_cast<std::uint64_t>(percent); }

  // ---- the host: carry out actions, check events ------------------------------------------

  void settle() {
    for (const auto& action : session_.poll_actions()) {
      if (const auto* c = std::get_if<Connect>(&action)) {
        ASSERT_FALSE(socket_) << "second socket requested";
        socket_ = c->generation;
        open_ = false;
      } else if (const auto* s = std::get_if<Send>(&action)) {
        ASSERT_EQ(socket_, s->generation);
        hub_receive(s->text);
      } else if (const auto* cl = std::get_if<Close>(&action)) {
        ASSERT_EQ(socket_, cl->generation);
        drop_socket();
      } else if (const auto* t = std::get_if<SetTimer>(&action)) {
        timer_ = in_ms(t->at);
      }
    }
    for (const auto& event : session_.poll_events()) {
      if (const auto* p = std::get_if<ProgressChanged>(&event)) check_view(p->view);
    }
  }

  void check_view(const ProcessView& view) {
    if (view.status == WatchStatus::waiting || view.status == WatchStatus::pending ||
        view.status == WatchStatus::failed) {
      ASSERT_NE(view.status, WatchStatus::failed) << "no watch may fail here: " << view.failure->message;
      return;
    }
    auto& seen = seen_[view.process_id];
    const auto& produced = produced_[view.epoch];
    ASSERT_TRUE(produced.count(view.seq)) << view.process_id << " shows seq " << view.seq << " of epoch " << view.epoch
                                          << " which the hub never produced";
    EXPECT_EQ(view.percent, produced.at(view.seq)) << view.process_id << " seq " << view.seq;
    if (seen.epoch == view.epoch) {
      EXPECT_GT(view.seq, seen.seq) << view.process_id << ": seq went from " << seen.seq << " to " << view.seq;
      EXPECT_GE(view.percent, seen.percent) << view.process_id << ": percent went backwards";
    }
    seen.epoch = view.epoch;
    seen.seq = view.seq;
    seen.percent = view.percent;
    if (view.status == WatchStatus::done) {
      EXPECT_EQ(++seen.terminal, 1) << view.process_id << " reached a terminal state twice";
    }
  }

  void drop_socket() {
    for (const auto& text : inbox_) late_.push_back({*socket_, text});
    inbox_.clear();
    delivered_.clear();
    subscribed_.clear();
    socket_.reset();
    open_ = false;
  }

  void deliver(const std::string& text) {
    session_.on_text(*socket_, text, at(now_));
    delivered_.push_back(text);
    settle();
  }

  // ---- the model hub ---------------------------------------------------------------------

  void hub_receive(const std::string& text) {
    auto frame = decode_client_frame(text);
    ASSERT_TRUE(frame) << "the session sent an invalid frame: " << text;
    const auto* sub = std::get_if<Subscribe>(&frame.value());
    if (sub == nullptr) return;
    subscribed_.insert(sub->process_id);
    const Record& r = records_[sub->process_id];
    if (!r.exists) {
      push(Pending{sub->process_id});
      return;
    }
    const bool epoch_ok = !sub->epoch || *sub->epoch == r.epoch;
    const Seq oldest = r.history.empty() ? r.seq + 1 : r.history.front().seq;
    if (sub->after_seq && epoch_ok && *sub->after_seq + 1 >= oldest && *sub->after_seq <= r.seq) {
      for (const auto& event : r.history) {
        if (event.seq > *sub->after_seq) push(event);
      }
    } else {
      push(r.snapshot(sub->process_id));
    }
  }

  void push(const ServerFrame& frame) { inbox_.push_back(encode(frame)); }

  // `announce` is what live subscribers of a new record get: a snapshot (pending subscribers) or
  // the bare first event (subscribers of the record it replaced).
  enum class Announce { snapshot, event };

  void publish(const std::string& id, bool allow_terminal, Announce announce = Announce::snapshot) {
    Record& r = records_[id];
    if (r.exists && is_terminal(r.state)) return;
    const bool created = !r.exists;
    if (created) {
      r = Record{};
      r.exists = true;
      r.epoch = "ep" + std::to_string(next_epoch_++);
    }
    r.seq += 1;
    r.ts = now_;
    const bool stage_change = chance(15);
    if (stage_change) r.stage = "stage" + std::to_string(r.seq);
    r.percent = std::min(100.0, r.percent + static_cast<double>(pick(12)));
    if (allow_terminal && r.seq >= 4 && chance(10)) {
      r.state = chance(70) ? State::completed : State::failed;
      if (r.state == State::completed) r.percent = 100;
    }
    ProgressEvent event;
    event.process_id = id;
    event.epoch = r.epoch;
    event.seq = r.seq;
    event.state = r.state;
    event.stage = r.stage;
    event.percent = r.percent;
    event.ts = r.ts;
    produced_[r.epoch][r.seq] = r.percent;
    r.history.push_back(event);
    if (r.history.size() > kHistory) r.history.pop_front();
    if (!socket_ || !open_ || !subscribed_.count(id)) return;
    if (created && announce == Announce::snapshot) {
      push(r.snapshot(id));
    } else if (created) {
      push(event);
    } else if (stage_change || is_terminal(r.state) || !chance(20)) {
      push(event);  // else conflated away: a legal gap
    }
  }

  // The record is recreated (server restart, expiry): new epoch, seq from 1 again; or it is
  // simply gone until its job publishes again (subscribers get `pending` meanwhile).
  void recreate(const std::string& id, bool start_again) {
    Record& r = records_[id];
    if (!r.exists || is_terminal(r.state)) return;
    r.exists = false;
    if (start_again) publish(id, false, Announce::event);
  }

  // ---- one random step -----------------------------------------------------------------------

  void random_step() {
    now_ += static_cast<Millis>(pick(1500));
    const std::string& id = ids_[index(ids_.size())];
    switch (pick(16)) {
      case 0:
      case 1:
      case 2: publish(id, true); break;
      case 3:
      case 4:
      case 5:
      case 6:
        if (socket_ && open_ && !inbox_.empty()) {
          const std::string text = inbox_.front();
          inbox_.pop_front();
          deliver(text);
        }
        break;
      case 7:  // a duplicate of something already delivered on this socket
        if (socket_ && open_ && !delivered_.empty()) deliver(delivered_[index(delivered_.size())]);
        break;
      case 8:  // two frames swapped in flight
        if (inbox_.size() >= 2) {
          const std::size_t i = index(inbox_.size() - 1);
          std::swap(inbox_[i], inbox_[i + 1]);
        }
        break;
      case 9:  // the socket opens (and the hub says hello), or is refused
        if (socket_ && !open_) {
          if (chance(80)) {
            session_.on_open(*socket_, at(now_));
            open_ = true;
            session_.on_text(*socket_, R"({"type":"hello","protocol":1,"heartbeat_ms":20000,"server":"model"})",
                             at(now_));
          } else {
            session_.on_close(*socket_, 1006, "", at(now_));
            drop_socket();
          }
          settle();
        }
        break;
      case 10:  // the network drops the socket
        if (socket_ && chance(50)) {
          session_.on_error(*socket_, at(now_));  // the session closes it itself
        } else if (socket_) {
          const Generation g = *socket_;
          drop_socket();
          session_.on_close(g, 1006, "", at(now_));
        }
        settle();
        break;
      case 11:  // a frame of an old socket arrives late: it must change nothing
        if (!late_.empty()) {
          const Delivered late = late_[index(late_.size())];
          if (late.generation != socket_) {
            session_.on_text(late.generation, late.text, at(now_));
            EXPECT_TRUE(session_.poll_actions().empty()) << "a late frame of generation " << late.generation << " acted";
            EXPECT_TRUE(session_.poll_events().empty()) << "a late frame of generation " << late.generation << " emitted";
          }
        }
        break;
      case 12:
        if (timer_) {
          now_ = std::max(now_, *timer_);
          timer_.reset();
          session_.on_timer(at(now_));
          settle();
        }
        break;
      case 13: recreate(id, true); break;
      case 14:  // a sleep-sized jump, or a server restart that loses every record
        if (chance(50)) {
          now_ += 60'000 + static_cast<Millis>(pick(60'000));
        } else if (socket_) {
          const Generation g = *socket_;
          drop_socket();
          session_.on_close(g, 1001, "going away", at(now_));
          settle();
          for (const auto& other : ids_) recreate(other, chance(50));
        }
        break;
      case 15:
        switch (pick(4)) {
          case 0: session_.on_offline(at(now_)); break;
          case 1: session_.on_online(at(now_)); break;
          case 2: session_.on_visible(at(now_)); break;
          default:
            if (socket_ && open_) push(Ping{now_});
            break;
        }
        settle();
        break;
    }
  }

  // The network behaves from here on: every job runs to its end and every watch must follow.
  void calm_down() {
    session_.on_online(at(now_));
    settle();
    for (int i = 0; i < 5000 && session_.state() != SessionState::done && !::testing::Test::HasFailure(); ++i) {
      now_ += 100;
      if (socket_ && !open_) {
        session_.on_open(*socket_, at(now_));
        open_ = true;
        session_.on_text(*socket_, R"({"type":"hello","protocol":1,"heartbeat_ms":20000,"server":"model"})", at(now_));
        settle();
      } else if (socket_ && !inbox_.empty()) {
        const std::string text = inbox_.front();
        inbox_.pop_front();
        deliver(text);
      } else if (socket_) {
        const std::string& id = ids_[index(ids_.size())];
        publish(id, true);
        if (i > 1000) publish(id, true);
      } else if (timer_) {
        now_ = std::max(now_, *timer_);
        timer_.reset();
        session_.on_timer(at(now_));
        settle();
      }
    }
    ASSERT_EQ(session_.state(), SessionState::done);
    for (const auto& id : ids_) {
      const ProcessView* view = session_.view(id);
      const Record& r = records_[id];
      ASSERT_NE(view, nullptr);
      EXPECT_EQ(view->status, WatchStatus::done) << id;
      EXPECT_EQ(view->epoch, r.epoch) << id;
      EXPECT_EQ(view->seq, r.seq) << id;
      EXPECT_EQ(view->state, r.state) << id;
    }
  }

  struct Seen {
    std::string epoch;
    Seq seq = 0;
    double percent = 0;
    int terminal = 0;
  };

  SplitMix64 rng_;
  ClientSession session_;
  Millis now_ = 0;
  std::vector<std::string> ids_;
  std::optional<Generation> socket_;
  bool open_ = false;
  std::optional<Millis> timer_;
  std::deque<std::string> inbox_;
  std::vector<std::string> delivered_;
  std::vector<Delivered> late_;
  std::set<std::string> subscribed_;
  std::map<std::string, Record> records_;
  int next_epoch_ = 1;
  std::map<std::string, std::map<Seq, double>> produced_;  // epoch -> seq -> percent
  std::map<std::string, Seen> seen_;
};

TEST(ClientProperty, ViewsStayConsistentUnderHostileDelivery) {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    World world(seed);
    world.run(400);
    if (::testing::Test::HasFailure()) {
      FAIL() << "first failing seed: " << seed;
    }
  }
}

}  // namespace
}  // namespace progress
