// Durability of the real binary on a real data dir: what survives a SIGKILL and a clean SIGTERM
// restart (terminal states, stages, the epoch rule), and the refusals at start-up (a file that is
// not a progress-hub database, a newer schema, a data dir in use).
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/restartable_hub.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

// Intermediate progress is written behind on this period: long enough that nothing of it reaches
// the disk before the SIGKILL, so what an unclean stop loses is known exactly.
const std::vector<std::string> kNeverWriteBehind = {"--persist-interval-ms", "60000"};

Json publish(unsigned short port, const std::string& id, const Json& body) {
  const auto reply = http_call(port, "POST", "/api/processes/" + id + "/progress", body.dump(),
                               {{"Content-Type", "application/json"}});
  EXPECT_EQ(reply.status, 200u) << reply.body;
  return reply.json();
}

Json record(unsigned short port, const std::string& id) {
  const auto reply = http_call(port, "GET", "/api/processes/" + id);
  EXPECT_EQ(reply.status, 200u) << reply.body;
  return reply.json();
}

std::vector<std::string> stage_names(const Json& snapshot) {
  std::vector<std::string> names;
  for (const auto& span : snapshot["stages"]) names.push_back(span["name"]);
  return names;
}

void run_sql(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

TEST(Durability, AfterASigkillTerminalStatesAndStagesSurviveAndRunningRecordsComeBackUnderANewEpoch) {
  temp_dir work;
  restartable_hub hub(work.path(), kNeverWriteBehind);
  hub.start();
  publish(hub.port(), "done", {{"stage", "extract"}, {"percent", 10}});
  publish(hub.port(), "done", {{"stage", "analysis"}, {"percent", 60}});
  publish(hub.port(), "done", {{"percent", 80}});
  publish(hub.port(), "done", {{"state", "completed"}, {"result", {{"pages", 12}}}});
  publish(hub.port(), "broken", {{"stage", "extract"}, {"percent", 5}});
  publish(hub.port(), "broken", {{"state", "failed"}, {"error", "bad pdf"}});
  publish(hub.port(), "running", {{"stage", "extract"}, {"percent", 10}});
  publish(hub.port(), "running", {{"stage", "analysis"}, {"percent", 20}});  // seq 2: last durable
  publish(hub.port(), "running", {{"percent", 30}});                         // written behind: lost
  publish(hub.port(), "running", {{"percent", 40}});
  const Json done_before = record(hub.port(), "done");
  const Json broken_before = record(hub.port(), "broken");
  const Json running_before = record(hub.port(), "running");
  ASSERT_EQ(running_before["seq"], 4);
  hub.kill();

  hub.start();
  const Json done = record(hub.port(), "done");
  EXPECT_EQ(done["state"], "completed");
  EXPECT_EQ(done["epoch"], done_before["epoch"]);
  EXPECT_EQ(done["seq"], done_before["seq"]);
  EXPECT_EQ(done["result"], (Json{{"pages", 12}}));
  EXPECT_EQ(stage_names(done), (std::vector<std::string>{"extract", "analysis"}));
  const Json broken = record(hub.port(), "broken");
  EXPECT_EQ(broken["state"], "failed");
  EXPECT_EQ(broken["error"], "bad pdf");
  EXPECT_EQ(broken["epoch"], broken_before["epoch"]);

  const Json running = record(hub.port(), "running");
  EXPECT_EQ(running["state"], "running");
  EXPECT_NE(running["epoch"], running_before["epoch"]);
  EXPECT_EQ(running["seq"], 2);  // seq continues from the stored one
  EXPECT_EQ(running["stage"], "analysis");
  EXPECT_EQ(running["percent"], 20);
  EXPECT_EQ(stage_names(running), (std::vector<std::string>{"extract", "analysis"}));

  // A client that saw seq 4 of the old epoch gets the snapshot of the new one, then live events.
  const std::string old_epoch = running_before["epoch"];
  ws_client ws(hub.port(), "/ws/progress/running?after_seq=4&epoch=" + old_epoch);
  EXPECT_EQ(ws.read_json()["type"], "hello");
  const Json snapshot = ws.read_json();
  EXPECT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["epoch"], running["epoch"]);
  EXPECT_EQ(snapshot["seq"], 2);
  publish(hub.port(), "running", {{"percent", 50}});
  const Json next = ws.read_json();
  EXPECT_EQ(next["type"], "progress");
  EXPECT_EQ(next["epoch"], running["epoch"]);
  EXPECT_EQ(next["seq"], 3);

  // A finished process still refuses publishes after the restart.
  const auto refused = http_call(hub.port(), "POST", "/api/processes/done/progress", R"({"percent":100})",
                                 {{"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 409u);

  // The new epoch itself is on disk: a second crash does not bring the lost seqs back.
  hub.kill();
  hub.start();
  const Json again = record(hub.port(), "running");
  EXPECT_NE(again["epoch"], running_before["epoch"]);
  EXPECT_EQ(again["stage"], "analysis");
}

TEST(Durability, ACleanShutdownKeepsEveryEpochSeqAndTheNewestProgress) {
  temp_dir work;
  restartable_hub hub(work.path(), kNeverWriteBehind);
  hub.start();
  publish(hub.port(), "job", {{"stage", "extract"}, {"percent", 10}});
  publish(hub.port(), "job", {{"percent", 35}, {"message", "page 7"}});
  const Json before = record(hub.port(), "job");
  const auto stopped = hub.terminate();
  ASSERT_TRUE(stopped.exited);
  EXPECT_EQ(stopped.code, 0);

  hub.start();
  const Json after = record(hub.port(), "job");
  EXPECT_EQ(after["epoch"], before["epoch"]);
  EXPECT_EQ(after["seq"], 2);
  EXPECT_EQ(after["percent"], 35);
  EXPECT_EQ(after["message"], "page 7");

  // The client resumes where it was: the next frame after hello is the next event, no snapshot.
  const std::string epoch = before["epoch"];
  ws_client ws(hub.port(), "/ws/progress/job?after_seq=2&epoch=" + epoch);
  EXPECT_EQ(ws.read_json()["type"], "hello");
  publish(hub.port(), "job", {{"percent", 50}});
  const Json next = ws.read_json();
  EXPECT_EQ(next["type"], "progress");
  EXPECT_EQ(next["epoch"], epoch);
  EXPECT_EQ(next["seq"], 3);
  EXPECT_EQ(next["percent"], 50);
}

TEST(Durability, CreatedProcessesAndLeaseExpiryWhileDownSurvive) {
  temp_dir work;
  restartable_hub hub(work.path(), kNeverWriteBehind);
  hub.start();
  const auto created = http_call(hub.port(), "POST", "/api/processes", R"({"process_id":"made"})",
                                 {{"Content-Type", "application/json"}});
  ASSERT_EQ(created.status, 201u) << created.body;
  publish(hub.port(), "leased", {{"stage", "work"}, {"percent", 5}, {"lease_ms", 500}});
  hub.kill();
  // The lease runs out while the hub is down (a wait for time to pass, not a timed assertion).
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  hub.start();
  EXPECT_EQ(record(hub.port(), "made")["state"], "pending");
  ws_client ws(hub.port(), "/ws/progress/leased");
  EXPECT_EQ(ws.read_json()["type"], "hello");
  Json frame = ws.read_json();
  if (frame["type"] == "snapshot" && frame["state"] == "running") frame = ws.read_json();
  EXPECT_EQ(frame["state"], "failed");
  EXPECT_EQ(frame["error"]["code"], "stalled");
}

TEST(Durability, AFileThatIsNotAProgressHubDatabaseStopsTheStartWithExitCode2) {
  temp_dir work;
  restartable_hub hub(work.path());
  {
    std::ofstream garbage(hub.data_dir() / "progress.db", std::ios::binary);
    garbage << std::string(4096, '\x5a');
  }
  const auto refused = hub.start_refused();
  ASSERT_TRUE(refused.exited) << refused.output;
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.output.find("not a progress-hub database"), std::string::npos) << refused.output;
}

TEST(Durability, AnotherApplicationsDatabaseAndANewerSchemaAreRefused) {
  temp_dir work;
  restartable_hub hub(work.path());
  run_sql(hub.data_dir() / "progress.db", "CREATE TABLE users(name TEXT)");
  auto refused = hub.start_refused();
  ASSERT_TRUE(refused.exited) << refused.output;
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.output.find("another application"), std::string::npos) << refused.output;

  std::filesystem::remove(hub.data_dir() / "progress.db");
  hub.start();  // creates schema 1
  hub.terminate();
  run_sql(hub.data_dir() / "progress.db", "PRAGMA user_version=99");
  refused = hub.start_refused();
  ASSERT_TRUE(refused.exited) << refused.output;
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.output.find("newer progress-hub (schema 99"), std::string::npos) << refused.output;
}

TEST(Durability, ASecondHubOnTheSameDataDirIsRefused) {
  temp_dir work;
  restartable_hub first(work.path());
  first.start();
  publish(first.port(), "job", {{"percent", 1}});
  restartable_hub second(work.path());
  const auto refused = second.start_refused();
  ASSERT_TRUE(refused.exited) << refused.output;
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.output.find("in use by another progress-hub"), std::string::npos) << refused.output;
  EXPECT_EQ(record(first.port(), "job")["percent"], 1);
}

}  // namespace
}  // namespace progress::test
