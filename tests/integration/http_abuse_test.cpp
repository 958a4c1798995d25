// Abusive HTTP clients against the running progress-hub over raw sockets: slowloris headers, a
// stalled body, a stalled WebSocket upgrade, an idle keep-alive connection, an oversize header, a
// malformed request line and wrong producer keys on the /ws/publish handshake. The timeouts are the
// server's own flags set small; the tests wait for the server's action under a guard far longer
// than the flag and far shorter than the flag's default, so they fail when the protection is gone
// and never assert a duration.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Under every default timeout (header 30 s, body 120 s), far over the 200 ms the servers here use.
constexpr milliseconds kActionGuard{10'000};
constexpr milliseconds kTrickleGap{50};  // each byte well inside the 200 ms header timeout

// --header-timeout-ms 200 with a long body timeout: every close here is the header timeout's.
class HeaderTimeout : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<server_process>(
        std::vector<std::string>{"--header-timeout-ms", "200", "--body-timeout-ms", "60000"});
  }
  static void TearDownTestSuite() { server_.reset(); }
  static unsigned short port() { return server_->port(); }
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<server_process> HeaderTimeout::server_;

TEST_F(HeaderTimeout, SlowlorisTrickleIsClosedUnansweredWhileOtherClientsAreServed) {
  raw_connection slow(port());
  slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ");
  // One event loop serves everyone: a header still arriving must not hold up another client.
  EXPECT_EQ(http_call(port(), "GET", "/healthz").status, 200u);

  // Every byte comes well inside the timeout, so only a deadline on the whole header ends this
  // header that never ends.
  const auto deadline = steady_clock::now() + kActionGuard;
  while (!slow.closed() && slow.received().empty() && steady_clock::now() < deadline) {
    slow.send("a");
    slow.wait_for_server(kTrickleGap);
  }
  EXPECT_TRUE(slow.closed()) << "a header trickled for " << kActionGuard.count() << " ms is still being read";
  EXPECT_EQ(slow.received(), "") << "the server answered a header it never got whole";
  EXPECT_EQ(http_call(port(), "GET", "/healthz").status, 200u);
}

TEST_F(HeaderTimeout, StalledWebSocketUpgradeIsClosedWithoutSwitchingProtocols) {
  raw_connection stalled(port());
  stalled.send("GET /ws/progress/stalled-upgrade HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
  EXPECT_TRUE(stalled.wait_for_close(kActionGuard)) << "a half-sent upgrade request holds its connection";
  EXPECT_EQ(stalled.received(), "");
}

TEST_F(HeaderTimeout, IdleKeepAliveConnectionIsClosedAfterItsAnswer) {
  raw_connection idle(port());
  idle.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_TRUE(idle.wait_for_close(kActionGuard)) << "an idle keep-alive connection is never closed";
  EXPECT_EQ(status_line(idle.received()), "HTTP/1.1 200 OK") << idle.received();
  EXPECT_EQ(idle.received().find("HTTP/1.1", 1), std::string::npos) << "one request, one answer";
}

// --body-timeout-ms 200 with a long header timeout: the close is the body timeout's.
TEST(BodyTimeout, StalledBodyIsClosedUnansweredAndNothingIsCreated) {
  server_process server({"--header-timeout-ms", "60000", "--body-timeout-ms", "200"});
  const std::string body = R"({"process_id":"stalled-body"})";
  raw_connection stalled(server.port());
  stalled.send("POST /api/processes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
               body.substr(0, body.size() / 2));
  EXPECT_TRUE(stalled.wait_for_close(kActionGuard)) << "a stalled body holds its connection";
  EXPECT_EQ(stalled.received(), "");
  EXPECT_EQ(http_call(server.port(), "GET", "/api/processes/stalled-body").status, 404u);
  // The same request sent whole is served, so the refusal above was the stall's.
  EXPECT_EQ(http_call(server.port(), "POST", "/api/processes", body).status, 201u);
}

// CPU seconds the process has used, from /proc/<pid>/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
  if (fields.size() < 13) return -1;
  const auto ticks = std::stoll(fields[11]) + std::stoll(fields[12]);  // utime + stime
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A hub out of descriptors (RLIMIT_NOFILE 48, more clients than that) keeps what it has, leaves the
// rest in the kernel's backlog instead of spinning on a failing accept, and serves them once
// descriptors are free again.
TEST(DescriptorExhaustion, WaitingConnectionsAreServedOnceDescriptorsComeFree) {
  server_process server({}, 48);
  {
    // Sanitizer builds check an object's dynamic type the first time they meet it, through a pipe
    // they cannot open once descriptors run out; the recovery's paths (an answer, a client leaving
    // a keep-alive connection) run once first.
    raw_connection warm(server.port());
    warm.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    warm.wait_for_server(kActionGuard);
    ASSERT_EQ(status_line(warm.received()), "HTTP/1.1 200 OK");
  }
  EXPECT_EQ(http_call(server.port(), "GET", "/healthz").status, 200u);
  std::vector<std::unique_ptr<raw_connection>> held;
  for (int i = 0; i < 64; ++i) held.push_back(std::make_unique<raw_connection>(server.port()));
  raw_connection waiting(server.port());
  waiting.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  waiting.wait_for_server(milliseconds(300));
  EXPECT_EQ(waiting.received(), "") << "answered with every descriptor taken: the limit did not bite";

  // A listener retrying at once would burn a whole CPU here; the backoff leaves it nearly idle.
  const double cpu_before = cpu_seconds(server.pid());
  std::this_thread::sleep_for(milliseconds(1000));
  const double cpu_used = cpu_seconds(server.pid()) - cpu_before;
  EXPECT_LT(cpu_used, 0.5) << "the hub spins while out of descriptors";

  held.clear();
  EXPECT_TRUE(waiting.wait_for_close(kActionGuard)) << "the waiting connection was never served";
  EXPECT_EQ(status_line(waiting.received()), "HTTP/1.1 200 OK") << waiting.received();
  EXPECT_EQ(http_call(server.port(), "GET", "/healthz").status, 200u);
}

// --max-header-bytes 1024 (the flag's minimum is 512).
class RequestLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<server_process>(std::vector<std::string>{"--max-header-bytes", "1024"});
  }
  static void TearDownTestSuite() { server_.reset(); }
  static unsigned short port() { return server_->port(); }
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<server_process> RequestLimits::server_;

TEST_F(RequestLimits, HeaderOverTheLimitIs431) {
  const auto refused = http_call(port(), "GET", "/healthz", {}, {{"X-Pad", std::string(2000, 'a')}});
  EXPECT_EQ(refused.status, 431u) << refused.body;
  EXPECT_EQ(refused.headers.at("content-type"), "application/json");
  EXPECT_EQ(refused.json()["error"]["code"], "too_large") << refused.body;
  EXPECT_EQ(refused.headers.at("connection"), "close");

  const auto under = http_call(port(), "GET", "/healthz", {}, {{"X-Pad", std::string(600, 'a')}});
  EXPECT_EQ(under.status, 200u) << under.body;
}

TEST_F(RequestLimits, MalformedRequestLinesAre400BadFrame) {
  const std::vector<std::string> lines = {"NOT AN HTTP REQUEST\r\n\r\n", "GET /healthz HTTP/9\r\n\r\n",
                                         "GET\r\n\r\n", "G\x01T /healthz HTTP/1.1\r\n\r\n"};
  for (const auto& line : lines) {
    SCOPED_TRACE(line);
    const std::string reply = raw_exchange(port(), line, "}}");
    EXPECT_EQ(status_line(reply), "HTTP/1.1 400 Bad Request") << reply;
    EXPECT_NE(reply.find("Content-Type: application/json"), std::string::npos) << reply;
    const Json error = json_body(reply)["error"];
    EXPECT_EQ(error["code"], "bad_frame") << reply;
    EXPECT_EQ(error["message"].get<std::string>().rfind("malformed HTTP request", 0), 0u) << reply;
  }
  EXPECT_EQ(http_call(port(), "GET", "/healthz").status, 200u);
}

class PublishKey : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    secrets_ = std::make_unique<temp_dir>();
    std::ofstream(secrets_->path() / "key") << kKey << "\n";
    server_ = std::make_unique<server_process>(
        std::vector<std::string>{"--api-key-file", (secrets_->path() / "key").string()});
  }
  static void TearDownTestSuite() {
    server_.reset();
    secrets_.reset();
  }
  static unsigned short port() { return server_->port(); }

  static std::string upgrade(const std::string& query) {
    return "GET /ws/publish" + query + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
           "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  }

  static constexpr const char* kKey = "producer-key-1";
  static std::unique_ptr<temp_dir> secrets_;
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<temp_dir> PublishKey::secrets_;
std::unique_ptr<server_process> PublishKey::server_;

TEST_F(PublishKey, WrongApiKeyOnTheHandshakeIs401WithoutAnUpgrade) {
  // Same length one byte off, a prefix, the key plus a byte, empty: a compare that stops at the
  // shorter side or at the first equal length would let one of these through.
  const std::vector<std::string> wrong_keys = {"producer-key-2", "producer-key-", "producer-key-1x", "",
                                               "PRODUCER-KEY-1"};
  for (const auto& wrong : wrong_keys) {
    SCOPED_TRACE(wrong);
    const std::string reply = raw_exchange(port(), upgrade("?api_key=" + wrong), "}}");
    EXPECT_EQ(status_line(reply), "HTTP/1.1 401 Unauthorized") << reply;
    EXPECT_EQ(reply.find("Sec-WebSocket-Accept"), std::string::npos) << reply;
    EXPECT_EQ(json_body(reply)["error"]["code"], "unauthorized") << reply;
  }
}

TEST_F(PublishKey, RightApiKeyUpgradesAndPublishes) {
  raw_connection handshake(port());
  handshake.send(upgrade(std::string("?api_key=") + kKey));
  const auto deadline = steady_clock::now() + kActionGuard;
  while (handshake.received().find("\r\n\r\n") == std::string::npos && !handshake.closed() &&
         steady_clock::now() < deadline)
    handshake.wait_for_server(milliseconds(100));
  EXPECT_EQ(status_line(handshake.received()), "HTTP/1.1 101 Switching Protocols") << handshake.received();
  // The RFC 6455 example key's accept value.
  EXPECT_NE(handshake.received().find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos)
      << handshake.received();

  ws_client ws(port(), std::string("/ws/publish?api_key=") + kKey);
  EXPECT_EQ(ws.read_json()["type"], "hello");
  ws.send(Json{{"type", "publish"}, {"id", "k1"}, {"process_id", "keyed-1"}, {"percent", 3}});
  const Json ack = ws.read_json();
  EXPECT_EQ(ack["type"], "ack") << ack.dump();
  EXPECT_EQ(ack["id"], "k1");
  EXPECT_EQ(http_call(port(), "GET", "/api/processes/keyed-1").json()["percent"], 3);
}

}  // namespace
}  // namespace progress::test
