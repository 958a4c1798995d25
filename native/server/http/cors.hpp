#pragma once
// Cross-origin answers for the routes a browser page calls (the processes API, uploads, SSE) when
// --allowed-origins is set. A listed Origin gets Access-Control-Allow-Origin with its own value
// (never a wildcard), on the preflight and on the real answer; every answer of these routes says
// `Vary: Origin`, so a cache never hands one origin's answer to another. An unlisted Origin gets
// the same answer without Access-Control-Allow-Origin: the browser withholds it from the page.
// Pure: decisions on strings, no I/O; http_session and the routes attach what these return.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/responses.hpp"

namespace progress::server::cors {

using headers = std::vector<std::pair<std::string, std::string>>;

// The request headers a page may send: the producer key or token, a JSON body, retries' keys.
inline constexpr std::string_view kAllowedHeaders = "Authorization, Content-Type, Idempotency-Key";
inline constexpr std::string_view kMaxAgeSeconds = "600";

// The methods a browser may call on `path` ("POST", "GET, HEAD"...); empty when the path is not one
// of the cross-origin routes.
std::string_view route_methods(std::string_view path);

// The headers of a real (non-preflight) answer to a request from `origin` ("" when the request
// had none) for `path`. Empty when CORS is off (no allowed origins) or the route is not a CORS route.
headers response_headers(const std::vector<std::string>& allowed_origins, std::string_view origin,
                         std::string_view path);

// An OPTIONS request is a preflight when it names the method it wants to make. nullopt: not a
// preflight this server answers (CORS off, or not a CORS route): routing goes on as before.
// Otherwise the headers of the 204 answer.
std::optional<headers> preflight_headers(const std::vector<std::string>& allowed_origins,
                                         std::string_view origin, std::string_view path,
                                         std::string_view request_method);

// `Name: value\r\n` lines, for answers whose head is written by hand (SSE).
std::string head_lines(const headers& fields);

// The same, read from and set on Beast messages.
headers response_headers(const std::vector<std::string>& allowed_origins, const request& req);
void attach(const headers& fields, http::fields& res);
// The 204 answer to a preflight of `req`, or nullopt (see preflight_headers).
std::optional<string_response> preflight(const std::vector<std::string>& allowed_origins, const request& req);

}  // namespace progress::server::cors
