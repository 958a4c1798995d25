#include "jobs/upload_quota.hpp"

#include <algorithm>
#include <utility>

#include "base/net.hpp"

namespace progress::server {

std::size_t default_max_uploads(std::size_t max_processes) { return std::max<std::size_t>(1, max_processes / 10); }

upload_quota::ticket& upload_quota::ticket::operator=(ticket&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    address_ = std::move(other.address_);
    process_id_ = std::move(other.process_id_);
  }
  return *this;
}

upload_quota::ticket::~ticket() { release(); }

void upload_quota::ticket::record(std::string process_id) { process_id_ = std::move(process_id); }

void upload_quota::ticket::release() {
  const auto owner = std::exchange(owner_, nullptr);
  if (!owner) return;
  std::lock_guard lock(owner->mutex);
  --owner->running;
  if (!address_.empty()) {
    const auto it = owner->running_per_address.find(address_);
    if (it != owner->running_per_address.end() && --it->second == 0) owner->running_per_address.erase(it);
  }
  if (!process_id_.empty()) owner->finished.push_back(std::move(process_id_));
}

upload_quota::upload_quota(std::size_t per_address, std::size_t total, bool limit_loopback,
                           std::function<bool(std::string_view)> still_held)
    : per_address_(per_address), total_(total), limit_loopback_(limit_loopback), still_held_(std::move(still_held)) {}

std::variant<upload_quota::ticket, quota_refusal> upload_quota::admit(std::string_view address,
                                                                      std::chrono::steady_clock::time_point now) {
  error_code ec;
  const auto parsed = net::ip::make_address(address, ec);
  const bool exempt =
      per_address_ == 0 || address.empty() || (!limit_loopback_ && !ec && parsed.is_loopback());

  std::unique_lock lock(state_->mutex);
  if (!exempt) {
    const auto it = state_->running_per_address.find(std::string(address));
    if (it != state_->running_per_address.end() && it->second >= per_address_) {
      return quota_refusal{quota_refusal::limit::per_address, per_address_,
                           "too many uploads running from " + std::string(address) + " (--max-uploads-per-address " +
                               std::to_string(per_address_) + "); retry when one has finished"};
    }
  }
  if (state_->running + state_->finished.size() >= total_ && (!last_sweep_ || now - *last_sweep_ >= kQuotaSweepInterval)) {
    last_sweep_ = now;
    // still_held_ may take its time (the hub's lookups); the tickets' releases wait meanwhile, briefly.
    sweep();
  }
  if (state_->running + state_->finished.size() >= total_) {
    return quota_refusal{quota_refusal::limit::total, total_,
                         "the hub holds its most uploads (--max-uploads " + std::to_string(total_) +
                             ", running or kept for --retention-ms); retry later"};
  }
  ++state_->running;
  std::string key;
  if (!exempt) {
    key = std::string(address);
    ++state_->running_per_address[key];
  }
  lock.unlock();
  return ticket(state_, std::move(key));
}

void upload_quota::sweep() {
  auto& finished = state_->finished;
  finished.erase(std::remove_if(finished.begin(), finished.end(), [this](const std::string& id) { return !still_held_(id); }),
                 finished.end());
}

std::size_t upload_quota::running_from(std::string_view address) const {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->running_per_address.find(std::string(address));
  return it == state_->running_per_address.end() ? 0 : it->second;
}

std::size_t upload_quota::held() const {
  std::lock_guard lock(state_->mutex);
  return state_->running + state_->finished.size();
}

}  // namespace progress::server
