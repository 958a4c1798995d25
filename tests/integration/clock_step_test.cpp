// The real binary under a wall clock stepped by an hour each way mid-run (an NTP step, a VM resumed
// with a corrected clock). Debian's libfaketime moves the wall clock of the server only, read from a
// file at every call; the monotonic clock stays real. Timers inside the process must not notice:
// sockets stay open, pings keep their period, a lease keeps its length, rate limits keep refilling,
// while `updated_at` follows the wall clock.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
constexpr std::int64_t kHourMs = 3'600'000;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A WebSocket subscriber on a raw socket, so that it sees the server's control pings (a library
// answers them out of sight): counts them, answers each with a pong, and notes a close.
class ping_counter {
 public:
  ping_counter(unsigned short port, const std::string& target) : conn_(port) {
    conn_.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (conn_.received().find("\r\n\r\n") == std::string::npos && !conn_.closed() &&
           std::chrono::steady_clock::now() < deadline)
      conn_.wait_for_server(100ms);
    const auto end = conn_.received().find("\r\n\r\n");
    if (end == std::string::npos || status_line(conn_.received()).find(" 101 ") == std::string::npos)
      throw std::runtime_error("no upgrade: " + conn_.received());
    parsed_ = end + 4;
  }

  // Reads until `count` more pings came, the server closed, or `guard` ran out (a hang guard).
  void wait_for_pings(int count, std::chrono::milliseconds guard) {
    const int target = pings_ + count;
    const auto deadline = std::chrono::steady_clock::now() + guard;
    while (pings_ < target && close_code_ == 0 && !conn_.closed() && std::chrono::steady_clock::now() < deadline) {
      conn_.wait_for_server(100ms);
      parse();
    }
  }

  int pings() const { return pings_; }
  int close_code() const { return conn_.closed() && close_code_ == 0 ? 1006 : close_code_; }

 private:
  void parse() {
    const std::string& in = conn_.received();
    while (in.size() - parsed_ >= 2) {
      const auto b0 = static_cast<unsigned char>(in[parsed_]);
      std::size_t len = static_cast<unsigned char>(in[parsed_ + 1]) & 0x7f;
      std::size_t header = 2;
      if (len == 126) header = 4;
      if (len == 127) header = 10;
      if (in.size() - parsed_ < header) return;
      if (len >= 126) {
        len = 0;
        for (std::size_t i = 2; i < header; ++i) len = len << 8 | static_cast<unsigned char>(in[parsed_ + i]);
      }
      if (in.size() - parsed_ < header + len) return;
      const unsigned opcode = b0 & 0x0f;
      if (opcode == 0x9) {
        ++pings_;
        conn_.send(std::string("\x8a\x80\x00\x00\x00\x00", 6));  // pong, empty, zero mask
      } else if (opcode == 0x8) {
        close_code_ = len >= 2 ? static_cast<unsigned char>(in[parsed_ + header]) << 8 |
                                     static_cast<unsigned char>(in[parsed_ + header + 1])
                               : 1005;
      }
      parsed_ += header + len;
    }
  }

  raw_connection conn_;
  std::size_t parsed_ = 0;
  int pings_ = 0;
  int close_code_ = 0;
};

// The wall clock offset the server sees, in libfaketime's relative syntax (seconds).
class clock_file {
 public:
  clock_file() : path_(dir_.path() / "faketime") { step(0); }
  void step(std::int64_t seconds) {
    std::ofstream(path_, std::ios::trunc) << (seconds < 0 ? "" : "+") << seconds << "\n";
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  temp_dir dir_;
  std::filesystem::path path_;
};

// Starts the server with libfaketime preloaded; the variables are set for the child only.
std::unique_ptr<server_process> start_with_faked_wall_clock(const clock_file& clock, std::vector<std::string> args) {
  struct scoped_env {
    const char* name;
    scoped_env(const char* n, const std::string& value) : name(n) { ::setenv(n, value.c_str(), 1); }
    ~scoped_env() { ::unsetenv(name); }
  };
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options = std::string(asan ? asan : "") + (asan ? ":" : "") + "verify_asan_link_order=0";
  scoped_env preload("LD_PRELOAD", kFaketime);
  scoped_env file("FAKETIME_TIMESTAMP_FILE", clock.path().string());
  scoped_env no_cache("FAKETIME_NO_CACHE", "1");
  scoped_env real_monotonic("FAKETIME_DONT_FAKE_MONOTONIC", "1");
  const std::string saved_asan = asan ? asan : "";
  ::setenv("ASAN_OPTIONS", asan_options.c_str(), 1);
  auto server = std::make_unique<server_process>(std::move(args));
  if (asan) ::setenv("ASAN_OPTIONS", saved_asan.c_str(), 1); else ::unsetenv("ASAN_OPTIONS");
  return server;
}

Json publish(ws_client& producer, const Json& frame) {
  producer.send(frame);
  return producer.read_until_type("ack");
}

std::int64_t updated_at(unsigned short port, const std::string& id) {
  const auto reply = http_call(port, "GET", "/api/processes/" + id);
  if (reply.status != 200) throw std::runtime_error("GET " + id + ": " + reply.body);
  return reply.json().at("updated_at").get<std::int64_t>();
}

// Frames admitted out of `count` sent at once by a subscriber (the rest are told rate_limited).
int admitted_pings(ws_client& client, int count) {
  for (int i = 0; i < count; ++i) client.send(Json{{"type", "ping"}, {"ts", i}});
  int admitted = 0;
  for (int answers = 0; answers < count;) {
    const Json frame = client.read_json();
    const std::string type = frame.value("type", "");
    if (type == "pong") ++admitted;
    if (type == "pong" || type == "error") ++answers;  // the server's own heartbeat pings are skipped
  }
  return admitted;
}

TEST(ClockStep, WallClockStepsLeaveTimersAloneAndStampTheWallClock) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "libfaketime's preloaded clock calls run before TSan's runtime is set up";
#endif
  ASSERT_TRUE(std::filesystem::exists(kFaketime)) << kFaketime << " missing: toolchains/install-deps.sh installs faketime";
  clock_file clock;
  constexpr int kHeartbeatMs = 300;
  const auto hub = start_with_faked_wall_clock(
      clock, {"--heartbeat-ms", std::to_string(kHeartbeatMs), "--max-frames-per-s", "2", "--frame-burst", "2"});
  const server_process& server = *hub;
  ASSERT_EQ(http_call(server.port(), "POST", "/api/processes", R"({"process_id":"clock-1"})").status, 201u);
  ws_client producer(server.port(), "/ws/publish");
  EXPECT_EQ(producer.read_json()["type"], "hello");
  // A 10-minute lease: a step forward of an hour must not run it out.
  publish(producer, Json{{"type", "publish"}, {"id", "a"}, {"process_id", "clock-1"}, {"stage", "s"},
                         {"percent", 10}, {"lease_ms", 600'000}});
  ping_counter watcher(server.port(), "/ws/progress/clock-1");
  ws_client limited(server.port(), "/ws/progress/clock-1");
  EXPECT_EQ(limited.read_json()["type"], "hello");
  EXPECT_EQ(limited.read_json()["type"], "snapshot");
  watcher.wait_for_pings(2, kGuard);
  ASSERT_EQ(watcher.pings(), 2) << "close " << watcher.close_code();
  EXPECT_EQ(admitted_pings(limited, 3), 2);  // burst 2: the third is refused

  for (const std::int64_t step : {kHourMs, -kHourMs}) {
    SCOPED_TRACE("wall clock stepped by " + std::to_string(step / 1000) + " s");
    watcher.wait_for_pings(1, kGuard);  // also reads the pings already waiting
    const int pings_before = watcher.pings();
    clock.step(step / 1000);
    watcher.wait_for_pings(3, kGuard);
    EXPECT_EQ(watcher.close_code(), 0);
    EXPECT_EQ(watcher.pings(), pings_before + 3) << "pings stopped after the step";

    const Json record = http_call(server.port(), "GET", "/api/processes/clock-1").json();
    EXPECT_EQ(record.value("state", ""), "running") << record.dump();

    // 1.1 s refills at least the burst of 2 on the monotonic clock.
    std::this_thread::sleep_for(1100ms);
    EXPECT_EQ(admitted_pings(limited, 3), 2);

    const std::int64_t before = wall_ms() + step;
    publish(producer, Json{{"type", "publish"}, {"id", "b"}, {"process_id", "clock-1"}, {"percent", 20}});
    const std::int64_t stamped = updated_at(server.port(), "clock-1");
    EXPECT_GE(stamped, before - 1000);
    EXPECT_LE(stamped, wall_ms() + step + 1000);
    clock.step(0);
  }
}

}  // namespace
}  // namespace progress::test
