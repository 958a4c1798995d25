// Access control and abuse limits of a running progress-hub over real sockets: the producer API
// key, HS256 subscription tokens (minted with python3's hmac/hashlib/base64, secret
// "integration-secret", exp 4102444800 unless named), the Origin allow-list, the frame rate
// limit, connections per address and the refusal to listen publicly without a key.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <thread>

#include "support/fixed_tokens.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

using namespace fixed_tokens;

constexpr const char* kKey = "producer-key-1";
// header {"alg":"HS512","typ":"JWT"}, signed with HMAC-SHA512 and the right secret
const std::string kHs512 =
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZWN1cmUtMSIsImV4cCI6NDEwMjQ0NDgwMH0."
    "BUHDSAFxGZ98tH67XIYVk6nykzT2Xpa2Zlm9kiPojAKoHjPKby0U7ytseur4BJH5zAaPx9L5gRIpiwWvOjEKTw";
// header {"alg":"none"}, no signature
const std::string kAlgNone = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzZWN1cmUtMSIsImV4cCI6NDEwMjQ0NDgwMH0.";

void expect_unauthorized(const http_reply& reply, unsigned status = 401) {
  EXPECT_EQ(reply.status, status) << reply.body;
  EXPECT_EQ(reply.headers.at("content-type"), "application/json");
  EXPECT_EQ(reply.json()["error"]["code"], "unauthorized") << reply.body;
}

std::map<std::string, std::string> bearer(const std::string& value) {
  return {{"Authorization", "Bearer " + value}};
}

class Secured : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    secrets_ = std::make_unique<temp_dir>();
    std::ofstream(secrets_->path() / "key") << kKey << "\n";
    std::ofstream(secrets_->path() / "secret") << "integration-secret";
    server_ = std::make_unique<server_process>(
        std::vector<std::string>{"--api-key-file", (secrets_->path() / "key").string(), "--token-secret-file",
                                 (secrets_->path() / "secret").string()});
    const auto created =
        http_call(port(), "POST", "/api/processes", R"({"process_id":"secure-1"})", bearer(kKey));
    ASSERT_EQ(created.status, 201u) << created.body;
  }
  static void TearDownTestSuite() {
    server_.reset();
    secrets_.reset();
  }
  static unsigned short port() { return server_->port(); }

  // The first frame after hello on /ws/progress/secure-1 with `token`.
  static std::pair<Json, ws_message> path_form(const std::string& token) {
    ws_client ws(port(), "/ws/progress/secure-1?token=" + token);
    EXPECT_EQ(ws.read_json()["type"], "hello");
    Json first = ws.read_json();
    return {first, ws.read()};
  }

  static std::unique_ptr<temp_dir> secrets_;
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<temp_dir> Secured::secrets_;
std::unique_ptr<server_process> Secured::server_;

TEST_F(Secured, HttpProducersNeedTheKey) {
  expect_unauthorized(http_call(port(), "POST", "/api/processes", R"({"process_id":"p-1"})"));
  expect_unauthorized(
      http_call(port(), "POST", "/api/processes", R"({"process_id":"p-1"})", bearer("wrong")));
  expect_unauthorized(http_call(port(), "POST", "/api/processes/secure-1/progress", R"({"percent":5})"));
  expect_unauthorized(http_call(port(), "POST", "/api/uploads", "x", {{"Content-Type", "text/plain"}}));
  const auto ok =
      http_call(port(), "POST", "/api/processes/secure-1/progress", R"({"percent":5})", bearer(kKey));
  EXPECT_EQ(ok.status, 200u) << ok.body;
}

TEST_F(Secured, PublishSocketNeedsTheKey) {
  const std::string refused = raw_exchange(port(),
                                           "GET /ws/publish HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                                           "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                                           "}}");
  EXPECT_EQ(refused.rfind("HTTP/1.1 401", 0), 0u) << refused;
  EXPECT_NE(refused.find("\"unauthorized\""), std::string::npos) << refused;

  ws_client ws(port(), std::string("/ws/publish?api_key=") + kKey);
  EXPECT_EQ(ws.read_json()["type"], "hello");
  ws.send(Json{{"type", "publish"}, {"id", "a"}, {"process_id", "pub-1"}, {"percent", 1}});
  EXPECT_EQ(ws.read_json()["type"], "ack");
}

TEST_F(Secured, PathFormWithAValidTokenGetsTheSnapshot) {
  ws_client ws(port(), "/ws/progress/secure-1?token=" + kGood);
  EXPECT_EQ(ws.read_json()["type"], "hello");
  const Json snapshot = ws.read_json();
  EXPECT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["process_id"], "secure-1");
}

TEST_F(Secured, PathFormRefusalsSayWhyAndClose1008) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {kExpired, "expired"},           {kOther, "another process"}, {kHs512, "alg must be HS256"},
      {kAlgNone, "alg must be HS256"}, {kGood + "x", "signature"},  {"", "required"},
      {"not.a.jwt", "header"}};
  for (const auto& [token, why] : cases) {
    auto [first, after] = path_form(token);
    EXPECT_EQ(first["type"], "error") << token;
    EXPECT_EQ(first["code"], "unauthorized") << token;
    EXPECT_EQ(first["process_id"], "secure-1") << token;
    EXPECT_NE(first["message"].get<std::string>().find(why), std::string::npos) << first.dump();
    EXPECT_TRUE(after.closed) << token;
    EXPECT_EQ(after.close_code, 1008) << token;
  }
}

TEST_F(Secured, SubscribeFramesNeedATokenToo) {
  ws_client ws(port(), "/ws/progress");
  EXPECT_EQ(ws.read_json()["type"], "hello");
  ws.send(Json{{"type", "subscribe"}, {"process_id", "secure-1"}});
  Json refused = ws.read_json();
  EXPECT_EQ(refused["code"], "unauthorized");
  ws.send(Json{{"type", "subscribe"}, {"process_id", "secure-1"}, {"token", kOther}});
  refused = ws.read_json();
  EXPECT_EQ(refused["code"], "unauthorized");
  ws.send(Json{{"type", "subscribe"}, {"process_id", "secure-1"}, {"token", kGood}});
  EXPECT_EQ(ws.read_json()["type"], "snapshot");
}

TEST_F(Secured, SseAndProcessReadsNeedATokenOrTheKey) {
  expect_unauthorized(http_call(port(), "GET", "/sse/progress/secure-1"));
  expect_unauthorized(http_call(port(), "GET", "/sse/progress/secure-1?token=" + kExpired));
  const std::string stream = raw_exchange(
      port(), "GET /sse/progress/secure-1?token=" + kGood + " HTTP/1.1\r\nHost: x\r\n\r\n", "\n\n");
  EXPECT_EQ(stream.rfind("HTTP/1.1 200", 0), 0u) << stream;

  expect_unauthorized(http_call(port(), "GET", "/api/processes/secure-1"));
  expect_unauthorized(http_call(port(), "GET", "/api/processes/secure-1", {}, bearer(kOther)));
  EXPECT_EQ(http_call(port(), "GET", "/api/processes/secure-1", {}, bearer(kGood)).status, 200u);
  EXPECT_EQ(http_call(port(), "GET", "/api/processes/secure-1", {}, bearer(kKey)).status, 200u);
}

std::string upgrade_with_origin(unsigned short port, const std::string& origin) {
  return raw_exchange(
      port,
      "GET /ws/progress/job HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " +
          origin + "\r\n\r\n",
      "\r\n\r\n");
}

TEST(OriginAllowList, RefusesOtherSitesWith403) {
  server_process server({"--allowed-origins", "https://a.example,http://localhost:3000"});
  EXPECT_EQ(upgrade_with_origin(server.port(), "https://a.example").rfind("HTTP/1.1 101", 0), 0u);
  const std::string refused = upgrade_with_origin(server.port(), "https://evil.example");
  EXPECT_EQ(refused.rfind("HTTP/1.1 403", 0), 0u) << refused;
  expect_unauthorized(
      http_call(server.port(), "GET", "/sse/progress/job", {}, {{"Origin", "https://evil.example"}}), 403);
  ws_client no_origin(server.port(), "/ws/progress/job");  // not a browser: no Origin, allowed
  EXPECT_EQ(no_origin.read_json()["type"], "hello");
}

TEST(FrameRate, OverTheRateRateLimitedThenClose1008) {
  server_process server({"--max-frames-per-s", "1", "--frame-burst", "2"});
  ws_client ws(server.port(), "/ws/progress");
  EXPECT_EQ(ws.read_json()["type"], "hello");
  for (int i = 0; i < 20; ++i) ws.send(Json{{"type", "ping"}, {"ts", i}});
  std::size_t pongs = 0;
  std::size_t limited = 0;
  ws_message message;
  for (;;) {
    message = ws.read();
    if (message.closed) break;
    const Json frame = Json::parse(message.text);
    if (frame["type"] == "pong") ++pongs;
    if (frame["type"] == "error" && frame["code"] == "rate_limited") ++limited;
  }
  EXPECT_GE(pongs, 2u);
  EXPECT_LT(pongs, 20u);
  EXPECT_GE(limited, 1u);
  EXPECT_EQ(message.close_code, 1008);
  EXPECT_EQ(message.close_reason, "rate limited");
}

TEST(ConnectionsPerAddress, OverTheLimitGets503UntilOneCloses) {
  server_process server({"--max-connections-per-address", "2", "--limit-loopback", "true"});
  boost::asio::io_context ioc;
  auto hold = [&] {
    auto socket = std::make_unique<boost::asio::ip::tcp::socket>(ioc);
    socket->connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
    return socket;
  };
  auto first = hold();
  auto second = hold();
  // The server admits connections in order; the third is over the limit once the first two are in.
  http_reply refused;
  for (int attempt = 0; attempt < 200; ++attempt) {
    refused = http_call(server.port(), "GET", "/healthz");
    if (refused.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(refused.status, 503u);
  EXPECT_EQ(refused.json()["error"]["code"], "unavailable") << refused.body;

  first->close();
  http_reply admitted;
  for (int attempt = 0; attempt < 200; ++attempt) {
    admitted = http_call(server.port(), "GET", "/healthz");
    if (admitted.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(admitted.status, 200u);
}

TEST(ConnectionsPerAddress, UpgradedStreamsKeepTheirSlot) {
  server_process server({"--max-connections-per-address", "2", "--limit-loopback", "true"});
  auto ws = std::make_unique<ws_client>(server.port(), "/ws/progress/job");
  EXPECT_EQ(ws->read_json()["type"], "hello");
  // An SSE stream held open: its response head has arrived, so the server handed it over.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sse(ioc);
  sse.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
  boost::asio::write(sse,
                     boost::asio::buffer(std::string("GET /sse/progress/job HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string head;
  boost::asio::read_until(sse, boost::asio::dynamic_buffer(head), "\n\n");
  ASSERT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;

  // Both streams kept the slot they took as HTTP connections.
  const auto refused = http_call(server.port(), "GET", "/healthz");
  EXPECT_EQ(refused.status, 503u) << refused.body;
  EXPECT_EQ(refused.json()["error"]["code"], "unavailable");

  ws.reset();
  http_reply admitted;
  for (int attempt = 0; attempt < 200; ++attempt) {
    admitted = http_call(server.port(), "GET", "/healthz");
    if (admitted.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(admitted.status, 200u);
}

TEST(ConnectionsPerAddress, LoopbackIsExemptByDefault) {
  server_process server({"--max-connections-per-address", "1"});
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket held(ioc);
  held.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
  EXPECT_EQ(http_call(server.port(), "GET", "/healthz").status, 200u);
}

TEST(Startup, RefusesAPublicAddressWithoutAKey) {
  temp_dir data;
  const auto result =
      run_program(PROGRESS_HUB_BINARY, {"--listen", "0.0.0.0:0", "--data-dir", data.path().string()});
  EXPECT_TRUE(result.exited);
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(result.output.find("listening"), std::string::npos);
}

}  // namespace
}  // namespace progress::test
