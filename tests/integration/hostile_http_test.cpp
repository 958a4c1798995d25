// The attacks of the security audit against the real progress-hub, over raw sockets. Each test sends
// one attack and then checks that the hub is alive in the full sense: the attacker's socket was
// closed, the hub's open descriptors came back to where they were, and a fresh subscriber is served.
#include <dirent.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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

constexpr milliseconds kHostileGuard{10'000};  // a hang guard, far over any timeout used here
constexpr char kApiKey[] = "hostile-test-key-0123456789";

double open_streams(unsigned short port) {
  return parse_metrics(http_call(port, "GET", "/metrics").body)["progress_connections"];
}

// The hub as it was before the attack, to compare with after it.
struct baseline {
  std::size_t descriptors;
  double streams;
};

baseline measure(const server_process& server) {
  return {open_descriptors(server.pid()), open_streams(server.port())};
}

void expect_alive(const server_process& server, const baseline& before, const std::string& name) {
  const auto deadline = steady_clock::now() + kHostileGuard;
  while (open_descriptors(server.pid()) > before.descriptors && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_LE(open_descriptors(server.pid()), before.descriptors) << "descriptors still open after " << name;
  EXPECT_EQ(open_streams(server.port()), before.streams) << "/metrics progress_connections after " << name;
  // A fresh subscriber gets its snapshot and the next event.
  const std::string id = "alive-after-" + name;
  try {
    ws_client subscriber(server.port(), "/ws/progress/" + id);
    subscriber.read_until_type("pending");
    const auto created = http_call(server.port(), "POST", "/api/processes/" + id + "/progress",
                                   R"({"state":"running","stage":"check","percent":50})",
                                   {{"Authorization", std::string("Bearer ") + kApiKey}});
    ASSERT_EQ(created.status, 200u) << created.body;
    // The process starts with this publish: its first frame to a waiting subscriber is a snapshot.
    const Json view = subscriber.read_until_type("snapshot");
    EXPECT_EQ(view["stage"], "check");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "a fresh subscriber was not served after " << name << ": " << e.what() << "\nhub log:\n"
                  << server.stderr_text();
  }
  const auto health = http_call(server.port(), "GET", "/healthz");
  EXPECT_EQ(health.status, 200u);
}

// Reads until the hub closes the connection; what it answered is the result.
std::string answer_then_close(raw_connection& attacker, const std::string& what) {
  EXPECT_TRUE(attacker.wait_for_close(kHostileGuard)) << what << ": the hub kept the connection open";
  return attacker.received();
}

std::string chunked_post(const std::string& path, const std::string& chunks_and_trailer) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks_and_trailer;
}

class Hostile : public ::testing::Test {
 protected:
  // Debug logging, so every line that could carry a credential is written.
  static void SetUpTestSuite() {
    secrets_ = std::make_unique<temp_dir>();
    std::ofstream(secrets_->path() / "key") << kApiKey << "\n";
    server_ = std::make_unique<server_process>(
        std::vector<std::string>{"--api-key-file", (secrets_->path() / "key").string(), "--log-level", "debug"}, 0,
        true);
  }
  static void TearDownTestSuite() {
    server_.reset();
    secrets_.reset();
  }
  static const server_process& server() { return *server_; }
  static unsigned short port() { return server_->port(); }
  static std::unique_ptr<temp_dir> secrets_;
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<temp_dir> Hostile::secrets_;
std::unique_ptr<server_process> Hostile::server_;

// Boost 1.81's own parser throws length_error on a field value over 65,533 bytes, and trailers
// were under no limit: this one request, unauthenticated, aborted the process.
TEST_F(Hostile, AChunkedTrailerOverBeastsFieldLimitIs431) {
  const auto before = measure(server());
  raw_connection attacker(port());
  attacker.send(chunked_post("/healthz", "1\r\na\r\n0\r\nX-Big: " + std::string(65'534, 'v') + "\r\n\r\n"));
  const auto reply = answer_then_close(attacker, "huge trailer");
  EXPECT_EQ(status_line(reply), "HTTP/1.1 431 Request Header Fields Too Large") << reply.substr(0, 200);
  EXPECT_EQ(json_body(reply)["error"]["code"], "too_large");
  expect_alive(server(), before, "huge-trailer");
}

TEST_F(Hostile, TrailerBytesCountAgainstTheHeaderLimit) {
  const auto before = measure(server());
  raw_connection attacker(port());
  std::string trailer;
  for (int i = 0; i < 40; ++i) trailer += "X-T" + std::to_string(i) + ": " + std::string(1000, 't') + "\r\n";
  attacker.send(chunked_post("/healthz", "0\r\n" + trailer + "\r\n"));
  const auto reply = answer_then_close(attacker, "many trailer fields");
  EXPECT_EQ(status_line(reply), "HTTP/1.1 431 Request Header Fields Too Large") << reply.substr(0, 200);
  expect_alive(server(), before, "trailer-fields");
}

// A chunk-size line that never ends grew the read buffer without a limit (512 MiB in 2.4 s).
TEST_F(Hostile, AChunkSizeLineThatNeverEndsIsCutAtTheBufferLimit) {
  const auto before = measure(server());
  raw_connection attacker(port());
  attacker.send(chunked_post("/healthz", ""));
  const std::string endless(64 * 1024, 'f');
  for (int i = 0; i < 64 && !attacker.closed(); ++i) {  // 4 MiB at most, far past the limit
    attacker.send(endless);
    attacker.wait_for_server(milliseconds(1));
  }
  const auto reply = answer_then_close(attacker, "endless chunk-size line");
  EXPECT_EQ(status_line(reply), "HTTP/1.1 431 Request Header Fields Too Large") << reply.substr(0, 200);
  expect_alive(server(), before, "endless-chunk-line");
}

TEST_F(Hostile, AnOverlongRequestLineIs414) {
  const auto before = measure(server());
  raw_connection attacker(port());
  attacker.send("GET /" + std::string(20'000, 'p') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto reply = answer_then_close(attacker, "long request line");
  EXPECT_EQ(status_line(reply), "HTTP/1.1 414 URI Too Long") << reply.substr(0, 200);
  EXPECT_EQ(json_body(reply)["error"]["code"], "too_large");
  expect_alive(server(), before, "long-request-line");
}

// An upload of 32 MiB was read whole before the missing key was noticed.
TEST_F(Hostile, AnUnauthorisedBodyIsRefusedAtTheHeaderBeforeItIsSent) {
  const auto before = measure(server());
  raw_connection attacker(port());
  attacker.send("POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: 33554432\r\n\r\n");
  attacker.wait_for_server(kHostileGuard);  // not one byte of the body was sent
  EXPECT_EQ(status_line(attacker.received()), "HTTP/1.1 401 Unauthorized") << attacker.received();
  EXPECT_EQ(json_body(attacker.received())["error"]["code"], "unauthorized");
  answer_then_close(attacker, "refused upload");
  expect_alive(server(), before, "unauthorised-body");
}

TEST_F(Hostile, ExpectContinueIsAnsweredOnlyForAnAuthorisedRequest) {
  const std::string body = R"({"process_id":"expect-continue"})";
  const std::string head = "POST /api/processes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  raw_connection refused(port());
  refused.send(head + "\r\n");
  refused.wait_for_server(kHostileGuard);
  EXPECT_EQ(status_line(refused.received()), "HTTP/1.1 401 Unauthorized") << refused.received();

  raw_connection allowed(port());
  allowed.send(head + "Authorization: Bearer " + kApiKey + "\r\n\r\n");
  allowed.wait_for_server(kHostileGuard);
  EXPECT_EQ(status_line(allowed.received()), "HTTP/1.1 100 Continue") << allowed.received();
  allowed.send(body);
  const auto deadline = steady_clock::now() + kHostileGuard;
  while (allowed.received().find("\r\n\r\n{") == std::string::npos && !allowed.closed() &&
         steady_clock::now() < deadline) {
    allowed.wait_for_server(milliseconds(100));
  }
  EXPECT_NE(allowed.received().find("HTTP/1.1 201 Created"), std::string::npos) << allowed.received();
}

// Read as "no body", the bytes after the header passed for a second request: request smuggling
// behind a proxy that reads them as this request's body.
TEST_F(Hostile, ATransferEncodingThatDoesNotEndInChunkedIs501AndNothingElseIsRead) {
  const auto before = measure(server());
  raw_connection attacker(port());
  attacker.send("POST /api/processes HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n"
                "Authorization: Bearer " + std::string(kApiKey) + "\r\n\r\n"
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto reply = answer_then_close(attacker, "gzip coding");
  EXPECT_EQ(status_line(reply), "HTTP/1.1 501 Not Implemented") << reply;
  EXPECT_EQ(reply.find("HTTP/1.1", 1), std::string::npos) << "the smuggled request was answered: " << reply;
  expect_alive(server(), before, "transfer-encoding");
}

TEST_F(Hostile, NoKeyOrTokenReachesTheLog) {
  http_call(port(), "GET", std::string("/api/processes/x?api_key=") + kApiKey + "&token=tok-secret-42");
  try {
    ws_client publisher(port(), std::string("/ws/publish?api_key=") + kApiKey);
    publisher.read_until_type("hello");
  } catch (const std::exception&) {
    // Only the log matters here.
  }
  const std::string log = server_->stderr_text();
  EXPECT_EQ(log.find(kApiKey), std::string::npos) << log;
  EXPECT_EQ(log.find("tok-secret-42"), std::string::npos) << log;
}

TEST(HostileStatic, DotfilesAndSymlinksOutOfTheRootAreNotServed) {
  temp_dir root;
  std::ofstream(root.path() / "index.html") << "<p>demo</p>";
  std::ofstream(root.path() / ".env") << "SECRET=1";
  std::filesystem::create_directory(root.path() / ".git");
  std::ofstream(root.path() / ".git" / "config") << "[core]";
  temp_dir outside;
  std::ofstream(outside.path() / "private.txt") << "private";
  std::filesystem::create_symlink(outside.path() / "private.txt", root.path() / "leak.txt");
  std::filesystem::create_symlink(root.path() / "index.html", root.path() / "alias.html");
  server_process server({"--web-root", root.path().string(), "--log-level", "debug"});
  for (const std::string path : {"/.env", "/.git/config", "/%2eenv", "/leak.txt"}) {
    const auto reply = http_call(server.port(), "GET", path);
    EXPECT_EQ(reply.status, 404u) << path << ": " << reply.body;
    EXPECT_EQ(reply.body.find("SECRET"), std::string::npos);
    EXPECT_EQ(reply.body.find("private"), std::string::npos);
  }
  EXPECT_EQ(http_call(server.port(), "GET", "/index.html").status, 200u);
  EXPECT_EQ(http_call(server.port(), "GET", "/alias.html").status, 200u) << "a symlink inside the root";
}

TEST(HostileFlags, AHeaderLimitAtBeastsFieldLimitIsRefusedAtStart) {
  const auto run = run_program(PROGRESS_HUB_BINARY, {"--listen", "127.0.0.1:0", "--max-header-bytes", "70000"});
  EXPECT_TRUE(run.exited);
  EXPECT_EQ(run.code, 2);
}

// At the largest header limit the flag allows, a header field just over Beast's field limit is 431.
TEST(HostileFlags, AFieldOverBeastsLimitIs431AtTheLargestHeaderLimit) {
  server_process server({"--max-header-bytes", "61440"});
  raw_connection attacker(server.port());
  attacker.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(65'534, 'h') + "\r\n\r\n");
  const auto reply = answer_then_close(attacker, "big header");
  EXPECT_EQ(status_line(reply), "HTTP/1.1 431 Request Header Fields Too Large") << reply.substr(0, 200);
  EXPECT_EQ(http_call(server.port(), "GET", "/healthz").status, 200u);
}

}  // namespace
}  // namespace progress::test
