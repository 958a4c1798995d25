// The seed's app moving onto the hub unchanged (issue 21), over real sockets: its React client
// (never answers JSON pings, sends the text `ping`), a passive /ws/health page, producers' near-miss
// publishes and ids built from unset variables.
#include <atomic>
#include <exception>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

// One heartbeat a second: silent for heartbeat + 10 s (11 s) is stale, so a job of twelve
// heartbeats outlasts the stale bound of a client that wrote once and of one that never writes.
constexpr int kHeartbeatMs = 1000;
constexpr int kJobHeartbeats = 12;

void expect_hello(ws_client& ws) { EXPECT_EQ(ws.read_json()["type"], "hello"); }

// `code` or `message` of an HTTP error body; empty when the body is not one.
std::string error_field(const http_reply& reply, const char* field) {
  const Json body = Json::parse(reply.body, nullptr, false);
  const Json* value = body.is_object() && body.contains("error") && body.at("error").is_object() &&
                              body.at("error").contains(field)
                          ? &body.at("error").at(field)
                          : nullptr;
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

void adoption_publish(unsigned short port, const std::string& id, const std::string& body) {
  const auto reply = http_call(port, "POST", "/api/processes/" + id + "/progress", body);
  ASSERT_EQ(reply.status, 200u) << reply.body;
}

// Reads until a text frame that is not JSON or one of the given JSON type; the Beast client answers
// the server's control pings by itself while it reads, as a browser does.
ws_message adoption_read_until(ws_client& ws, const std::string& type) {
  for (;;) {
    ws_message m = ws.read();
    if (m.closed) return m;
    const Json frame = Json::parse(m.text, nullptr, false);
    if (frame.is_discarded() || frame.value("type", "") == type || frame.value("type", "") == "error") return m;
  }
}

TEST(Adoption, LegacyClientAndPassiveHealthPageStayThroughALongJob) {
  server_process server({"--heartbeat-ms", std::to_string(kHeartbeatMs)});
  const unsigned short port = server.port();

  // The /ws/health page only listens, on its own thread as a browser tab would; its client
  // answers control pings while it reads.
  std::atomic<bool> job_done{false};
  std::atomic<int> health_close{0};
  std::atomic<bool> health_failed{false};
  std::thread health_page([port, &job_done, &health_close, &health_failed] {
    try {
      ws_client health(port, "/ws/health");
      while (!job_done) {
        const ws_message m = health.read();
        if (m.closed) {
          health_close = m.close_code;
          return;
        }
      }
    } catch (const std::exception&) {
      health_failed = true;
    }
  });
  // Joined on every way out of the test, a failed assertion included.
  struct joiner {
    std::atomic<bool>& done;
    std::thread& thread;
    ~joiner() {
      done = true;
      if (thread.joinable()) thread.join();
    }
  } join_health{job_done, health_page};

  const std::string id = "auto_proc_5b0c9e6a-1d2f-4c3b-9a8e-7f6d5c4b3a21_1700000000";
  ws_client page(port, "/ws/progress/" + id);
  expect_hello(page);
  EXPECT_EQ(page.read_json()["type"], "pending");
  // UploadProgress.js sends the text `ping` on a timer (every 30 s; once here) and never a JSON pong.
  page.send(std::string("ping"));
  const ws_message pong = adoption_read_until(page, "never");
  EXPECT_EQ(pong.text, "pong");

  int updates = 0;
  for (int beat = 1; beat <= kJobHeartbeats; ++beat) {
    // One update per heartbeat: the JSON ping is the job's clock.
    const ws_message ping = adoption_read_until(page, "ping");
    ASSERT_FALSE(ping.closed) << "closed " << ping.close_code << " " << ping.close_reason << " at heartbeat " << beat;
    ASSERT_EQ(Json::parse(ping.text)["type"], "ping") << ping.text;
    const bool last = beat == kJobHeartbeats;
    adoption_publish(port, id,
            last ? R"({"state":"completed","result":{"pages":3}})"
                 : R"({"stage":"analysis","percent":)" + std::to_string(beat * 9) + "}");
    const ws_message update = adoption_read_until(page, beat == 1 ? "snapshot" : "progress");
    ASSERT_FALSE(update.closed) << "closed " << update.close_code << " " << update.close_reason;
    Json frame = Json::parse(update.text);
    EXPECT_EQ(frame["seq"], beat) << update.text;
    if (last) {
      EXPECT_EQ(frame["state"], "completed") << update.text;
    }
    ++updates;
  }
  EXPECT_EQ(updates, kJobHeartbeats);
  job_done = true;
  health_page.join();
  EXPECT_EQ(health_close.load(), 0) << "the passive /ws/health page was closed";
  EXPECT_FALSE(health_failed.load()) << "the passive /ws/health page lost its socket";
}

TEST(Adoption, TextPingIsAnsweredOnEveryEndpoint) {
  server_process server;
  for (const std::string target : {"/ws/progress", "/ws/publish", "/ws/health", "/ws/progress/job-1"}) {
    ws_client ws(server.port(), target);
    expect_hello(ws);
    ws.send(std::string("ping"));
    const ws_message m = adoption_read_until(ws, "never");
    EXPECT_EQ(m.text, "pong") << target;
  }
}

TEST(Adoption, NearMissPublishesAreRefusedAndChangeNothing) {
  server_process server;
  const unsigned short port = server.port();
  adoption_publish(port, "job-1", R"({"stage":"upload","percent":10})");
  struct refusal {
    std::string body;
    std::string says;
  };
  for (const refusal& r : {refusal{R"({"progress":50})", "use `percent`"},
                           refusal{R"({"percentage":50})", "use `percent`"},
                           refusal{R"({"status":"done"})", "use `state`"},
                           refusal{R"({"stage":"completed"})", R"(send `"state": "completed"`)"},
                           refusal{R"({"percent":NaN})", "numbers must be finite"}}) {
    const auto reply = http_call(port, "POST", "/api/processes/job-1/progress", r.body);
    EXPECT_EQ(reply.status, 400u) << r.body;
    EXPECT_EQ(error_field(reply, "code"), "invalid_update") << reply.body;
    EXPECT_NE(error_field(reply, "message").find(r.says), std::string::npos) << reply.body;
  }
  const auto record = http_call(port, "GET", "/api/processes/job-1");
  ASSERT_EQ(record.status, 200u);
  EXPECT_EQ(record.json()["seq"], 1) << record.body;
  EXPECT_EQ(record.json()["percent"], 10) << record.body;
  EXPECT_EQ(record.json()["state"], "running") << record.body;

  // Python's None is null: absent, not a wrong type.
  const auto with_nulls =
      http_call(port, "POST", "/api/processes/job-1/progress", R"({"stage":"analysis","percent":null,"message":null})");
  EXPECT_EQ(with_nulls.status, 200u) << with_nulls.body;
  EXPECT_EQ(http_call(port, "GET", "/api/processes/job-1").json()["stage"], "analysis");
}

TEST(Adoption, IdsFromUnsetVariablesAreRefusedAtOnce) {
  server_process server;
  const unsigned short port = server.port();
  auto expect_unset = [](const http_reply& reply, const std::string& what) {
    EXPECT_EQ(reply.status, 400u) << what << ": " << reply.body;
    EXPECT_EQ(error_field(reply, "code"), "invalid_process_id") << what << ": " << reply.body;
    EXPECT_NE(reply.body.find("the client passed an unset value"), std::string::npos) << what << ": " << reply.body;
  };
  expect_unset(http_call(port, "POST", "/api/processes/undefined/progress", R"({"percent":5})"), "publish");
  expect_unset(http_call(port, "GET", "/api/processes/null"), "get");
  expect_unset(http_call(port, "GET", "/api/processes/%5Bobject%20Object%5D"), "get [object Object]");
  expect_unset(http_call(port, "POST", "/api/processes", R"({"process_id":"None"})"), "create");

  ws_client ws(port, "/ws/progress/undefined");
  expect_hello(ws);
  Json error = ws.read_json();
  EXPECT_EQ(error["code"], "invalid_process_id") << error.dump();
  EXPECT_NE(error.value("message", "").find("unset value"), std::string::npos) << error.dump();
  const ws_message closed = ws.read();
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.close_code, 1008);
}

}  // namespace
}  // namespace progress::test
