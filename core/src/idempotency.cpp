#include "progress/idempotency.hpp"

#include "progress/codec.hpp"
#include "progress/limits.hpp"

namespace progress {

bool is_valid_idempotency_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > limits::kMaxIdempotencyKeyLength) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

std::uint64_t idempotency_fingerprint(const Publish& publish) {
  Publish body = publish;
  body.id.reset();
  body.idempotency_key.reset();
  // The encoder writes keys in byte order (and so does nlohmann for `data`), so equal updates
  // encode to equal text.
  const std::string text = encode(ClientFrame{std::move(body)});
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

Error idempotency_reuse_error(const Publish& publish) {
  return Error{ErrorCode::invalid_update,
               "`idempotency_key` \"" + publish.idempotency_key.value_or("") +
                   "\" was already used for a different update of this process; a retry must repeat the "
                   "update unchanged, and a new update needs a new key",
               publish.process_id, publish.id};
}

std::optional<IdempotencyKeys::Entry> IdempotencyKeys::find(const std::string& key, MonoMillis now) const {
  const auto it = by_key_.find(key);
  if (it == by_key_.end() || now - it->second.at >= limits::kIdempotencyKeyTtlMs) return std::nullopt;
  return it->second;
}

void IdempotencyKeys::remember(const std::string& key, std::uint64_t fingerprint, Seq seq, MonoMillis now) {
  while (!order_.empty() && (order_.size() >= limits::kIdempotencyKeysPerProcess ||
                             now - by_key_.at(order_.front()).at >= limits::kIdempotencyKeyTtlMs)) {
    by_key_.erase(order_.front());
    order_.pop_front();
  }
  // An expired key reused: it was dropped above only if oldest, so drop it from the order too.
  if (const auto it = by_key_.find(key); it != by_key_.end()) {
    std::erase(order_, key);
    by_key_.erase(it);
  }
  by_key_.emplace(key, Entry{fingerprint, seq, now});
  order_.push_back(key);
}

std::optional<Result<Seq>> recall(const IdempotencyKeys& keys, const Publish& publish, MonoMillis now) {
  if (!publish.idempotency_key) return std::nullopt;
  const auto earlier = keys.find(*publish.idempotency_key, now);
  if (!earlier) return std::nullopt;
  if (earlier->fingerprint != idempotency_fingerprint(publish)) return Result<Seq>(idempotency_reuse_error(publish));
  return Result<Seq>(earlier->seq);
}

}  // namespace progress
