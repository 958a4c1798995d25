// The Redis engine's flags without a Redis: the URL forms --redis accepts and refuses, and the
// command timeout with its environment fallback, its default and its bounds.
#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "redis/redis_engine.hpp"

namespace progress::server {
namespace {

std::optional<std::string> no_env(const char*) { return std::nullopt; }

TEST(RedisConfig, UrlsNameHostPortAndDatabase) {
  const auto full = parse_redis_url("redis://cache.internal:6380/3");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->host, "cache.internal");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->db, 3);
  const auto bare = parse_redis_url("redis://10.0.0.7");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 6379);
  EXPECT_EQ(bare->db, 0);
  EXPECT_FALSE(bare->password);
  for (const char* bad : {"http://x:6379/0", "redis://", "redis://x:0/0", "redis://x:70000", "redis://x:6379/-1",
                          "redis://pw@x:6379/0", "redis://:@x:6379/0", "redis://:p%zz@x", "redis://:p%4@x",
                          "redis://x:6379/zero"}) {
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
    EXPECT_FALSE(parse_config({"--redis", bad}, no_env).error.empty()) << bad;
  }
}

TEST(RedisConfig, UrlsCarryAPasswordAndAUser) {
  const auto password = parse_redis_url("redis://:s3cr%40t:x@cache.internal:6380/3");
  ASSERT_TRUE(password);
  EXPECT_EQ(password->host, "cache.internal");
  EXPECT_EQ(password->port, 6380);
  EXPECT_EQ(password->db, 3);
  EXPECT_EQ(password->username, "");
  EXPECT_EQ(password->password, "s3cr@t:x");
  const auto user = parse_redis_url("redis://hub:pw@10.0.0.7");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->username, "hub");
  EXPECT_EQ(user->password, "pw");
  EXPECT_EQ(user->host, "10.0.0.7");
}

TEST(RedisConfig, ARefusedUrlIsNotEchoedWhenItMayHoldAPassword) {
  const auto refused = parse_config({"--redis", "redis://:hunter2@x:notaport/0"}, no_env);
  ASSERT_FALSE(refused.error.empty());
  EXPECT_EQ(refused.error.find("hunter2"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("--redis"), std::string::npos) << refused.error;
  const auto from_env = parse_config({}, [](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "PROGRESS_REDIS_URL") return "redis://:hunter2@x:notaport/0";
    return std::nullopt;
  });
  EXPECT_EQ(from_env.error.find("hunter2"), std::string::npos) << from_env.error;
}

TEST(RedisConfig, CommandTimeoutFromTheFlagOrTheEnvironment) {
  const auto defaults = parse_config({}, no_env);
  ASSERT_TRUE(defaults.config) << defaults.error;
  EXPECT_EQ(defaults.config->redis_timeout, kDefaultRedisCommandTimeout);

  const auto flag = parse_config({"--redis-timeout-ms", "250"}, no_env);
  ASSERT_TRUE(flag.config) << flag.error;
  EXPECT_EQ(flag.config->redis_timeout, std::chrono::milliseconds(250));

  const std::map<std::string, std::string> env{{"PROGRESS_REDIS_TIMEOUT_MS", "750"}};
  const auto lookup = [&env](const char* name) -> std::optional<std::string> {
    const auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const auto from_env = parse_config({}, lookup);
  ASSERT_TRUE(from_env.config) << from_env.error;
  EXPECT_EQ(from_env.config->redis_timeout, std::chrono::milliseconds(750));
  const auto flag_wins = parse_config({"--redis-timeout-ms", "100"}, lookup);
  ASSERT_TRUE(flag_wins.config) << flag_wins.error;
  EXPECT_EQ(flag_wins.config->redis_timeout, std::chrono::milliseconds(100));

  for (const char* bad : {"0", "-5", "600001", "soon", ""}) {
    EXPECT_FALSE(parse_config({"--redis-timeout-ms", bad}, no_env).error.empty()) << bad;
  }
  EXPECT_NE(usage_text().find("--redis-timeout-ms"), std::string::npos);
  EXPECT_NE(usage_text().find("PROGRESS_REDIS_TIMEOUT_MS"), std::string::npos);
}

}  // namespace
}  // namespace progress::server
