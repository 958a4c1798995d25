#include "access/address_limiter.hpp"

namespace progress::server {
namespace {

// IPv4-mapped IPv6 (a dual-stack listener) counts as the IPv4 address it carries.
std::string key_of(const net::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

bool is_loopback(const net::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

}  // namespace

address_limiter::address_limiter(std::size_t max_per_address, bool limit_loopback)
    : max_per_address_(max_per_address), limit_loopback_(limit_loopback) {}

std::optional<std::shared_ptr<void>> address_limiter::admit(const net::ip::address& address) {
  if (max_per_address_ == 0 || (!limit_loopback_ && is_loopback(address))) return std::shared_ptr<void>();
  std::string key = key_of(address);
  {
    std::lock_guard lock(counts_->mutex);
    std::size_t& open = counts_->open[key];
    if (open >= max_per_address_) return std::nullopt;
    ++open;
  }
  // The ticket points at the shared counts; its deleter gives the slot back.
  return std::shared_ptr<void>(counts_.get(), [state = counts_, key = std::move(key)](void*) {
    std::lock_guard lock(state->mutex);
    auto it = state->open.find(key);
    if (it != state->open.end() && --it->second == 0) state->open.erase(it);
  });
}

std::size_t address_limiter::open_from(const net::ip::address& address) const {
  std::lock_guard lock(counts_->mutex);
  const auto it = counts_->open.find(key_of(address));
  return it == counts_->open.end() ? 0 : it->second;
}

}  // namespace progress::server
