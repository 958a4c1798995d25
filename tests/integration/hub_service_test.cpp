// hub_service kicks every session the hub marked dirty once per turn of the event loop. A kick can
// end sessions (a failed write closes the socket), so the pass must cope with streams that close
// while it walks them, and a shutdown must still see its last stream go. After the pass a hook sends
// the writes the pass handed over (ring_queue).
#include <functional>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "hub/hub_service.hpp"

namespace progress::server {
namespace {

class recording_sink : public stream_sink {
 public:
  void kick() override {
    ++kicks;
    if (on_kick) on_kick();
  }
  int kicks = 0;
  std::function<void()> on_kick;
};

class HubService : public ::testing::Test {
 protected:
  // Opens `n` streams on /ws/progress/job; each has hello and pending queued, so each is dirty.
  void open_streams(int n) {
    Target target;
    target.endpoint = Endpoint::progress;
    target.process_id = "job";
    for (int i = 0; i < n; ++i) {
      sinks_.push_back(std::make_shared<recording_sink>());
      conns_.push_back(service_.open(target, sinks_.back()));
    }
    service_.deliver();
  }

  net::io_context ioc_;
  logger log_{log_level::off};
  hub_service service_{ioc_, HubConfig{}, 1, log_};
  std::vector<std::shared_ptr<recording_sink>> sinks_;
  std::vector<ConnId> conns_;
};

TEST_F(HubService, AStreamClosedDuringAKickPassIsNotKickedInIt) {
  open_streams(3);
  // Whichever stream is kicked first ends the other two, as a write that fails on a shared cause
  // would: they are still in the pass's list, and must not be kicked after they closed.
  for (auto& sink : sinks_) {
    sink->on_kick = [this] {
      for (std::size_t i = 0; i < sinks_.size(); ++i) {
        if (sinks_[i]->kicks == 0) service_.on_closed(conns_[i]);
      }
    };
  }
  ioc_.poll();
  int kicked = 0;
  for (const auto& sink : sinks_) kicked += sink->kicks;
  EXPECT_EQ(kicked, 1);
  EXPECT_EQ(service_.open_streams(), 1u);
  EXPECT_EQ(service_.stats().connections, 1u);
}

TEST_F(HubService, ShutdownDrainsWhenTheLastStreamsCloseDuringAKickPass) {
  open_streams(2);
  ioc_.poll();
  // Each stream, kicked with its close frame queued, closes as a session does once it is written.
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    sinks_[i]->on_kick = [this, i] { service_.on_closed(conns_[i]); };
  }
  bool drained = false;
  service_.shutdown([&drained] { drained = true; });
  ioc_.poll();
  EXPECT_EQ(service_.open_streams(), 0u);
  EXPECT_TRUE(drained);
}

// The ring's round (ring_queue) is sent by this hook: it must come once per pass, after every
// session of the pass handed its write over, and after streams closed in the pass are gone.
TEST_F(HubService, TheAfterPassHookRunsOnceWhenEverySessionWasKicked) {
  open_streams(3);
  sinks_[0]->on_kick = [this] { service_.on_closed(conns_[0]); };
  std::vector<int> kicks_seen;
  std::size_t streams_seen = 0;
  service_.set_after_kick_pass([&] {
    for (const auto& sink : sinks_) kicks_seen.push_back(sink->kicks);
    streams_seen = service_.open_streams();
  });
  ioc_.poll();
  EXPECT_EQ(kicks_seen, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(streams_seen, 2u);
}

}  // namespace
}  // namespace progress::server
