// The client session against the real Hub, both sans-IO, joined by an in-memory link (h11's
// ConnectionPair idea): the two state machines written from one protocol text must agree on
// resume, epochs, heartbeats and pending timeouts without a socket in between.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "progress/client_session.hpp"
#include "progress/hub.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

class Link {
 public:
  explicit Link(HubConfig hub_config = {}, std::uint64_t hub_seed = 1)
      : hub_(std::make_unique<Hub>(hub_config, at(now_), hub_seed)),
        hub_config_(hub_config),
        client_(client_config()) {}

  ClientSession& client() { return client_; }
  Hub& hub() { return *hub_; }
  Now now() const { return at(now_); }
  int connects() const { return connects_; }
  const std::vector<ProcessView>& views() const { return views_; }
  std::vector<Seq> seqs(const std::string& id) const {
    std::vector<Seq> out;
    for (const auto& v : views_) {
      if (v.process_id == id && (v.status == WatchStatus::active || v.status == WatchStatus::done)) out.push_back(v.seq);
    }
    return out;
  }

  void publish(const std::string& id, double percent, std::optional<State> state = std::nullopt) {
    Publish p;
    p.process_id = id;
    p.percent = percent;
    p.state = state;
    ASSERT_TRUE(hub_->publish(p, at(now_))) << "publish " << id << " " << percent;
    pump();
  }

  // The network path dies: neither side hears a close frame.
  void cut() {
    ASSERT_TRUE(conn_);
    hub_->on_closed(*conn_);
    conn_.reset();
    client_.on_close(generation_, 1006, "", at(now_));
    pump();
  }

  // The server process restarts: every connection and record is lost.
  void restart_hub(std::uint64_t seed) {
    if (conn_) {
      conn_.reset();
      client_.on_close(generation_, 1006, "", at(now_));
    }
    hub_ = std::make_unique<Hub>(hub_config_, at(now_), seed);
    pump();
  }

  // Lets time pass, firing both sides' timers in order, as the two hosts would.
  void advance(Millis ms) {
    const Millis until = now_ + ms;
    for (;;) {
      std::optional<MonoMillis> next = hub_->poll_timeout();
      if (client_timer_ && (!next || *client_timer_ < *next)) next = client_timer_;
      if (!next || *next > mono(until)) break;
      now_ = std::max(now_, next->count());
      if (hub_->poll_timeout() && *hub_->poll_timeout() <= mono(now_)) hub_->handle_timeout(at(now_));
      if (client_timer_ && *client_timer_ <= mono(now_)) {
        client_timer_.reset();
        client_.on_timer(at(now_));
      }
      pump();
    }
    now_ = until;
  }

  void pump() {
    for (bool busy = true; busy;) {
      busy = false;
      for (auto& action : client_.poll_actions()) {
        busy = true;
        if (const auto* c = std::get_if<Connect>(&action)) {
          ASSERT_FALSE(conn_) << "second socket";
          const std::string path = c->url.substr(c->url.find("/ws/"));
          auto target = parse_target(path);
          ASSERT_TRUE(target) << path;
          generation_ = c->generation;
          conn_ = hub_->open(*target, at(now_));
          ++connects_;
          client_.on_open(generation_, at(now_));
        } else if (const auto* s = std::get_if<Send>(&action)) {
          ASSERT_EQ(s->generation, generation_);
          if (conn_) hub_->on_text(*conn_, s->text, at(now_));
        } else if (const auto* cl = std::get_if<Close>(&action)) {
          if (conn_ && cl->generation == generation_) {
            hub_->on_closed(*conn_);
            conn_.reset();
          }
        } else if (const auto* t = std::get_if<SetTimer>(&action)) {
          client_timer_ = t->at;
        }
      }
      for (const auto& event : client_.poll_events()) {
        if (const auto* p = std::get_if<ProgressChanged>(&event)) views_.push_back(p->view);
      }
      for (ConnId id : hub_->poll_dirty()) {
        if (!conn_ || id != *conn_) continue;
        while (auto text = hub_->poll_outgoing(id)) {
          busy = true;
          client_.on_text(generation_, **text, at(now_));
        }
        if (auto close = hub_->poll_close(id)) {
          busy = true;
          hub_->on_closed(id);
          conn_.reset();
          client_.on_close(generation_, close->code, close->reason, at(now_));
        }
      }
    }
  }

 private:
  static ClientConfig client_config() {
    ClientConfig c;
    c.url = "ws://hub.test";
    c.seed = 5;
    return c;
  }

  Millis now_ = 1'764'000'000'000;
  std::unique_ptr<Hub> hub_;
  HubConfig hub_config_;
  ClientSession client_;
  std::optional<ConnId> conn_;
  Generation generation_ = 0;
  std::optional<MonoMillis> client_timer_;
  int connects_ = 0;
  std::vector<ProcessView> views_;
};

TEST(ClientWithHub, SubscribeBeforeTheJobExistsThenFollowItToTheEnd) {
  Link link;
  link.client().subscribe("doc-1", link.now());
  link.pump();
  ASSERT_EQ(link.client().state(), SessionState::live);
  EXPECT_EQ(link.client().view("doc-1")->status, WatchStatus::pending);
  link.advance(1000);
  link.publish("doc-1", 10);
  link.publish("doc-1", 60);
  link.publish("doc-1", 100, State::completed);
  EXPECT_EQ(link.seqs("doc-1"), (std::vector<Seq>{1, 2, 3}));
  EXPECT_EQ(link.client().view("doc-1")->status, WatchStatus::done);
  EXPECT_EQ(link.client().state(), SessionState::done);
  EXPECT_EQ(link.hub().stats().connections, 0u) << "the client closes its socket when everything is finished";
}

TEST(ClientWithHub, LateSubscriberGetsTheTerminalStateAtOnce) {
  Link link;
  link.publish("doc-2", 50);
  link.publish("doc-2", 100, State::completed);
  link.client().subscribe("doc-2", link.now());
  link.pump();
  EXPECT_EQ(link.client().state(), SessionState::done);
  EXPECT_EQ(link.client().view("doc-2")->state, State::completed);
  EXPECT_EQ(link.client().view("doc-2")->seq, 2u);
}

TEST(ClientWithHub, ResumeAfterACutSeesEveryEventOnce) {
  Link link;
  ASSERT_TRUE(link.hub().create_process(std::string("doc-3"), link.now()));
  link.client().subscribe("doc-3", link.now());
  link.pump();
  for (double p : {10.0, 20.0, 30.0}) link.publish("doc-3", p);
  link.cut();
  EXPECT_EQ(link.client().state(), SessionState::reconnecting);
  link.publish("doc-3", 40);
  link.publish("doc-3", 50);
  link.advance(1000);  // past the first backoff window
  ASSERT_EQ(link.client().state(), SessionState::live);
  link.publish("doc-3", 100, State::completed);
  EXPECT_EQ(link.seqs("doc-3"), (std::vector<Seq>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(link.connects(), 2);
}

TEST(ClientWithHub, HistoryTooShortFallsBackToASnapshot) {
  HubConfig config;
  config.history = 2;
  Link link(config);
  link.client().subscribe("doc-4", link.now());
  link.pump();
  link.publish("doc-4", 1);
  link.cut();
  for (int i = 2; i <= 10; ++i) link.publish("doc-4", i);
  link.advance(1000);
  EXPECT_EQ(link.seqs("doc-4"), (std::vector<Seq>{1, 10}));
  EXPECT_EQ(link.client().view("doc-4")->percent, 10);
}

TEST(ClientWithHub, HeartbeatsKeepAnIdleWatchLiveForAnHour) {
  Link link;
  link.client().subscribe("doc-5", link.now());
  link.pump();
  link.publish("doc-5", 1);
  link.advance(60 * 60 * 1000);
  EXPECT_EQ(link.client().state(), SessionState::live);
  EXPECT_EQ(link.connects(), 1) << "the client must never think the hub's heartbeat-paced socket is stale";
}

TEST(ClientWithHub, PendingTimeoutFailsTheWatchWithNotFound) {
  HubConfig config;
  config.pending_timeout_ms = 5000;
  Link link(config);
  link.client().subscribe("never-started", link.now());
  link.pump();
  link.advance(6000);
  const ProcessView* view = link.client().view("never-started");
  EXPECT_EQ(view->status, WatchStatus::failed);
  ASSERT_TRUE(view->failure);
  EXPECT_EQ(view->failure->code, ErrorCode::not_found);
  EXPECT_EQ(link.client().state(), SessionState::failed);
}

TEST(ClientWithHub, RestartedHubWithNewEpochIsFollowedFromSeqOne) {
  Link link;
  link.client().subscribe("doc-6", link.now());
  link.pump();
  for (double p : {10.0, 20.0, 30.0, 40.0}) link.publish("doc-6", p);
  const std::string old_epoch = link.client().view("doc-6")->epoch;
  link.restart_hub(99);
  link.advance(1000);
  ASSERT_EQ(link.client().state(), SessionState::live);
  EXPECT_EQ(link.client().view("doc-6")->status, WatchStatus::pending) << "the restarted hub has no record yet";
  link.publish("doc-6", 5);  // the worker starts over on the new server
  const ProcessView* view = link.client().view("doc-6");
  EXPECT_NE(view->epoch, old_epoch);
  EXPECT_EQ(view->seq, 1u);
  EXPECT_EQ(view->percent, 5);
  link.publish("doc-6", 100, State::completed);
  EXPECT_EQ(link.client().view("doc-6")->seq, 2u);
  EXPECT_EQ(link.client().state(), SessionState::done);
}

TEST(ClientWithHub, SeveralProcessesShareOneSocket) {
  Link link;
  for (const char* id : {"f1", "f2", "f3"}) link.client().subscribe(id, link.now());
  link.pump();
  link.publish("f2", 50);
  link.publish("f1", 100, State::completed);
  link.publish("f3", 100, State::completed);
  EXPECT_EQ(link.client().state(), SessionState::live);
  link.publish("f2", 100, State::completed);
  EXPECT_EQ(link.client().state(), SessionState::done);
  EXPECT_EQ(link.connects(), 1);
}

}  // namespace
}  // namespace progress
