#pragma once
// Who the client is when the server sits behind reverse proxies (--trusted-proxies). A connection
// from a trusted proxy speaks for someone else: the client is the right-most address of the
// forwarding chain (`Forwarded: for=`, else `X-Forwarded-For`, then the peer itself) that is not a
// trusted proxy. Addresses before it were written by the client and are not believed. Pure: strings
// and addresses in, an address out.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/net.hpp"

namespace progress::server {

// Hops of a forwarding chain looked at, from the right; a longer chain is cut at this many.
inline constexpr std::size_t kMaxForwardedHops = 32;

struct cidr {
  net::ip::address network;
  unsigned prefix = 0;
  bool contains(const net::ip::address& address) const;
};

// "10.0.0.0/8", "2001:db8::/32" or one address ("127.0.0.1", "::1": the whole length). nullopt
// with `why` set when it is none of these (bits set past the prefix included).
std::optional<cidr> parse_cidr(std::string_view text, std::string& why);

// A comma-separated list of CIDRs; nullopt with `why` naming the first bad entry.
std::optional<std::vector<cidr>> parse_cidr_list(std::string_view text, std::string& why);

// One address of a forwarding header: "192.0.2.1", "192.0.2.1:443", "2001:db8::1",
// "[2001:db8::1]:443", quoted or not. nullopt for anything else ("unknown", obfuscated names).
std::optional<net::ip::address> parse_forwarded_address(std::string_view text);

// The `for=` addresses of `Forwarded` header values, in order; an element without `for=` or with an
// unreadable one gives nullopt at its place.
std::vector<std::optional<net::ip::address>> forwarded_for(const std::vector<std::string_view>& values);
// The addresses of `X-Forwarded-For` header values, in order.
std::vector<std::optional<net::ip::address>> x_forwarded_for(const std::vector<std::string_view>& values);

class trusted_proxies {
 public:
  trusted_proxies() = default;
  explicit trusted_proxies(std::vector<cidr> networks) : networks_(std::move(networks)) {}

  bool empty() const noexcept { return networks_.empty(); }
  bool trusts(const net::ip::address& address) const;

  // The client of a request that `peer` sent with these header values. `forwarded` (RFC 7239) wins
  // when present. An unreadable hop stops the walk: the hop that wrote it (a trusted one) is the
  // client, since nothing before it can be placed.
  net::ip::address client(const net::ip::address& peer, const std::vector<std::string_view>& forwarded,
                          const std::vector<std::string_view>& x_forwarded_for) const;

 private:
  std::vector<cidr> networks_;
};

}  // namespace progress::server
