// ClientSession behaviour the vectors cannot express: whole runs against a host that carries
// out every action (no doubled sockets, one timer), determinism of the jitter, accessors, moves.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "progress/client_session.hpp"
#include "progress/codec.hpp"
#include "progress/splitmix.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

using nlohmann::json;

ClientConfig config(std::uint64_t seed = 1) {
  ClientConfig c;
  c.url = "ws://hub.test";
  c.seed = seed;
  return c;
}

// What a correct host does with the actions: one socket at a time, one timer.
struct Host {
  std::optional<Generation> socket;  // issued and not yet closed
  std::optional<Millis> timer;
  std::vector<json> sent;
  std::vector<Generation> connects;
  std::vector<int> close_codes;

  void apply(const std::vector<Action>& actions) {
    for (const auto& action : actions) {
      if (const auto* c = std::get_if<Connect>(&action)) {
        ASSERT_FALSE(socket) << "Connect for generation " << c->generation << " while " << *socket << " is open";
        ASSERT_TRUE(connects.empty() || c->generation > connects.back()) << "generations must grow";
        socket = c->generation;
        connects.push_back(c->generation);
      } else if (const auto* s = std::get_if<Send>(&action)) {
        ASSERT_EQ(socket, s->generation) << "send on a socket that is not the current one";
        sent.push_back(json::parse(s->text));
      } else if (const auto* cl = std::get_if<Close>(&action)) {
        ASSERT_EQ(socket, cl->generation) << "close of a socket that is not the current one";
        // Browsers throw on any other code a script passes to WebSocket.close().
        ASSERT_TRUE(cl->code == 1000 || (cl->code >= 3000 && cl->code <= 4999)) << cl->code;
        close_codes.push_back(cl->code);
        socket.reset();
      } else if (const auto* t = std::get_if<SetTimer>(&action)) {
        timer = in_ms(t->at);
      }
    }
  }
  // The peer closed: the host drops its socket before telling the session.
  void peer_closed() { socket.reset(); }
};

std::string hello() { return R"({"type":"hello","protocol":1,"heartbeat_ms":20000,"server":"t"})"; }

void drive(ClientSession& session, Host& host) {
  host.apply(session.poll_actions());
  session.poll_events();
  EXPECT_EQ(in_ms(session.poll_timeout()), host.timer) << "poll_timeout() must agree with the last SetTimer";
}

TEST(ClientSession, SameSeedGivesTheSameRunAndDifferentSeedsDiffer) {
  auto retry_times = [](std::uint64_t seed) {
    ClientSession session(config(seed));
    Host host;
    std::vector<Millis> times;
    session.subscribe("a", at(0));
    drive(session, host);
    for (int i = 0; i < 8; ++i) {
      const Millis now = *host.timer;
      session.on_close(*host.socket, 1006, "", at(now));
      host.peer_closed();
      drive(session, host);
      times.push_back(*host.timer);
      session.on_timer(at(*host.timer));
      drive(session, host);
    }
    return times;
  };
  EXPECT_EQ(retry_times(11), retry_times(11));
  EXPECT_NE(retry_times(11), retry_times(12));
}

TEST(ClientSession, ViewsAndIdsInSubscriptionOrder) {
  ClientSession session(config());
  session.subscribe("b", at(0));
  session.subscribe("a", at(0));
  session.subscribe("no spaces allowed", at(0));
  EXPECT_EQ(session.process_ids(), (std::vector<std::string>{"b", "a", "no spaces allowed"}));
  ASSERT_NE(session.view("a"), nullptr);
  EXPECT_EQ(session.view("a")->status, WatchStatus::waiting);
  EXPECT_EQ(session.view("no spaces allowed")->status, WatchStatus::failed);
  EXPECT_EQ(session.view("zzz"), nullptr);
  session.unsubscribe("b", at(0));
  EXPECT_EQ(session.view("b"), nullptr);
}

TEST(ClientSession, OverlongInvalidIdIsReportedCutToTheIdLimit) {
  ClientSession session(config());
  const std::string id(100'000, 'x');
  session.subscribe(id, at(0));
  const auto events = session.poll_events();
  ASSERT_FALSE(events.empty());
  const auto* error = std::get_if<ErrorEvent>(&events.front());
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->error.code, ErrorCode::invalid_process_id);
  EXPECT_EQ(error->error.process_id->size(), 128u);
  EXPECT_EQ(session.state(), SessionState::failed);
  EXPECT_TRUE(session.poll_actions().empty()) << "an invalid id must not open a socket";
}

TEST(ClientSession, InvalidIdCutToAValidWatchedIdLeavesThatWatchAlone) {
  ClientSession session(config());
  const std::string valid(128, 'x');
  session.subscribe(valid, at(0));
  session.subscribe(valid + "!", at(0));
  EXPECT_EQ(session.view(valid)->status, WatchStatus::waiting);
  EXPECT_EQ(session.state(), SessionState::connecting);
}

TEST(ClientSession, MovedSessionKeepsWorking) {
  ClientSession first(config());
  first.subscribe("a", at(0));
  ClientSession second(std::move(first));
  Host host;
  drive(second, host);
  second.on_open(1, at(10));
  second.on_text(1, hello(), at(20));
  drive(second, host);
  ASSERT_EQ(host.sent.size(), 1u);
  EXPECT_EQ(host.sent[0]["type"], "subscribe");
  EXPECT_EQ(second.state(), SessionState::live);
}

TEST(ClientSession, ViewPointerSurvivesFrames) {
  ClientSession session(config());
  session.subscribe("a", at(0));
  session.on_open(1, at(1));
  session.on_text(1, hello(), at(2));
  session.on_text(1, R"({"type":"pending","process_id":"a"})", at(3));
  EXPECT_EQ(session.view("a")->status, WatchStatus::pending);
  session.on_text(1,
                  R"({"type":"progress","process_id":"a","epoch":"e","seq":1,"state":"running","stage":"s",)"
                  R"("percent":12.5,"message":"m","data":{"k":1},"ts":5})",
                  at(5));
  const ProcessView* view = session.view("a");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->percent, 12.5);
  EXPECT_EQ(view->data, json({{"k", 1}}));
  EXPECT_EQ(view->updated_at, 5);
}

// Random inputs from a host that obeys the actions: whatever happens, the session never asks
// for a second socket while one is open, never sends on a dead one, and its timer is the one
// poll_timeout() reports.
TEST(ClientSession, RandomInputsNeverDoubleSockets) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    SplitMix64 rng(seed);
    auto pick = [&](std::uint64_t n) { return rng.next() % n; };
    ClientSession session(config(seed));
    Host host;
    Millis now = 0;
    Generation last_issued = 0;
    for (int step = 0; step < 300; ++step) {
      now += static_cast<Millis>(pick(3000));
      const Generation current = host.socket.value_or(last_issued);
      const Generation any_gen = static_cast<Generation>(pick(current + 2));
      switch (pick(14)) {
        case 0: session.subscribe("p" + std::to_string(pick(4)), at(now)); break;
        case 1: session.unsubscribe("p" + std::to_string(pick(4)), at(now)); break;
        case 2: session.on_open(current, at(now)); break;
        case 3: session.on_text(current, hello(), at(now)); break;
        case 4:
          if (host.socket) {
            session.on_close(current, 1006, "", at(now));
            host.peer_closed();
          }
          break;
        case 5: session.on_error(any_gen, at(now)); break;
        case 6:
          // The host's timer fires and is spent; the session re-arms whatever remains.
          now = std::max(now, host.timer.value_or(now));
          host.timer.reset();
          session.on_timer(at(now));
          break;
        case 7: session.on_online(at(now)); break;
        case 8: session.on_offline(at(now)); break;
        case 9: session.on_visible(at(now)); break;
        case 10: session.reconnect(at(now)); break;
        case 11: pick(4) == 0 ? session.stop(at(now)) : session.start(at(now)); break;
        case 12: session.on_text(any_gen, R"({"type":"ping","ts":1})", at(now)); break;
        case 13:
          session.on_text(current,
                          R"({"type":"progress","process_id":"p)" + std::to_string(pick(4)) +
                              R"(","epoch":"e","seq":)" + std::to_string(pick(20) + 1) +
                              R"(,"state":")" + (pick(6) == 0 ? "completed" : "running") +
                              R"(","stage":"s","percent":1,"message":"","data":{},"ts":1})",
                          at(now));
          break;
      }
      if (host.socket) last_issued = *host.socket;
      drive(session, host);
      if (!host.connects.empty()) last_issued = host.connects.back();
      if (::testing::Test::HasFatalFailure() || ::testing::Test::HasFailure()) {
        FAIL() << "seed " << seed << " step " << step;
      }
      const SessionState state = session.state();
      const bool connected = state == SessionState::connecting || state == SessionState::open ||
                             state == SessionState::live;
      EXPECT_EQ(connected, host.socket.has_value())
          << "state " << to_string(state) << " vs socket, seed " << seed << " step " << step;
      if (state == SessionState::stopped || state == SessionState::done || state == SessionState::idle) {
        EXPECT_FALSE(host.timer) << "a resting session holds no timer, seed " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace progress
