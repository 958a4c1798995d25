// Ids and memory bounds of a running progress-hub (issue 20, items 3 and 4): generated process ids
// give nothing away about the next one, a process's resume history stays under its byte bound, and
// a record nobody updates ends failed/stalled.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "support/engine_param.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

// splitmix64's output step and its inverse: each of the three steps is a bijection on 64 bits.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t unxorshift(std::uint64_t z, int shift) {
  std::uint64_t x = z;
  for (int i = 0; i < 64 / shift + 1; ++i) x = z ^ (x >> shift);
  return x;
}

std::uint64_t inverse(std::uint64_t odd) {  // Newton's iteration for the inverse mod 2^64
  std::uint64_t x = odd;
  for (int i = 0; i < 6; ++i) x *= 2 - odd * x;
  return x;
}

std::uint64_t unmix(std::uint64_t z) {
  z = unxorshift(z, 31);
  z = unxorshift(z * inverse(0x94D049BB133111EBULL), 27);
  return unxorshift(z * inverse(0xBF58476D1CE4E5B9ULL), 30);
}

std::string hex16(std::uint64_t value) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 0xF];
  return out;
}

class RecordsLimits : public ::testing::TestWithParam<engine_kind> {
 protected:
  void SetUp() override {
    if (auto why = engine_unavailable(GetParam())) GTEST_SKIP() << *why;
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, RecordsLimits, all_engines, engine_label);

TEST_P(RecordsLimits, AGeneratedIdDoesNotRevealTheNext) {
  auto hub = start_hub(GetParam());
  const auto first = http_call(hub->port(), "POST", "/api/processes", "{}");
  const auto second = http_call(hub->port(), "POST", "/api/processes", "{}");
  ASSERT_EQ(first.status, 201u) << first.body;
  ASSERT_EQ(second.status, 201u) << second.body;
  const std::string id1 = first.json()["process_id"];
  const std::string id2 = second.json()["process_id"];
  ASSERT_EQ(id1.rfind("proc_", 0), 0u) << id1;
  const std::string hex1 = id1.substr(5);
  const std::string hex2 = id2.substr(5);
  EXPECT_GE(hex1.size(), 32u) << id1 << ": fewer than 128 bits";
  EXPECT_EQ(hex1.find_first_not_of("0123456789abcdef"), std::string::npos) << id1;
  // A splitmix64 stream drawing id, epoch, id: the second id is two steps after the first.
  constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
  const std::uint64_t state = unmix(std::stoull(hex1.substr(0, 16), nullptr, 16));
  const std::string predicted = hex16(mix(state + 2 * kGolden));
  EXPECT_NE(hex2.substr(0, 16), predicted) << "the second id " << id2 << " follows from the first " << id1;
}

void limits_publish(unsigned short port, const std::string& id, const Json& body) {
  const auto reply = http_call(port, "POST", "/api/processes/" + id + "/progress", body.dump());
  ASSERT_EQ(reply.status, 200u) << reply.body;
}

// About 1.5 KB of message and 60 keys of data, different every time: nothing to share.
Json large_update(int i) {
  Json data = Json::object();
  for (int k = 0; k < 60; ++k) data["key" + std::to_string(k)] = std::string(40, static_cast<char>('a' + (i + k) % 26));
  return Json{{"percent", i}, {"message", std::string(1500, 'm') + std::to_string(i)}, {"data", data}};
}

TEST_P(RecordsLimits, HistoryStaysUnderItsByteBoundAndAResumePastItGetsASnapshot) {
  auto hub = start_hub(GetParam(), {"--history-bytes", "16384"});
  for (int i = 1; i <= 40; ++i) limits_publish(hub->port(), "big-events", large_update(i));
  ws_client first(hub->port(), "/ws/progress/big-events");
  ASSERT_EQ(first.read_json()["type"], "hello");
  const Json snapshot = first.read_json();
  ASSERT_EQ(snapshot["type"], "snapshot");
  ASSERT_EQ(snapshot["seq"], 40);
  const std::string epoch = snapshot["epoch"];

  const auto metrics = parse_metrics(http_call(hub->port(), "GET", "/metrics").body);
  EXPECT_LE(metrics.at("progress_history_bytes"), 16384);
  EXPECT_EQ(metrics.at("progress_history_budget_bytes"), 268435456);

  ws_client recent(hub->port(), "/ws/progress/big-events?after_seq=39&epoch=" + epoch);
  ASSERT_EQ(recent.read_json()["type"], "hello");
  const Json replayed = recent.read_json();
  EXPECT_EQ(replayed["type"], "progress") << replayed;
  EXPECT_EQ(replayed["seq"], 40);

  ws_client old(hub->port(), "/ws/progress/big-events?after_seq=1&epoch=" + epoch);
  ASSERT_EQ(old.read_json()["type"], "hello");
  const Json fallback = old.read_json();
  EXPECT_EQ(fallback["type"], "snapshot") << "a resume from seq 1 was replayed past the byte bound";
  EXPECT_EQ(fallback["seq"], 40);
}

TEST_P(RecordsLimits, AnIdleRunningRecordEndsFailedStalledForItsSubscriber) {
  auto hub = start_hub(GetParam(), {"--idle-timeout-ms", "300"});
  ws_client ws(hub->port(), "/ws/progress/idle-job");
  ASSERT_EQ(ws.read_json()["type"], "hello");
  limits_publish(hub->port(), "idle-job", Json{{"stage", "work"}, {"percent", 10}});
  Json last = ws.read_until_type("progress");
  while (last["state"] != "failed") last = ws.read_until_type("progress");  // the guard ends a hang
  EXPECT_EQ(last["error"]["code"], "stalled") << last;
  EXPECT_EQ(last["percent"], 10);
  const Json record = http_call(hub->port(), "GET", "/api/processes/idle-job").json();
  EXPECT_EQ(record["state"], "failed");
}

}  // namespace
}  // namespace progress::test
