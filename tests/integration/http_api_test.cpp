// The HTTP side of a running progress-hub: health, metrics, static files, the process API, SSE and
// the JSON errors of bad requests. Every test runs against both engines (embedded and --redis).
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "support/engine_param.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

class HttpApi : public ::testing::TestWithParam<engine_kind> {
 protected:
  static void SetUpTestSuite() {
    web_ = std::make_unique<temp_dir>();
    std::filesystem::create_directories(web_->path() / "site" / "pkg");
    std::ofstream(web_->path() / "site" / "index.html") << "<!doctype html><title>demo</title>";
    std::ofstream(web_->path() / "site" / "pkg" / "progress.wasm") << "\0asm";
    std::ofstream(web_->path() / "secret.txt") << "top secret";
  }
  static void TearDownTestSuite() {
    hubs_.clear();
    web_.reset();
  }
  void SetUp() override {
    if (auto why = engine_unavailable(GetParam())) GTEST_SKIP() << *why;
    port_ = hubs_.get(GetParam(), {"--web-root", (web_->path() / "site").string(), "--max-upload-bytes", "4096"})
                .port();
  }
  unsigned short port() const { return port_; }

  static void expect_error(const http_reply& reply, unsigned status, const std::string& code) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.headers.at("content-type"), "application/json");
    const Json body = reply.json();
    EXPECT_EQ(body["error"]["code"], code) << reply.body;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
  }

  static std::unique_ptr<temp_dir> web_;
  static engine_hubs hubs_;
  unsigned short port_ = 0;
};

std::unique_ptr<temp_dir> HttpApi::web_;
engine_hubs HttpApi::hubs_;

INSTANTIATE_TEST_SUITE_P(Engines, HttpApi, all_engines, engine_label);

TEST_P(HttpApi, HealthzAnswersJson) {
  const auto reply = http_call(port(), "GET", "/healthz");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.json()["status"], "ok");
}

TEST_P(HttpApi, ServesTheDemoPageAndWasmWithTheirTypes) {
  const auto index = http_call(port(), "GET", "/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<title>demo</title>"), std::string::npos);
  const auto wasm = http_call(port(), "GET", "/pkg/progress.wasm");
  EXPECT_EQ(wasm.status, 200u);
  EXPECT_EQ(wasm.headers.at("content-type"), "application/wasm");
}

TEST_P(HttpApi, RefusesPathsThatLeaveTheWebRoot) {
  for (const std::string target : {"/../secret.txt", "/%2e%2e/secret.txt", "/pkg/..%2f..%2fsecret.txt",
                                   "/pkg/%2e%2e/%2e%2e/secret.txt"}) {
    const auto reply = http_call(port(), "GET", target);
    EXPECT_EQ(reply.status, 404u) << target;
    EXPECT_EQ(reply.body.find("top secret"), std::string::npos) << target;
  }
}

TEST_P(HttpApi, UnknownPathsAndWrongMethodsGetJsonErrors) {
  expect_error(http_call(port(), "GET", "/api/nothing"), 404, "not_found");
  expect_error(http_call(port(), "GET", "/missing.html"), 404, "not_found");
  const auto wrong = http_call(port(), "DELETE", "/api/processes");
  expect_error(wrong, 405, "bad_frame");
  EXPECT_EQ(wrong.headers.at("allow"), "POST");
  expect_error(http_call(port(), "POST", "/healthz", "{}"), 405, "bad_frame");
  expect_error(http_call(port(), "GET", "/ws/progress/abc"), 400, "bad_frame");  // no upgrade
}

TEST_P(HttpApi, ProcessLifecycleOverHttp) {
  const auto created = http_call(port(), "POST", "/api/processes", R"({"process_id":"http-life"})");
  ASSERT_EQ(created.status, 201u) << created.body;
  const Json record = created.json();
  EXPECT_EQ(record["process_id"], "http-life");
  EXPECT_EQ(record["state"], "pending");
  EXPECT_EQ(record["seq"], 0);
  const std::string epoch = record["epoch"];

  const auto again = http_call(port(), "POST", "/api/processes", R"({"process_id":"http-life"})");
  EXPECT_EQ(again.status, 200u);
  EXPECT_EQ(again.json()["epoch"], epoch);

  const auto published = http_call(port(), "POST", "/api/processes/http-life/progress",
                                    R"({"stage":"convert","percent":40,"message":"page 4 of 10"})");
  ASSERT_EQ(published.status, 200u) << published.body;
  EXPECT_EQ(published.json()["seq"], 1);

  const Json now = http_call(port(), "GET", "/api/processes/http-life").json();
  EXPECT_EQ(now["state"], "running");
  EXPECT_EQ(now["stage"], "convert");
  EXPECT_EQ(now["percent"], 40);
  EXPECT_EQ(now["message"], "page 4 of 10");

  const auto done = http_call(port(), "POST", "/api/processes/http-life/progress",
                              R"({"state":"completed","result":{"pages":10}})");
  ASSERT_EQ(done.status, 200u) << done.body;
  const Json finished = http_call(port(), "GET", "/api/processes/http-life").json();
  EXPECT_EQ(finished["state"], "completed");
  EXPECT_EQ(finished["percent"], 100);
  EXPECT_EQ(finished["result"]["pages"], 10);
}

TEST_P(HttpApi, CreateWithoutBodyGeneratesAnId) {
  const auto created = http_call(port(), "POST", "/api/processes");
  ASSERT_EQ(created.status, 201u) << created.body;
  const std::string id = created.json()["process_id"];
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(http_call(port(), "GET", "/api/processes/" + id).status, 200u);
}

TEST_P(HttpApi, BadRequestsGetTheDocumentedErrors) {
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/http-bad/progress", R"({"percent":50})").status, 200u);
  struct row {
    const char* what;
    std::string method, target, body;
    unsigned status;
    const char* code;
  };
  const std::vector<row> table = {
      {"malformed JSON", "POST", "/api/processes", "{\"process_id\":", 400, "bad_frame"},
      {"body not an object", "POST", "/api/processes", "[1,2]", 400, "bad_frame"},
      {"process_id of the wrong type", "POST", "/api/processes", R"({"process_id":42})", 400, "bad_frame"},
      {"invalid id in the body", "POST", "/api/processes", R"({"process_id":"no spaces"})", 400,
       "invalid_process_id"},
      {"invalid id in the path", "GET", "/api/processes/bad$id", "", 400, "invalid_process_id"},
      {"unknown process", "GET", "/api/processes/never-created", "", 404, "not_found"},
      {"malformed publish", "POST", "/api/processes/http-bad/progress", "{nope", 400, "bad_frame"},
      {"percent of the wrong type", "POST", "/api/processes/http-bad/progress", R"({"percent":"half"})", 400,
       "bad_frame"},
      {"percent out of range", "POST", "/api/processes/http-bad/progress", R"({"percent":150})", 400,
       "invalid_update"},
      {"percent going back", "POST", "/api/processes/http-bad/progress", R"({"percent":10})", 400,
       "invalid_update"},
      {"body id differs from the path", "POST", "/api/processes/http-bad/progress",
       R"({"process_id":"other","percent":60})", 400, "invalid_process_id"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.what);
    const auto reply = http_call(port(), r.method, r.target, r.body);
    EXPECT_EQ(reply.status, r.status) << reply.body;
    EXPECT_EQ(reply.json()["error"]["code"], r.code) << reply.body;
  }
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/http-bad/progress", R"({"state":"failed","error":"boom"})")
                .status,
            200u);
  expect_error(http_call(port(), "POST", "/api/processes/http-bad/progress", R"({"percent":99})"), 409,
               "process_finished");
  // After all of that the server still serves.
  EXPECT_EQ(http_call(port(), "GET", "/healthz").status, 200u);
}

TEST_P(HttpApi, OversizedBodiesAre413) {
  expect_error(http_call(port(), "POST", "/api/processes", std::string(300 * 1024, ' ')), 413, "too_large");
  expect_error(http_call(port(), "POST", "/api/uploads", std::string(5000, 'a')), 413, "too_large");
  EXPECT_EQ(http_call(port(), "GET", "/healthz").status, 200u);
}

TEST_P(HttpApi, MetricsArePrometheusText) {
  http_call(port(), "GET", "/healthz");
  const auto reply = http_call(port(), "GET", "/metrics");
  ASSERT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.headers.at("content-type").rfind("text/plain", 0), 0u);
  const auto metrics = parse_metrics(reply.body);
  EXPECT_TRUE(metrics.count("progress_connections"));
  EXPECT_TRUE(metrics.count("progress_queued_bytes"));
  EXPECT_GE(metrics.at(R"(progress_http_requests_total{route="healthz",status="200"})"), 1);
}

TEST_P(HttpApi, ServerSentEventsCarryFramesWithResumableIds) {
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/sse-1/progress", R"({"stage":"a","percent":10})").status, 200u);
  const std::string epoch = http_call(port(), "GET", "/api/processes/sse-1").json()["epoch"];
  const std::string request = "GET /sse/progress/sse-1 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
  const auto first = raw_exchange(port(), request, "id: " + epoch + ":1\n");
  EXPECT_NE(first.find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(first.find("\"type\":\"snapshot\""), std::string::npos);

  ASSERT_EQ(http_call(port(), "POST", "/api/processes/sse-1/progress", R"({"percent":20})").status, 200u);
  ASSERT_EQ(http_call(port(), "POST", "/api/processes/sse-1/progress", R"({"percent":30})").status, 200u);
  const std::string resume = "GET /sse/progress/sse-1 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " + epoch +
                             ":1\r\n\r\n";
  const auto resumed = raw_exchange(port(), resume, "id: " + epoch + ":3\n");
  EXPECT_NE(resumed.find("id: " + epoch + ":2\n"), std::string::npos);
  EXPECT_EQ(resumed.find("\"type\":\"snapshot\""), std::string::npos) << "resume replays, no snapshot";
  EXPECT_LT(resumed.find(":2\n"), resumed.find(":3\n"));
}

}  // namespace
}  // namespace progress::test
