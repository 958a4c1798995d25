#pragma once
// Open connections per client IP address. A connection holds a ticket from accept until its
// HTTP, WebSocket or SSE session ends; dropping the last copy frees the slot, so no code path
// has to remember to give it back.
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/net.hpp"

namespace progress::server {

class address_limiter {
 public:
  // `max_per_address` 0: no limit. Loopback clients are exempt unless `limit_loopback`: behind a
  // reverse proxy on the same host every client has the proxy's address.
  address_limiter(std::size_t max_per_address, bool limit_loopback);

  // A ticket for one connection from `address`; nullopt when the address is at its limit. An
  // exempt connection gets an empty ticket.
  std::optional<std::shared_ptr<void>> admit(const net::ip::address& address);
  std::size_t open_from(const net::ip::address& address) const;
  std::size_t max_per_address() const noexcept { return max_per_address_; }

 private:
  // Shared with the tickets, so a ticket may outlive the limiter (shutdown order does not matter).
  struct counts {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::size_t> open;
  };

  std::size_t max_per_address_;
  bool limit_loopback_;
  std::shared_ptr<counts> counts_ = std::make_shared<counts>();
};

}  // namespace progress::server
