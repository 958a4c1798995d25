// The shared `hub` vectors (tests/vectors/hub-*.json) against the Redis engine: the server's own
// hub_service in external-records mode with the real redis_engine on a real redis-server, time
// scripted by the vector. Every publish and create goes through the compare-and-set script; every
// frame a subscriber receives came back through the process's Redis channel. A case the Redis engine
// cannot face says so in the file (`skip_engines.redis`, with the reason) and is reported skipped.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "embedded_vectors.hpp"
#include "hub/hub_service.hpp"
#include "hub_target.hpp"
#include "base/log.hpp"
#include "redis/redis_engine.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

namespace {

using nlohmann::json;
namespace ps = progress::server;
using namespace progress;

// A reply Redis owes us: a guard against a hang, not a timing assertion.
constexpr auto kGuard = std::chrono::seconds(10);
constexpr int kMaxSettleRounds = 64;

struct RedisServer {
  progress::test::temp_dir dir;
  progress::test::redis_process process;
  explicit RedisServer(const std::string& binary) : process(binary, dir.path()) {}
};

RedisServer* g_redis = nullptr;

void flush_redis(unsigned short port) {
  redisContext* c = redisConnect("127.0.0.1", port);
  ASSERT_TRUE(c != nullptr && c->err == 0) << "cannot reach redis-server on port " << port;
  auto* reply = static_cast<redisReply*>(redisCommand(c, "FLUSHALL"));
  EXPECT_TRUE(reply != nullptr && reply->type == REDIS_REPLY_STATUS) << "FLUSHALL failed";
  if (reply != nullptr) freeReplyObject(reply);
  redisFree(c);
}

class RedisTarget final : public vectors::HubTarget {
 public:
  RedisTarget(const json& vcase, const std::string& url)
      : now_(vcase.value("start", Millis{0})),
        log_(ps::log_level::off),
        service_(ioc_, external(vectors::hub_config(vcase.value("config", json::object()))),
                 vcase.value("seed", std::uint64_t{0}), log_, nullptr, [this] { return now_; }),
        engine_(ioc_, service_, *ps::parse_redis_url(url), vcase.value("seed", std::uint64_t{0}), log_) {
    engine_.start();
    while (!engine_.up()) {
      if (!run_one()) throw std::runtime_error("the engine never reached redis-server");
    }
  }
  ~RedisTarget() override { engine_.stop(); }
  RedisTarget(const RedisTarget&) = delete;
  RedisTarget& operator=(const RedisTarget&) = delete;

  ConnId open(const Target& target, Millis now) override {
    now_ = now;
    auto sink = std::make_shared<Sink>(dirty_);
    const ConnId conn = service_.open(target, sink);
    sink->conn = conn;
    sinks_[conn] = sink;
    service_.deliver();
    return conn;
  }
  void on_text(ConnId conn, std::string_view text, Millis now) override {
    now_ = now;
    service_.on_text(conn, text);
  }
  void on_binary(ConnId conn, Millis now) override {
    now_ = now;
    service_.on_binary(conn);
  }
  void on_oversize(ConnId conn, Millis now) override {
    now_ = now;
    service_.on_oversize(conn);
  }
  void on_control(ConnId conn, Millis now) override {
    now_ = now;
    service_.on_control(conn);
  }
  void on_closed(ConnId conn) override {
    service_.on_closed(conn);
    sinks_.erase(conn);
  }
  void tick(Millis now) override {
    now_ = now;
    service_.tick();
  }
  Result<Snapshot> create_process(std::optional<std::string> process_id, Millis now) override {
    now_ = now;
    std::optional<Result<Snapshot>> answer;
    engine_.create_process(std::move(process_id),
                           [&answer](Result<Snapshot> r, bool) { answer = std::move(r); });
    settle();
    if (!answer) return Error{ErrorCode::unavailable, "the engine never answered the create", {}, {}};
    return *answer;
  }
  Result<Ack> publish(const Publish& publish, Millis now) override {
    now_ = now;
    std::optional<Result<Ack>> answer;
    engine_.publish(publish, [&answer](Result<Ack> r) { answer = std::move(r); });
    settle();
    if (!answer) return Error{ErrorCode::unavailable, "the engine never answered the publish", {}, {}};
    return *answer;
  }
  std::optional<Snapshot> snapshot(const std::string& process_id) override {
    std::optional<Result<std::optional<Snapshot>>> answer;
    engine_.get_process(process_id, [&answer](Result<std::optional<Snapshot>> r) { answer = std::move(r); });
    settle();
    if (!answer || !*answer) {
      ADD_FAILURE() << "GET of " << process_id << " got no record from the engine";
      return std::nullopt;
    }
    return answer->value();
  }
  void shutdown(Millis now) override {
    now_ = now;
    service_.shutdown([] {});
  }

  std::vector<ConnId> poll_dirty() override {
    settle();
    std::vector<ConnId> out(dirty_.begin(), dirty_.end());
    dirty_.clear();
    return out;
  }
  std::optional<SharedText> poll_outgoing(ConnId conn) override { return service_.poll_outgoing(conn); }
  std::optional<CloseRequest> poll_close(ConnId conn) override { return service_.poll_close(conn); }
  bool poll_control_ping(ConnId conn) override { return service_.poll_control_ping(conn); }
  std::size_t queued_bytes(ConnId conn) const override { return service_.queued_bytes(conn); }
  std::optional<Millis> poll_timeout() const override {
    const auto at = service_.poll_timeout();  // the scripted clock: monotonic is the script's
    return at ? std::optional<Millis>(at->count()) : std::nullopt;
  }

 private:
  // Stands in for a WebSocket session: the service kicks it when its connection has output.
  struct Sink final : ps::stream_sink {
    explicit Sink(std::set<ConnId>& dirty) : dirty_(dirty) {}
    void kick() override { dirty_.insert(conn); }
    ConnId conn = 0;
    std::set<ConnId>& dirty_;
  };

  static HubConfig external(HubConfig config) {
    config.records_are_external = true;
    return config;
  }

  bool run_one() {
    if (ioc_.stopped()) ioc_.restart();
    return ioc_.run_one_for(kGuard) > 0;
  }

  void drain_ready() {
    if (ioc_.stopped()) ioc_.restart();
    ioc_.poll();
  }

  // Everything the last call set off, done: the engine's writes answered, the changes they
  // published heard back on the channel connection (sync), and whatever those started done too.
  void settle() {
    for (int round = 0; round < kMaxSettleRounds; ++round) {
      drain_ready();
      while (!engine_.idle()) {
        if (!run_one()) {
          ADD_FAILURE() << "the Redis engine did not settle (a reply never came)";
          return;
        }
      }
      bool synced = false;
      engine_.sync([&synced] { synced = true; });
      while (!synced) {
        if (!run_one()) {
          ADD_FAILURE() << "redis-server never answered the sync";
          return;
        }
      }
      drain_ready();
      if (engine_.idle()) return;
    }
    ADD_FAILURE() << "the Redis engine kept working after " << kMaxSettleRounds << " rounds";
  }

  Millis now_;
  ps::logger log_;
  ps::net::io_context ioc_;
  ps::hub_service service_;
  ps::redis_engine engine_;
  std::set<ConnId> dirty_;
  std::unordered_map<ConnId, std::shared_ptr<Sink>> sinks_;
};

class RedisVectorTest : public ::testing::Test {
 public:
  explicit RedisVectorTest(json vcase) : case_(std::move(vcase)) {}
  void TestBody() override {
    if (const auto skip = case_.find("skip_engines"); skip != case_.end() && skip->contains("redis")) {
      GTEST_SKIP() << skip->at("redis").get<std::string>();
    }
    if (g_redis == nullptr) {
      GTEST_SKIP() << "redis-server is not installed (toolchains/install-deps.sh installs it)";
    }
    flush_redis(g_redis->process.port());
    RedisTarget target(case_, g_redis->process.url());
    vectors::run_hub_script(case_, target);
  }

 private:
  json case_;
};

std::string test_name(std::string text) {
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::unique_ptr<RedisServer> redis;
  if (const auto binary = progress::test::find_redis_server()) {
    redis = std::make_unique<RedisServer>(*binary);
    g_redis = redis.get();
  }
  std::size_t cases = 0;
  for (const auto& file : progress::vectors::embedded_files()) {
    const json doc = json::parse(file.text);
    if (doc.at("suite") != "hub") continue;
    for (const auto& vcase : doc.at("cases")) {
      ++cases;
      const std::string id = vcase.at("id").get<std::string>();
      ::testing::RegisterTest(test_name(file.name).c_str(), test_name(id).c_str(), nullptr, nullptr, file.name, 0,
                              [vcase]() -> ::testing::Test* { return new RedisVectorTest(vcase); });
    }
  }
  if (cases == 0) {
    std::fprintf(stderr, "no hub vector cases found\n");
    return 1;
  }
  const int result = RUN_ALL_TESTS();
  g_redis = nullptr;
  return result;
}
