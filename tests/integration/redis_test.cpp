// Several progress-hub nodes sharing one real redis-server (--redis): a publish on any node
// reaches subscribers on every other in order, a killed node's clients resume on another with no
// gap or duplicate, the records survive a Redis restart (AOF), and concurrent writers on two nodes
// never share or skip a seq; a finished record expires on every node; a hung (not closed) Redis
// costs a publish the command timeout, not forever; a node whose channel connection went silent
// reconnects on its own; the process limit counts the records in Redis; a Redis that requires a
// password is reached with it (redis://:password@...), and the log never shows it.
#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/engine_param.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"
#include "silencing_proxy.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

Json publish_frame(const std::string& id, const std::string& process_id, double percent, const std::string& stage) {
  return Json{{"type", "publish"}, {"id", id}, {"process_id", process_id}, {"percent", percent}, {"stage", stage}};
}

// Reads the first frame about a process after `hello` (snapshot / pending / progress).
Json next_process_frame(ws_client& ws) {
  while (true) {
    Json frame = ws.read_json();
    const std::string type = frame.value("type", "");
    if (type == "snapshot" || type == "progress" || type == "pending" || type == "error") return frame;
  }
}

class MultiNode : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto binary = find_redis_server();
    if (!binary) GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
    redis_ = std::make_unique<redis_process>(*binary, redis_dir_.path());
    for (auto& node : nodes_) {
      node = std::make_unique<server_process>(std::vector<std::string>{"--redis", redis_->url()});
      wait_until_connected(node->port());
    }
  }

  unsigned short port(std::size_t node) const { return nodes_.at(node)->port(); }

  temp_dir redis_dir_;
  std::unique_ptr<redis_process> redis_;
  std::array<std::unique_ptr<server_process>, 3> nodes_;
};

TEST_F(MultiNode, PublishOnOneNodeReachesSubscribersOnTheOthersInOrder) {
  ws_client on_b(port(1), "/ws/progress/job-fanout");
  ws_client on_c(port(2), "/ws/progress/job-fanout");
  // `pending` comes after the node followed the process and found no record.
  EXPECT_EQ(next_process_frame(on_b)["type"], "pending");
  EXPECT_EQ(next_process_frame(on_c)["type"], "pending");

  ws_client producer(port(0), "/ws/publish");
  producer.read_json();  // hello
  constexpr int kEvents = 30;
  for (int i = 1; i <= kEvents; ++i) {
    producer.send(publish_frame("p" + std::to_string(i), "job-fanout", i, i <= 15 ? "upload" : "analysis"));
  }
  for (int i = 1; i <= kEvents; ++i) {
    const Json ack = producer.read_json();
    ASSERT_EQ(ack["type"], "ack") << ack.dump();
    EXPECT_EQ(ack["seq"], i);  // one producer's publishes are applied in the order it sent them
  }
  producer.send(Json{{"type", "publish"}, {"id", "end"}, {"process_id", "job-fanout"}, {"state", "completed"}});
  EXPECT_EQ(producer.read_json()["seq"], kEvents + 1);

  for (ws_client* ws : {&on_b, &on_c}) {
    const Json first = next_process_frame(*ws);
    ASSERT_EQ(first["type"], "snapshot") << first.dump();  // the creation activates the pending subscriber
    Seq last = first["seq"];
    const std::string epoch = first["epoch"];
    while (last < static_cast<Seq>(kEvents + 1)) {
      const Json frame = next_process_frame(*ws);
      ASSERT_EQ(frame["type"], "progress") << frame.dump();
      EXPECT_EQ(frame["seq"], last + 1);
      EXPECT_EQ(frame["epoch"], epoch);
      last = frame["seq"];
      if (last == static_cast<Seq>(kEvents + 1)) {
        EXPECT_EQ(frame["state"], "completed");
      }
    }
  }
}

TEST_F(MultiNode, HttpApiSeesOneRecordFromEveryNode) {
  auto created = http_call(port(0), "POST", "/api/processes", R"({"process_id":"job-http"})");
  ASSERT_EQ(created.status, 201u) << created.body;
  const std::string epoch = created.json()["epoch"];
  auto again = http_call(port(2), "POST", "/api/processes", R"({"process_id":"job-http"})");
  EXPECT_EQ(again.status, 200u);
  EXPECT_EQ(again.json()["epoch"], epoch);

  auto published = http_call(port(1), "POST", "/api/processes/job-http/progress", R"({"percent":40,"stage":"ocr"})");
  ASSERT_EQ(published.status, 200u) << published.body;
  EXPECT_EQ(published.json()["seq"], 1);
  auto lower = http_call(port(2), "POST", "/api/processes/job-http/progress", R"({"percent":10})");
  EXPECT_EQ(lower.status, 400u);
  EXPECT_EQ(lower.json()["error"]["code"], "invalid_update");  // the rule applied against node B's write

  auto read = http_call(port(2), "GET", "/api/processes/job-http");
  ASSERT_EQ(read.status, 200u);
  EXPECT_EQ(read.json()["seq"], 1);
  EXPECT_EQ(read.json()["percent"], 40);
  EXPECT_EQ(read.json()["epoch"], epoch);
  EXPECT_EQ(http_call(port(0), "GET", "/api/processes/job-none").status, 404u);

  auto upload = http_call(port(0), "POST", "/api/uploads", "some text");
  EXPECT_EQ(upload.status, 503u);
}

TEST_F(MultiNode, ClientsOfAKilledNodeResumeOnAnotherWithoutGapOrDuplicate) {
  ws_client producer(port(0), "/ws/publish");
  producer.read_json();
  auto publish = [&](int i) {
    producer.send(publish_frame("p" + std::to_string(i), "job-failover", i, "work"));
    ASSERT_EQ(producer.read_json()["seq"], i);
  };
  publish(1);

  auto on_b = std::make_unique<ws_client>(port(1), "/ws/progress/job-failover");
  const Json snapshot = next_process_frame(*on_b);
  ASSERT_EQ(snapshot["type"], "snapshot");
  const std::string epoch = snapshot["epoch"];
  Seq last = snapshot["seq"];
  for (int i = 2; i <= 5; ++i) publish(i);
  while (last < 5) last = next_process_frame(*on_b)["seq"];

  nodes_[1].reset();  // SIGKILL node B: its client sees the connection drop
  on_b.reset();
  for (int i = 6; i <= 9; ++i) publish(i);  // missed while moving

  ws_client on_c(port(2), "/ws/progress/job-failover?after_seq=" + std::to_string(last) + "&epoch=" + epoch);
  for (int i = 10; i <= 12; ++i) publish(i);
  for (Seq expected = last + 1; expected <= 12; ++expected) {
    const Json frame = next_process_frame(on_c);
    ASSERT_EQ(frame["type"], "progress") << frame.dump();  // replayed from the stream, then live
    EXPECT_EQ(frame["seq"], expected);
  }
}

TEST_F(MultiNode, RecordsSurviveARedisRestartAndWritesFailClearlyMeanwhile) {
  ASSERT_EQ(http_call(port(0), "POST", "/api/processes/job-restart/progress", R"({"percent":10})").status, 200u);
  ASSERT_EQ(http_call(port(0), "POST", "/api/processes/job-restart/progress", R"({"percent":20})").status, 200u);
  ws_client on_b(port(1), "/ws/progress/job-restart");
  EXPECT_EQ(next_process_frame(on_b)["seq"], 2);

  redis_->stop();
  const auto refused = http_call(port(0), "POST", "/api/processes/job-restart/progress", R"({"percent":30})");
  EXPECT_EQ(refused.status, 503u) << refused.body;
  EXPECT_EQ(refused.json()["error"]["code"], "unavailable");

  redis_->restart();
  wait_until_connected(port(0));
  wait_until_connected(port(1));
  const auto read = http_call(port(2), "GET", "/api/processes/job-restart");
  ASSERT_EQ(read.status, 200u);
  EXPECT_EQ(read.json()["seq"], 2);
  EXPECT_EQ(read.json()["percent"], 20);

  // The node B subscriber stayed connected: it follows the record again and sees the next event.
  const auto next = http_call(port(0), "POST", "/api/processes/job-restart/progress", R"({"percent":30})");
  ASSERT_EQ(next.status, 200u) << next.body;
  EXPECT_EQ(next.json()["seq"], 3);
  Json frame = next_process_frame(on_b);
  while (frame["seq"] != 3) frame = next_process_frame(on_b);  // a reload may send a snapshot first
  EXPECT_EQ(frame["percent"], 30);
}

TEST_F(MultiNode, ConcurrentWritersOnTwoNodesNeverShareOrSkipASeq) {
  ws_client watcher(port(2), "/ws/progress/job-race");
  EXPECT_EQ(next_process_frame(watcher)["type"], "pending");
  ws_client on_a(port(0), "/ws/publish");
  ws_client on_b(port(1), "/ws/publish");
  on_a.read_json();
  on_b.read_json();
  constexpr int kEach = 40;
  for (int i = 0; i < kEach; ++i) {
    const Json a{{"type", "publish"}, {"id", "a" + std::to_string(i)}, {"process_id", "job-race"}, {"message", "a"}};
    const Json b{{"type", "publish"}, {"id", "b" + std::to_string(i)}, {"process_id", "job-race"}, {"message", "b"}};
    on_a.send(a);
    on_b.send(b);
  }
  std::set<Seq> seqs;
  for (ws_client* ws : {&on_a, &on_b}) {
    Seq previous = 0;
    for (int i = 0; i < kEach; ++i) {
      const Json ack = ws->read_json();
      ASSERT_EQ(ack["type"], "ack") << ack.dump();
      EXPECT_GT(ack["seq"].get<Seq>(), previous);  // each producer's own order holds
      previous = ack["seq"];
      EXPECT_TRUE(seqs.insert(previous).second) << "seq " << previous << " acked twice";
    }
  }
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(2 * kEach));
  EXPECT_EQ(*seqs.rbegin(), static_cast<Seq>(2 * kEach));  // none skipped

  Json frame = next_process_frame(watcher);
  Seq last = frame["seq"];
  while (last < static_cast<Seq>(2 * kEach)) {
    frame = next_process_frame(watcher);
    ASSERT_EQ(frame["type"], "progress");
    EXPECT_EQ(frame["seq"], last + 1);
    last = frame["seq"];
  }
}

// A lease set through one node runs out on its own: the nodes following the process notice it
// (their mirror arms the timer), one of them writes the failure, every subscriber sees it once.
TEST_F(MultiNode, ALapsedLeaseFailsTheProcessOnceForEveryNode) {
  ws_client on_b(port(1), "/ws/progress/job-lease");
  ws_client on_c(port(2), "/ws/progress/job-lease");
  EXPECT_EQ(next_process_frame(on_b)["type"], "pending");
  EXPECT_EQ(next_process_frame(on_c)["type"], "pending");
  const auto leased =
      http_call(port(0), "POST", "/api/processes/job-lease/progress", R"({"percent":10,"lease_ms":300})");
  ASSERT_EQ(leased.status, 200u) << leased.body;
  for (ws_client* ws : {&on_b, &on_c}) {
    EXPECT_EQ(next_process_frame(*ws)["seq"], 1);
    const Json failed = next_process_frame(*ws);  // after about 300 ms, from whichever node won
    EXPECT_EQ(failed["type"], "progress") << failed.dump();
    EXPECT_EQ(failed["seq"], 2);
    EXPECT_EQ(failed["state"], "failed");
    EXPECT_EQ(failed["error"]["code"], "stalled");
  }
  const auto read = http_call(port(0), "GET", "/api/processes/job-lease");
  EXPECT_EQ(read.json()["state"], "failed");
  EXPECT_EQ(read.json()["seq"], 2);  // one failure, however many nodes saw the lease run out
  const auto late = http_call(port(0), "POST", "/api/processes/job-lease/progress", R"({"percent":20})");
  EXPECT_EQ(late.status, 409u) << late.body;
}

// With no node following the process, the lapse is noticed by the next read or write, which sees
// the process failed just as it would have been at the deadline.
TEST_F(MultiNode, ALapsedLeaseNobodyFollowedIsFailedOnTheNextRead) {
  const auto leased =
      http_call(port(0), "POST", "/api/processes/job-quiet/progress", R"({"percent":10,"lease_ms":100})");
  ASSERT_EQ(leased.status, 200u) << leased.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the lease: what is being tested
  const auto read = http_call(port(1), "GET", "/api/processes/job-quiet");
  ASSERT_EQ(read.status, 200u);
  EXPECT_EQ(read.json()["state"], "failed");
  EXPECT_EQ(read.json()["error"]["code"], "stalled");
  ws_client on_c(port(2), "/ws/progress/job-quiet");
  Json frame = next_process_frame(on_c);
  while (frame["state"] != "failed") frame = next_process_frame(on_c);  // the write may land after the load
  EXPECT_EQ(frame["seq"], 2);
}

// Retention with Redis runs on Redis's clock (the script sets the TTL of a finished record), which
// the shared vectors cannot script: this checks it in real time. A finished record disappears from
// every node; a subscriber that stayed gets the record created again, under a new epoch.
TEST_F(MultiNode, ARetryWithTheSameKeyOnAnotherNodeIsAppliedOnce) {
  ws_client watcher(port(2), "/ws/progress/job-idem");
  EXPECT_EQ(next_process_frame(watcher)["type"], "pending");
  const std::string body = R"({"stage":"upload","percent":40})";
  const std::map<std::string, std::string> keyed{{"Idempotency-Key", "retry-7"}};
  const auto first = http_call(port(0), "POST", "/api/processes/job-idem/progress", body, keyed);
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(first.json()["seq"], 1);
  // The producer lost the answer and its retry went to another node.
  const auto retry = http_call(port(1), "POST", "/api/processes/job-idem/progress", body, keyed);
  ASSERT_EQ(retry.status, 200u) << retry.body;
  EXPECT_EQ(retry.json()["seq"], 1);
  const auto reused = http_call(port(1), "POST", "/api/processes/job-idem/progress",
                                R"({"stage":"upload","percent":41})", keyed);
  EXPECT_EQ(reused.status, 400u) << reused.body;
  EXPECT_EQ(reused.json()["error"]["code"], "invalid_update");
  // A marker publish: the watcher sees seq 1 then the marker as seq 2, nothing in between.
  ASSERT_EQ(http_call(port(1), "POST", "/api/processes/job-idem/progress", R"({"percent":50})").status, 200u);
  const Json snapshot = next_process_frame(watcher);
  EXPECT_EQ(snapshot["seq"], 1) << snapshot.dump();
  const Json marker = next_process_frame(watcher);
  EXPECT_EQ(marker["seq"], 2) << marker.dump();
  EXPECT_EQ(marker["percent"], 50);
}

TEST(RedisRetention, AFinishedRecordExpiresEverywhereAndComesBackUnderANewEpoch) {
  const auto binary = find_redis_server();
  if (!binary) GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
  temp_dir dir;
  redis_process redis(*binary, dir.path());
  server_process node_a({"--redis", redis.url(), "--retention-ms", "300"});
  server_process node_b({"--redis", redis.url(), "--retention-ms", "300"});
  wait_until_connected(node_a.port());
  wait_until_connected(node_b.port());

  const auto started = http_call(node_a.port(), "POST", "/api/processes/job-ttl/progress", R"({"percent":50})");
  ASSERT_EQ(started.status, 200u) << started.body;
  ws_client on_b(node_b.port(), "/ws/progress/job-ttl");
  const Json first = next_process_frame(on_b);
  ASSERT_EQ(first["type"], "snapshot") << first.dump();
  const std::string old_epoch = first["epoch"];
  const auto finished =
      http_call(node_a.port(), "POST", "/api/processes/job-ttl/progress", R"({"state":"completed"})");
  ASSERT_EQ(finished.status, 200u) << finished.body;
  EXPECT_EQ(next_process_frame(on_b)["state"], "completed");

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (http_call(node_b.port(), "GET", "/api/processes/job-ttl").status != 404u) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the finished record never expired";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(http_call(node_a.port(), "GET", "/api/processes/job-ttl").status, 404u);

  const auto again = http_call(node_a.port(), "POST", "/api/processes/job-ttl/progress", R"({"percent":5})");
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.json()["seq"], 1);
  const Json renewed = next_process_frame(on_b);
  EXPECT_EQ(renewed["type"], "snapshot") << renewed.dump();
  EXPECT_EQ(renewed["seq"], 1);
  EXPECT_EQ(renewed["state"], "running");
  EXPECT_NE(renewed["epoch"], old_epoch);
}

// SIGSTOP keeps Redis's sockets open while it answers nothing: without the command timeout a
// publish would wait for ever. With it the publish answers `unavailable`, the node reconnects, and
// once Redis answers again the same subscriber sees the next event. The timed-out publish had
// already reached Redis's socket, so a woken Redis may still apply it (README: its outcome is
// unknown, as with any answer lost on the way); the one refused while the node knew Redis was down
// never left the node.
TEST(HungRedis, PublishesAnswerUnavailableThenTheNodeRecovers) {
  const auto binary = find_redis_server();
  if (!binary) GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
  temp_dir dir;
  redis_process redis(*binary, dir.path());
  server_process node({"--redis", redis.url(), "--redis-timeout-ms", "200"});
  wait_until_connected(node.port());
  ASSERT_EQ(http_call(node.port(), "POST", "/api/processes/job-hung/progress", R"({"percent":10})").status, 200u);
  ws_client watcher(node.port(), "/ws/progress/job-hung");
  EXPECT_EQ(next_process_frame(watcher)["seq"], 1);
  ws_client producer(node.port(), "/ws/publish");
  producer.read_json();  // hello

  redis.pause();
  producer.send(publish_frame("hung-1", "job-hung", 20, "work"));
  const Json refused = producer.read_json();
  EXPECT_EQ(refused["type"], "error") << refused.dump();
  EXPECT_EQ(refused["code"], "unavailable") << refused.dump();
  EXPECT_EQ(refused["id"], "hung-1");
  const auto over_http = http_call(node.port(), "POST", "/api/processes/job-hung/progress", R"({"percent":20})");
  EXPECT_EQ(over_http.status, 503u) << over_http.body;
  EXPECT_EQ(over_http.json()["error"]["code"], "unavailable");

  redis.resume();
  wait_until_connected(node.port());
  producer.send(publish_frame("hung-2", "job-hung", 30, "work"));
  const Json ack = producer.read_json();
  ASSERT_EQ(ack["type"], "ack") << ack.dump();
  const Seq seq = ack["seq"];
  EXPECT_GE(seq, 2u);
  EXPECT_LE(seq, 3u);  // hung-1 applied late or not at all; the HTTP one never
  Json frame = next_process_frame(watcher);
  while (frame["seq"] != seq) frame = next_process_frame(watcher);  // a reload may send a snapshot first
  EXPECT_EQ(frame["percent"], 30);
  const auto read = http_call(node.port(), "GET", "/api/processes/job-hung");
  EXPECT_EQ(read.json()["seq"], seq);
}

// POST /api/processes/{id}/progress on `node`: the RedisLimits tests create and update through it.
http_reply post_progress(const server_process& node, const std::string& id, const std::string& body) {
  return http_call(node.port(), "POST", "/api/processes/" + id + "/progress", body);
}

// --max-processes bounds the records in Redis, whichever node created them: a node refuses a new
// process while the others' records fill the limit (as the embedded engine does: `unavailable`),
// updates go on, and a finished record counts until its retention runs out on Redis's clock.
TEST(RedisLimits, TheProcessLimitCountsEveryNodesRecordsUntilTheirRetentionRunsOut) {
  const auto binary = find_redis_server();
  if (!binary) GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
  temp_dir dir;
  redis_process redis(*binary, dir.path());
  const std::vector<std::string> args{"--redis", redis.url(), "--max-processes", "2", "--retention-ms", "300"};
  server_process node_a(args);
  server_process node_b(args);
  wait_until_connected(node_a.port());
  wait_until_connected(node_b.port());

  ASSERT_EQ(post_progress(node_a, "job-one", R"({"percent":10})").status, 200u);
  ASSERT_EQ(post_progress(node_b, "job-two", R"({"percent":10})").status, 200u);
  const auto refused = post_progress(node_a, "job-three", R"({"percent":10})");
  EXPECT_EQ(refused.status, 503u) << refused.body;
  EXPECT_EQ(refused.json()["error"]["code"], "unavailable") << refused.body;
  EXPECT_EQ(refused.json()["error"]["message"], "process limit reached") << refused.body;
  ws_client producer(node_b.port(), "/ws/publish");
  producer.read_json();  // hello
  producer.send(publish_frame("three", "job-three", 10, "work"));
  Json frame = producer.read_json();  // not const: a missing key reads as null, not an assertion
  EXPECT_EQ(frame["type"], "error") << frame.dump();
  EXPECT_EQ(frame["code"], "unavailable") << frame.dump();
  EXPECT_EQ(http_call(node_b.port(), "GET", "/api/processes/job-three").status, 404u);

  EXPECT_EQ(post_progress(node_b, "job-one", R"({"percent":20})").status, 200u);  // not a new record
  ASSERT_EQ(post_progress(node_a, "job-one", R"({"state":"completed"})").status, 200u);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (post_progress(node_b, "job-three", R"({"percent":10})").status != 200u) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the finished record never freed its place";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(post_progress(node_a, "job-four", R"({"percent":10})").status, 503u);
}

// A record written by a node from before the live set existed is not in it. It must count again
// from its next update on, or it would let one more record in than the limit allows.
TEST(RedisLimits, ARecordMissingFromTheLiveSetJoinsItOnItsNextUpdate) {
  const auto binary = find_redis_server();
  if (!binary) GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
  temp_dir dir;
  redis_process redis(*binary, dir.path());
  server_process node({"--redis", redis.url(), "--max-processes", "2"});
  wait_until_connected(node.port());

  ASSERT_EQ(post_progress(node, "job-old", R"({"percent":10})").status, 200u);
  const std::string cli = (std::filesystem::path(*binary).parent_path() / "redis-cli").string();  // redis-tools
  const auto removed = run_program(cli, {"-p", std::to_string(redis.port()), "ZREM", "progress:live", "job-old"});
  ASSERT_TRUE(removed.exited && removed.code == 0) << removed.output;
  ASSERT_EQ(post_progress(node, "job-two", R"({"percent":10})").status, 200u);
  ASSERT_EQ(post_progress(node, "job-old", R"({"percent":20})").status, 200u);
  EXPECT_EQ(post_progress(node, "job-three", R"({"percent":10})").status, 503u)
      << "job-old is live again: the limit of 2 is full";
}

// A NAT or middlebox that drops a flow leaves both ends' sockets open: nothing arrives and nothing
// fails. When that happens to a node's channel connection (it only ever reads), the node hears no
// change again while its writes still work. The heartbeat the node publishes to itself through
// Redis does not come back either, so within two command timeouts it reconnects and reloads: its
// subscriber gets what was published meanwhile on another node. (1 s: a heartbeat late only because
// a sanitized build is slow must not reconnect the node at another point of the test.)
TEST(SilentRedisChannel, ANodeWhoseChannelWentSilentReconnectsAndItsSubscriberCatchesUp) {
  const auto binary = find_redis_server();
  if (!binary) GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
  temp_dir dir;
  redis_process redis(*binary, dir.path());
  silencing_proxy proxy(redis.port());
  server_process writer({"--redis", redis.url()});
  const std::string proxied = "redis://127.0.0.1:" + std::to_string(proxy.port()) + "/0";
  server_process reader({"--redis", proxied, "--redis-timeout-ms", "1000"});
  wait_until_connected(writer.port());
  wait_until_connected(reader.port());
  ASSERT_EQ(http_call(writer.port(), "POST", "/api/processes/job-silent/progress", R"({"percent":10})").status, 200u);
  ws_client watcher(reader.port(), "/ws/progress/job-silent");
  EXPECT_EQ(next_process_frame(watcher)["seq"], 1);

  ASSERT_EQ(proxy.silence("SUBSCRIBE"), 1u);  // the reader's channel connection, not its commands
  ASSERT_EQ(http_call(writer.port(), "POST", "/api/processes/job-silent/progress", R"({"percent":20})").status, 200u);
  Json frame = next_process_frame(watcher);  // a snapshot after the reload, or the event itself
  EXPECT_EQ(frame["seq"], 2) << frame.dump();
  EXPECT_EQ(frame["percent"], 20) << frame.dump();

  // Reconnected: the next change arrives as an event again.
  ASSERT_EQ(http_call(writer.port(), "POST", "/api/processes/job-silent/progress", R"({"percent":30})").status, 200u);
  frame = next_process_frame(watcher);
  EXPECT_EQ(frame["type"], "progress") << frame.dump();
  EXPECT_EQ(frame["seq"], 3) << frame.dump();
}

TEST(RedisAuth, APasswordUrlAuthenticatesFirstAndTheLogNeverShowsThePassword) {
  const auto binary = find_redis_server();
  if (!binary) GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
  const std::string password = "pw-9f3c1e7a";
  temp_dir dir;
  redis_process redis(*binary, dir.path(), password);
  const std::string where = "127.0.0.1:" + std::to_string(redis.port()) + "/2";
  {
    server_process node({"--redis", "redis://:" + password + "@" + where, "--log-level", "debug"}, 0, true);
    wait_until_connected(node.port());
    ASSERT_EQ(http_call(node.port(), "POST", "/api/processes", R"({"process_id":"auth-1"})").status, 201u);
    ASSERT_EQ(http_call(node.port(), "POST", "/api/processes/auth-1/progress", R"({"percent":40,"stage":"s"})").status,
              200u);
    // The same records through the ACL form (Redis 6+: user `default`).
    server_process other({"--redis", "redis://default:" + password + "@" + where}, 0, true);
    wait_until_connected(other.port());
    const auto record = http_call(other.port(), "GET", "/api/processes/auth-1");
    ASSERT_EQ(record.status, 200u) << record.body;
    EXPECT_EQ(record.json()["percent"], 40);
    EXPECT_TRUE(node.terminate().exited);
    const std::string text = node.stderr_text();
    EXPECT_NE(text.find("redis_up"), std::string::npos) << text;
    EXPECT_EQ(text.find(password), std::string::npos) << text;
  }

  // A wrong password: writes are refused as unavailable, the refusal is logged, the password is not.
  server_process wrong({"--redis", "redis://:not-" + password + "@" + where}, 0, true);
  EXPECT_EQ(http_call(wrong.port(), "POST", "/api/processes", R"({"process_id":"auth-2"})").status, 503u);
  wrong.terminate();
  const std::string wrong_text = wrong.stderr_text();
  EXPECT_NE(wrong_text.find("redis_auth_refused"), std::string::npos) << wrong_text;
  EXPECT_EQ(wrong_text.find(password), std::string::npos) << wrong_text;
}

}  // namespace
}  // namespace progress::test
