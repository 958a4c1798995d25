// Idempotency keys over real sockets, on both engines: the Idempotency-Key header and the
// `idempotency_key` field of HTTP bodies and /ws/publish frames; a repeat gets the first answer.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/engine_param.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

class Idempotency : public ::testing::TestWithParam<engine_kind> {
 protected:
  static void TearDownTestSuite() { hubs_.clear(); }
  void SetUp() override {
    if (auto why = engine_unavailable(GetParam())) GTEST_SKIP() << *why;
    port_ = hubs_.get(GetParam()).port();
  }
  unsigned short port() const { return port_; }
  // Unique per engine: both engines' runs may share one Redis.
  std::string id(const std::string& name) const {
    return name + (GetParam() == engine_kind::redis ? "-redis" : "-embedded");
  }

  static engine_hubs hubs_;
  unsigned short port_ = 0;
};

engine_hubs Idempotency::hubs_;

INSTANTIATE_TEST_SUITE_P(Engines, Idempotency, all_engines, engine_label);

TEST_P(Idempotency, AHeaderKeyRepeatedGetsTheFirstAnswerAndNoSecondUpdate) {
  const std::string target = "/api/processes/" + id("idem-http") + "/progress";
  const std::map<std::string, std::string> keyed{{"Idempotency-Key", "k-1"}};
  const auto first = http_call(port(), "POST", target, R"({"percent":10})", keyed);
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(first.json()["seq"], 1);
  const auto again = http_call(port(), "POST", target, R"({"percent":10})", keyed);
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.json()["seq"], 1);
  // The body field is the same key.
  const auto field = http_call(port(), "POST", target, R"({"percent":10,"idempotency_key":"k-1"})");
  EXPECT_EQ(field.json()["seq"], 1) << field.body;

  const auto reused = http_call(port(), "POST", target, R"({"percent":20})", keyed);
  EXPECT_EQ(reused.status, 400u) << reused.body;
  EXPECT_EQ(reused.json()["error"]["code"], "invalid_update");
  EXPECT_NE(reused.json()["error"]["message"].get<std::string>().find("\"k-1\" was already used"), std::string::npos)
      << reused.body;
  const auto record = http_call(port(), "GET", "/api/processes/" + id("idem-http"));
  EXPECT_EQ(record.json()["seq"], 1) << record.body;
  EXPECT_EQ(record.json()["percent"], 10);
}

TEST_P(Idempotency, TheHeaderAndTheBodyMustAgreeAndTheKeyMustFitAHeader) {
  const std::string target = "/api/processes/" + id("idem-disagree") + "/progress";
  const auto disagree =
      http_call(port(), "POST", target, R"({"percent":10,"idempotency_key":"a"})", {{"Idempotency-Key", "b"}});
  EXPECT_EQ(disagree.status, 400u) << disagree.body;
  EXPECT_EQ(disagree.json()["error"]["code"], "invalid_update");
  EXPECT_NE(disagree.body.find("Idempotency-Key header"), std::string::npos) << disagree.body;
  const auto too_long = http_call(port(), "POST", target, R"({"percent":10})",
                                  {{"Idempotency-Key", std::string(129, 'k')}});
  EXPECT_EQ(too_long.status, 400u) << too_long.body;
  EXPECT_EQ(too_long.json()["error"]["code"], "invalid_update");
  EXPECT_EQ(http_call(port(), "GET", "/api/processes/" + id("idem-disagree")).status, 404u);
}

TEST_P(Idempotency, APublishFrameRepeatedIsAckedWithTheFirstSeq) {
  const std::string process = id("idem-ws");
  ws_client watcher(port(), "/ws/progress/" + process);
  EXPECT_EQ(watcher.read_until_type("pending")["type"], "pending");  // it waits before the first publish
  ws_client producer(port(), "/ws/publish");
  EXPECT_EQ(producer.read_json()["type"], "hello");
  const Json update{{"type", "publish"}, {"id", "a"}, {"process_id", process}, {"percent", 5}, {"idempotency_key", "w-1"}};
  producer.send(update);
  EXPECT_EQ(producer.read_json(), (Json{{"type", "ack"}, {"id", "a"}, {"process_id", process}, {"seq", 1}}));
  Json retry = update;
  retry["id"] = "a-retry";
  producer.send(retry);
  EXPECT_EQ(producer.read_json(), (Json{{"type", "ack"}, {"id", "a-retry"}, {"process_id", process}, {"seq", 1}}));
  producer.send(Json{{"type", "publish"}, {"id", "b"}, {"process_id", process}, {"percent", 9}});
  EXPECT_EQ(producer.read_json()["seq"], 2);
  // The watcher: the snapshot of seq 1, then seq 2, never a second seq 1.
  std::vector<Seq> seen;
  while (seen.empty() || seen.back() < 2) {
    const Json frame = watcher.read_json();
    if (frame["type"] == "snapshot" || frame["type"] == "progress") seen.push_back(frame["seq"].get<Seq>());
  }
  EXPECT_EQ(seen, (std::vector<Seq>{1, 2}));
}

}  // namespace
}  // namespace progress::test
