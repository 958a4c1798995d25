// progress-watch against a hub that protects subscriptions with tokens: the token comes from
// --token or PROGRESS_TOKEN, a refused one ends the watch with its reason (exit 2) instead of
// reconnecting for ever, and the token never shows in what the tool prints. Tokens are the shared
// fixed ones (secret "integration-secret").
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "support/fixed_tokens.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

using namespace fixed_tokens;

class WatchToken : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    secrets_ = std::make_unique<temp_dir>();
    std::ofstream(secrets_->path() / "secret") << "integration-secret";
    server_ = std::make_unique<server_process>(
        std::vector<std::string>{"--token-secret-file", (secrets_->path() / "secret").string()});
    ASSERT_EQ(http_call(port(), "POST", "/api/processes/secure-1/progress", R"({"stage":"scan","percent":40})").status,
              200u);
    ASSERT_EQ(http_call(port(), "POST", "/api/processes/secure-1/progress",
                        R"({"state":"completed","result":{"pages":3}})")
                  .status,
              200u);
  }
  static void TearDownTestSuite() {
    server_.reset();
    secrets_.reset();
  }
  static unsigned short port() { return server_->port(); }
  static std::string url() { return "ws://127.0.0.1:" + std::to_string(port()); }

  // progress-watch through sh, so a test can set its environment and read stderr with stdout.
  static exit_status watch(const std::string& env, const std::string& args) {
    return run_program("/bin/sh", {"-c", env + " exec " + PROGRESS_WATCH_BINARY + " " + url() + " " + args + " 2>&1"});
  }

  static std::unique_ptr<temp_dir> secrets_;
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<temp_dir> WatchToken::secrets_;
std::unique_ptr<server_process> WatchToken::server_;

std::string last_line(const std::string& output) {
  const auto end = output.find_last_not_of('\n');
  if (end == std::string::npos) return {};
  const auto start = output.rfind('\n', end);
  return output.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

std::string signature_of(const std::string& token) { return token.substr(token.rfind('.') + 1); }

TEST_F(WatchToken, FollowsAProtectedProcessToTheEndWithTokenFlag) {
  const auto status = watch("", "secure-1 --json --token " + kGood);
  ASSERT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0) << status.output;
  const Json view = Json::parse(last_line(status.output));
  EXPECT_EQ(view["state"], "completed");
  EXPECT_EQ(view["result"]["pages"], 3);
}

TEST_F(WatchToken, TakesTheTokenFromProgressTokenInTheEnvironment) {
  const auto status = watch("PROGRESS_TOKEN=" + kGood, "secure-1 --json");
  ASSERT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_EQ(Json::parse(last_line(status.output))["state"], "completed");
}

TEST_F(WatchToken, ARefusedTokenEndsTheWatchWithItsReasonAndIsNeverPrinted) {
  // An expired token is asked for once more (the same one comes back: the tool has no other), then
  // the watch ends; the other reasons end it at once.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"--token " + kExpired, "expired"}, {"--token " + kOther, "wrong_process"}, {"", "missing"}};
  for (const auto& [flag, reason] : refused) {
    const auto status = watch("", "secure-1 " + flag);
    ASSERT_TRUE(status.exited) << reason << ": still running at the guard\n" << status.output;
    EXPECT_EQ(status.code, 2) << reason << "\n" << status.output;
    EXPECT_NE(status.output.find("unauthorized"), std::string::npos) << reason << "\n" << status.output;
    EXPECT_NE(status.output.find(reason), std::string::npos) << reason << "\n" << status.output;
    for (const auto& token : {kExpired, kOther}) {
      EXPECT_EQ(status.output.find(signature_of(token)), std::string::npos) << "a token was printed:\n" << status.output;
    }
  }
}

}  // namespace
}  // namespace progress::test
