// Idempotency keys: what makes two publishes the same update, and how many keys a process keeps.
#include <string>

#include <gtest/gtest.h>

#include "progress/idempotency.hpp"
#include "progress/limits.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

Publish keyed(std::string key, double percent, std::optional<std::string> id = std::nullopt) {
  Publish p;
  p.id = std::move(id);
  p.process_id = "job";
  p.percent = percent;
  p.idempotency_key = std::move(key);
  return p;
}

TEST(IdempotencyFingerprint, IgnoresTheAckIdAndTheKeyButNotTheUpdate) {
  EXPECT_EQ(idempotency_fingerprint(keyed("a", 10, "p1")), idempotency_fingerprint(keyed("b", 10, "p2")));
  EXPECT_NE(idempotency_fingerprint(keyed("a", 10)), idempotency_fingerprint(keyed("a", 11)));
  Publish with_data = keyed("a", 10);
  with_data.data = Json{{"x", 1}, {"y", 2}};
  Publish reordered = keyed("a", 10);
  reordered.data = Json::parse(R"({"y":2,"x":1})");
  EXPECT_EQ(idempotency_fingerprint(with_data), idempotency_fingerprint(reordered));
}

TEST(IdempotencyKeyGrammar, VisibleAsciiOneTo128) {
  EXPECT_TRUE(is_valid_idempotency_key("retry-1:7f3a/=+"));
  EXPECT_TRUE(is_valid_idempotency_key(std::string(limits::kMaxIdempotencyKeyLength, 'k')));
  EXPECT_FALSE(is_valid_idempotency_key(""));
  EXPECT_FALSE(is_valid_idempotency_key(std::string(limits::kMaxIdempotencyKeyLength + 1, 'k')));
  EXPECT_FALSE(is_valid_idempotency_key("a b"));
  EXPECT_FALSE(is_valid_idempotency_key("caf\xc3\xa9"));
}

TEST(IdempotencyKeys, RecallsTheFirstSeqAndRefusesAnotherUpdate) {
  IdempotencyKeys keys;
  EXPECT_FALSE(recall(keys, keyed("a", 10), mono(0)).has_value());
  keys.remember("a", idempotency_fingerprint(keyed("a", 10)), 4, mono(0));
  const auto same = recall(keys, keyed("a", 10, "retry"), mono(1));
  ASSERT_TRUE(same && same->ok());
  EXPECT_EQ(same->value(), 4U);
  const auto other = recall(keys, keyed("a", 20, "p9"), mono(1));
  ASSERT_TRUE(other && !other->ok());
  EXPECT_EQ(other->error().code, ErrorCode::invalid_update);
  EXPECT_EQ(other->error().id, "p9");
  EXPECT_NE(other->error().message.find("\"a\" was already used"), std::string::npos) << other->error().message;
}

TEST(IdempotencyKeys, KeepsTheNewest1000) {
  IdempotencyKeys keys;
  for (std::size_t i = 0; i <= limits::kIdempotencyKeysPerProcess; ++i) {
    keys.remember("k" + std::to_string(i), 0, i, mono(0));
  }
  EXPECT_EQ(keys.size(), limits::kIdempotencyKeysPerProcess);
  EXPECT_FALSE(keys.find("k0", mono(0)));
  EXPECT_TRUE(keys.find("k1", mono(0)));
  EXPECT_TRUE(keys.find("k1000", mono(0)));
}

TEST(IdempotencyKeys, ForgetsAKeyAfterTenMinutes) {
  IdempotencyKeys keys;
  keys.remember("a", 0, 1, mono(1000));
  EXPECT_TRUE(keys.find("a", mono(1000 + limits::kIdempotencyKeyTtlMs - 1)));
  EXPECT_FALSE(keys.find("a", mono(1000 + limits::kIdempotencyKeyTtlMs)));
  keys.remember("b", 0, 2, mono(1000 + limits::kIdempotencyKeyTtlMs));  // drops the expired one
  EXPECT_EQ(keys.size(), 1U);
  keys.remember("b", 0, 3, mono(1000 + 2 * limits::kIdempotencyKeyTtlMs));  // an expired key used again
  EXPECT_EQ(keys.size(), 1U);
  EXPECT_EQ(keys.find("b", mono(1000 + 2 * limits::kIdempotencyKeyTtlMs))->seq, 3U);
}

}  // namespace
}  // namespace progress
