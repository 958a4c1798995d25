#include "http/client_address.hpp"

#include <cstdint>

#include "base/parse_int.hpp"

namespace progress::server {
namespace {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// IPv4-mapped IPv6 (a dual-stack listener's peers) is the IPv4 address it carries.
net::ip::address unmapped(const net::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::optional<net::ip::address> parse_address(std::string_view text) {
  error_code ec;
  const auto address = net::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return address;
}

// `address` with every bit past the first `prefix` cleared.
net::ip::address masked(const net::ip::address& address, unsigned prefix) {
  if (address.is_v4()) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return net::ip::address_v4(address.to_v4().to_uint() & mask);
  }
  auto bytes = address.to_v6().to_bytes();
  unsigned bits = prefix;
  for (auto& b : bytes) {
    const unsigned keep = bits >= 8 ? 8 : bits;
    b = static_cast<unsigned char>(keep == 0 ? 0 : b & (0xFF << (8 - keep)));
    bits -= keep;
  }
  return net::ip::address_v6(bytes);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = text.find(separator);
    out.push_back(trim_ows(text.substr(0, at)));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

bool cidr::contains(const net::ip::address& address) const {
  const auto a = unmapped(address);
  return a.is_v4() == network.is_v4() && masked(a, prefix) == masked(network, prefix);
}

std::optional<cidr> parse_cidr(std::string_view text, std::string& why) {
  text = trim_ows(text);
  const auto slash = text.find('/');
  const auto address = parse_address(text.substr(0, slash));
  if (!address) {
    why = "\"" + std::string(text) + "\" is not an IPv4 or IPv6 address or network (like 10.0.0.0/8 or fd00::/8)";
    return std::nullopt;
  }
  cidr out{unmapped(*address), 0};
  const unsigned width = out.network.is_v4() ? 32 : 128;
  out.prefix = width;
  if (slash != std::string_view::npos && !parse_int<unsigned>(text.substr(slash + 1), 0, width, out.prefix)) {
    why = "\"" + std::string(text) + "\": the prefix length must be 0 to " + std::to_string(width);
    return std::nullopt;
  }
  // 10.1.0.0/8 is most likely a typo for a narrower network: refuse rather than widen it silently.
  if (const auto network = masked(out.network, out.prefix); network != out.network) {
    why = "\"" + std::string(text) + "\" has address bits set past its prefix (did you mean " +
          network.to_string() + "/" + std::to_string(out.prefix) + "?)";
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<cidr>> parse_cidr_list(std::string_view text, std::string& why) {
  std::vector<cidr> out;
  for (const auto entry : split(text, ',')) {
    auto parsed = parse_cidr(entry, why);
    if (!parsed) return std::nullopt;
    out.push_back(*parsed);
  }
  return out;
}

std::optional<net::ip::address> parse_forwarded_address(std::string_view text) {
  text = trim_ows(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    const auto address = parse_address(text.substr(1, close - 1));
    if (!address || !address->is_v6()) return std::nullopt;
    return unmapped(*address);
  }
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);  // IPv4 with a port
  }
  const auto address = parse_address(text);
  if (!address) return std::nullopt;
  return unmapped(*address);
}

std::vector<std::optional<net::ip::address>> forwarded_for(const std::vector<std::string_view>& values) {
  std::vector<std::optional<net::ip::address>> out;
  for (const auto value : values) {
    for (const auto element : split(value, ',')) {
      std::optional<net::ip::address> address;
      for (const auto pair : split(element, ';')) {
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        const auto name = trim_ows(pair.substr(0, eq));
        if (name.size() == 3 && (name[0] | 0x20) == 'f' && (name[1] | 0x20) == 'o' && (name[2] | 0x20) == 'r') {
          address = parse_forwarded_address(pair.substr(eq + 1));
        }
      }
      out.push_back(address);
    }
  }
  return out;
}

std::vector<std::optional<net::ip::address>> x_forwarded_for(const std::vector<std::string_view>& values) {
  std::vector<std::optional<net::ip::address>> out;
  for (const auto value : values) {
    for (const auto entry : split(value, ',')) out.push_back(parse_forwarded_address(entry));
  }
  return out;
}

bool trusted_proxies::trusts(const net::ip::address& address) const {
  for (const auto& network : networks_) {
    if (network.contains(address)) return true;
  }
  return false;
}

net::ip::address trusted_proxies::client(const net::ip::address& peer,
                                         const std::vector<std::string_view>& forwarded,
                                         const std::vector<std::string_view>& x_forwarded) const {
  net::ip::address current = unmapped(peer);
  if (!trusts(current)) return current;
  const auto chain = forwarded.empty() ? x_forwarded_for(x_forwarded) : forwarded_for(forwarded);
  std::size_t hops = 0;
  for (auto it = chain.rbegin(); it != chain.rend() && hops < kMaxForwardedHops; ++it, ++hops) {
    if (!*it) return current;
    current = **it;
    if (!trusts(current)) return current;
  }
  return current;
}

}  // namespace progress::server
