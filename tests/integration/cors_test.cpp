// CORS decisions (cors.hpp) without sockets: which routes, which origins, which headers.
#include <gtest/gtest.h>

#include "http/cors.hpp"

namespace progress::server {
namespace {

const std::vector<std::string> kAllowed{"https://app.example", "http://localhost:3000"};

std::optional<std::string> field(const cors::headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

TEST(Cors, RoutesAndTheirMethods) {
  EXPECT_EQ(cors::route_methods("/api/processes"), "POST");
  EXPECT_EQ(cors::route_methods("/api/processes/job-1"), "GET, HEAD");
  EXPECT_EQ(cors::route_methods("/api/processes/job-1/progress"), "POST");
  EXPECT_EQ(cors::route_methods("/api/uploads"), "POST");
  EXPECT_EQ(cors::route_methods("/sse/progress/job-1"), "GET");
  EXPECT_EQ(cors::route_methods("/sse/progress/"), "");
  EXPECT_EQ(cors::route_methods("/api/processes/job-1/other"), "");
  EXPECT_EQ(cors::route_methods("/metrics"), "");
  EXPECT_EQ(cors::route_methods("/index.html"), "");
}

TEST(Cors, AListedOriginIsEchoedNeverAWildcard) {
  const auto headers = cors::response_headers(kAllowed, "http://localhost:3000", "/api/processes/j/progress");
  EXPECT_EQ(field(headers, "Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(field(headers, "Vary"), "Origin");
}

TEST(Cors, AnUnlistedOriginGetsVaryButNoAllowOrigin) {
  const auto headers = cors::response_headers(kAllowed, "https://evil.example", "/api/processes");
  EXPECT_FALSE(field(headers, "Access-Control-Allow-Origin"));
  EXPECT_EQ(field(headers, "Vary"), "Origin");
  EXPECT_FALSE(field(cors::response_headers(kAllowed, "", "/api/processes"), "Access-Control-Allow-Origin"));
}

TEST(Cors, OffWithoutAllowedOriginsOrOutsideTheRoutes) {
  EXPECT_TRUE(cors::response_headers({}, "https://app.example", "/api/processes").empty());
  EXPECT_TRUE(cors::response_headers(kAllowed, "https://app.example", "/metrics").empty());
  EXPECT_FALSE(cors::preflight_headers({}, "https://app.example", "/api/processes", "POST"));
  EXPECT_FALSE(cors::preflight_headers(kAllowed, "https://app.example", "/metrics", "GET"));
  EXPECT_FALSE(cors::preflight_headers(kAllowed, "https://app.example", "/api/processes", ""));
}

TEST(Cors, PreflightNamesTheRoutesMethodsAndTheHeaders) {
  const auto headers = cors::preflight_headers(kAllowed, "https://app.example", "/api/processes/j/progress", "POST");
  ASSERT_TRUE(headers);
  EXPECT_EQ(field(*headers, "Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(field(*headers, "Access-Control-Allow-Methods"), "POST");
  EXPECT_EQ(field(*headers, "Access-Control-Allow-Headers"), "Authorization, Content-Type, Idempotency-Key");
  EXPECT_EQ(field(*headers, "Vary"), "Origin");
  const auto refused = cors::preflight_headers(kAllowed, "https://evil.example", "/api/uploads", "POST");
  ASSERT_TRUE(refused);
  EXPECT_FALSE(field(*refused, "Access-Control-Allow-Origin"));
  EXPECT_FALSE(field(*refused, "Access-Control-Allow-Headers"));
}

TEST(Cors, HeadLines) {
  EXPECT_EQ(cors::head_lines({{"Access-Control-Allow-Origin", "https://a"}, {"Vary", "Origin"}}),
            "Access-Control-Allow-Origin: https://a\r\nVary: Origin\r\n");
}

}  // namespace
}  // namespace progress::server
