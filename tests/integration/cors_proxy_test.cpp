// Cross-origin answers (--allowed-origins) and clients behind trusted proxies (--trusted-proxies)
// over real sockets: the preflight, the real answers of the API, uploads and SSE, an unlisted
// origin, and the per-address connection limit applied to the forwarded client.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

constexpr const char* kApp = "https://app.example";

class Cors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hub_ = std::make_unique<server_process>(
        std::vector<std::string>{"--allowed-origins", std::string(kApp) + ",http://localhost:3000"});
  }
  static void TearDownTestSuite() { hub_.reset(); }
  static unsigned short port() { return hub_->port(); }
  static std::unique_ptr<server_process> hub_;
};

std::unique_ptr<server_process> Cors::hub_;

std::string header(const http_reply& reply, const std::string& name) {
  const auto it = reply.headers.find(name);
  return it == reply.headers.end() ? "<absent>" : it->second;
}

TEST_F(Cors, APreflightGets204WithTheOriginMethodsAndHeaders) {
  const auto reply = http_call(port(), "OPTIONS", "/api/processes/cors-1/progress", {},
                               {{"Origin", kApp},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization, content-type, idempotency-key"}});
  EXPECT_EQ(reply.status, 204u) << reply.body;
  EXPECT_EQ(header(reply, "access-control-allow-origin"), kApp);
  EXPECT_EQ(header(reply, "access-control-allow-methods"), "POST");
  EXPECT_EQ(header(reply, "access-control-allow-headers"), "Authorization, Content-Type, Idempotency-Key");
  EXPECT_EQ(header(reply, "vary"), "Origin");
  const auto read = http_call(port(), "OPTIONS", "/api/processes/cors-1", {},
                              {{"Origin", kApp}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(read.status, 204u);
  EXPECT_EQ(header(read, "access-control-allow-methods"), "GET, HEAD");
}

TEST_F(Cors, RealAnswersCarryTheListedOrigin) {
  const auto published = http_call(port(), "POST", "/api/processes/cors-2/progress", R"({"percent":5})",
                                   {{"Origin", kApp}, {"Content-Type", "application/json"}});
  EXPECT_EQ(published.status, 200u) << published.body;
  EXPECT_EQ(header(published, "access-control-allow-origin"), kApp);
  EXPECT_EQ(header(published, "vary"), "Origin");
  const auto missing = http_call(port(), "GET", "/api/processes/cors-none", {}, {{"Origin", kApp}});
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(header(missing, "access-control-allow-origin"), kApp);  // the page may read the error
}

TEST_F(Cors, AnUnlistedOriginGetsNoAllowOrigin) {
  const auto preflight = http_call(port(), "OPTIONS", "/api/processes", {},
                                   {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_EQ(header(preflight, "access-control-allow-origin"), "<absent>");
  EXPECT_EQ(header(preflight, "access-control-allow-headers"), "<absent>");
  const auto created = http_call(port(), "POST", "/api/processes", "{}", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(header(created, "access-control-allow-origin"), "<absent>");
  EXPECT_EQ(header(created, "vary"), "Origin");
}

TEST_F(Cors, SseAndUploadsCarryTheOrigin) {
  const std::string head = raw_exchange(
      port(), "GET /sse/progress/cors-3 HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:3000\r\n\r\n", "\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("\r\nAccess-Control-Allow-Origin: http://localhost:3000\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nVary: Origin\r\n"), std::string::npos) << head;
  const auto uploaded = http_call(port(), "POST", "/api/uploads?process_id=cors-up", "some words to count",
                                  {{"Origin", kApp}});
  EXPECT_LT(uploaded.status, 300u) << uploaded.body;
  EXPECT_EQ(header(uploaded, "access-control-allow-origin"), kApp);
  const auto preflight = http_call(port(), "OPTIONS", "/api/uploads", {},
                                   {{"Origin", kApp}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_EQ(header(preflight, "access-control-allow-origin"), kApp);
}

// A stream held open from `client` as a proxy on loopback forwards it.
std::unique_ptr<boost::asio::ip::tcp::socket> hold_sse(boost::asio::io_context& ioc, unsigned short port,
                                                       const std::string& forwarded_for) {
  auto socket = std::make_unique<boost::asio::ip::tcp::socket>(ioc);
  socket->connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(*socket, boost::asio::buffer("GET /sse/progress/proxied HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " +
                                                  forwarded_for + "\r\n\r\n"));
  std::string head;
  boost::asio::read_until(*socket, boost::asio::dynamic_buffer(head), "\n\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  return socket;
}

TEST(TrustedProxies, TheConnectionLimitAppliesToTheForwardedClient) {
  server_process hub({"--max-connections-per-address", "1", "--trusted-proxies", "127.0.0.0/8"});
  boost::asio::io_context ioc;
  auto held = hold_sse(ioc, hub.port(), "203.0.113.9");
  // The same client through the proxy again: over its limit, though the proxy is on loopback.
  const auto refused = http_call(hub.port(), "GET", "/healthz", {}, {{"X-Forwarded-For", "203.0.113.9"}});
  EXPECT_EQ(refused.status, 503u) << refused.body;
  EXPECT_NE(refused.body.find("too many connections from 203.0.113.9"), std::string::npos) << refused.body;
  // The left-most entry is the client's own claim; the proxy appended the address it saw.
  const auto spoofed = http_call(hub.port(), "GET", "/healthz", {}, {{"X-Forwarded-For", "198.51.100.1, 203.0.113.9"}});
  EXPECT_EQ(spoofed.status, 503u) << spoofed.body;
  EXPECT_EQ(http_call(hub.port(), "GET", "/healthz", {}, {{"X-Forwarded-For", "203.0.113.9, 198.51.100.7"}}).status,
            200u);
  EXPECT_EQ(http_call(hub.port(), "GET", "/healthz", {}, {{"Forwarded", "for=198.51.100.8"}}).status, 200u);
  // Without a forwarded address the proxy itself is the client: loopback, exempt by default.
  EXPECT_EQ(http_call(hub.port(), "GET", "/healthz").status, 200u);
  held.reset();
  http_reply admitted;
  for (int attempt = 0; attempt < 200; ++attempt) {
    admitted = http_call(hub.port(), "GET", "/healthz", {}, {{"X-Forwarded-For", "203.0.113.9"}});
    if (admitted.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(admitted.status, 200u);
}

TEST(TrustedProxies, AnUntrustedPeerCannotClaimAnotherAddress) {
  // 10.0.0.0/8 only: the loopback test client is not a proxy, its X-Forwarded-For is ignored.
  server_process hub({"--max-connections-per-address", "1", "--limit-loopback", "true", "--trusted-proxies",
                      "10.0.0.0/8"});
  boost::asio::io_context ioc;
  auto held = hold_sse(ioc, hub.port(), "203.0.113.9");
  const auto refused = http_call(hub.port(), "GET", "/healthz", {}, {{"X-Forwarded-For", "198.51.100.2"}});
  EXPECT_EQ(refused.status, 503u) << refused.body;
  EXPECT_NE(refused.body.find("too many connections from 127.0.0.1"), std::string::npos) << refused.body;
}

// The open line of each stream names its client (here the one the proxy forwarded), so the conn id
// that the later lines carry can be tied to who opened it.
TEST(TrustedProxies, TheLogNamesTheClientOfEveryStreamItOpens) {
  server_process hub({"--trusted-proxies", "127.0.0.0/8", "--log-level", "debug"}, 0, true);
  boost::asio::io_context ioc;
  auto sse = hold_sse(ioc, hub.port(), "203.0.113.9");
  raw_exchange(hub.port(),
               "GET /ws/progress/proxied HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "X-Forwarded-For: 198.51.100.4\r\n\r\n",
               "\r\n\r\n");
  const auto line_with = [&](const std::string& event) {
    const std::string log = hub.stderr_text();
    const auto at = log.find(event);
    if (at == std::string::npos) return std::string();
    const auto start = log.rfind('\n', at);
    return log.substr(start == std::string::npos ? 0 : start + 1, log.find('\n', at) - (start == std::string::npos ? 0 : start + 1));
  };
  for (int attempt = 0; attempt < 200 && (line_with("sse_open").empty() || line_with("ws_open").empty()); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(line_with("ws_open").find("198.51.100.4"), std::string::npos) << hub.stderr_text();
  EXPECT_NE(line_with("sse_open").find("203.0.113.9"), std::string::npos) << hub.stderr_text();
}

}  // namespace
}  // namespace progress::test
