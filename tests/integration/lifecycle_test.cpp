// Whole-server behaviour: uploads through the document job, progress-watch against a live server,
// and graceful shutdown.
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/engine_param.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

std::string sample_document() {
  std::ostringstream text;
  for (int i = 0; i < 2000; ++i) text << "Progress reports beat spinners. Line " << i << " of the report.\n";
  text << "Grüße aus Köln\n";
  return text.str();
}

std::string multipart(const std::string& boundary, const std::string& process_id, const std::string& file) {
  std::string body;
  if (!process_id.empty()) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"process_id\"\r\n\r\n" + process_id + "\r\n";
  }
  body += "--" + boundary +
          "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"report.txt\"\r\n"
          "Content-Type: text/plain\r\n\r\n" +
          file + "\r\n--" + boundary + "--\r\n";
  return body;
}

// Reads progress frames until a terminal one; checks seq order and that percent never goes back.
Json follow_to_end(ws_client& ws, std::vector<std::string>* stages = nullptr) {
  std::optional<Seq> last_seq;  // a snapshot of a created process has seq 0
  double last_percent = 0;
  while (true) {
    const Json frame = ws.read_json();
    const std::string type = frame.value("type", "");
    if (type != "progress" && type != "snapshot") continue;
    if (last_seq) {
      EXPECT_GT(frame["seq"].get<Seq>(), *last_seq);
    }
    EXPECT_GE(frame["percent"].get<double>(), last_percent);
    last_seq = frame["seq"];
    last_percent = frame["percent"];
    const std::string stage = frame["stage"];
    if (stages && !stage.empty() && (stages->empty() || stages->back() != stage)) stages->push_back(stage);
    const std::string state = frame["state"];
    if (state == "completed" || state == "failed" || state == "cancelled") return frame;
  }
}

class Lifecycle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<server_process>(); }
  static void TearDownTestSuite() { server_.reset(); }
  static unsigned short port() { return server_->port(); }
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<server_process> Lifecycle::server_;

// The release preset links mimalloc; the binary must report it in use, not just linked.
TEST(Version, NamesTheAllocatorTheBuildChose) {
  const auto status = run_program(PROGRESS_HUB_BINARY, {"--version"});
  ASSERT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0);
  EXPECT_EQ(status.output.rfind("progress-hub ", 0), 0u) << status.output;
#ifdef PROGRESS_EXPECT_MIMALLOC
  EXPECT_NE(status.output.find("\nallocator: mimalloc "), std::string::npos) << status.output;
#else
  EXPECT_NE(status.output.find("\nallocator: glibc malloc\n"), std::string::npos) << status.output;
#endif
}

TEST_F(Lifecycle, MultipartUploadRunsTheDocumentJobToCompletion) {
  ws_client ws(port(), "/ws/progress/doc-upload-1");
  EXPECT_EQ(ws.read_json()["type"], "hello");
  EXPECT_EQ(ws.read_json()["type"], "pending");

  const std::string doc = sample_document();
  const auto reply = http_call(port(), "POST", "/api/uploads", multipart("XyZb0und", "doc-upload-1", doc),
                               {{"Content-Type", "multipart/form-data; boundary=XyZb0und"}});
  ASSERT_EQ(reply.status, 202u) << reply.body;
  EXPECT_EQ(reply.json()["process_id"], "doc-upload-1");

  std::vector<std::string> stages;
  const Json last = follow_to_end(ws, &stages);
  EXPECT_EQ(last["state"], "completed") << last;
  EXPECT_EQ(last["percent"], 100);
  const std::vector<std::string> expected = {"upload_received", "checksum", "text_extraction", "analysis"};
  EXPECT_EQ(stages, expected);
  const Json result = last["result"];
  EXPECT_EQ(result["bytes"], doc.size());
  EXPECT_EQ(result["lines"], 2001);
  EXPECT_EQ(result["sha256"].get<std::string>().size(), 64u);
  // Nine words a line, each 2000 times: the tie is broken alphabetically.
  EXPECT_EQ(result["top_words"][0]["word"], "beat");
  EXPECT_EQ(result["top_words"][0]["count"], 2000);
  EXPECT_EQ(result["words"], 2000 * 9 + 3);  // "grüße aus köln": UTF-8 letters stay in their words
  const Json record = http_call(port(), "GET", "/api/processes/doc-upload-1").json();
  EXPECT_EQ(record["state"], "completed");
  EXPECT_EQ(record["stages"].size(), 4u);
}

TEST_F(Lifecycle, RawBinaryUploadFailsWithAClearError) {
  std::string binary;
  for (int i = 0; i < 20000; ++i) binary += static_cast<char>((i * 7919) % 256);
  const auto reply = http_call(port(), "POST", "/api/uploads?process_id=doc-binary-1", binary,
                               {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(reply.status, 202u) << reply.body;
  ws_client ws(port(), "/ws/progress/doc-binary-1");
  const Json last = follow_to_end(ws);
  EXPECT_EQ(last["state"], "failed");
  EXPECT_EQ(last["error"]["code"], "unreadable");
}

TEST_F(Lifecycle, UploadWithoutIdGetsOne) {
  const auto reply = http_call(port(), "POST", "/api/uploads", "plain words in a plain body\n");
  ASSERT_EQ(reply.status, 202u) << reply.body;
  const std::string id = reply.json()["process_id"];
  ws_client ws(port(), "/ws/progress/" + id);
  EXPECT_EQ(follow_to_end(ws)["state"], "completed");
}

TEST_F(Lifecycle, BadUploadsGetJsonErrors) {
  const auto code = [](const http_reply& r) { return r.json()["error"]["code"].get<std::string>(); };
  const auto bad_id = http_call(port(), "POST", "/api/uploads?process_id=no%20spaces", "text body here\n");
  EXPECT_EQ(bad_id.status, 400u);
  EXPECT_EQ(code(bad_id), "invalid_process_id");
  const auto empty = http_call(port(), "POST", "/api/uploads?process_id=doc-empty", "");
  EXPECT_EQ(empty.status, 400u);
  const auto no_file = http_call(port(), "POST", "/api/uploads", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n",
                                 {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(no_file.status, 400u);
  EXPECT_EQ(code(no_file), "bad_frame");
  const auto broken = http_call(port(), "POST", "/api/uploads", "--b\r\nno header end",
                                {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(broken.status, 400u);
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/doc-taken/progress", R"({"percent":5})").status, 200u);
  const auto taken = http_call(port(), "POST", "/api/uploads?process_id=doc-taken", "some text to analyse\n");
  EXPECT_EQ(taken.status, 409u);
  EXPECT_EQ(code(taken), "process_finished");
  const auto wrong_method = http_call(port(), "GET", "/api/uploads");
  EXPECT_EQ(wrong_method.status, 405u);
}

TEST_F(Lifecycle, WatchExitsZeroOnACompletedUpload) {
  const auto reply = http_call(port(), "POST", "/api/uploads?process_id=watch-ok-1", sample_document());
  ASSERT_EQ(reply.status, 202u);
  const auto url = "ws://127.0.0.1:" + std::to_string(port());
  const auto status = run_program(PROGRESS_WATCH_BINARY, {url, "watch-ok-1", "--json"});
  ASSERT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0) << status.output;
  const auto last_line = status.output.substr(status.output.rfind('\n', status.output.size() - 2) + 1);
  const Json view = Json::parse(last_line);
  EXPECT_EQ(view["state"], "completed");
  EXPECT_EQ(view["result"]["lines"], 2001);
}

TEST_F(Lifecycle, WatchWaitsForAJobThatHasNotStartedAndFollowsItLive) {
  const auto url = "ws://127.0.0.1:" + std::to_string(port());
  exit_status status;
  std::thread watcher([&] { status = run_program(PROGRESS_WATCH_BINARY, {url, "watch-live-1", "--json"}); });
  // Publish only once the watcher's subscription is registered (pending), so it sees the start.
  const auto pending = [&] {
    return parse_metrics(http_call(port(), "GET", "/metrics").body).at("progress_pending_subscriptions") > 0;
  };
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (!pending() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/watch-live-1/progress", R"({"stage":"s1","percent":25})").status, 200u);
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/watch-live-1/progress", R"({"state":"completed"})").status, 200u);
  watcher.join();
  ASSERT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0) << status.output;
  std::vector<Json> views;
  std::istringstream lines(status.output);
  for (std::string line; std::getline(lines, line);) views.push_back(Json::parse(line));
  ASSERT_GE(views.size(), 2u);
  EXPECT_EQ(views.back()["state"], "completed");
  const bool saw_pending = std::any_of(views.begin(), views.end(), [](const Json& v) { return v["status"] == "pending"; });
  EXPECT_TRUE(saw_pending) << status.output;
}

TEST_F(Lifecycle, WatchExitsOneOnAFailedJob) {
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/watch-fail-1/progress", R"({"state":"failed","error":"x"})")
                .status,
            200u);
  const auto status = run_program(PROGRESS_WATCH_BINARY, {"http://127.0.0.1:" + std::to_string(port()), "watch-fail-1"});
  ASSERT_TRUE(status.exited);
  EXPECT_EQ(status.code, 1) << status.output;
}

TEST_F(Lifecycle, WatchExitsTwoOnAnInvalidIdOrABadUrl) {
  const auto url = "ws://127.0.0.1:" + std::to_string(port());
  const auto invalid = run_program(PROGRESS_WATCH_BINARY, {url, "not a valid id!"});
  ASSERT_TRUE(invalid.exited);
  EXPECT_EQ(invalid.code, 2);
  const auto bad_url = run_program(PROGRESS_WATCH_BINARY, {"ftp://127.0.0.1", "some-id"});
  ASSERT_TRUE(bad_url.exited);
  EXPECT_EQ(bad_url.code, 2);
}

// Through io_uring rounds or send lanes the close frames leave after the sessions handed them over,
// and the hub must still wait for them before it exits.
class Shutdown : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(WritePaths, Shutdown, write_paths, write_path_label);

TEST_P(Shutdown, SigtermClosesSocketsWith1001AndExitsZero) {
  server_process server(write_path_args(GetParam()));
  ws_client ws(server.port(), "/ws/progress/shutdown-1");
  EXPECT_EQ(ws.read_json()["type"], "hello");
  EXPECT_EQ(ws.read_json()["type"], "pending");
  ws_client echo(server.port(), "/ws/test");
  // terminate() blocks until the exit, which waits for our closing handshakes: answer them here.
  exit_status status;
  std::thread stopper([&] { status = server.terminate(); });
  const auto closed = ws.read();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.close_code, 1001);
  const auto echo_closed = echo.read();
  EXPECT_TRUE(echo_closed.closed);
  EXPECT_EQ(echo_closed.close_code, 1001);
  stopper.join();
  EXPECT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0);
}

}  // namespace
}  // namespace progress::test
