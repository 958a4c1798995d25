// Who the client is behind trusted proxies (client_address.hpp), without sockets.
#include <gtest/gtest.h>

#include "http/client_address.hpp"
#include "config/config.hpp"

namespace progress::server {
namespace {

net::ip::address ip(const char* text) { return net::ip::make_address(text); }

trusted_proxies proxies(std::string_view list) {
  std::string why;
  auto parsed = parse_cidr_list(list, why);
  EXPECT_TRUE(parsed) << why;
  return trusted_proxies(parsed.value_or(std::vector<cidr>{}));
}

TEST(Cidr, ParsesNetworksAndSingleAddresses) {
  std::string why;
  const auto v4 = parse_cidr("10.0.0.0/8", why);
  ASSERT_TRUE(v4) << why;
  EXPECT_TRUE(v4->contains(ip("10.200.3.4")));
  EXPECT_FALSE(v4->contains(ip("11.0.0.1")));
  EXPECT_TRUE(v4->contains(ip("::ffff:10.1.2.3")));  // a dual-stack listener's peer
  const auto v6 = parse_cidr("2001:db8::/32", why);
  ASSERT_TRUE(v6) << why;
  EXPECT_TRUE(v6->contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(ip("2001:db9::1")));
  EXPECT_FALSE(v6->contains(ip("10.0.0.1")));
  const auto one = parse_cidr("::1", why);
  ASSERT_TRUE(one) << why;
  EXPECT_EQ(one->prefix, 128U);
  EXPECT_TRUE(parse_cidr("0.0.0.0/0", why)->contains(ip("203.0.113.9")));
}

TEST(Cidr, RefusesWhatIsNotANetworkSayingWhy) {
  std::string why;
  EXPECT_FALSE(parse_cidr("10.0.0.0/33", why));
  EXPECT_NE(why.find("prefix length must be 0 to 32"), std::string::npos) << why;
  EXPECT_FALSE(parse_cidr("fd00::/129", why));
  EXPECT_NE(why.find("0 to 128"), std::string::npos) << why;
  EXPECT_FALSE(parse_cidr("10.1.0.0/8", why));
  EXPECT_NE(why.find("did you mean 10.0.0.0/8"), std::string::npos) << why;
  EXPECT_FALSE(parse_cidr("proxy.local", why));
  EXPECT_NE(why.find("not an IPv4 or IPv6 address"), std::string::npos) << why;
  EXPECT_FALSE(parse_cidr("10.0.0.0/", why));
  EXPECT_FALSE(parse_cidr_list("127.0.0.0/8,,::1", why));
  EXPECT_FALSE(parse_cidr_list("127.0.0.0/8, 10.0.0.1/x", why));
  EXPECT_NE(why.find("10.0.0.1/x"), std::string::npos) << why;
}

TEST(Cidr, TheFlagRefusesABadListAtStart) {
  const auto parsed = parse_config({"--trusted-proxies", "127.0.0.0/8,10.0.0.300"},
                                   [](const char*) { return std::optional<std::string>(); });
  EXPECT_FALSE(parsed.config);
  EXPECT_NE(parsed.error.find("--trusted-proxies"), std::string::npos) << parsed.error;
  EXPECT_NE(parsed.error.find("10.0.0.300"), std::string::npos) << parsed.error;
}

TEST(ForwardedAddress, ReadsThePortAndBracketForms) {
  EXPECT_EQ(parse_forwarded_address(" 192.0.2.1 "), ip("192.0.2.1"));
  EXPECT_EQ(parse_forwarded_address("192.0.2.1:443"), ip("192.0.2.1"));
  EXPECT_EQ(parse_forwarded_address("2001:db8::1"), ip("2001:db8::1"));
  EXPECT_EQ(parse_forwarded_address("\"[2001:db8::1]:4711\""), ip("2001:db8::1"));
  EXPECT_EQ(parse_forwarded_address("::ffff:192.0.2.7"), ip("192.0.2.7"));
  EXPECT_FALSE(parse_forwarded_address("unknown"));
  EXPECT_FALSE(parse_forwarded_address("_hidden"));
  EXPECT_FALSE(parse_forwarded_address("[2001:db8::1"));
  EXPECT_FALSE(parse_forwarded_address(""));
}

TEST(TrustedProxies, AnUntrustedPeerIsTheClientWhateverItClaims) {
  const auto trusted = proxies("127.0.0.0/8");
  EXPECT_EQ(trusted.client(ip("198.51.100.4"), {}, {"203.0.113.9"}), ip("198.51.100.4"));
}

TEST(TrustedProxies, TheRightMostUntrustedHopIsTheClient) {
  const auto trusted = proxies("127.0.0.0/8, 10.0.0.0/8");
  // The left-most entry is whatever the client wrote; the proxies appended the rest.
  EXPECT_EQ(trusted.client(ip("127.0.0.1"), {}, {"1.2.3.4, 203.0.113.9, 10.0.0.2"}), ip("203.0.113.9"));
  EXPECT_EQ(trusted.client(ip("127.0.0.1"), {}, {"1.2.3.4", "203.0.113.9"}), ip("203.0.113.9"));
  EXPECT_EQ(trusted.client(ip("127.0.0.1"), {}, {}), ip("127.0.0.1"));
  EXPECT_EQ(trusted.client(ip("127.0.0.1"), {}, {"10.0.0.5, 127.0.0.2"}), ip("10.0.0.5"));
}

TEST(TrustedProxies, ForwardedWinsOverXForwardedFor) {
  const auto trusted = proxies("::1, 127.0.0.1");
  EXPECT_EQ(trusted.client(ip("::1"), {"for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\""},
                           {"198.51.100.1"}),
            ip("2001:db8:cafe::17"));
  EXPECT_EQ(trusted.client(ip("::1"), {"For=\"[::1]\", for=127.0.0.1"}, {}), ip("::1"));  // all trusted: the farthest
}

TEST(TrustedProxies, AnUnreadableHopStopsAtTheProxyThatWroteIt) {
  const auto trusted = proxies("127.0.0.0/8");
  EXPECT_EQ(trusted.client(ip("127.0.0.1"), {}, {"203.0.113.9, garbage"}), ip("127.0.0.1"));
  EXPECT_EQ(trusted.client(ip("127.0.0.1"), {"by=1.2.3.4"}, {}), ip("127.0.0.1"));
}

TEST(TrustedProxies, AtMost32HopsAreWalked) {
  const auto trusted = proxies("10.0.0.0/8");
  std::string chain = "203.0.113.9";
  for (int i = 0; i < 40; ++i) chain += ", 10.0.0." + std::to_string(i + 1);
  EXPECT_EQ(trusted.client(ip("10.0.0.254"), {}, {chain}), ip("10.0.0.9"));
}

}  // namespace
}  // namespace progress::server
