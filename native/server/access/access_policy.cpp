#include "access/access_policy.hpp"

#include <algorithm>

#include "access/auth_secret.hpp"
#include "access/auth_token.hpp"
#include "progress/codec.hpp"
#include "progress/hub.hpp"
#include "http/url_query.hpp"

namespace progress::server {
namespace {

constexpr std::string_view kProcesses = "/api/processes";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The server's usual JSON error shape ({code, message}); the message names the process.
string_response refuse(const request& req, http::status status, std::string message,
                       std::optional<RefusalReason> reason = std::nullopt) {
  Error error;
  error.code = ErrorCode::unauthorized;
  error.message = std::move(message);
  error.reason = reason;
  auto res = make_response(req, status, encode_http_error(error), "application/json");
  if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
  return res;
}

// Paths that create processes or events: the producer side.
bool is_producing(std::string_view path, const server_config& config) {
  if (path == kProcesses || path == "/api/processes/") return true;
  if (path == "/api/uploads") return !config.open_uploads;
  if (!starts_with(path, "/api/processes/")) return false;
  constexpr std::string_view kProgress = "/progress";
  return path.size() > kProgress.size() && path.substr(path.size() - kProgress.size()) == kProgress;
}

// The process id of GET /api/processes/{id}; empty for every other request.
std::string_view read_process_id(std::string_view path, const request& req) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) return {};
  if (!starts_with(path, "/api/processes/")) return {};
  const std::string_view id = path.substr(kProcesses.size() + 1);
  return id.find('/') == std::string_view::npos ? id : std::string_view{};
}

std::optional<string_response> check_origin(const server_config& config, const request& req) {
  if (config.allowed_origins.empty()) return std::nullopt;
  const auto origin = req[http::field::origin];
  // Non-browser clients send no Origin; the allow-list only guards against other sites' pages.
  if (origin.empty()) return std::nullopt;
  const auto& allowed = config.allowed_origins;
  if (std::find(allowed.begin(), allowed.end(), std::string_view(origin)) != allowed.end()) {
    return std::nullopt;
  }
  return refuse(req, http::status::forbidden, "origin " + std::string(origin) + " is not allowed");
}

std::optional<string_response> check_api_key(const server_config& config, const request& req,
                                             std::string_view query, bool websocket) {
  std::optional<std::string> presented;
  if (auto bearer = bearer_credentials(req[http::field::authorization])) presented = std::string(*bearer);
  // Browsers cannot set headers on a WebSocket handshake.
  if (!presented && websocket) presented = query_param(query, "api_key");
  if (!presented) {
    return refuse(req, http::status::unauthorized,
                  "this endpoint needs the API key: send Authorization: Bearer <key>");
  }
  if (!same_secret(config.api_key, *presented)) {
    return refuse(req, http::status::unauthorized, "the API key does not match");
  }
  return std::nullopt;
}

std::optional<string_response> check_token(const server_config& config, const request& req,
                                           std::string_view process_id, std::string_view token, Millis now) {
  // A malformed id is refused by the handler with invalid_process_id, which says more.
  if (!is_valid_process_id(process_id)) return std::nullopt;
  const token_verifier verifier(config.token_secret, config.token_secret_previous);
  const auto refusal = verifier.refusal(process_id, token, now);
  if (!refusal) return std::nullopt;
  std::string message = "subscription to " + std::string(process_id) + " refused: " + refusal->message;
  return refuse(req, http::status::unauthorized, std::move(message), refusal->reason);
}

}  // namespace

std::optional<std::vector<std::string>> parse_origin_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view entry = text.substr(0, comma);
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    const auto scheme_end = entry.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0 || entry.size() == scheme_end + 3 ||
        entry.find('/', scheme_end + 3) != std::string_view::npos) {
      return std::nullopt;
    }
    out.emplace_back(entry);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

request_shape::request_shape(const request& req)
    : stream(parse_target(req.target())), handshake(req), websocket(handshake.is_upgrade(req)) {
  const auto split = split_target(req.target());
  path = split.path;
  query = split.query;
}

std::optional<string_response> check_access(const server_config& config, const request& req, Millis now) {
  return check_access(config, req, request_shape(req), now);
}

std::optional<string_response> check_access(const server_config& config, const request& req,
                                            const request_shape& shape, Millis now) {
  const std::string_view path = shape.path;
  const bool websocket = shape.websocket;
  const auto& stream = shape.stream;
  const bool sse = !websocket && stream && stream->endpoint == Endpoint::sse;

  if (websocket || sse) {
    if (auto refused = check_origin(config, req)) return refused;
  }
  if (!config.api_key.empty()) {
    const bool producing =
        websocket ? stream && stream->endpoint == Endpoint::publish : is_producing(path, config);
    if (producing) {
      if (auto refused = check_api_key(config, req, shape.query, websocket)) return refused;
    }
  }
  if (!config.token_secret.empty()) {
    if (sse) return check_token(config, req, stream->process_id, stream->token.value_or(""), now);
    if (const auto id = read_process_id(path, req); !id.empty()) {
      const auto bearer = bearer_credentials(req[http::field::authorization]);
      // The producer's key reads every process.
      if (bearer && !config.api_key.empty() && same_secret(config.api_key, *bearer)) return std::nullopt;
      return check_token(config, req, id, bearer.value_or(std::string_view{}), now);
    }
  }
  return std::nullopt;
}

}  // namespace progress::server
