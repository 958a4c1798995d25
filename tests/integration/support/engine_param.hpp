#pragma once
// Integration suites parameterised by engine (issue #7): the same tests against a hub keeping its
// records itself (embedded) and against one keeping them in Redis (--redis). The Redis hubs of a
// test binary share one redis-server (free port, temp folder, AOF on), each on a database of its own
// so suites never see each other's records.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/server_process.hpp"

namespace progress::test {

// threaded: the embedded engine with --threads 3, so WebSocket writes run on two send lanes.
enum class engine_kind { embedded, redis, threaded };

inline const auto all_engines = ::testing::Values(engine_kind::embedded, engine_kind::redis);
// The WebSocket suites also run against a hub whose writes leave the hub's thread.
inline const auto websocket_engines =
    ::testing::Values(engine_kind::embedded, engine_kind::redis, engine_kind::threaded);
// The --threads value of `threaded`: two lanes, so sessions are spread over more than one.
inline constexpr const char* kThreadedThreads = "3";

// The ways the hub writes to WebSocket subscribers, for the suites about the write path: one thread
// sending a kick pass's writes in one io_uring call (the default), one thread making a send call
// per write (--io-uring off, and where the kernel refuses io_uring), and send lanes (--threads).
inline const auto write_paths = ::testing::Values("io_uring", "send_calls", "lanes");

// The hub's flags for one of write_paths.
inline std::vector<std::string> write_path_args(const std::string& path) {
  if (path == "send_calls") return {"--io-uring", "off"};
  if (path == "lanes") return {"--threads", kThreadedThreads};
  return {"--io-uring", "on"};
}

inline std::string write_path_label(const ::testing::TestParamInfo<const char*>& param) { return param.param; }

// "embedded" / "redis" / "threaded": the suffix of the parameterised test names.
std::string engine_label(const ::testing::TestParamInfo<engine_kind>& info);

// Why the engine cannot run here (GTEST_SKIP's message), nullopt when it can.
std::optional<std::string> engine_unavailable(engine_kind kind);

// Waits (a hang guard, not a speed assertion) until a --redis node has its Redis connection: the
// API answers 404 for an unknown id instead of 503.
void wait_until_connected(unsigned short port);

// The shared redis-server of this test binary, started on first use (throws when not installed).
class redis_process;
redis_process& shared_redis();

// A progress-hub on `kind` with `args` after the engine's own flags; ready to serve when returned.
std::unique_ptr<server_process> start_hub(engine_kind kind, std::vector<std::string> args = {});

// One hub per engine for a suite, started on first use with the suite's flags.
class engine_hubs {
 public:
  server_process& get(engine_kind kind, const std::vector<std::string>& args = {});
  void clear() { hubs_.clear(); }

 private:
  std::map<engine_kind, std::unique_ptr<server_process>> hubs_;
};

}  // namespace progress::test
