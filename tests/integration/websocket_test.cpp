// WebSocket behaviour of a running progress-hub over real sockets: the subscribe flows that broke
// the legacy system (connect before start, after completion, reconnect), bad input, slow consumers.
// Every WebSocket test runs against both engines (embedded and --redis) and against a hub whose
// writes run on send lanes (--threads).
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/engine_param.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

class WebSocket : public ::testing::TestWithParam<engine_kind> {
 protected:
  void SetUp() override {
    if (auto why = engine_unavailable(GetParam())) GTEST_SKIP() << *why;
    port_ = hubs_.get(GetParam()).port();
  }
  static void TearDownTestSuite() { hubs_.clear(); }
  unsigned short port() const { return port_; }

  void publish(const std::string& id, const std::string& body) const {
    const auto reply = http_call(port(), "POST", "/api/processes/" + id + "/progress", body);
    ASSERT_EQ(reply.status, 200u) << reply.body;
  }
  static void expect_hello(ws_client& ws) {
    const Json hello = ws.read_json();
    EXPECT_EQ(hello["type"], "hello");
    EXPECT_EQ(hello["protocol"], 1);
  }

  static engine_hubs hubs_;
  unsigned short port_ = 0;
};

engine_hubs WebSocket::hubs_;

INSTANTIATE_TEST_SUITE_P(Engines, WebSocket, websocket_engines, engine_label);

TEST_P(WebSocket, ConnectBeforeTheJobStartsThenFollowItToTheEnd) {
  ws_client ws(port(), "/ws/progress/early-1");
  expect_hello(ws);
  const Json pending = ws.read_json();
  EXPECT_EQ(pending["type"], "pending");
  EXPECT_EQ(pending["process_id"], "early-1");

  publish("early-1", R"({"stage":"upload_received","percent":5})");
  const Json snapshot = ws.read_json();
  EXPECT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["seq"], 1);
  EXPECT_EQ(snapshot["stage"], "upload_received");

  publish("early-1", R"({"stage":"analysis","percent":50})");
  publish("early-1", R"({"state":"completed","result":{"ok":true}})");
  const Json p2 = ws.read_json();
  EXPECT_EQ(p2["type"], "progress");
  EXPECT_EQ(p2["seq"], 2);
  EXPECT_EQ(p2["stage"], "analysis");
  const Json p3 = ws.read_json();
  EXPECT_EQ(p3["seq"], 3);
  EXPECT_EQ(p3["state"], "completed");
  EXPECT_EQ(p3["result"]["ok"], true);
}

TEST_P(WebSocket, ConnectAfterCompletionGetsTheTerminalState) {
  publish("late-1", R"({"stage":"work","percent":30})");
  publish("late-1", R"({"state":"failed","error":"disk full"})");
  ws_client ws(port(), "/ws/progress/late-1");
  expect_hello(ws);
  const Json snapshot = ws.read_json();
  EXPECT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["state"], "failed");
  EXPECT_EQ(snapshot["error"], "disk full");
  EXPECT_EQ(snapshot["seq"], 2);
  ASSERT_EQ(snapshot["stages"].size(), 1u);
  EXPECT_EQ(snapshot["stages"][0]["name"], "work");
}

TEST_P(WebSocket, KilledSocketResumesWithoutGapOrDuplicate) {
  publish("resume-1", R"({"stage":"a","percent":1})");
  Seq last = 0;
  std::string epoch;
  {
    ws_client ws(port(), "/ws/progress/resume-1");
    expect_hello(ws);
    const Json snapshot = ws.read_json();
    epoch = snapshot["epoch"];
    last = snapshot["seq"];
    publish("resume-1", R"({"percent":2})");
    last = ws.read_json()["seq"];
    ws.kill();
  }
  for (int i = 3; i <= 6; ++i) publish("resume-1", R"({"percent":)" + std::to_string(i) + "}");
  ws_client again(port(), "/ws/progress/resume-1?after_seq=" + std::to_string(last) + "&epoch=" + epoch);
  expect_hello(again);
  for (Seq want = last + 1; want <= last + 4; ++want) {
    const Json frame = again.read_json();
    EXPECT_EQ(frame["type"], "progress") << frame;
    EXPECT_EQ(frame["seq"], want) << frame;
    EXPECT_EQ(frame["epoch"], epoch);
  }
  publish("resume-1", R"({"state":"completed"})");
  const Json final_frame = again.read_json();
  EXPECT_EQ(final_frame["seq"], last + 5);
  EXPECT_EQ(final_frame["state"], "completed");
}

TEST_P(WebSocket, ResumeWithAStaleEpochGetsAFreshSnapshot) {
  publish("epoch-1", R"({"percent":10})");
  ws_client ws(port(), "/ws/progress/epoch-1?after_seq=1&epoch=deadbeef");
  expect_hello(ws);
  const Json frame = ws.read_json();
  EXPECT_EQ(frame["type"], "snapshot");
  EXPECT_NE(frame["epoch"], "deadbeef");
}

TEST_P(WebSocket, MultiplexedSocketFollowsSeveralProcesses) {
  ws_client ws(port(), "/ws/progress");
  expect_hello(ws);
  publish("multi-a", R"({"percent":10})");
  ws.send(Json{{"type", "subscribe"}, {"process_id", "multi-a"}});
  ws.send(Json{{"type", "subscribe"}, {"process_id", "multi-b"}});
  const Json a = ws.read_json();
  EXPECT_EQ(a["type"], "snapshot");
  EXPECT_EQ(a["process_id"], "multi-a");
  const Json b = ws.read_json();
  EXPECT_EQ(b["type"], "pending");
  EXPECT_EQ(b["process_id"], "multi-b");
  publish("multi-b", R"({"percent":20})");
  const Json b_snapshot = ws.read_json();
  EXPECT_EQ(b_snapshot["process_id"], "multi-b");
  EXPECT_EQ(b_snapshot["percent"], 20);
}

TEST_P(WebSocket, PingIsAnsweredWithTheSameTs) {
  ws_client ws(port(), "/ws/progress");
  expect_hello(ws);
  ws.send(Json{{"type", "ping"}, {"ts", 12345}});
  const Json pong = ws.read_json();
  EXPECT_EQ(pong["type"], "pong");
  EXPECT_EQ(pong["ts"], 12345);
}

TEST_P(WebSocket, PublishSocketAcksAndRefusesAfterTheEnd) {
  ws_client producer(port(), "/ws/publish");
  expect_hello(producer);
  producer.send(Json{{"type", "publish"}, {"id", "m1"}, {"process_id", "pub-1"}, {"percent", 10}});
  const Json ack = producer.read_json();
  EXPECT_EQ(ack["type"], "ack");
  EXPECT_EQ(ack["id"], "m1");
  EXPECT_EQ(ack["seq"], 1);
  producer.send(Json{{"type", "publish"}, {"id", "m2"}, {"process_id", "pub-1"}, {"state", "completed"}});
  EXPECT_EQ(producer.read_json()["seq"], 2);
  producer.send(Json{{"type", "publish"}, {"id", "m3"}, {"process_id", "pub-1"}, {"percent", 100}});
  const Json refused = producer.read_json();
  EXPECT_EQ(refused["type"], "error");
  EXPECT_EQ(refused["code"], "process_finished");
  EXPECT_EQ(refused["id"], "m3");
}

TEST_P(WebSocket, BadFramesGetErrorsAndTheSocketStaysUsable) {
  ws_client ws(port(), "/ws/progress");
  expect_hello(ws);
  struct row {
    const char* what;
    std::string frame;
    const char* code;
  };
  const std::vector<row> table = {
      {"malformed JSON", "{\"type\":", "bad_frame"},
      {"not an object", "[1,2,3]", "bad_frame"},
      {"type of the wrong type", R"({"type":7})", "bad_frame"},
      {"process_id of the wrong type", R"({"type":"subscribe","process_id":5})", "bad_frame"},
      {"unknown type", R"({"type":"teleport"})", "unknown_type"},
      {"invalid id", R"({"type":"subscribe","process_id":"has space"})", "invalid_process_id"},
      {"publish outside /ws/publish", R"({"type":"publish","process_id":"x","percent":1})", "unauthorized"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.what);
    ws.send(r.frame);
    const Json error = ws.read_json();
    EXPECT_EQ(error["type"], "error") << error;
    EXPECT_EQ(error["code"], r.code) << error;
  }
  ws.send(Json{{"type", "ping"}, {"ts", 1}});
  EXPECT_EQ(ws.read_json()["type"], "pong");
}

TEST_P(WebSocket, BinaryFrameIsRefusedWith1003) {
  ws_client ws(port(), "/ws/progress");
  expect_hello(ws);
  ws.send_binary(std::string("\x01\x02\x03", 3));
  const Json error = ws.read_json();
  EXPECT_EQ(error["code"], "bad_frame");
  const auto closed = ws.read();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.close_code, 1003);
}

TEST_P(WebSocket, OversizedFrameIsRefusedWith1009) {
  ws_client ws(port(), "/ws/progress");
  expect_hello(ws);
  ws.send(R"({"type":"ping","pad":")" + std::string(70 * 1024, 'x') + "\"}");
  const Json error = ws.read_json();
  EXPECT_EQ(error["code"], "too_large");
  const auto closed = ws.read();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.close_code, 1009);
}

TEST_P(WebSocket, InvalidIdInThePathIsRefusedWith1008) {
  ws_client ws(port(), "/ws/progress/bad$id");
  expect_hello(ws);
  const Json error = ws.read_json();
  EXPECT_EQ(error["code"], "invalid_process_id");
  const auto closed = ws.read();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.close_code, 1008);
  // Others are still served.
  ws_client other(port(), "/ws/progress");
  expect_hello(other);
}

TEST_P(WebSocket, EchoEndpointAnswersPingWithPong) {
  ws_client ws(port(), "/ws/test");
  ws.send(std::string("ping"));
  EXPECT_EQ(ws.read().text, "pong");  // first frame: no hello on /ws/test
  ws.send(std::string("hello there"));
  EXPECT_EQ(ws.read().text, "hello there");
}

TEST_P(WebSocket, HealthEndpointReportsCounts) {
  ws_client ws(port(), "/ws/health");
  expect_hello(ws);
  const Json health = ws.read_json();
  EXPECT_EQ(health["type"], "health");
  EXPECT_GE(health["connections"], 1);
  EXPECT_TRUE(health.contains("processes"));
}

TEST_P(WebSocket, UnknownWebSocketPathIsRefused) {
  EXPECT_THROW(ws_client(port(), "/ws/nothing-here"), std::runtime_error);
}

// A consumer that stops reading while a producer publishes a lot: its queue is conflated (or the
// socket closed 1013), the server's queued bytes stay within the bound, and once it reads again it
// sees seqs in order and the terminal event.
// Handed to io_uring or a send lane, the unsent batch must hold the same bound.
class SlowConsumer : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(WritePaths, SlowConsumer, write_paths, write_path_label);

TEST_P(SlowConsumer, QueueStaysBoundedAndTheTerminalEventArrives) {
  constexpr std::size_t kQueueBound = 16 * 1024;
  // The consumer stops reading on purpose; a long heartbeat keeps a slow (sanitized, loaded) run
  // from being closed as stale (1001) before the queue bound is what decides.
  std::vector<std::string> args{"--max-queue-bytes", std::to_string(kQueueBound), "--heartbeat-ms", "600000"};
  for (auto& arg : write_path_args(GetParam())) args.push_back(std::move(arg));
  server_process server(std::move(args));
  ASSERT_EQ(http_call(server.port(), "POST", "/api/processes", R"({"process_id":"slow-1"})").status, 201u);
  ws_client consumer(server.port(), "/ws/progress/slow-1", 4096);
  EXPECT_EQ(consumer.read_json()["type"], "hello");
  EXPECT_EQ(consumer.read_json()["type"], "snapshot");

  constexpr int kPublishes = 3000;
  const std::string pad(3000, 'p');
  {
    ws_client producer(server.port(), "/ws/publish");
    EXPECT_EQ(producer.read_json()["type"], "hello");
    for (int i = 1; i <= kPublishes; ++i) {
      producer.send(Json{{"type", "publish"}, {"process_id", "slow-1"}, {"stage", "bulk"},
                         {"percent", i * 90.0 / kPublishes}, {"data", {{"pad", pad}, {"i", i}}}});
    }
    producer.send(Json{{"type", "publish"}, {"id", "last"}, {"process_id", "slow-1"}, {"state", "completed"}});
    EXPECT_EQ(producer.read_until_type("ack")["id"], "last");
  }
  const auto metrics = parse_metrics(http_call(server.port(), "GET", "/metrics").body);
  EXPECT_LE(metrics.at("progress_queued_bytes"), static_cast<double>(kQueueBound));
  EXPECT_GT(metrics.at("progress_conflated_total") + metrics.at("progress_slow_disconnects_total"), 0);

  Seq last_seq = 0;
  int progress_frames = 0;
  bool terminal = false;
  int close_code = 0;
  while (!terminal && close_code == 0) {
    const auto m = consumer.read();
    if (m.closed) {
      close_code = m.close_code;
      break;
    }
    const Json frame = Json::parse(m.text);
    if (frame["type"] != "progress") continue;
    ++progress_frames;
    EXPECT_GT(frame["seq"].get<Seq>(), last_seq);
    last_seq = frame["seq"];
    terminal = frame["state"] == "completed";
  }
  // The socket either caught up (conflated frames, then the terminal event) or was closed 1013; a
  // peer that stays unread past the server's stuck-write bound is cut without a handshake (1006).
  const auto after = parse_metrics(http_call(server.port(), "GET", "/metrics").body);
  const bool dropped_as_slow = (close_code == 1013 || close_code == 1006) && after.at("progress_slow_disconnects_total") > 0;
  EXPECT_TRUE(terminal || dropped_as_slow) << "close code " << close_code;
  EXPECT_LT(progress_frames, kPublishes + 1) << "nothing was conflated";
  RecordProperty("outcome", terminal ? "terminal" : "closed " + std::to_string(close_code));
  // Still serving others.
  EXPECT_EQ(http_call(server.port(), "GET", "/healthz").status, 200u);
}

}  // namespace
}  // namespace progress::test
