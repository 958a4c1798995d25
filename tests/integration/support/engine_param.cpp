#include "support/engine_param.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "support/redis_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

constexpr int kRedisDatabases = 16;  // redis-server's default `databases`; 0 is left to nobody

struct redis_holder {
  temp_dir dir;
  redis_process server;
  int next_db = 1;
  explicit redis_holder(const std::string& binary) : server(binary, dir.path()) {}
};

std::string required_redis_server() {
  const auto binary = find_redis_server();
  if (!binary) throw std::runtime_error("redis-server is not installed");
  return *binary;
}

redis_holder& holder() {
  // Destroyed at exit, after every suite: the redis-server is stopped and its folder removed.
  static redis_holder instance(required_redis_server());
  return instance;
}

}  // namespace

std::string engine_label(const ::testing::TestParamInfo<engine_kind>& info) {
  switch (info.param) {
    case engine_kind::redis:
      return "redis";
    case engine_kind::threaded:
      return "threaded";
    case engine_kind::embedded:
      break;
  }
  return "embedded";
}

std::optional<std::string> engine_unavailable(engine_kind kind) {
  if (kind == engine_kind::redis && !find_redis_server()) {
    return "redis-server is not installed (toolchains/install-deps.sh installs it)";
  }
  return std::nullopt;
}

void wait_until_connected(unsigned short port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (http_call(port, "GET", "/api/processes/readiness-probe").status == 503) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("node never reached Redis");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

redis_process& shared_redis() { return holder().server; }

std::unique_ptr<server_process> start_hub(engine_kind kind, std::vector<std::string> args) {
  if (kind == engine_kind::embedded) return std::make_unique<server_process>(std::move(args));
  if (kind == engine_kind::threaded) {
    args.insert(args.begin(), {"--threads", kThreadedThreads});
    return std::make_unique<server_process>(std::move(args));
  }
  auto& redis = holder();
  if (redis.next_db >= kRedisDatabases) throw std::runtime_error("out of Redis databases for this binary");
  const std::string url = "redis://127.0.0.1:" + std::to_string(redis.server.port()) + "/" +
                          std::to_string(redis.next_db++);
  args.insert(args.begin(), {"--redis", url});
  auto hub = std::make_unique<server_process>(std::move(args));
  wait_until_connected(hub->port());
  return hub;
}

server_process& engine_hubs::get(engine_kind kind, const std::vector<std::string>& args) {
  auto& hub = hubs_[kind];
  if (!hub) hub = start_hub(kind, args);
  return *hub;
}

}  // namespace progress::test
