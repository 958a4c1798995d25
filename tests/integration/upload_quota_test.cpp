// The upload quota without sockets: per-address and total limits, tickets given back on release,
// and finished upload records counted until the hub drops them.
#include <chrono>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "jobs/upload_quota.hpp"

namespace progress::server {
namespace {

using clock_type = std::chrono::steady_clock;

class UploadQuota : public ::testing::Test {
 protected:
  // The records the "hub" still holds; a test erases one to model its retention running out.
  std::set<std::string> held_;
  clock_type::time_point now_{};
  std::function<bool(std::string_view)> still_held() {
    return [this](std::string_view id) { return held_.count(std::string(id)) != 0; };
  }
  static bool admitted(const std::variant<upload_quota::ticket, quota_refusal>& r) {
    return std::holds_alternative<upload_quota::ticket>(r);
  }
};

TEST_F(UploadQuota, RefusesTheFifthRunningUploadOfOneAddressAndNamesTheFlag) {
  upload_quota quota(4, 100, false, still_held());
  std::vector<upload_quota::ticket> running;
  for (int i = 0; i < 4; ++i) {
    auto r = quota.admit("203.0.113.7", now_);
    ASSERT_TRUE(admitted(r)) << i;
    running.push_back(std::move(std::get<upload_quota::ticket>(r)));
  }
  const auto refused = quota.admit("203.0.113.7", now_);
  ASSERT_FALSE(admitted(refused));
  const auto& why = std::get<quota_refusal>(refused);
  EXPECT_EQ(why.which, quota_refusal::limit::per_address);
  EXPECT_EQ(why.max, 4u);
  EXPECT_NE(why.message.find("--max-uploads-per-address 4"), std::string::npos) << why.message;
  EXPECT_TRUE(admitted(quota.admit("198.51.100.1", now_)));  // another address is not affected

  running.pop_back();  // a job ended
  EXPECT_EQ(quota.running_from("203.0.113.7"), 3u);
  EXPECT_TRUE(admitted(quota.admit("203.0.113.7", now_)));
}

TEST_F(UploadQuota, LoopbackIsExemptFromThePerAddressLimitUnlessLimited) {
  upload_quota open(1, 100, false, still_held());
  auto a = open.admit("127.0.0.1", now_);
  auto b = open.admit("127.0.0.1", now_);
  EXPECT_TRUE(admitted(a) && admitted(b));
  upload_quota limited(1, 100, true, still_held());
  auto c = limited.admit("::1", now_);
  EXPECT_TRUE(admitted(c));
  EXPECT_FALSE(admitted(limited.admit("::1", now_)));
}

TEST_F(UploadQuota, FinishedUploadRecordsCountAgainstTheTotalUntilTheHubDropsThem) {
  upload_quota quota(0, 2, false, still_held());
  for (const char* id : {"u1", "u2"}) {
    auto r = quota.admit("127.0.0.1", now_);
    ASSERT_TRUE(admitted(r));
    auto ticket = std::move(std::get<upload_quota::ticket>(r));
    ticket.record(id);
    held_.insert(id);
  }  // both jobs ended at once: their records are kept for retention
  EXPECT_EQ(quota.held(), 2u);
  const auto full = quota.admit("127.0.0.1", now_);
  ASSERT_FALSE(admitted(full));
  EXPECT_EQ(std::get<quota_refusal>(full).which, quota_refusal::limit::total);
  EXPECT_NE(std::get<quota_refusal>(full).message.find("--max-uploads 2"), std::string::npos);

  held_.erase("u1");  // its retention ran out
  // Asked again within the sweep interval, the quota has not looked yet.
  EXPECT_FALSE(admitted(quota.admit("127.0.0.1", now_ + kQuotaSweepInterval / 2)));
  EXPECT_TRUE(admitted(quota.admit("127.0.0.1", now_ + kQuotaSweepInterval)));
}

TEST_F(UploadQuota, ARefusedOrMovedTicketIsCountedOnce) {
  upload_quota quota(2, 10, true, still_held());
  auto r = quota.admit("192.0.2.1", now_);
  auto ticket = std::move(std::get<upload_quota::ticket>(r));
  upload_quota::ticket moved = std::move(ticket);
  ticket.release();  // moved from: nothing to give back
  EXPECT_EQ(quota.running_from("192.0.2.1"), 1u);
  moved.release();
  moved.release();
  EXPECT_EQ(quota.running_from("192.0.2.1"), 0u);
  EXPECT_EQ(quota.held(), 0u);
}

TEST(UploadQuotaDefault, IsATenthOfTheProcessTableAndAtLeastOne) {
  EXPECT_EQ(default_max_uploads(100'000), 10'000u);
  EXPECT_EQ(default_max_uploads(5), 1u);
}

}  // namespace
}  // namespace progress::server
