#include "http/cors.hpp"

#include <algorithm>

#include "http/url_query.hpp"

namespace progress::server::cors {
namespace {

constexpr std::string_view kCorsProcesses = "/api/processes";

bool cors_starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool listed(const std::vector<std::string>& allowed, std::string_view origin) {
  return !origin.empty() && std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

}  // namespace

std::string_view route_methods(std::string_view path) {
  if (path == "/api/uploads" || path == kCorsProcesses || path == "/api/processes/") return "POST";
  if (cors_starts_with(path, "/sse/progress/") && path.size() > 14) return "GET";
  if (cors_starts_with(path, "/api/processes/")) {
    const auto rest = path.substr(kCorsProcesses.size() + 1);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return "GET, HEAD";
    if (slash > 0 && rest.substr(slash) == "/progress") return "POST";
  }
  return {};
}

headers response_headers(const std::vector<std::string>& allowed_origins, std::string_view origin,
                         std::string_view path) {
  if (allowed_origins.empty() || route_methods(path).empty()) return {};
  headers out;
  if (listed(allowed_origins, origin)) out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  out.emplace_back("Vary", "Origin");
  return out;
}

std::optional<headers> preflight_headers(const std::vector<std::string>& allowed_origins,
                                         std::string_view origin, std::string_view path,
                                         std::string_view request_method) {
  const auto methods = route_methods(path);
  if (allowed_origins.empty() || methods.empty() || request_method.empty()) return std::nullopt;
  headers out = response_headers(allowed_origins, origin, path);
  if (listed(allowed_origins, origin)) {
    out.emplace_back("Access-Control-Allow-Methods", std::string(methods));
    out.emplace_back("Access-Control-Allow-Headers", std::string(kAllowedHeaders));
    out.emplace_back("Access-Control-Max-Age", std::string(kMaxAgeSeconds));
  }
  return out;
}

std::string head_lines(const headers& fields) {
  std::string out;
  for (const auto& [name, value] : fields) out += name + ": " + value + "\r\n";
  return out;
}

headers response_headers(const std::vector<std::string>& allowed_origins, const request& req) {
  return response_headers(allowed_origins, req[http::field::origin], split_target(req.target()).path);
}

void attach(const headers& fields, http::fields& res) {
  for (const auto& [name, value] : fields) res.set(name, value);
}

std::optional<string_response> preflight(const std::vector<std::string>& allowed_origins, const request& req) {
  if (req.method() != http::verb::options) return std::nullopt;
  auto fields = preflight_headers(allowed_origins, req[http::field::origin], split_target(req.target()).path,
                                  req[http::field::access_control_request_method]);
  if (!fields) return std::nullopt;
  string_response res{http::status::no_content, req.version()};
  res.set(http::field::server, "progress-hub");
  attach(*fields, res.base());
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

}  // namespace progress::server::cors
