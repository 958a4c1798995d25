// One connection's protocol without the registry: answers, heartbeat, stale close, bad input,
// and the outgoing queue's bound with conflation and the 1013 close.
#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include "progress/codec.hpp"
#include "progress/server_session.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  ServerSession make(Endpoint endpoint, Millis now = 0) {
    return ServerSession(endpoint, config_, counters_, at(now));
  }

  static std::vector<ServerFrame> drain(ServerSession& session) {
    std::vector<ServerFrame> frames;
    while (auto text = session.poll_outgoing()) {
      auto frame = decode_server_frame(**text);
      EXPECT_TRUE(frame.ok()) << **text;
      if (frame.ok()) frames.push_back(frame.value());
    }
    return frames;
  }

  static OutFrame event(const std::string& id, Seq seq, FrameKind kind, std::size_t pad = 0) {
    ProgressEvent e;
    e.process_id = id;
    e.epoch = "e";
    e.seq = seq;
    e.message = std::string(pad, 'x');
    e.state = kind == FrameKind::terminal ? State::completed : State::running;
    return OutFrame{std::make_shared<const std::string>(encode(ServerFrame{e})), kind,
                    std::make_shared<const std::string>(id), seq};
  }

  HubConfig config_;
  SessionCounters counters_;
};

TEST_F(SessionTest, AnswersPingWithTheSameTs) {
  auto session = make(Endpoint::progress_multi);
  EXPECT_FALSE(session.on_text(R"({"type":"ping","ts":42})", at(1)).has_value());
  auto frames = drain(session);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(std::get<Pong>(frames[0]).ts, 42);
}

TEST_F(SessionTest, HandsSubscribeToTheHub) {
  auto session = make(Endpoint::progress_multi);
  auto frame = session.on_text(R"({"type":"subscribe","process_id":"job","after_seq":3})", at(1));
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(std::get<Subscribe>(*frame).after_seq, 3u);
  EXPECT_TRUE(drain(session).empty());
}

TEST_F(SessionTest, PublishOutsideThePublishEndpointIsUnauthorized) {
  auto session = make(Endpoint::progress);
  EXPECT_FALSE(
      session.on_text(R"({"type":"publish","id":"r1","process_id":"job","percent":1})", at(1)).has_value());
  auto frames = drain(session);
  ASSERT_EQ(frames.size(), 1u);
  const auto& error = std::get<Error>(frames[0]);
  EXPECT_EQ(error.code, ErrorCode::unauthorized);
  EXPECT_EQ(error.id, "r1");
  auto producer = make(Endpoint::publish);
  EXPECT_TRUE(producer.on_text(R"({"type":"publish","process_id":"job","percent":1})", at(1)).has_value());
}

TEST_F(SessionTest, MalformedInputIsAnsweredAndTheSocketStaysOpen) {
  auto session = make(Endpoint::progress_multi);
  session.on_text("{oops", at(1));
  session.on_text(R"({"type":"warp"})", at(1));
  auto frames = drain(session);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(std::get<Error>(frames[0]).code, ErrorCode::bad_frame);
  EXPECT_EQ(std::get<Error>(frames[1]).code, ErrorCode::unknown_type);
  EXPECT_FALSE(session.closing());
  EXPECT_EQ(counters_.errors[ErrorCode::bad_frame], 1u);
}

TEST_F(SessionTest, BinaryAndOversizeCloseAfterTheirErrorFrame) {
  auto binary = make(Endpoint::progress_multi);
  binary.on_binary(at(1));
  EXPECT_FALSE(binary.poll_close().has_value());  // not before the error frame is written
  ASSERT_EQ(drain(binary).size(), 1u);
  auto close = binary.poll_close();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, 1003);
  EXPECT_FALSE(binary.poll_close().has_value());  // asked once

  auto big = make(Endpoint::progress_multi);
  big.on_oversize(at(1));
  auto frames = drain(big);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(std::get<Error>(frames[0]).code, ErrorCode::too_large);
  EXPECT_EQ(big.poll_close()->code, 1009);
}

TEST_F(SessionTest, HeartbeatPingsThenStaleClose) {
  config_.heartbeat_ms = 100;
  config_.stale_grace_ms = 50;
  auto session = make(Endpoint::progress_multi, 1000);
  EXPECT_EQ(session.next_deadline(), mono(1100));
  session.on_timer(at(1100));
  auto frames = drain(session);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(std::get<Ping>(frames[0]).ts, 1100);
  EXPECT_EQ(session.next_deadline(), mono(1150));  // stale before the next ping
  session.on_timer(at(1150));
  auto close = session.poll_close();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, 1001);
  EXPECT_EQ(close->reason, "stale");
  EXPECT_FALSE(session.next_deadline().has_value());
}

TEST_F(SessionTest, EchoEndpointIsRawAndHasNoHeartbeat) {
  auto session = make(Endpoint::test_echo);
  EXPECT_FALSE(session.next_deadline().has_value());
  session.on_text("ping", at(1));
  session.on_text("anything", at(1));
  EXPECT_EQ(**session.poll_outgoing(), "pong");
  EXPECT_EQ(**session.poll_outgoing(), "anything");
  session.on_binary(at(2));
  EXPECT_FALSE(session.poll_outgoing().has_value());  // no JSON error on the raw endpoint
  EXPECT_EQ(session.poll_close()->code, 1003);
}

TEST_F(SessionTest, OverTheBoundIntermediateProgressIsConflated) {
  config_.max_queue_bytes = 1000;
  auto session = make(Endpoint::progress_multi);
  session.push(event("a", 1, FrameKind::stage_change));
  for (Seq s = 2; s <= 20; ++s) session.push(event("a", s, FrameKind::intermediate));
  session.push(event("a", 21, FrameKind::terminal));
  EXPECT_LE(session.queued_bytes(), config_.max_queue_bytes);
  EXPECT_GT(counters_.conflated, 0u);
  std::vector<Seq> seqs;
  for (const auto& f : drain(session)) seqs.push_back(std::get<ProgressEvent>(f).seq);
  ASSERT_GE(seqs.size(), 2u);
  EXPECT_EQ(seqs.front(), 1u);
  EXPECT_EQ(seqs.back(), 21u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_FALSE(session.closing());
}

TEST_F(SessionTest, StillOverTheBoundDropsTheQueueAndCloses1013) {
  config_.max_queue_bytes = 600;
  auto session = make(Endpoint::progress_multi);
  PushResult last = PushResult::queued;
  for (Seq s = 1; s <= 10 && last != PushResult::closed_slow; ++s)
    last = session.push(event("a", s, FrameKind::stage_change));
  EXPECT_EQ(last, PushResult::closed_slow);
  EXPECT_EQ(session.queued_bytes(), 0u);
  EXPECT_FALSE(session.poll_outgoing().has_value());
  auto close = session.poll_close();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, 1013);
  EXPECT_EQ(counters_.slow_disconnects, 1u);
  EXPECT_EQ(session.push(event("a", 11, FrameKind::terminal)), PushResult::ignored);
}

}  // namespace
}  // namespace progress
