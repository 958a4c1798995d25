#pragma once
// Idempotency keys: a producer that retries an update it may already have delivered (the reply
// was lost) sends the same `idempotency_key`, and the update is applied once. The hub remembers,
// per process, each key with a fingerprint of the update and the seq it got: a repeat with the
// same update is answered that seq again without a second event; a repeat with another update is
// refused. Only accepted updates are remembered: a refused one may be retried as it was.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "progress/protocol.hpp"
#include "progress/time.hpp"

namespace progress {

// 1 to limits::kMaxIdempotencyKeyLength visible ASCII characters (0x21-0x7E), so a key can travel
// unchanged in an HTTP header.
bool is_valid_idempotency_key(std::string_view key) noexcept;

// The same for two publishes that make the same update: everything but `id` (which only
// correlates the ack) and the key itself. Stable across builds and nodes (FNV-1a over the
// canonical JSON), since Redis nodes compare each other's fingerprints.
std::uint64_t idempotency_fingerprint(const Publish& publish);

// The answer to a key reused for a different update.
Error idempotency_reuse_error(const Publish& publish);

// One process's remembered keys: the newest limits::kIdempotencyKeysPerProcess, each for
// limits::kIdempotencyKeyTtlMs.
class IdempotencyKeys {
 public:
  struct Entry {
    std::uint64_t fingerprint = 0;
    Seq seq = 0;
    MonoMillis at;
  };

  std::optional<Entry> find(const std::string& key, MonoMillis now) const;
  void remember(const std::string& key, std::uint64_t fingerprint, Seq seq, MonoMillis now);
  std::size_t size() const noexcept { return by_key_.size(); }

 private:
  std::unordered_map<std::string, Entry> by_key_;
  std::deque<std::string> order_;  // oldest first
};

// What a keyed publish is owed before it is applied: nullopt (new key: apply it), its first seq
// (same update), or the reuse error.
std::optional<Result<Seq>> recall(const IdempotencyKeys& keys, const Publish& publish, MonoMillis now);

}  // namespace progress
