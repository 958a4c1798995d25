// A producer whose answer is lost after the hub applied its update retries with the same
// idempotency key, through a proxy that cuts the answer (chaos_proxy::drop_replies): the update
// is applied once, and the retry gets the first answer.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "chaos_proxy.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

Json lost_reply_next_frame(ws_client& ws) {
  while (true) {
    Json frame = ws.read_json();
    const std::string type = frame.value("type", "");
    if (type == "snapshot" || type == "progress" || type == "pending" || type == "error") return frame;
  }
}

TEST(LostReply, ARetryWithTheSameKeyIsAppliedOnce) {
  server_process hub;
  chaos_proxy proxy(hub.port(), 1);
  ws_client watcher(hub.port(), "/ws/progress/lost-reply");
  ASSERT_EQ(lost_reply_next_frame(watcher)["type"], "pending");

  const std::string target = "/api/processes/lost-reply/progress";
  const std::string body = R"({"stage":"upload","percent":30})";
  const std::map<std::string, std::string> keyed{{"Idempotency-Key", "upload-30"}};
  proxy.drop_replies(1);
  EXPECT_THROW(http_call(proxy.port(), "POST", target, body, keyed), std::runtime_error);
  // The hub applied it although the producer heard nothing.
  const Json applied = lost_reply_next_frame(watcher);
  ASSERT_EQ(applied["seq"], 1) << applied.dump();

  http_reply retry;
  for (int attempt = 0; attempt < 20 && retry.status == 0; ++attempt) {
    try {
      retry = http_call(proxy.port(), "POST", target, body, keyed);  // the proxy's other links may cut too
    } catch (const std::runtime_error&) {
    }
  }
  ASSERT_EQ(retry.status, 200u) << retry.body;
  EXPECT_EQ(retry.json()["seq"], 1);

  // A marker straight to the hub: the watcher's next frame is it, so no second event came between.
  ASSERT_EQ(http_call(hub.port(), "POST", target, R"({"percent":60})").status, 200u);
  const Json marker = lost_reply_next_frame(watcher);
  EXPECT_EQ(marker["seq"], 2) << marker.dump();
  EXPECT_EQ(marker["percent"], 60);
  EXPECT_EQ(http_call(hub.port(), "GET", "/api/processes/lost-reply").json()["seq"], 2);
}

}  // namespace
}  // namespace progress::test
