// A refused subscription token says why in a machine-readable `reason` (expired, wrong_process,
// bad_signature, missing), on every way a subscriber can present one: the /ws/progress/{id}
// query, a subscribe frame, SSE and GET /api/processes/{id}. And no token, accepted or refused,
// ever reaches the hub's log. Tokens minted with python3's hmac/hashlib/base64 as in
// access_test.cpp (secret "integration-secret").
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "support/fixed_tokens.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

using namespace fixed_tokens;

// kGood with its signature changed
const std::string kForged = kGood.substr(0, kGood.size() - 4) + "AAAA";

struct refusal_case {
  std::string token;
  std::string reason;
};

const std::vector<refusal_case>& cases() {
  static const std::vector<refusal_case> all = {
      {kExpired, "expired"}, {kOther, "wrong_process"}, {kForged, "bad_signature"}, {"", "missing"}};
  return all;
}

class TokenRefusal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    secrets_ = std::make_unique<temp_dir>();
    std::ofstream(secrets_->path() / "secret") << "integration-secret";
    server_ = std::make_unique<server_process>(
        std::vector<std::string>{"--token-secret-file", (secrets_->path() / "secret").string(), "--log-level",
                                 "debug"},
        0, true);
    const auto created = http_call(port(), "POST", "/api/processes", R"({"process_id":"secure-1"})");
    ASSERT_EQ(created.status, 201u) << created.body;
  }
  static void TearDownTestSuite() {
    server_.reset();
    secrets_.reset();
  }
  static unsigned short port() { return server_->port(); }

  static std::unique_ptr<temp_dir> secrets_;
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<temp_dir> TokenRefusal::secrets_;
std::unique_ptr<server_process> TokenRefusal::server_;

TEST_F(TokenRefusal, PathFormErrorFrameCarriesTheReason) {
  for (const auto& [token, reason] : cases()) {
    ws_client ws(port(), token.empty() ? "/ws/progress/secure-1" : "/ws/progress/secure-1?token=" + token);
    EXPECT_EQ(ws.read_json()["type"], "hello");
    const Json refused = ws.read_json();
    EXPECT_EQ(refused["code"], "unauthorized") << refused.dump();
    EXPECT_EQ(refused.value("reason", ""), reason) << refused.dump();
    EXPECT_EQ(ws.read().close_code, 1008) << reason;
  }
}

TEST_F(TokenRefusal, SubscribeFrameErrorCarriesTheReason) {
  ws_client ws(port(), "/ws/progress");
  EXPECT_EQ(ws.read_json()["type"], "hello");
  for (const auto& [token, reason] : cases()) {
    Json subscribe{{"type", "subscribe"}, {"process_id", "secure-1"}};
    if (!token.empty()) subscribe["token"] = token;
    ws.send(subscribe);
    const Json refused = ws.read_json();
    EXPECT_EQ(refused["code"], "unauthorized") << refused.dump();
    EXPECT_EQ(refused.value("reason", ""), reason) << refused.dump();
  }
  ws.send(Json{{"type", "subscribe"}, {"process_id", "secure-1"}, {"token", kGood}});
  EXPECT_EQ(ws.read_json()["type"], "snapshot");
}

TEST_F(TokenRefusal, SseAndProcessReadBodiesCarryTheReason) {
  for (const auto& [token, reason] : cases()) {
    const auto sse = http_call(port(), "GET", "/sse/progress/secure-1" + (token.empty() ? "" : "?token=" + token));
    EXPECT_EQ(sse.status, 401u) << sse.body;
    EXPECT_EQ(sse.json()["error"].value("reason", ""), reason) << sse.body;
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    const auto read = http_call(port(), "GET", "/api/processes/secure-1", {}, headers);
    EXPECT_EQ(read.status, 401u) << read.body;
    EXPECT_EQ(read.json()["error"].value("reason", ""), reason) << read.body;
  }
}

TEST_F(TokenRefusal, NoTokenReachesTheLog) {
  // Every way in, accepted and refused, at the most verbose log level.
  for (const auto& token : {kGood, kExpired, kOther, kForged}) {
    { ws_client ws(port(), "/ws/progress/secure-1?token=" + token); }
    {
      ws_client ws(port(), "/ws/progress");
      ws.read_json();
      ws.send(Json{{"type", "subscribe"}, {"process_id", "secure-1"}, {"token", token}});
      ws.read_json();
    }
    http_call(port(), "GET", "/api/processes/secure-1", {}, {{"Authorization", "Bearer " + token}});
    raw_exchange(port(), "GET /sse/progress/secure-1?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n", "\n\n");
  }
  // Answered after every request above was handled, so their log lines are written.
  EXPECT_EQ(http_call(port(), "GET", "/healthz").status, 200u);
  const std::string log = server_->stderr_text();
  EXPECT_NE(log.find("http_request"), std::string::npos) << "the log was captured at debug level:\n" << log;
  for (const auto& token : {kGood, kExpired, kOther, kForged}) {
    const std::string signature = token.substr(token.rfind('.') + 1);
    EXPECT_EQ(log.find(signature), std::string::npos) << "a token's signature is in the log:\n" << log;
  }
}

}  // namespace
}  // namespace progress::test
