// A progress.db written by release 0.1.0 (tests/fixtures/progress-0.1.0.db, made with that binary:
// see tests/fixtures/README.md) loaded by this build: every record comes back with its state,
// stage, percent, data, result or error, and the running one takes updates.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

namespace fs = std::filesystem;

const fs::path kFixture = fs::path(PROGRESS_FIXTURES_DIR) / "progress-0.1.0.db";

using db_ptr = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;

db_ptr open_db(const fs::path& file) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(file.c_str(), &raw) != SQLITE_OK) {
    sqlite3_close(raw);
    throw std::runtime_error("cannot open " + file.string());
  }
  return db_ptr(raw, &sqlite3_close);
}

std::vector<std::pair<std::string, Json>> records_of(sqlite3* db) {
  std::vector<std::pair<std::string, Json>> out;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT process_id, record FROM records", -1, &raw, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sqlite3_errmsg(db));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, &sqlite3_finalize);
  while (sqlite3_step(raw) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)),
                     Json::parse(reinterpret_cast<const char*>(sqlite3_column_text(raw, 1))));
  }
  return out;
}

// Every wall-clock field, wherever it sits in a stored record.
void shift_times(Json& value, std::int64_t by) {
  static const std::vector<std::string> kTimeKeys = {"updated_at", "finished_at", "lease_deadline", "started_at",
                                                     "ended_at",   "ts"};
  if (value.is_object()) {
    for (auto& [key, item] : value.items()) {
      if (item.is_number_integer() && std::find(kTimeKeys.begin(), kTimeKeys.end(), key) != kTimeKeys.end()) {
        item = item.get<std::int64_t>() + by;
      } else {
        shift_times(item, by);
      }
    }
  } else if (value.is_array()) {
    for (auto& item : value) shift_times(item, by);
  }
}

// The fixture's records as if written a minute ago: retention and leases count from the wall clock,
// so a fixture a month old would otherwise load as "everything expired". Only the times move.
void make_recent(const fs::path& file) {
  const auto db = open_db(file);
  auto records = records_of(db.get());
  std::int64_t newest = 0;
  for (const auto& [id, record] : records) newest = std::max(newest, record["snapshot"]["updated_at"].get<std::int64_t>());
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t by = now - 60'000 - newest;
  for (auto& [id, record] : records) {
    shift_times(record, by);
    sqlite3_stmt* raw = nullptr;
    sqlite3_prepare_v2(db.get(), "UPDATE records SET record = ? WHERE process_id = ?", -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, &sqlite3_finalize);
    const std::string text = record.dump();
    sqlite3_bind_text(raw, 1, text.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(raw, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(raw) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db.get()));
  }
}

Json get_record(unsigned short port, const std::string& id) {
  const auto reply = http_call(port, "GET", "/api/processes/" + id);
  if (reply.status != 200) throw std::runtime_error(id + ": " + std::to_string(reply.status) + " " + reply.body);
  return reply.json();
}

TEST(Migration, TheFixtureIsTheRelease010Schema) {
  ASSERT_TRUE(fs::exists(kFixture)) << kFixture;
  const auto db = open_db(kFixture);
  EXPECT_EQ(records_of(db.get()).size(), 5u);
}

TEST(Migration, ADatabaseOfRelease010LoadsWithEveryRecord) {
  temp_dir dir;
  const fs::path data = dir.path() / "data";
  fs::create_directories(data);
  fs::copy_file(kFixture, data / "progress.db");
  make_recent(data / "progress.db");
  server_process hub({"--data-dir", data.string()});

  const Json pending = get_record(hub.port(), "mig-pending");
  EXPECT_EQ(pending["state"], "pending");

  const Json running = get_record(hub.port(), "mig-running");
  EXPECT_EQ(running["state"], "running");
  EXPECT_EQ(running["stage"], "extract");
  EXPECT_EQ(running["percent"], 30);
  EXPECT_EQ(running["message"], "working");
  EXPECT_EQ(running["data"], (Json{{"pages_done", 3}}));

  // Its lease (1 s) ran out while the hub was down: failed as stalled, as the release would.
  const Json leased = get_record(hub.port(), "mig-leased");
  EXPECT_EQ(leased["state"], "failed");
  EXPECT_EQ(leased["error"]["code"], "stalled") << leased;

  const Json completed = get_record(hub.port(), "mig-completed");
  EXPECT_EQ(completed["state"], "completed");
  EXPECT_EQ(completed["percent"], 100);
  EXPECT_EQ(completed["result"], (Json{{"pages", 12}, {"summary", "twelve pages"}})) << completed;

  const Json failed = get_record(hub.port(), "mig-failed");
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_EQ(failed["error"], (Json{{"code", "boom"}, {"message", "the worker fell over"}})) << failed;

  // A subscriber gets the same record as a snapshot, and the running one takes new updates.
  ws_client ws(hub.port(), "/ws/progress/mig-running");
  Json frame;
  do {
    frame = ws.read_json();
  } while (frame.value("type", "") != "snapshot");
  EXPECT_EQ(frame["state"], "running");
  EXPECT_EQ(frame["percent"], 30);
  const auto next = http_call(hub.port(), "POST", "/api/processes/mig-running/progress",
                              R"({"percent":60,"stage":"extract"})");
  EXPECT_EQ(next.status, 200u) << next.body;
  EXPECT_EQ(ws.read_until_type("progress")["percent"], 60);
}

// Unshifted, as found on a disk months later: the hub starts on it and serves requests.
TEST(Migration, TheUnchangedFixtureStartsTheHub) {
  temp_dir dir;
  const fs::path data = dir.path() / "data";
  fs::create_directories(data);
  fs::copy_file(kFixture, data / "progress.db");
  server_process hub({"--data-dir", data.string()});
  EXPECT_EQ(http_call(hub.port(), "GET", "/healthz").status, 200u);
  EXPECT_EQ(http_call(hub.port(), "POST", "/api/processes", R"({"process_id":"after-1"})").status, 201u);
}

}  // namespace
}  // namespace progress::test
